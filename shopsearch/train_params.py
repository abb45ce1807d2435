"""What a fine-tune is asked to do and what it reports: plain data, importable without torch.

The app's page is built from these (the fine-tune tab's defaults, its step estimates) before the training stack
(torch, transformers, sentence-transformers: ~6 CPU-seconds of imports) has loaded; `shopsearch.training` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOSSES = ("TripletLoss", "MultipleNegativesRankingLoss")


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
