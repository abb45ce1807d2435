"""Command line: python -m shopsearch {train,evaluate,calibrate,triplets}."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shopsearch.common.config import base_model_path, get_settings


def _cmd_triplets(args: argparse.Namespace) -> None:
    from shopsearch.data.catalog import load_catalog
    from shopsearch.data.triplets import generate

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


class _Progress:
    """Progress lines on stderr with the seconds since start: "[12 s] chinese: embedded 1024/2083 products"."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self._shown = 0

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.start:.0f} s] {text}", file=sys.stderr, flush=True)

    def embedding(self, name: str) -> Callable[[int, int], None]:
        """An `on_progress(done, total)` that reports about every tenth of the catalog."""
        self._shown = 0

        def report(done: int, total: int) -> None:
            if done == total or done - self._shown >= max(1, total // 10):
                self._shown = done
                self.say(f"{name}: embedded {done}/{total} products")

        return report


def _cmd_evaluate(args: argparse.Namespace) -> None:
    import torch

    from shopsearch.common.errors import UserError
    from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.retrieval.evaluation import (
        check_ids,
        embed_catalog,
        encode_queries,
        ir_evaluator_check,
        load_eval_catalog,
        load_queries,
        ranked_ids,
        results_table,
        sliced_metrics,
        slices_table,
    )
    from shopsearch.retrieval.search import MODES, build_engine, single_threaded_blas
    from shopsearch.text.intent import parse_query
    from shopsearch.text.tokens import unknown_rate
    from shopsearch.training.seed import load_model

    progress = _Progress()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        wrong = [m for m in methods if m not in MODES]
        if wrong or not methods:
            raise UserError(
                f"未知的方法 {', '.join(wrong) or '（空）'}；可选：{', '.join(MODES)}。",
                f"Unknown method(s) {', '.join(wrong) or '(none)'}; choose from {', '.join(MODES)}.",
            )
        missing = [n for n in names if not Path(_model_path(n)).is_dir()]
        if missing or not names:
            raise UserError(
                f"找不到模型 {', '.join(missing) or '（空）'}：请用 {', '.join(MODEL_NAMES)} 或模型文件夹。",
                f"Model(s) not found: {', '.join(missing) or '(none)'}; use {', '.join(MODEL_NAMES)} or a model folder.",
            )
        catalog = load_eval_catalog(args.catalog)
        queries = load_queries(args.queries)
        check_ids(queries, catalog)
    except UserError as err:
        raise SystemExit(f"evaluate: {err}") from None
    # CPU time, not only wall time: one thread for torch (catalog and queries) and OpenBLAS. On 2 shared cores more
    # threads mostly spin (issue 13: 203 ms per query with 2 threads vs 18.6 ms with 1); the ONNX session is 1 thread.
    torch.set_num_threads(max(1, args.threads))
    single_threaded_blas()
    answered = [q for q in queries if q.relevant]
    settings = get_settings()
    cache = EmbeddingCache(settings.cache_dir)
    ranked: dict[str, list[list[str]]] = {}
    checks: dict[str, dict[str, float]] = {}
    unk: dict[str, float] = {}
    for name in names:
        path = _model_path(name)
        progress.say(f"{name}: loading the model")
        model = load_model(path)
        # One encoding of the catalog per model, kept in the embedding cache; the engine (every method) and the
        # cross-check reuse it.
        fingerprint = model_fingerprint(path)
        embed_catalog(model, fingerprint, catalog, cache, on_progress=progress.embedding(name))
        engine = build_engine(model, fingerprint, catalog, cache, settings.ann_threshold, model_dir=path)  # as the app searches
        if args.backend == "milvus":
            from shopsearch.retrieval.milvus_backend import as_milvus_engine

            uri = args.milvus_uri or settings.milvus_uri
            progress.say(f"{name}: loading the catalog into Milvus at {uri}")
            # The shipped catalog keeps the app's collection (a changed catalog is upserted into it); another catalog
            # gets one named by its content.
            shipped = Path(args.catalog).resolve() == settings.catalog_path.resolve()
            key = settings.milvus_catalog_key if shipped else None
            engine = as_milvus_engine(engine, uri, fingerprint, on_progress=progress.embedding(f"{name} → Milvus"), catalog_key=key)
            progress.say(f"{name}: Milvus collection {engine.collection.name}, dense index {engine.collection.index_type}")
        torch.set_num_threads(1)  # queries: one at a time in the app, one thread here too
        vectors = encode_queries(engine, answered) if set(methods) - {"lexical"} else None
        progress.say(f"{name}: {len(answered)} queries encoded; searching ({', '.join(methods)})")
        for method in methods:
            if method == "lexical" and any(k.startswith("lexical") for k in ranked):
                continue  # BM25 does not depend on the model
            label = "lexical · BM25 (name, description, tags)" if method == "lexical" else f"{method} · {name}"
            ranked[label] = ranked_ids(engine, answered, method, query_vectors=vectors)
        if args.cross_check:
            progress.say(f"{name}: InformationRetrievalEvaluator cross-check on the same catalog vectors")
            checks[f"semantic · {name} (InformationRetrievalEvaluator)"] = ir_evaluator_check(
                model, catalog, queries, name="eval", corpus_embeddings=engine.vectors
            )
        unk[f"queries · {name}"] = unknown_rate(model.tokenizer, [parse_query(q.query).semantic for q in queries])  # what it reads
        torch.set_num_threads(max(1, args.threads))
        if methods == ["lexical"] and not args.cross_check:
            break  # BM25 alone: one model was enough to build the engine
    by_slice = {label: sliced_metrics(r, answered) for label, r in ranked.items()}
    overall = {label: values["all"] for label, values in by_slice.items()}
    kinds = {k: v["queries"] for k, v in next(iter(by_slice.values())).items()} if by_slice else {}
    print(
        f"{len(answered)} queries with an answer ({len(queries) - len(answered)} without), {len(catalog)} products ({args.queries}, {args.catalog})\n"
    )
    print(results_table(overall))
    if len(kinds) > 2:  # "all" and one kind say nothing new
        print("\nPer kind of query (Recall@1 / MRR@10; number of queries in brackets):\n")
        print(slices_table(by_slice))
    if checks:
        print("\nInformationRetrievalEvaluator cross-check (semantic, the same catalog vectors):")
        print(results_table(checks))
    print("\n[UNK] rate: " + ", ".join(f"{k} {v:.1%}" for k, v in unk.items()))
    print(f"took {time.perf_counter() - progress.start:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "methods": overall,
                    "slices": by_slice,
                    "ir_evaluator": checks,
                    "unk_rate": unk,
                    "queries": {"answered": len(answered), "no_answer": len(queries) - len(answered), "by_kind": kinds},
                    "catalog": {"path": str(args.catalog), "products": len(catalog)},
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    if args.per_query:
        _write_per_query(Path(args.per_query), answered, ranked, {p.id: p.name for p in catalog.products})


def _write_per_query(path: Path, answered: list, ranked: dict[str, list[list[str]]], titles: dict[str, str]) -> None:
    """CSV: per answered query its kind and expected ids, then per method the rank of the first right hit and the top-1 title."""
    import pandas as pd

    from shopsearch.retrieval.evaluation import first_rank

    table = {"query": [q.query for q in answered], "kind": [q.kind for q in answered], "expected": ["|".join(sorted(q.relevant)) for q in answered]}
    for label, result in ranked.items():
        table[f"rank · {label}"] = [first_rank(r, q.relevant) for r, q in zip(result, answered)]
        table[f"top-1 · {label}"] = [titles.get(r[0], "") if r else "" for r in result]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(table).to_csv(path, index=False)


def _cmd_calibrate(args: argparse.Namespace) -> None:
    """Fit the "nothing relevant" rule on the dev queries, report it cross-validated, optionally save it."""
    from shopsearch.data.catalog import load_catalog, without_tags
    from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint
    from shopsearch.retrieval.evaluation import load_queries
    from shopsearch.retrieval.no_answer import cross_validate, fit_rule, flag_report, query_signals
    from shopsearch.retrieval.search import build_engine
    from shopsearch.training.seed import load_model

    def show(name: str, report: dict[str, float]) -> None:
        print(
            f"{name}: precision {report['precision']:.3f}, recall {report['recall']:.3f} on {report['no_answer_queries']} "
            f"no-answer queries; false alarms {report['false_alarms_on_answered']:.1%} of {report['answered_queries']} answered"
        )

    settings = get_settings()
    model_dir = Path(_model_path(args.model))
    use_cosine = not args.no_cosine
    model, catalog = load_model(model_dir), load_catalog(args.catalog)
    views = {"catalog": catalog} if args.tagged_only else {"catalog": catalog, "catalog without tags": without_tags(catalog)}
    engines = {
        name: build_engine(model, model_fingerprint(model_dir), view, EmbeddingCache(settings.cache_dir), settings.ann_threshold)
        for name, view in views.items()
    }
    dev = [q for path in args.dev for q in load_queries(path)]
    per_view = {name: query_signals(engine, [q.query for q in dev]) for name, engine in engines.items()}
    # One rule for both views: fitted on the dev queries searched in each (the folds do not split a query's two views).
    signals = [s for view in per_view.values() for s in view]
    truth = [not q.relevant for q in dev] * len(per_view)
    cv = cross_validate(signals, truth, use_cosine, args.folds, args.max_false_alarms)
    show(f"dev, {args.folds}-fold cross-validated (mean of {cv['shuffles']} shuffles)", cv)
    rule = fit_rule(signals, truth, use_cosine, args.max_false_alarms)
    fitted = flag_report([rule.flags(s) for s in signals], truth)
    print(f"rule fitted on all of {', '.join(args.dev)}: {rule.describe()}")
    show("dev, fitted on itself", fitted)
    report = {
        "dev": fitted,
        "dev_cross_validated": cv,
        "max_false_alarms": args.max_false_alarms,
        "calibrated_on": ", ".join(Path(path).name for path in args.dev),
    }
    for name, view_signals in per_view.items():
        report[f"dev, {name}"] = flag_report([rule.flags(s) for s in view_signals], truth[: len(dev)])
        show(f"dev, {name}", report[f"dev, {name}"])
    if args.report_eval:
        held = load_queries(args.queries)
        for name, engine in engines.items():
            held_signals = query_signals(engine, [q.query for q in held])
            key = "eval" if name == "catalog" else f"eval, {name}"
            report[key] = flag_report([rule.flags(s) for s in held_signals], [not q.relevant for q in held])
            show(f"eval, {name} ({args.queries}; report once, never tune on it)", report[key])
    if args.save:
        print(f"saved {rule.save(model_dir, report)}")


def _cmd_train(args: argparse.Namespace) -> None:
    from shopsearch.training.cli import main

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
    p = sub.add_parser("evaluate", help="Recall/MRR/NDCG of every search method on held-out queries, overall and per kind")
    p.add_argument(
        "--catalog", default=str(settings.catalog_path), help="CSV with id,name (or item_id/product_id and title; titles alone are numbered 1, 2, 3…)"
    )
    p.add_argument(
        "--queries",
        default=str(settings.eval_queries_path),
        help="CSV with query and product_ids (or expected_id; ids separated by |), optionally kind",
    )
    p.add_argument("--models", default=",".join(MODEL_NAMES), help=f"comma-separated: {', '.join(MODEL_NAMES)} or model folders")
    p.add_argument("--methods", default="semantic,hybrid,lexical", help="comma-separated: semantic, hybrid, lexical")
    p.add_argument("--per-query", default=None, help="CSV: query, kind, expected, rank and top-1 of every method")
    p.add_argument(
        "--cross-check", action="store_true", help="also run sentence-transformers' InformationRetrievalEvaluator on the same catalog vectors"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads for embedding the catalog (queries always use 1)")
    p.add_argument("--json", default=None, help="write the overall and per-kind results here")
    p.add_argument(
        "--backend",
        choices=("memory", "milvus"),
        default=settings.backend,
        help="search in-process (memory) or through Milvus (default: SHOPSEARCH_BACKEND, else memory)",
    )
    p.add_argument("--milvus-uri", default=None, help="a Milvus Lite file (*.db) or http://host:19530 (default: SHOPSEARCH_MILVUS_URI)")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("calibrate", help="fit the 'nothing relevant' rule on the dev queries (cross-validated)")
    p.add_argument("--catalog", default=str(settings.catalog_path))
    p.add_argument(
        "--dev",
        nargs="+",
        default=[str(settings.dev_queries_path), str(settings.dev_queries_path.with_name("dev_hard_queries.csv"))],
        help="the query files the rule is fitted on (default: data/dev_queries.csv and data/dev_hard_queries.csv)",
    )
    p.add_argument("--queries", default=str(settings.eval_queries_path), help="the eval set, read only with --report-eval")
    p.add_argument("--model", default="chinese", help=f"{', '.join(MODEL_NAMES)} or a model folder")
    p.add_argument(
        "--no-cosine", action="store_true", help="fit on word coverage and length only: the model-independent default rule (NoAnswerRule())"
    )
    p.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validation on dev")
    p.add_argument("--max-false-alarms", type=float, default=0.03, help="largest share of answered dev queries flagged")
    p.add_argument(
        "--tagged-only",
        action="store_true",
        help="fit on the catalog as it is only (default: also on it without its English tags, as an uploaded catalog reads)",
    )
    p.add_argument("--report-eval", action="store_true", help="also report the fitted rule on the eval set (once, at the end)")
    p.add_argument("--save", action="store_true", help="write the rule to the model folder's no_answer.json")
    p.set_defaults(func=_cmd_calibrate)
    p = sub.add_parser("train", help="rebuild model/ (see python -m shopsearch.training --help)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_train)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())  # type: ignore[func-returns-value]  # main() returns None: exit status 0
