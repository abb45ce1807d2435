"""Query encoding, torch vs ONNX, on one thread, in one run: what the ONNX encoder buys search.

    python bench/bench_encoder.py                  # the seed model (model/); about a minute
    python bench/bench_encoder.py --model PATH --calls 400

Single short queries (bench_app.py's QUERIES, repeated) are encoded through the same encoders the engine uses,
torch and ONNX calls interleaved so both see the same machine load; then the whole catalog is embedded both
ways for the worst cosine between the two. The export goes to a temporary folder, so its cost is measured too.
Prints a Markdown table (paste into BENCHMARKS.md). Timings are noisy on shared machines: compare the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_app import QUERIES  # noqa: E402
from shopsearch.catalog import load_catalog  # noqa: E402
from shopsearch.embeddings import Encoder, TorchEncoder, encode, model_fingerprint  # noqa: E402
from shopsearch.onnx_encoder import OnnxEncoder  # noqa: E402
from shopsearch.search import single_threaded_blas  # noqa: E402
from shopsearch.training import load_model  # noqa: E402

WARM_UP = 16


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call of `fn` takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def query_latencies(encoders: dict[str, Encoder], calls: int) -> dict[str, list[float]]:
    """Per encoder, the milliseconds of `calls` single-query encodings, interleaved (the first alternates)."""
    names = list(encoders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(WARM_UP + calls):
        query = QUERIES[i % len(QUERIES)]
        for name in (names if i % 2 else names[::-1]):
            ms = timed(lambda: encoders[name].encode([query]))
            if i >= WARM_UP:
                times[name].append(ms)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "model")
    parser.add_argument("--calls", type=int, default=256, help="single-query encodings per encoder (≥ 200)")
    args = parser.parse_args()

    torch.set_num_threads(1)  # both sides on one thread, as the ONNX session is
    single_threaded_blas()
    model = load_model(args.model)
    catalog = load_catalog(ROOT / "catalog.csv")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        onnx = OnnxEncoder.for_model(model, model_fingerprint(args.model), cache_dir)
        export_s = time.perf_counter() - start
        if onnx is None:
            sys.exit("the ONNX export failed (see the warning above)")
        start = time.perf_counter()
        OnnxEncoder.for_model(model, model_fingerprint(args.model), cache_dir)
        reload_s = time.perf_counter() - start
    encoders: dict[str, Encoder] = {"torch": TorchEncoder(model), "ONNX": onnx}

    times = query_latencies(encoders, args.calls)
    median = {name: statistics.median(ms) for name, ms in times.items()}
    p95 = {name: float(np.percentile(ms, 95)) for name, ms in times.items()}
    docs = catalog.documents
    vectors, embed_s = {}, {}
    for name, encoder in encoders.items():
        start = time.perf_counter()
        vectors[name] = encode(encoder, docs, len(docs))
        embed_s[name] = time.perf_counter() - start
    cosine_min = float((vectors["torch"] * vectors["ONNX"]).sum(axis=1).min())

    print(f"model {args.model.name}/, {args.calls} single-query calls per encoder ({len(QUERIES)} queries repeated), "
          f"1 thread each; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores\n")
    print("| measure | torch | ONNX | torch / ONNX |")
    print("|---|---:|---:|---:|")
    print(f"| single query, median (ms) | {median['torch']:.2f} | {median['ONNX']:.2f} | {median['torch'] / median['ONNX']:.2f}× |")
    print(f"| single query, p95 (ms) | {p95['torch']:.2f} | {p95['ONNX']:.2f} | {p95['torch'] / p95['ONNX']:.2f}× |")
    print(f"| catalog, {len(docs)} documents in batches of 64 (s) | {embed_s['torch']:.1f} | {embed_s['ONNX']:.1f} | "
          f"{embed_s['torch'] / embed_s['ONNX']:.2f}× |")
    print(f"| cosine, min over the {len(docs)} catalog documents | | {cosine_min:.7f} | |")
    print(f"| ONNX export, once per model (s) | | {export_s:.1f} | |")
    print(f"| ONNX load from the cache, checked against torch (s) | | {reload_s:.2f} | |")


if __name__ == "__main__":
    main()
