"""Which onnxruntime fusions make a short query fastest: the export as shipped against every fusion the optimizer has.

    python bench/bench_fusions.py                    # Chinese-aware model; ~1 minute
    python bench/bench_fusions.py --model model --rounds 48

The shipped export (`onnx_encoder.export`) fuses attention and the embeddings but leaves the residual adds as
Add + LayerNormalization and the feed-forward bias as Add + Gelu. "all fusions" is the same file opened without
disabling onnxruntime's own fusions, which rebuild SkipLayerNormalization and BiasGelu: the graph of the recipe before
session 9 (format fused2). Both run on one thread; the eval and dev queries are timed as bench_encoder.py times the
encoders (its `interleaved`: warm-up calls, then turns of 25 calls per graph, which goes first alternating, then
alternating every call). The worst cosine between
the two graphs' vectors (every query) is printed too: leaving ops unfused must not move a vector.

Prints one Markdown table. Timings are noisy on shared machines: compare within a run.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_encoder import interleaved  # noqa: E402  (the same timing loop: warm-up, turns, alternating order)

from shopsearch.retrieval.embeddings import model_fingerprint  # noqa: E402
from shopsearch.retrieval.evaluation import load_queries  # noqa: E402
from shopsearch.retrieval.onnx_encoder import OnnxEncoder, _session, mean_pool_normalize  # noqa: E402
from shopsearch.training.seed import load_model  # noqa: E402

TURN = 25


def all_fusions(path: Path, target: Path) -> onnxruntime.InferenceSession:
    """The shipped export opened with onnxruntime's own fusions on: they rebuild SkipLayerNorm and BiasGelu, which
    gives the graph of the earlier recipe (format fused2). The graph as run is written to `target`."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.optimized_model_filepath = str(target)
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ops(graph_path: Path) -> str:
    """The graph's operators and how many of each. Example: "Add 30, Attention 6, ..." """
    counts = collections.Counter(node.op_type for node in onnx.load(str(graph_path)).graph.node)
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="model_chinese", help="model folder under the repository (default: model_chinese)")
    parser.add_argument("--rounds", type=int, default=48, help="turns of 25 calls per graph (default 48)")
    args = parser.parse_args()
    model_dir = ROOT / args.model
    model = load_model(model_dir)
    queries = [q.query for name in ("eval_queries.csv", "dev_queries.csv") for q in load_queries(ROOT / "data" / name)]
    random.Random(0).shuffle(queries)
    with tempfile.TemporaryDirectory() as folder:
        shipped = OnnxEncoder.for_model(model, model_fingerprint(model_dir), folder)
        if shipped is None:
            sys.exit("the export failed (see the warning above)")
        tokenize = shipped.tokenize
        sessions = {
            "as shipped": _session(shipped.path, save_optimized_to=Path(folder) / "shipped.run.onnx"),
            "all fusions": all_fusions(shipped.path, Path(folder) / "all.run.onnx"),
        }
        graphs = {"as shipped": ops(Path(folder) / "shipped.run.onnx"), "all fusions": ops(Path(folder) / "all.run.onnx")}
        feeds = {q: tokenize([q]) for q in queries}
        vectors = {
            name: np.concatenate([mean_pool_normalize(session.run(None, f)[0], f["attention_mask"]) for f in feeds.values()])
            for name, session in sessions.items()
        }
        cosine = float((vectors["as shipped"] * vectors["all fusions"]).sum(axis=1).min())
        calls = {name: (lambda q, s=session: s.run(None, feeds[q])) for name, session in sessions.items()}
        n = args.rounds * TURN
        turns, alternating = interleaved(calls, queries, n, TURN), interleaved(calls, queries, n)
    tokens = statistics.median(f["input_ids"].shape[1] for f in feeds.values())
    print(
        f"\n{args.model}: `session.run` p50 on one thread, {args.rounds * TURN} calls per graph, eval + dev queries "
        f"(median {tokens:g} tokens); load average {os.getloadavg()[0]:.2f}\n"
    )
    print("| graph | in turns of 25 (ms) | alternating (ms) | ops as run |")
    print("|---|---:|---:|---|")
    for name in sessions:
        print(f"| {name} | {statistics.median(turns[name].wall):.2f} | {statistics.median(alternating[name].wall):.2f} | {graphs[name]} |")
    ratio = statistics.median(turns["all fusions"].wall) / statistics.median(turns["as shipped"].wall)
    print(f"\nall fusions / as shipped, in turns: {ratio:.3f}; worst cosine between the two graphs' vectors: {cosine:.7f}")


if __name__ == "__main__":
    main()
