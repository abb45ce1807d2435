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


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from shopsearch.catalog import load_catalog
    from shopsearch.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.evaluation import evaluate_engine, ir_evaluator_check, load_queries, results_table
    from shopsearch.lexical import LexicalIndex
    from shopsearch.search import SearchEngine, build_engine
    from shopsearch.tokens import unknown_rate
    from shopsearch.training import load_model

    start = time.perf_counter()
    settings = get_settings()
    catalog = load_catalog(args.catalog)
    queries = load_queries(args.queries)
    cache = EmbeddingCache(settings.cache_dir)
    rows: dict[str, dict[str, float]] = {}
    checks: dict[str, dict[str, float]] = {}
    unk: dict[str, float] = {}
    for label, path in (("base all-MiniLM-L6-v2", base_model_path()), ("fine-tuned model/", str(args.model))):
        model = load_model(path)
        engine = build_engine(model, model_fingerprint(path), catalog, cache)
        rows[f"semantic · {label}"] = evaluate_engine(engine, queries, "semantic")
        rows[f"hybrid · {label}"] = evaluate_engine(engine, queries, "hybrid")
        checks[label] = ir_evaluator_check(model, catalog, queries, name="eval")
        if label.startswith("base"):
            rows["lexical · BM25 (name, description, tags)"] = evaluate_engine(engine, queries, "lexical")
            no_tags = SearchEngine(model, catalog, engine.vectors, lexical=LexicalIndex(
                [f"{p.name} {p.name} {p.brand} {p.category} {p.description}" for p in catalog.products]
            ))
            rows["lexical · BM25 without tags"] = evaluate_engine(no_tags, queries, "lexical")
            unk["queries"] = unknown_rate(model.tokenizer, [q.query for q in queries])
            unk["products"] = unknown_rate(model.tokenizer, catalog.texts)
    answered = sum(bool(q.relevant) for q in queries)
    print(f"{answered} queries with an answer, {len(catalog)} products ({args.queries}, {args.catalog})\n")
    print(results_table(rows))
    print("\nInformationRetrievalEvaluator cross-check (semantic):")
    print(results_table(checks))
    print(f"\n[UNK] rate: queries {unk['queries']:.1%}, products {unk['products']:.1%}")
    print(f"took {time.perf_counter() - start:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"methods": rows, "ir_evaluator": checks, "unk_rate": unk}, indent=2, ensure_ascii=False))


def _cmd_calibrate(args: argparse.Namespace) -> None:
    from shopsearch.catalog import load_catalog
    from shopsearch.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.evaluation import calibrate_threshold, load_queries, nothing_relevant_report
    from shopsearch.search import build_engine
    from shopsearch.training import load_model

    settings = get_settings()
    engine = build_engine(load_model(args.model), model_fingerprint(args.model), load_catalog(args.catalog), EmbeddingCache(settings.cache_dir))
    threshold = calibrate_threshold(engine, load_queries(args.dev))
    print(f"nothing-relevant cut-off calibrated on {args.dev}: coverage < {threshold}")
    for name, path in (("dev", args.dev), ("eval", args.queries)):
        report = nothing_relevant_report(engine, load_queries(path), threshold)
        print(f"{name}: precision {report['precision']:.3f}, recall {report['recall']:.3f} on {report['no_answer_queries']} "
              f"no-answer queries; false alarms on {report['answered_queries']} answered queries {report['false_alarms_on_answered']:.1%}")


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
    p.add_argument("--model", default=str(settings.model_dir))
    p.add_argument("--json", default=None)
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("calibrate", help="calibrate the 'nothing relevant' cut-off on the dev queries")
    p.add_argument("--catalog", default=str(settings.catalog_path))
    p.add_argument("--dev", default=str(settings.eval_queries_path.with_name("dev_queries.csv")))
    p.add_argument("--queries", default=str(settings.eval_queries_path))
    p.add_argument("--model", default=str(settings.model_dir))
    p.set_defaults(func=_cmd_calibrate)
    p = sub.add_parser("train", help="rebuild model/ (see python -m shopsearch.training --help)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_train)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
