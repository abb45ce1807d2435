"""Fine-tune estimates: one step count everywhere, the whole run counted, corrected by measured runs."""

from __future__ import annotations

import pytest

from shopsearch.estimates import RunTimer, planned_steps


def test_the_estimate_counts_setup_steps_and_evaluation():
    timer = RunTimer(per_step={"chinese": 2.0, "seed": 0.5}, before={"chinese": 20, "seed": 5}, after={"chinese": 30, "seed": 5})
    assert timer.estimate("chinese", 40) == (40, 2.0, 20 + 80 + 30)


def test_planned_steps_match_what_the_trainers_take():
    assert planned_steps("seed", 450, 2, 16, 999) == 58  # ceil(450 / 16) × 2
    assert planned_steps("chinese", 450, 2, 16, 40) == 40


def test_the_eta_follows_the_pace_this_run_measured():
    timer = RunTimer()
    slow, fast = timer.eta("chinese", 10, 40, elapsed_in_steps=50.0), timer.eta("chinese", 10, 40, elapsed_in_steps=10.0)
    assert slow == pytest.approx(30 * 5.0 + timer.after["chinese"]) and fast < slow


def test_a_finished_run_moves_the_estimate_toward_what_it_measured():
    timer = RunTimer(per_step={"chinese": 2.0, "seed": 0.5})
    timer.record("chinese", steps=40, before_s=10.0, steps_s=160.0, after_s=10.0)
    assert timer.per_step["chinese"] == pytest.approx(3.0)  # halfway from 2.0 to the measured 4.0
