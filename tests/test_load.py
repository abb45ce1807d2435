"""Many users at once (a short CI variant of bench/bench_load.py) and one fine-tune at a time, app-wide."""

from __future__ import annotations

import sys
import time

import pytest
from gradio_client import Client, handle_file

from shopsearch.config import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench_load import search_load, small_triplets  # noqa: E402

pytestmark = pytest.mark.slow


def test_concurrent_searchers_get_no_errors(app_url):
    result = search_load(app_url, clients=12, seconds=8)
    summary = result.summary()
    assert summary["errors"] == 0, result.errors[:3]
    assert summary["requests"] >= 24


def test_a_second_finetune_waits_in_the_queue_and_both_finish(app_url, tmp_path):
    data = handle_file(str(small_triplets(tmp_path / "t.csv", rows=160)))  # ~20 steps: long enough to queue behind
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    first = a.submit(data, 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    deadline = time.time() + 120
    running = ("PROCESSING", "ITERATING")
    while time.time() < deadline and first.status().code.name not in running and not first.done():
        time.sleep(0.1)
    second = b.submit(data, 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    waiting = []
    while not first.done():
        waiting.append(second.status().code.name)
        time.sleep(0.2)
    assert "IN_QUEUE" in waiting, f"the second request waits while the first trains: {waiting}"
    # Once the second runs it never goes back to the queue. (The client only sees the first as done after it has
    # downloaded the first's outputs, the model zip among them, so the second may already be running by then.)
    started = next(i for i, status in enumerate(waiting) if status in running)
    assert all(status in running for status in waiting[started:]), waiting
    assert waiting[:started].count("IN_QUEUE") >= 5, f"the second waited while the first trained: {waiting}"
    deadline = time.time() + 300
    while not second.done() and time.time() < deadline:
        time.sleep(0.5)
    for job in (first, second):
        assert "Done" in job.outputs()[-1][0]
    table = b.predict(query="寻找一款K7", top_k=3, api_name="/search")
    assert table["data"], "the second session keeps searching after its fine-tune"
