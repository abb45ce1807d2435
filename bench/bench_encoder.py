"""Query encoding and hybrid search, torch vs ONNX, one thread each, in one run: what the ONNX encoder buys search.

    python bench/bench_encoder.py                       # Chinese-aware, seed and base models; a few minutes
    python bench/bench_encoder.py --models seed --calls 400

For each model: the export is made in a temporary folder (its cost is measured too). Then single queries (the
eval and dev queries in a fixed shuffled order, the same for both sides) are encoded by the torch and ONNX encoders
the engine uses, calls interleaved and alternating which goes first so both see the same machine load, after a
warm-up; then hybrid top-10 searches through a torch engine and an ONNX engine over catalog.csv, the same way.
Both are timed twice: alternating every call (each call follows the other side's, whose ~90 MB of weights have pushed
its own out of the CPU caches: a first search after other work), and in turns of STREAM calls per side (a stream of
searches, as a busy app serves them). A transformer this small runs several times faster from cache.
Correctness: the worst cosine between torch and ONNX vectors over every catalog document, and top-10 ids on every
eval and dev query, semantic and hybrid, for (a) the engine as shipped (torch catalog vectors, ONNX query vectors)
and (b) everything in ONNX, each against everything in torch.

Prints one Markdown table (paste into BENCHMARKS.md). Timings are noisy on shared machines: compare within a run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shopsearch.common.config import base_model_path  # noqa: E402
from shopsearch.data.catalog import Catalog, load_catalog  # noqa: E402
from shopsearch.retrieval.embeddings import EmbeddingCache, Encoder, TorchEncoder, encode, model_fingerprint  # noqa: E402
from shopsearch.retrieval.evaluation import load_queries  # noqa: E402
from shopsearch.retrieval.onnx_encoder import OnnxEncoder  # noqa: E402
from shopsearch.retrieval.search import SearchEngine, build_engine, single_threaded_blas  # noqa: E402
from shopsearch.training.seed import load_model  # noqa: E402

WARM_UP = 16
STREAM = 25  # calls per side per turn, for the "stream of searches" timings
MODELS = {"chinese": ROOT / "model_chinese", "seed": ROOT / "model", "base": Path(base_model_path())}
MODES = ("semantic", "hybrid")


@dataclass
class Timings:
    """Per-call milliseconds: wall clock, and CPU time of the calling thread (what a busy machine inflates less)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


