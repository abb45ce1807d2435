"""Many users at once (a short CI variant of bench/bench_load.py) and one fine-tune at a time, app-wide."""

from __future__ import annotations

import sys
import time

import pytest
from gradio_client import Client, handle_file

from shopsearch.common.config import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench_load import search_load, small_triplets  # noqa: E402

pytestmark = pytest.mark.slow


def test_concurrent_searchers_get_no_errors(app_url):
    result = search_load(app_url, clients=12, seconds=8)
    summary = result.summary()
    assert summary["errors"] == 0, result.errors[:3]
    assert summary["requests"] >= 24


def test_a_second_finetune_waits_its_turn_a_third_from_the_same_session_is_refused(app_url, tmp_path):
    """One fine-tune trains at a time: a second session's fine-tune says where it is in line while the first trains,
    then runs; the first session cannot queue another one meanwhile (at most one per session)."""
    data = handle_file(str(small_triplets(tmp_path / "t.csv", rows=64)))  # 8 steps, then measuring: long enough to queue behind
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    first = a.submit(data, 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    deadline = time.time() + 120
    while time.time() < deadline and not any("step" in o[0] for o in first.outputs()) and not first.done():
        time.sleep(0.1)
    second = b.submit(data, 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    with pytest.raises(Exception, match="already have a fine-tune"):
        a.predict(data, 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    seen_waiting = False
    while not first.done():
        seen_waiting |= any("Waiting: 1 fine-tune" in o[0] for o in second.outputs())
        assert not any("step" in o[0] for o in second.outputs()), "the second never trains while the first does"
        time.sleep(0.2)
    assert seen_waiting, [o[0] for o in second.outputs()]
    deadline = time.time() + 300
    while not second.done() and time.time() < deadline:
        time.sleep(0.5)
    for job in (first, second):
        assert "Done" in job.outputs()[-1][0], job.outputs()[-1][0]
    table = b.predict(query="寻找一款K7", top_k=3, api_name="/search")
    assert table["data"], "the second session keeps searching after its fine-tune"
