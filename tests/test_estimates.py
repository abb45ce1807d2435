"""Fine-tune estimates: one step count everywhere, the whole run counted, corrected by measured runs."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from shopsearch.common.errors import UserError
from shopsearch.training import estimates
from shopsearch.training.estimates import RunTimer, StopSignal, check_step_cap, planned_steps


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


def test_the_next_estimate_uses_the_pace_the_latest_run_measured():
    """A busy machine makes steps slower: the pre-check after a run says so, instead of the idle machine's pace."""
    timer = RunTimer(per_step={"chinese": 2.0, "seed": 0.5})
    timer.record("chinese", steps=40, before_s=10.0, steps_s=160.0, after_s=10.0)
    assert timer.per_step["chinese"] == pytest.approx(4.0)
    assert timer.estimate("chinese", 40)[2] == pytest.approx(10.0 + 160.0 + 10.0)
    timer.record("chinese", steps=0, before_s=10.0, steps_s=0.0, after_s=10.0)  # stopped before its first step
    assert timer.per_step["chinese"] == pytest.approx(4.0)
    assert timer.per_step["seed"] == pytest.approx(0.5), "one recipe's pace does not move the other's"


def test_a_run_over_the_step_cap_is_refused_in_both_languages():
    check_step_cap(300, 300)  # at the cap: allowed
    with pytest.raises(UserError) as err:
        check_step_cap(640, 300)
    assert "640 步" in str(err.value) and "640 steps; the cap is 300" in str(err.value)


def test_a_run_stops_when_stop_is_pressed_or_its_time_is_up(monkeypatch):
    now = [1000.0]  # the module's clock, moved by hand: a stalled test thread cannot make the run time out early
    monkeypatch.setattr(estimates, "time", SimpleNamespace(monotonic=lambda: now[0]))
    pressed = threading.Event()
    signal = StopSignal(pressed, max_seconds=0.05)
    assert not signal()  # the clock has not started: waiting in line does not count
    now[0] += 0.1
    assert not signal()
    signal.start()
    assert not signal() and not signal.timed_out
    now[0] += 0.1
    assert signal() and signal.timed_out
    early = StopSignal(pressed, max_seconds=60)
    early.start()
    pressed.set()
    assert early() and not early.timed_out


def test_the_default_estimates_are_the_examples_in_their_docstrings():
    """The docstrings' worked examples follow the defaults (they were left at the pre-bfloat16 pace once)."""
    assert RunTimer().estimate("chinese", 40) == (40, 1.3, pytest.approx(76.0))
    assert RunTimer().eta("chinese", 10, 40, 30.0) == pytest.approx(99.0)


def test_the_plan_asks_for_triplets_on_the_shipped_catalog_and_not_on_a_visitors_own():
    """Start refuses a run without triplets on the shipped catalog (the shipped model's own), so the plan must not
    promise one there; on a visitor's own catalog the Chinese-aware recipe trains on its pairs alone."""
    from shopsearch.training.job import Plan
    from shopsearch.ui.finetune_tab import plan_markdown

    plan = Plan(train=0, held_out=0, steps=40, per_step=1.3, seconds=76, training_seconds=52, cap_seconds=600, fitting_steps=None)
    shipped = plan_markdown(plan, 0, 0, "chinese", needs_triplets=True)
    own = plan_markdown(plan, 0, 0, "chinese", needs_triplets=False)
    assert "No triplets yet" in shipped and "upload" in shipped
    assert "trains on query–product pairs from the catalog only" in own and "No triplets yet" not in own
    assert "3 from your file" in plan_markdown(plan, 3, 0, "chinese", needs_triplets=True)