@dataclass
class ModelReport:
    name: str
    encode_ms: dict[str, Timings]  # "torch" / "ONNX" -> per-call milliseconds, alternating every call
    hybrid_ms: dict[str, Timings]
    encode_stream_ms: dict[str, Timings]  # the same, in turns of STREAM calls per side
    hybrid_stream_ms: dict[str, Timings]
    onnx_split_ms: tuple[float, float]  # the ONNX engine's median encode_ms and search_ms inside a hybrid search
    catalog_s: dict[str, float]
    cosine_min: float
    identical: dict[str, tuple[int, int]]  # "engine" / "all ONNX" -> (queries with identical top-10 in both modes, queries)
    export_s: float
    fused: int  # Attention nodes in the exported graph (one per layer when fully fused)
    float16: int  # float16 tensors in the exported graph (must be 0: float16 on a CPU is slow)


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Milliseconds one call of `fn` takes: (wall clock, this thread's CPU time).

    Both encoders run in the calling thread (torch and onnxruntime on one thread each), so its CPU time is their work
    without the time spent waiting for a core that other processes hold.
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def interleaved(calls: dict[str, Callable[[str], object]], queries: list[str], n: int, turn: int = 1) -> dict[str, Timings]:
    """Per name, the timings of `n` calls on queries[i % len], in turns of `turn` consecutive calls per name on the
    same queries, alternating which name goes first. turn=1 alternates every call."""
    names = list(calls)
    times = {name: Timings() for name in names}
    total = WARM_UP + n
    for number, start in enumerate(range(0, total, turn)):
        for name in names if number % 2 else names[::-1]:
            for i in range(start, min(total, start + turn)):
                query = queries[i % len(queries)]
                wall, cpu = timed(lambda name=name, query=query: calls[name](query))
                if i >= WARM_UP:
                    times[name].wall.append(wall)
                    times[name].cpu.append(cpu)
    return times


def top10(engine: SearchEngine, queries: list[str], vectors: np.ndarray, mode: str) -> list[list[str]]:
    """Top-10 product ids per query, from precomputed query vectors."""
    return [[h.product_id for h in engine.search(q, mode=mode, top=10, query_vector=v).hits] for q, v in zip(queries, vectors)]


def same_top10(reference: SearchEngine, ref_vectors: np.ndarray, ours: SearchEngine, our_vectors: np.ndarray, queries: list[str]) -> int:
    """How many queries get the same top-10 ids, in the same order, from both engines in every mode."""
    same = np.ones(len(queries), dtype=bool)
    for mode in MODES:
        same &= [a == b for a, b in zip(top10(reference, queries, ref_vectors, mode), top10(ours, queries, our_vectors, mode))]
    return int(same.sum())


def graph_facts(path: Path) -> tuple[int, int]:
    """(Attention nodes, float16 initializers) of an exported graph."""
    graph = onnx.load(str(path)).graph
    attention = sum(node.op_type == "Attention" for node in graph.node)
    float16 = sum(t.data_type == onnx.TensorProto.FLOAT16 for t in graph.initializer)
    return attention, float16


def bench_model(name: str, model_dir: Path, catalog: Catalog, queries: list[str], calls: int) -> ModelReport:
    model = load_model(model_dir)
    fp = model_fingerprint(model_dir)
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        onnx_encoder = OnnxEncoder.for_model(model, fp, cache_dir)
        export_s = time.perf_counter() - start
        if onnx_encoder is None:
            sys.exit(f"the ONNX export of {name} failed (see the warning above)")
        fused, float16 = graph_facts(onnx_encoder.path)
        torch_engine = build_engine(model, fp, catalog, EmbeddingCache(cache_dir), onnx=False, model_dir=model_dir)
        onnx_engine = build_engine(model, fp, catalog, EmbeddingCache(cache_dir), model_dir=model_dir)
    assert isinstance(onnx_engine.encoder, OnnxEncoder)
    encoders: dict[str, Encoder] = {"torch": TorchEncoder(model), "ONNX": onnx_encoder}

    encode_calls = {k: (lambda q, e=e: e.encode([q])) for k, e in encoders.items()}
    engines = {"torch": torch_engine, "ONNX": onnx_engine}
    hybrid_calls = {k: (lambda q, e=e: e.search(q, mode="hybrid", top=10)) for k, e in engines.items()}
    encode_ms, hybrid_ms = interleaved(encode_calls, queries, calls), interleaved(hybrid_calls, queries, calls)
    encode_stream_ms = interleaved(encode_calls, queries, calls, STREAM)
    hybrid_stream_ms = interleaved(hybrid_calls, queries, calls, STREAM)
    split = [onnx_engine.search(q, mode="hybrid", top=10) for q in queries[:calls]]
    onnx_split_ms = (statistics.median(r.encode_ms for r in split), statistics.median(r.search_ms for r in split))

    docs = catalog.documents
    catalog_vectors, catalog_s = {}, {}
    for key, encoder in encoders.items():
        start = time.perf_counter()
        catalog_vectors[key] = encode(encoder, docs, len(docs))
        catalog_s[key] = time.perf_counter() - start
    cosine_min = float((catalog_vectors["torch"] * catalog_vectors["ONNX"]).sum(axis=1).min())

    all_queries = sorted(set(queries))
    query_vectors = {key: encoder.encode(all_queries) for key, encoder in encoders.items()}
    all_onnx = SearchEngine(
        model, catalog, catalog_vectors["ONNX"], lexical=torch_engine.lexical, encoder=onnx_encoder, no_answer=onnx_engine.no_answer
    )
    identical = {
        "engine": (same_top10(torch_engine, query_vectors["torch"], onnx_engine, query_vectors["ONNX"], all_queries), len(all_queries)),
        "all ONNX": (same_top10(torch_engine, query_vectors["torch"], all_onnx, query_vectors["ONNX"], all_queries), len(all_queries)),
    }
    return ModelReport(
        name,
        encode_ms,
        hybrid_ms,
        encode_stream_ms,
        hybrid_stream_ms,
        onnx_split_ms,
        catalog_s,
        cosine_min,
        identical,
        export_s,
        fused,
        float16,
    )


def p50(ms: list[float]) -> float:
    return statistics.median(ms)


def p95(ms: list[float]) -> float:
    return float(np.percentile(ms, 95))


def print_table(reports: list[ModelReport]) -> None:
    print("| measure | " + " | ".join(r.name for r in reports) + " |")
    print("|---|" + "---:|" * len(reports))
    rows: list[tuple[str, Callable[[ModelReport], str]]] = [
        ("query encode p50, torch (ms)", lambda r: f"{p50(r.encode_ms['torch'].wall):.2f}"),
        ("query encode p50, **ONNX** (ms)", lambda r: f"**{p50(r.encode_ms['ONNX'].wall):.2f}**"),
        ("query encode p95, torch / ONNX (ms)", lambda r: f"{p95(r.encode_ms['torch'].wall):.2f} / {p95(r.encode_ms['ONNX'].wall):.2f}"),
        ("**speed-up**, torch p50 / ONNX p50", lambda r: f"**{p50(r.encode_ms['torch'].wall) / p50(r.encode_ms['ONNX'].wall):.2f}×**"),
        ("query encode p50 in CPU time, torch / ONNX (ms)", lambda r: f"{p50(r.encode_ms['torch'].cpu):.2f} / {p50(r.encode_ms['ONNX'].cpu):.2f}"),
        ("speed-up in CPU time, p50 / p50", lambda r: f"{p50(r.encode_ms['torch'].cpu) / p50(r.encode_ms['ONNX'].cpu):.2f}×"),
        ("hybrid top-10 p50, torch engine (ms)", lambda r: f"{p50(r.hybrid_ms['torch'].wall):.2f}"),
        ("hybrid top-10 p50, **ONNX engine** (ms)", lambda r: f"**{p50(r.hybrid_ms['ONNX'].wall):.2f}**"),
        ("hybrid top-10 p95, torch / ONNX engine (ms)", lambda r: f"{p95(r.hybrid_ms['torch'].wall):.2f} / {p95(r.hybrid_ms['ONNX'].wall):.2f}"),
        ("hybrid top-10 p50 in CPU time, ONNX engine (ms)", lambda r: f"{p50(r.hybrid_ms['ONNX'].cpu):.2f}"),
        ("… of which encode / rest, ONNX engine p50 (ms)", lambda r: f"{r.onnx_split_ms[0]:.2f} / {r.onnx_split_ms[1]:.2f}"),
        (
            f"query encode p50, torch / **ONNX**, in turns of {STREAM} calls (ms)",
            lambda r: f"{p50(r.encode_stream_ms['torch'].wall):.2f} / **{p50(r.encode_stream_ms['ONNX'].wall):.2f}**",
        ),
        (
            f"**speed-up** in turns of {STREAM} calls, p50 / p50",
            lambda r: f"**{p50(r.encode_stream_ms['torch'].wall) / p50(r.encode_stream_ms['ONNX'].wall):.2f}×**",
        ),
        (
            f"hybrid top-10 p50, torch / **ONNX** engine, in turns of {STREAM} calls (ms)",
            lambda r: f"{p50(r.hybrid_stream_ms['torch'].wall):.2f} / **{p50(r.hybrid_stream_ms['ONNX'].wall):.2f}**",
        ),
        ("cosine torch·ONNX, min over catalog docs", lambda r: f"{r.cosine_min:.7f}"),
        ("same top-10, engine as shipped", lambda r: "{}/{}".format(*r.identical["engine"])),
        ("same top-10, all ONNX (catalog too)", lambda r: "{}/{}".format(*r.identical["all ONNX"])),
        ("catalog embedding, torch / ONNX 1 thread (s)", lambda r: f"{r.catalog_s['torch']:.1f} / {r.catalog_s['ONNX']:.1f}"),
        ("export + fuse + check, once per model (s)", lambda r: f"{r.export_s:.1f}"),
        ("graph: fused Attention ops / float16 tensors", lambda r: f"{r.fused} / {r.float16}"),
    ]
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(r) for r in reports) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--calls", type=int, default=256, help="timed calls per side, for encoding and for hybrid search")
    args = parser.parse_args()

    torch.set_num_threads(1)  # both sides on one thread, as the ONNX session is
    single_threaded_blas()
    catalog = load_catalog(ROOT / "catalog.csv")
    queries = [q.query for path in ("eval_queries.csv", "dev_queries.csv") for q in load_queries(ROOT / "data" / path)]
    random.Random(0).shuffle(queries)
    load_before = os.getloadavg()[0]
    reports = [bench_model(name, MODELS[name], catalog, queries, args.calls) for name in args.models]
    print(
        f"\n{len(catalog)} products; {args.calls} timed calls per side after {WARM_UP} warm-up ones (eval + dev queries, "
        f"shuffled, the same for both); top-10 checked on all {reports[0].identical['engine'][1]} distinct eval + dev queries, "
        f"semantic and hybrid; 1 thread each; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"on {os.cpu_count()} cores\n"
    )
    print_table(reports)


if __name__ == "__main__":
    main()
