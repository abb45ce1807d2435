"""What a fine-tune is asked to do and what it reports: plain data, importable without torch.

The app's page is built from these (the fine-tune tab's defaults, its step estimates) before the training stack
(torch, transformers, sentence-transformers: ~6 CPU-seconds of imports) has loaded; `shopsearch.training.seed` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

LOSSES = ("TripletLoss", "MultipleNegativesRankingLoss")
FREQUENT_CHARS = 5000  # the shipped recipe's generic characters beyond the data's own (jieba's most frequent)


@dataclass(frozen=True)
class TrainParams:
    """The seed model card's settings are the defaults."""

    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 5e-5
    loss: str = "TripletLoss"
    margin: float = 5.0  # Euclidean distances between normalised vectors are ≤ 2: the loss never reaches 0
    seed: int = 42
    extend_vocab: bool = False  # add the data's CJK characters the tokenizer lacks as new tokens
    threads: int | None = None  # torch threads while training; None keeps torch's default
    bf16: bool = False  # bfloat16 autocast: about half the CPU time per step where `training.bf16_is_fast()`

    def steps(self, rows: int) -> int:
        """Optimizer steps for `rows` triplets. Example: TrainParams().steps(500) -> 64"""
        return -(-rows // self.batch_size) * self.epochs


@dataclass(frozen=True)
class ChineseParams:
    """The Fine-tune tab's settings are the defaults; the shipped model adds SHIPPED_DISTILL_STEPS of distillation."""

    steps: int = 80  # MNRL optimizer steps
    batch_size: int = 32  # distinct products per batch (in-batch negatives)
    learning_rate: float = 1e-4  # transformer body
    embedding_lr: float = 1e-3  # the word-embedding matrix (new characters move furthest)
    vocab_init: str = "gloss"  # how new characters' rows start; "none" keeps the tokenizer as it is
    frequent_chars: int = FREQUENT_CHARS  # generic characters added beyond the data's own
    distill_steps: int = 0  # the optional first stage; 0 skips it
    distill_batch: int = 128
    max_seq_length: int = 64  # training only; the saved model keeps 256
    seed: int = 42
    threads: int | None = None
    bf16: bool = False  # bfloat16 autocast (training.bf16_is_fast says where it pays)
    # The MNRL queries: "catalog" (pairs.catalog_pairs), "titles" (pairs.title_pairs, for titles only), "teacher" (the
    # same queries ranked by multilingual-e5-small: training.teacher), or "auto": for a titles-only catalog the teacher
    # where it can teach (`for_catalog`), else titles; catalog for any other catalog.
    pairs: str = "auto"

    def total_steps(self) -> int:
        """Optimizer steps over both stages. Example: ChineseParams(distill_steps=150).total_steps() -> 230"""
        return self.distill_steps + self.steps


@dataclass
class StepLog:
    step: int
    max_steps: int
    loss: float
    elapsed_s: float


@dataclass
class RunResult:
    path: Path
    steps_done: int
    max_steps: int
    stopped: bool
    seconds: float
    losses: list[StepLog] = field(default_factory=list)
    added_tokens: int = 0
    teacher_seconds: float = 0.0  # the teacher's reading before the steps (training.teacher), in `seconds`


# A catalog of titles only adapts with keyword queries cut from its titles at a lower learning rate (pairs.title_pairs):
# the catalog pairs need descriptions and tags, and at 1e-4 the model forgot more than it learned (BENCHMARKS.md).
TITLES_LEARNING_RATE = 3e-5
TITLES_EMBEDDING_LR = 3e-4


def titles_only(descriptions: list[str], tags: list[str]) -> bool:
    """Whether a catalog is titles only: nine products in ten have neither a description nor tags.

    Example: titles_only(["", ""], ["", ""]) -> True; titles_only(["轻量化设计"], [""]) -> False
    """
    bare = sum(not d.strip() and not t.strip() for d, t in zip(descriptions, tags))
    return bool(descriptions) and bare >= 0.9 * len(descriptions)


def for_catalog(params: ChineseParams, descriptions: list[str], tags: list[str], teacher: bool = False) -> ChineseParams:
    """`params` with "auto" pairs decided for the catalog: a titles-only catalog learns from the teacher's rankings of
    keyword queries cut from its titles when `teacher` (training.teacher.usable), at the usual learning rates; else from
    those queries alone, at the lower learning rates that measured best there (unless other rates were asked); any
    other catalog on the catalog pairs. "teacher" asked for where it cannot teach is decided as "auto" is.

    Example: for_catalog(ChineseParams(), [""], [""]).pairs -> "titles"; with teacher=True -> "teacher"
    """
    if params.pairs == "teacher" and not teacher:
        params = replace(params, pairs="auto")
    if params.pairs != "auto":
        return params
    if not titles_only(descriptions, tags):
        return replace(params, pairs="catalog")
    if teacher:
        return replace(params, pairs="teacher")
    default = ChineseParams()
    if (params.learning_rate, params.embedding_lr) != (default.learning_rate, default.embedding_lr):  # asked for
        return replace(params, pairs="titles")
    return replace(params, pairs="titles", learning_rate=TITLES_LEARNING_RATE, embedding_lr=TITLES_EMBEDDING_LR)
