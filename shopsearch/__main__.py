"""Command line: python -m shopsearch {train,evaluate,triplets}."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shopsearch.config import base_model_path, get_settings


def _cmd_triplets(args: argparse.Namespace) -> None:
    from shopsearch.catalog import load_catalog
    from shopsearch.triplets import generate

    catalog = load_catalog(args.catalog)
    triplets = generate(catalog, n=args.n, seed=args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    triplets.to_frame().to_csv(args.out, index=False)
    print(f"wrote {len(triplets)} triplets from {len(catalog)} products to {args.out}")


MODEL_NAMES = ("base", "seed", "chinese")


def _model_path(name: str) -> str:
    """A model name of MODEL_NAMES or a folder. Example: "seed" -> "<repo>/model" """
    settings = get_settings()
    return {"base": base_model_path(), "seed": str(settings.model_dir), "chinese": str(settings.chinese_model_dir)}.get(name, name)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from shopsearch.catalog import load_catalog
    from shopsearch.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.evaluation import check_ids, first_rank, ir_evaluator_check, load_queries, metrics, ranked_ids, results_table
    from shopsearch.search import build_engine
    from shopsearch.tokens import unknown_rate
    from shopsearch.training import load_model

    start = time.perf_counter()
    settings = get_settings()
    catalog = load_catalog(args.catalog)
    queries = load_queries(args.queries)
    try:
        check_ids(queries, catalog)
    except ValueError as err:
        raise SystemExit(f"evaluate: {err}") from None
    answered = [q for q in queries if q.relevant]
    per_query: dict[str, list[list[str]]] = {}
    cache = EmbeddingCache(settings.cache_dir)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    rows: dict[str, dict[str, float]] = {}
    checks: dict[str, dict[str, float]] = {}
    unk: dict[str, float] = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        path = _model_path(name)
        print(f"[{time.perf_counter() - start:.0f} s] {name}: loading and embedding {len(catalog)} products", file=sys.stderr, flush=True)
        model = load_model(path)
        engine = build_engine(model, model_fingerprint(path), catalog, cache)
        for method in methods:
            if method == "lexical" and any(k.startswith("lexical") for k in rows):
                continue  # BM25 does not depend on the model
            label = "lexical · BM25 (name, description, tags)" if method == "lexical" else f"{method} · {name}"
            per_query[label] = ranked_ids(engine, answered, method)
            rows[label] = metrics(per_query[label], [q.relevant for q in answered])
        if args.cross_check:
            checks[name] = ir_evaluator_check(model, catalog, queries, name="eval")
        unk[f"queries · {name}"] = unknown_rate(model.tokenizer, [q.query for q in queries])
    print(f"{len(answered)} queries with an answer, {len(catalog)} products ({args.queries}, {args.catalog})\n")
    print(results_table(rows))
    if checks:
        print("\nInformationRetrievalEvaluator cross-check (semantic):")
        print(results_table(checks))
    print("\n[UNK] rate: " + ", ".join(f"{k} {v:.1%}" for k, v in unk.items()))
    print(f"took {time.perf_counter() - start:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"methods": rows, "ir_evaluator": checks, "unk_rate": unk}, indent=2, ensure_ascii=False))
    if args.per_query:
        import pandas as pd

        names = {p.id: p.name for p in catalog.products}
        table = {"query": [q.query for q in answered], "expected": ["|".join(sorted(q.relevant)) for q in answered]}
        for label, ranked in per_query.items():
            table[f"rank · {label}"] = [first_rank(r, q.relevant) for r, q in zip(ranked, answered)]
            table[f"top-1 · {label}"] = [names.get(r[0], "") if r else "" for r in ranked]
        Path(args.per_query).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(table).to_csv(args.per_query, index=False)


def _cmd_calibrate(args: argparse.Namespace) -> None:
    from shopsearch.catalog import load_catalog
    from shopsearch.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.evaluation import calibrate_threshold, load_queries, nothing_relevant_report
    from shopsearch.search import NoAnswerRule, build_engine
    from shopsearch.training import load_model

    settings = get_settings()
    model_dir = Path(args.model)
    engine = build_engine(load_model(model_dir), model_fingerprint(model_dir), load_catalog(args.catalog), EmbeddingCache(settings.cache_dir))
    threshold = calibrate_threshold(engine, load_queries(args.dev), args.signal, args.beta, args.max_false_alarms)
    print(f"nothing-relevant cut-off calibrated on {args.dev}: {args.signal} < {threshold}")
    reports = {}
    for name, path in (("dev", args.dev), ("eval", args.queries)):
        report = reports[name] = nothing_relevant_report(engine, load_queries(path), threshold, args.signal)
        print(f"{name}: precision {report['precision']:.3f}, recall {report['recall']:.3f} on {report['no_answer_queries']} "
              f"no-answer queries; false alarms on {report['answered_queries']} answered queries {report['false_alarms_on_answered']:.1%}")
    if args.save:
        if args.signal != "cosine":
            raise SystemExit("calibrate: --save stores a cosine cut-off; the coverage cut-off lives in search.NOTHING_RELEVANT_BELOW")
        print(f"saved {NoAnswerRule(threshold).save(model_dir, reports['dev'])}")


def _cmd_train(args: argparse.Namespace) -> None:
    from shopsearch.training import main

    main(args.rest)


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m shopsearch")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("triplets", help="generate training triplets from a catalog (deterministic)")
    p.add_argument("--catalog", default=str(settings.catalog_path))
    p.add_argument("--out", default=str(settings.triplets_path))
    p.add_argument("-n", type=int, default=500)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_triplets)
    p = sub.add_parser("evaluate", help="Recall/MRR/NDCG of every search method on held-out queries")
    p.add_argument("--catalog", default=str(settings.catalog_path))
    p.add_argument("--queries", default=str(settings.eval_queries_path))
    p.add_argument("--models", default=",".join(MODEL_NAMES), help=f"comma-separated: {', '.join(MODEL_NAMES)} or model folders")
    p.add_argument("--methods", default="semantic,hybrid,lexical", help="comma-separated: semantic, hybrid, lexical")
    p.add_argument("--per-query", default=None, help="CSV: query, expected, rank and top-1 of every method")
    p.add_argument("--cross-check", action="store_true", help="also run sentence-transformers' InformationRetrievalEvaluator")
    p.add_argument("--json", default=None)
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("calibrate", help="calibrate the 'nothing relevant' cut-off on the dev queries")
    p.add_argument("--catalog", default=str(settings.catalog_path))
    p.add_argument("--dev", default=str(settings.eval_queries_path.with_name("dev_queries.csv")))
    p.add_argument("--queries", default=str(settings.eval_queries_path))
    p.add_argument("--model", default=str(settings.chinese_model_dir))
    p.add_argument("--signal", choices=("cosine", "coverage"), default="cosine")
    p.add_argument("--beta", type=float, default=1.0, help="F-beta to maximise (< 1 favours precision)")
    p.add_argument("--max-false-alarms", type=float, default=0.03, help="largest share of answered dev queries flagged")
    p.add_argument("--save", action="store_true", help="write the cosine cut-off to the model folder's no_answer.json")
    p.set_defaults(func=_cmd_calibrate)
    p = sub.add_parser("train", help="rebuild model/ (see python -m shopsearch.training --help)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_train)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
