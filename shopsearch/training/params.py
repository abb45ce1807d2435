"""What a fine-tune is asked to do and what it reports: plain data, importable without torch.

The app's page is built from these (the fine-tune tab's defaults, its step estimates) before the training stack
(torch, transformers, sentence-transformers: ~6 CPU-seconds of imports) has loaded; `shopsearch.training.seed` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    pairs: str = "catalog"  # the MNRL queries: "catalog" (pairs.catalog_pairs) or "titles" (pairs.title_pairs, titles only)

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
