"""Through the API, as a script would: a 40,000-column CSV (80 KB), and a 5 MB one of 870,000 tiny rows, sent to every
table upload of the launched app are refused at once, and another visitor's searches keep their pace while they are
sent again and again.

Before the shape checks, pandas spent ~18 s de-duplicating the 40,000 names in the upload handler, holding the GIL:
every other visitor's search slowed about 15x and every other catalog upload waited.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
import time
import uuid

import httpx
import pytest
from gradio_client import Client, handle_file

from shopsearch.common.config import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench_abuse import Victim, wide_csv  # noqa: E402

REFUSAL = "The header has 40000 columns, over the limit of 64 columns"
# What each shape gets from every table upload: (English, Chinese) of the refusal.
SHAPES = {
    "wide": (REFUSAL, "超过上限 64 列"),
    "tall": ("goes over the limit of 5000 rows", "行的上限"),  # a review's 1.2M-row file stalled searches 3.0 s
}


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    return wide_csv(tmp_path_factory.mktemp("wide") / "wide.csv", 40_000)


@pytest.fixture(scope="module")
def tall(tmp_path_factory):
    """Just under the 5 MB upload cap: a header and ~870,000 rows of three one-letter cells."""
    path = tmp_path_factory.mktemp("tall") / "tall.csv"
    path.write_bytes(b"anchor,positive,negative\n" + b"a,b,c\n" * ((5 * 2**20 - 64) // 6))
    return path


def triplet_check(app_url: str, path) -> str:
    """The fine-tune tab's check of an uploaded triplet file (a private event), called the way the page calls it:
    upload the file, join the queue, read the event stream. Returns the report it shows."""
    import app

    box = next(b for b in app.demo.blocks.values() if getattr(b, "elem_id", None) == "triplet-file")
    fn_index, check = next((i, f) for i, f in app.demo.fns.items() if (box._id, "upload") in f.targets)
    session = uuid.uuid4().hex
    with httpx.Client(base_url=app_url, timeout=60) as http:
        with open(path, "rb") as handle:
            served = http.post("gradio_api/upload", files={"files": (path.name, handle, "text/csv")}).json()[0]
        upload = {"path": served, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
        data = [upload if block is box else None for block in check.inputs]  # the rest: session state, kept server-side
        http.post(
            "gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "trigger_id": box._id, "session_hash": session}
        ).raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    assert message["success"], message
                    return " ".join(str(value) for value in message["output"]["data"])
    raise AssertionError("the event stream ended without a result")


def send_wide(app_url: str, client: Client, path, kind: str) -> str:
    """Send the file to one table upload; the message the sender gets."""
    if kind == "triplet check":
        return triplet_check(app_url, path)
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(path)), api_name=kind)
    return str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_40000_column_csv_is_refused_fast_by_every_table_upload_while_another_visitor_searches(app_url, shape, request):
    """Refused with the bilingual column (or row) message within a second (median), sent back to back for 5 s; the
    searching visitor's p95 meanwhile stays within 3x of its idle p95 (the worse of the windows before and after; 1.5 s
    at least). `tall` is the 870,000-row file."""
    wide = request.getfixturevalue(shape)
    refusal, refusal_zh = SHAPES[shape]
    victim = Victim(app_url)
    victim.start()
    time.sleep(4)
    idle_before = victim.stop()

    kinds = ["/load_catalog", "/finetune", "triplet check"]
    answers: list[tuple[str, float, str]] = []
    deadline = time.time() + 5

    def attack() -> None:
        client = Client(app_url, verbose=False)
        while time.time() < deadline or len(answers) < len(kinds):
            kind = kinds[len(answers) % len(kinds)]
            started = time.perf_counter()
            message = send_wide(app_url, client, wide, kind)
            answers.append((kind, time.perf_counter() - started, message))

    victim.start()
    attacker = threading.Thread(target=attack)
    attacker.start()
    attacker.join(timeout=600)
    during = victim.stop()
    victim.start()
    time.sleep(4)
    idle_after = victim.stop()

    assert {kind for kind, _, _ in answers} == set(kinds), answers
    for kind, _, message in answers:
        assert refusal in message and refusal_zh in message, (kind, message[:300])
    seconds = sorted(s for _, s, _ in answers)
    assert statistics.median(seconds) < 1.0, seconds
    idle = max(idle_before["p95_ms"], idle_after["p95_ms"])
    assert during["errors"] == 0 and during["searches"] >= 10, (during, victim.errors[:3])
    # 3x idle, with a floor: the other test worker's training shares the cores unevenly between windows (a CI run saw
    # 670 ms against an idle 162 ms); parsing on the event loop had stalled searches for seconds.
    assert during["p95_ms"] <= max(3 * idle, 1500), (idle_before, during, idle_after)


@pytest.mark.slow
def test_uploads_are_parsed_in_a_worker_thread_not_on_the_event_loop(app_url, wide, monkeypatch):
    """A parse on the event loop's thread would stall every request, even the ones that never queue."""
    import shopsearch.data.catalog
    import shopsearch.data.triplets

    seen: list[tuple[str, bool]] = []

    def spy(module):
        read_table = module.read_table

        def reading(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            seen.append((module.__name__, on_loop))
            return read_table(*args, **kwargs)

        monkeypatch.setattr(module, "read_table", reading)

    spy(shopsearch.data.catalog)
    spy(shopsearch.data.triplets)
    client = Client(app_url, verbose=False)
    for kind in ("/load_catalog", "/finetune", "triplet check"):
        assert REFUSAL in send_wide(app_url, client, wide, kind)
    assert sorted(seen) == [("shopsearch.data.catalog", False), ("shopsearch.data.triplets", False), ("shopsearch.data.triplets", False)]
