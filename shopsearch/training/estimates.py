"""How long a fine-tune will take, from the same step count everywhere, corrected by what runs measure.

A run is: before training (load, vocabulary, the start model's evaluation), the steps, after training (save, the new
model's evaluation). The defaults are this machine's measurements (bench/bench_app.py: a 40-step Chinese-aware run
took 128 s end to end, 105 s of it in the trainer); each finished run replaces them with what it measured.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from shopsearch.common.errors import UserError
from shopsearch.training.params import TrainParams


def planned_steps(recipe: str, rows: int, epochs: int, batch: int, steps: int) -> int:
    """Optimizer steps a run will take on `rows` training triplets. Example: planned_steps("seed", 450, 2, 16, 40) -> 58"""
    return int(steps) if recipe == "chinese" else TrainParams(epochs=int(epochs), batch_size=int(batch)).steps(rows)


def check_step_cap(planned: int, cap: int) -> None:
    """Refuse, before anything runs, a fine-tune of more optimizer steps than the app allows (bilingual UserError).

    Example: check_step_cap(58, 300) passes; check_step_cap(640, 300) raises "这次微调需要 640 步，上限是 300 步…"
    """
    if planned > cap:
        raise UserError(
            f"这次微调需要 {planned} 步，上限是 {cap} 步：请减少行数或轮数，或加大批大小。",
            f"This fine-tune would take {planned} steps; the cap is {cap}: use fewer rows or epochs, or a larger batch.",
        )


class StopSignal:
    """When a running fine-tune should stop: its visitor pressed Stop, or its wall-time cap has passed.

    The trainers call it after every step (`should_stop`); the cap's clock starts with `start()`, when training does
    (not while the run waits in line or evaluates its start model). A run stopped by the cap keeps what it learned.
    """

    def __init__(self, pressed: threading.Event, max_seconds: float) -> None:
        self.pressed = pressed
        self.max_seconds = max_seconds
        self._deadline: float | None = None

    def start(self) -> None:
        self._deadline = time.monotonic() + self.max_seconds

    @property
    def timed_out(self) -> bool:
        return self._deadline is not None and time.monotonic() > self._deadline

    def __call__(self) -> bool:
        return self.pressed.is_set() or self.timed_out


@dataclass
class RunTimer:
    """Seconds per step and around the steps, per recipe, from the most recent run of each (one shared instance: runs
    are app-wide and sequential), so an estimate follows how busy the machine is now.

    The defaults are what the app's log showed for the tab's runs on 2 idle cores in bfloat16 (2026-11-30,
    bench/bench_app.py): Chinese-aware 1.2–1.45 s a step, ~4 s evaluating the start model plus ~10 s in the trainer
    around the steps (vocabulary, save, ONNX export), 7.6–9.6 s evaluating the new model; seed 0.66–0.8 s a step,
    ~4 + ~4.6 s before, 6–9.5 s after.
    """

    # "teacher": the Chinese-aware recipe learning from the teacher (training.teacher): 80 steps took 110 s in the app's
    # run over 2,083 real titles (2026-12-07), and its evaluations are those of a large uploaded catalog.
    per_step: dict[str, float] = field(default_factory=lambda: {"chinese": 1.3, "seed": 0.75, "teacher": 1.4})
    before: dict[str, float] = field(default_factory=lambda: {"chinese": 15.0, "seed": 9.0, "teacher": 15.0})
    after: dict[str, float] = field(default_factory=lambda: {"chinese": 9.0, "seed": 8.0, "teacher": 9.0})
    in_trainer: dict[str, float] = field(default_factory=lambda: {"chinese": 10.0, "seed": 5.0, "teacher": 10.0})  # load, vocabulary, save

    def estimate(self, recipe: str, steps: int) -> tuple[int, float, float]:
        """(steps, seconds per step, seconds for the whole run). Example: RunTimer().estimate("chinese", 40)[2] -> 76.0"""
        per_step = self.per_step[recipe]
        return steps, per_step, self.before[recipe] + steps * per_step + self.after[recipe]

    def eta(self, recipe: str, step: int, max_steps: int, elapsed_in_steps: float) -> float:
        """Seconds left while training: the remaining steps at the pace measured so far in this run, then the rest.

        Example: RunTimer().eta("chinese", 10, 40, 30.0) -> 30 * 3 + 9 = 99.0
        """
        pace = elapsed_in_steps / step if step else self.per_step[recipe]
        return (max_steps - step) * pace + self.after[recipe]

    def record(self, recipe: str, steps: int, before_s: float, steps_s: float, after_s: float, in_trainer: float | None = None) -> None:
        """Take a finished run's measurements as the next estimate's (a run of no step keeps the last pace)."""
        if steps:
            self.per_step[recipe] = steps_s / steps
        self.before[recipe] = before_s
        self.after[recipe] = after_s
        if in_trainer is not None:
            self.in_trainer[recipe] = in_trainer
