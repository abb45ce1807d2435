"""A fair share for every visitor of a public Space: each test replays one attack through raw HTTP or the public API of
the launched app, as a script would, and each failed on the code before the door (serving/fairness.py) existed.

Visitors are told apart by address. The app behind the Space's proxy reads it from X-Forwarded-For (its last entry);
these tests turn that on for the app under test and give each simulated visitor its own address.
"""

from __future__ import annotations

import csv
import http.client
import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from gradio_client import Client, handle_file

from shopsearch.common.config import ROOT, base_model_path
from shopsearch.retrieval.embeddings import EmbeddingCache
from shopsearch.retrieval.onnx_encoder import export_path
from shopsearch.serving.fairness import _in_turns, network
from shopsearch.serving.janitor import disk_bytes
from shopsearch.serving.models import ModelStore

MODEL_DIR = ROOT / "model"


@pytest.fixture(scope="module")
def space(app_url):
    """The launched app, trusting one proxy hop as on a Space (restored after the module)."""
    import app

    budgets = getattr(app.context, "budgets", None)
    saved = getattr(budgets, "proxy_hops", 0)
    if budgets is not None:
        budgets.proxy_hops = 1
    yield app_url
    if budgets is not None:
        budgets.proxy_hops = saved


def as_visitor(address: str) -> dict[str, str]:
    """What the Space's proxy would add for a request from `address` (a client-sent entry first, which must not count)."""
    return {"X-Forwarded-For": f"6.6.6.6, {address}"}


def fn_index(api_name: str) -> int:
    import app

    return next(i for i, f in app.demo.fns.items() if f.api_name == api_name)


def private_fn(name: str, button: str | None = None) -> int:
    """A page-only event's index: by its handler's name (and the label of the button that triggers it)."""
    import app

    return next(
        i
        for i, f in app.demo.fns.items()
        if f.name == name and (button is None or any(getattr(app.demo.blocks.get(t[0]), "value", None) == button for t in f.targets))
    )


def search_on_page(url: str, session: str, query: str, address: str) -> tuple[dict, dict]:
    """A search as the page runs it: the search, then the step that draws it (notices, the pick list). Both messages."""
    searched = run_event(url, fn_index("search"), [query, 10, "hybrid", 0.5, "全部类别 all categories", None, None, None], session, address)
    assert searched["success"], searched
    drawn = run_event(url, private_fn("_show_search"), [None, None, None], session, address)
    return searched, drawn


def join(url: str, index: int, data: list, address: str, session: str | None = None) -> httpx.Response:
    """Join the queue as the page's JavaScript does (never reading the result)."""
    body = {"data": data, "fn_index": index, "session_hash": session or uuid.uuid4().hex}
    return httpx.post(f"{url}gradio_api/queue/join", json=body, headers=as_visitor(address), timeout=30)


def run_event(url: str, index: int, data: list, session: str, address: str = "10.1.0.1") -> dict:
    """Join the queue and read the event stream to the end; the completion message."""
    with httpx.Client(base_url=url, timeout=120, headers=as_visitor(address)) as http:
        joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": index, "session_hash": session})
        assert joined.status_code == 200, joined.text
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event stream ended without a result")


def bilingual(text: str) -> bool:
    """Chinese first, English beside it."""
    zh, sep, en = text.partition(" · ")
    return bool(sep) and any("\u4e00" <= ch <= "\u9fff" for ch in zh) and any(ch.isascii() and ch.isalpha() for ch in en)


def test_the_visitor_is_the_address_the_last_proxy_saw_never_what_the_client_wrote():
    from shopsearch.serving.fairness import visitor_address

    headers = [(b"x-forwarded-for", b"6.6.6.6, 1.2.3.4")]
    assert visitor_address(headers, "10.0.0.9", 1) == "1.2.3.4"
    assert visitor_address(headers, "10.0.0.9", 2) == "6.6.6.6"
    assert visitor_address(headers, "10.0.0.9", 0) == "10.0.0.9", "no proxy: the header is anyone's to write"
    assert visitor_address([], "10.0.0.9", 1) == "10.0.0.9"


# --- 1. the upload route's form fields -----------------------------------------------------------------------------


def post_multipart(url: str, parts: list[tuple[str, str | None, int]], address: str | None = None) -> tuple[int, str]:
    """Stream a multipart body to /gradio_api/upload, part by part, 64 KB at a time: (name, filename or None for a
    field, size). Stops sending when the server answers early; returns (status, body)."""
    boundary = "fairness" + uuid.uuid4().hex
    where = urlparse(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    chunks: list[bytes] = []
    for name, filename, size in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        filler = uuid.uuid4().hex.encode() * 4096  # 128 KB, different each time: uploads are stored by content
        chunks.extend([filler[:65536]] * (size // 65536) + [filler[: size % 65536], b"\r\n"])
    chunks.append(f"--{boundary}--\r\n".encode())
    connection.putrequest("POST", "/gradio_api/upload")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(sum(map(len, chunks))))
    if address:
        connection.putheader("X-Forwarded-For", address)
    connection.endheaders()
    try:
        for chunk in chunks:
            connection.send(chunk)
    except OSError:  # refused while sending: the server closed the connection
        pass
    response = connection.getresponse()
    status, body = response.status, response.read().decode("utf-8", "replace")
    connection.close()
    return status, body


def test_a_large_form_field_sent_to_the_upload_route_is_refused_while_it_arrives(space):
    """Attack 1: gradio held a non-file field of /gradio_api/upload in memory, whatever its size (a 1 GB field: +3 GB).
    A field past 64 KB is now refused as it streams in (413, bilingual); a 4 MB field never reaches gradio."""
    status, body = post_multipart(space, [("files", "a.csv", 1000), ("note", None, 4 * 2**20)])
    assert status == 413, body[:300]
    assert "64 KB" in body and bilingual(json.loads(body)["detail"])
    status, body = post_multipart(space, [("files", "a.csv", 1000), ("note", None, 1000)])
    assert status == 200 and body.endswith('a.csv"]'), "a small field and a file still upload"


def test_an_upload_request_with_too_many_files_or_too_many_bytes_is_refused(space):
    status, body = post_multipart(space, [("files", f"{i}.csv", 10) for i in range(20)])
    assert status == 413 and "files per upload" in body
    import app

    saved = app.context.budgets.max_upload_bytes
    app.context.budgets.max_upload_bytes = 2**20
    try:
        status, body = post_multipart(space, [("files", "big.csv", 2 * 2**20)])
    finally:
        app.context.budgets.max_upload_bytes = saved
    assert status == 413 and "upload is over" in body


# --- 2. the queue: its length and each visitor's share --------------------------------------------------------------


def test_a_flood_of_unread_searches_from_one_address_is_refused_and_another_visitor_keeps_searching(space):
    """Attack 2: 2,000 searches never read were all accepted; another visitor then waited 33-43 s. One address may now
    hold 16 events waiting or running and use 64 sessions (whatever session hashes it invents); the rest are refused at
    once, in both languages, and a visitor at another address is served meanwhile."""
    index = fn_index("search")
    statuses: Counter[int] = Counter()
    refusals: list[str] = []
    lock = threading.Lock()

    def flood() -> None:
        with httpx.Client(timeout=30, headers=as_visitor("10.2.0.66")) as http:
            for i in range(40):
                body = {"data": [f"寻找一款K{i}", 10], "fn_index": index, "session_hash": uuid.uuid4().hex}
                answer = http.post(f"{space}gradio_api/queue/join", json=body)
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 429:
                        refusals.append(answer.json()["detail"])

    threads = [threading.Thread(target=flood) for _ in range(6)]
    for thread in threads:
        thread.start()
    victim = Client(space, verbose=False, headers=as_visitor("10.2.0.77"))
    table = victim.predict(query="寻找一款K7", top_k=3, api_name="/search")
    for thread in threads:
        thread.join()
    assert statuses[429] > 0, statuses
    assert set(statuses) <= {200, 429}, statuses
    assert all(("requests waiting or running" in r or "page sessions" in r) and bilingual(r) for r in refusals), refusals[:2]
    assert table["data"], "the other visitor was served during the flood"


def test_one_addresss_backlog_waits_behind_another_visitors_first_request(space):
    """Attack 2: gradio serves a line first come, first served, so a visitor waited behind a script's whole backlog. The
    door now serves each line in turn by address: another visitor's first event goes before the backlog's second."""
    import app

    queue, compare = app.demo._queue, fn_index("compare")
    queue.create_event_queue_for_fn(app.demo.fns[compare])
    line = queue.event_queue_per_concurrency_id[app.demo.fns[compare].concurrency_id]
    line.current_concurrency += 1000  # as if its place were taken: what joins now waits
    try:
        for address in ("10.2.1.1", "10.2.1.1", "10.2.1.1", "10.2.1.2"):
            assert join(space, compare, [None, None], address).status_code == 200
        order = [e.request.headers["x-forwarded-for"].rsplit(" ", 1)[-1] for e in line.queue]
    finally:
        line.current_concurrency -= 1000
    assert order == ["10.2.1.1", "10.2.1.2", "10.2.1.1", "10.2.1.1"], order
    deadline = time.time() + 30
    while line.queue and time.time() < deadline:  # they run now ("Search first", at once)
        time.sleep(0.05)


def test_addresses_are_grouped_by_the_block_one_owner_fills_for_free():
    assert network("10.12.0.7") == network("10.12.0.250") == "10.12.0.0/24"
    assert network("10.12.1.7") != network("10.12.0.7")
    assert network("2001:db8::1") == network("2001:db8::ffff:1") == "2001:db8::/64", "one home's IPv6 block"
    assert network("2001:db8:0:1::1") != network("2001:db8::1")
    assert network("::ffff:10.12.0.7") == "10.12.0.0/24", "an IPv4 address written as IPv6"
    assert network("?") == "?" and network("[2001:db8::1]") == "2001:db8::/64"


def test_turns_go_by_network_first_then_by_address():
    order = ["10.1.0.1", "10.1.0.1", "10.1.0.2", "10.2.0.1"]
    assert _in_turns(order, {}, str) == ["10.1.0.1", "10.2.0.1", "10.1.0.2", "10.1.0.1"]
    running = {"10.1.0.1": 1, "network 10.1.0.0/24": 1}  # as interleave counts what runs
    assert _in_turns(order, running, str) == ["10.2.0.1", "10.1.0.2", "10.1.0.1", "10.1.0.1"]
    crowd = [f"10.12.0.{k}" for k in range(1, 40)] + ["10.9.0.1"]
    assert _in_turns(crowd, {}, str)[:2] == ["10.12.0.1", "10.9.0.1"], "fifty addresses of one block are one visitor"


def test_a_crowd_from_one_network_keeps_a_bounded_part_of_the_queue_and_a_newcomer_goes_next(space):
    """Attack 2, from many addresses: 50 clients of one block (what one rented server has) each searching once were
    50 visitors, filled the queue's 32 places and got 50 turns before another visitor's. A network now holds at most
    24 events waiting or running and takes one turn among networks; a network with nothing waiting joins even a full
    queue, and is served next."""
    import app

    budgets = app.context.budgets
    queue, compare = app.demo._queue, fn_index("compare")
    queue.create_event_queue_for_fn(app.demo.fns[compare])
    line = queue.event_queue_per_concurrency_id[app.demo.fns[compare].concurrency_id]
    line.current_concurrency += 1000  # as if its place were taken: what joins now waits
    saved = budgets.max_queue
    budgets.max_queue = budgets.max_queued_per_network  # the crowd alone fills it
    try:
        crowd = [join(space, compare, [None, None], f"10.6.0.{k}") for k in range(1, 31)]
        newcomer = join(space, compare, [None, None], "10.7.0.1")
        again = join(space, compare, [None, None], "10.7.0.1")
        order = [e.request.headers["x-forwarded-for"].rsplit(" ", 1)[-1] for e in line.queue]
    finally:
        budgets.max_queue = saved
        line.current_concurrency -= 1000
    statuses = [a.status_code for a in crowd]
    assert statuses == [200] * 24 + [429] * 6, statuses
    assert "Your network" in crowd[-1].json()["detail"] and bilingual(crowd[-1].json()["detail"])
    assert newcomer.status_code == 200, "a network with nothing waiting joins the full queue"
    assert again.status_code == 429 and "server is busy" in again.json()["detail"], "its second waits for a place"
    assert order[:2] == ["10.6.0.1", "10.7.0.1"], order[:3]
    deadline = time.time() + 30
    while line.queue and time.time() < deadline:  # they run now ("Search first", at once)
        time.sleep(0.05)


def test_an_address_inventing_sessions_gets_a_bounded_number_of_them(space):
    """Attack 2: 2,000 joins with 2,000 invented session hashes each left state in gradio (+0.5 GB that stayed). One
    address may use `max_sessions_per_visitor` sessions in 30 minutes; the others are refused."""
    import app

    budgets = app.context.budgets
    saved = budgets.max_sessions_per_visitor
    budgets.max_sessions_per_visitor = 5
    try:
        answers = [join(space, fn_index("search"), ["寻找一款K7", 3], "10.2.2.1") for _ in range(8)]
        same = join(space, fn_index("search"), ["寻找一款K7", 3], "10.2.2.1", session=json.loads(answers[0].request.content)["session_hash"])
        other = join(space, fn_index("search"), ["寻找一款K7", 3], "10.2.2.2")
    finally:
        budgets.max_sessions_per_visitor = saved
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert "page sessions" in answers[-1].json()["detail"] and bilingual(answers[-1].json()["detail"])
    assert same.status_code == 200, "a session it already uses goes on"
    assert other.status_code == 200, "another address has its own budget"


def test_the_whole_queue_has_a_length_limit(space):
    """However many addresses a flood comes from, at most `max_queue` events wait; past it every join is refused."""
    import app

    budgets = app.context.budgets
    saved = budgets.max_queue
    budgets.max_queue = 0  # as if the queue were full
    try:
        answer = join(space, fn_index("search"), ["寻找一款K7", 10], "10.3.0.1")
    finally:
        budgets.max_queue = saved
    assert answer.status_code == 429 and "server is busy" in answer.json()["detail"]
    assert bilingual(answer.json()["detail"])


# --- 3. Compare does not hold the search line ------------------------------------------------------------------------


def write_catalog(path: Path, rows: int, tag: str) -> Path:
    with open(ROOT / "catalog.csv", encoding="utf-8") as handle:
        base = list(csv.DictReader(handle))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(base[0]))
        writer.writeheader()
        for i in range(rows):
            row = dict(base[i % len(base)])
            row["id"], row["name"] = f"{tag}{i}", f"{row['name']} {tag}{i}"
            writer.writerow(row)
    return path


@pytest.mark.slow
def test_compares_on_fresh_catalogs_do_not_make_another_visitors_search_wait(space, tmp_path):
    """Attack 3: Compare ran in the search line (4 places), so 4 sessions comparing on fresh catalogs (each embedded
    again with the other model) made every other search wait for one of them to finish. Compare now has a line of its
    own: the other visitor's search comes back before any compare does."""
    import app

    attackers = []
    for k in range(4):
        client = Client(space, verbose=False, headers=as_visitor(f"10.4.0.{k + 1}"))
        tag = f"C{uuid.uuid4().hex[:6]}x"
        client.predict(handle_file(str(write_catalog(tmp_path / f"{k}.csv", 50, tag))), api_name="/load_catalog")
        client.predict(query="寻找一款K7", top_k=10, api_name="/search")
        attackers.append(client)
    victim = Client(space, verbose=False, headers=as_visitor("10.4.0.99"))
    jobs = [client.submit(api_name="/compare") for client in attackers]
    deadline = time.time() + 30
    while time.time() < deadline and sum(e.fn.api_name == "compare" for e in app.demo._queue.event_ids_to_events.values()) < 4:
        time.sleep(0.01)  # every compare has joined the queue
    table = victim.predict(query="寻找一款K7", top_k=3, api_name="/search")
    finished = sum(job.done() for job in jobs)
    for job in jobs:
        job.result(timeout=300)
    assert table["data"]
    assert finished == 0, f"{finished} compares were done before the other visitor's search came back"


# --- 4. the disk budget evicts the largest visitor's oldest files first -----------------------------------------


@pytest.mark.slow
def test_junk_uploads_fill_the_disk_budget_and_only_the_junk_goes(space, tmp_path):
    """Attack 4: the budget deleted the oldest items of anyone: junk uploads deleted another visitor's earlier catalog
    (their search fell back to the shipped one in silence). Now the largest visitor's oldest files go first."""
    import app

    janitor, gradio_cache = app.context.janitor, app.get_settings().gradio_cache_dir

    def on_disk() -> set[Path]:
        return set(app.context.uploads.files()) | set(gradio_cache.iterdir())

    victim = Client(space, verbose=False, headers=as_visitor("10.5.0.1"))
    tag = f"D{uuid.uuid4().hex[:6]}x"
    before = on_disk()
    victim.predict(handle_file(str(write_catalog(tmp_path / "mine.csv", 60, tag))), api_name="/load_catalog")
    mine = on_disk() - before  # the uploaded file and the stored catalog
    assert len(mine) >= 2, mine
    junk = []
    for i in range(6):  # 6 MB each, newer than the victim's catalog
        status, body = post_multipart(space, [("files", f"junk{i}.csv", 6 * 2**20)], address="10.5.0.66")
        assert status == 200, body
        junk.append(Path(json.loads(body)[0]))
    assert app.context.budgets.owners.of(junk[0].parent) == "10.5.0.66", "the door recorded whose upload it is"
    saved = janitor.budget_bytes
    janitor.budget_bytes = sum(disk_bytes(p) for p in mine) + 20 * 2**20  # everything else must shrink to 20 MB
    try:
        report = janitor.sweep()
    finally:
        janitor.budget_bytes = saved
    assert report.evicted >= 3 and not junk[0].exists(), "the junk's oldest went first"
    assert all(p.exists() for p in mine), "nothing of the victim's went"
    table = victim.predict(query=f"{tag}7", top_k=3, mode="lexical", api_name="/search")
    assert any(str(row[-1]).startswith(tag) for row in table["data"]), "the victim still searches their own catalog"


def test_a_catalog_deleted_for_the_budget_says_so_not_expired(space, tmp_path):
    """The notice is the truth: a catalog evicted for the disk budget is not called "expired"."""
    import app

    client = Client(space, verbose=False, headers=as_visitor("10.5.0.2"))
    tag = f"E{uuid.uuid4().hex[:6]}x"
    client.predict(handle_file(str(write_catalog(tmp_path / "c.csv", 20, tag))), api_name="/load_catalog")
    uploads = app.context.uploads
    mine = [p for p in uploads.files() if uploads.owner_of(p) == "10.5.0.2"]
    assert mine, "the stored catalog is the visitor's"
    for path in mine:
        uploads.delete(path, "budget")
    searched, drawn = search_on_page(space, client.session_hash, "寻找一款K7", "10.5.0.2")
    warning = drawn["output"]["data"][1]  # the drawing step's outputs: the table (redrawn only for an older search), the warning…
    assert "disk was full" in warning and "catalog" in warning and "expired" not in warning, warning
    assert searched["output"]["data"][0]["data"], "it searches the shipped catalog"


# --- 5. the fine-tune line is enforced at the door -------------------------------------------------------------


def test_the_training_line_refuses_at_the_door_when_full_and_past_each_visitors_share(space, tmp_path):
    """Attack 5: extra fine-tunes waited in gradio's queue, unrefused and unstoppable, and trained later; "one per
    session" was per invented session hash. Now the line's places (one training, three waiting) are counted at the
    door: a fifth fine-tune is refused at once, and so is a third from one address (two per address)."""
    import app

    triplets = tmp_path / "t.csv"
    triplets.write_text(
        "anchor,positive,negative\n" + "\n".join(f"寻找一款K{i}款,机械师 K{i} 机械键盘,峰景 双人登山帐篷" for i in range(160)), encoding="utf-8"
    )
    jobs, clients = [], []
    index = fn_index("finetune")
    # A fine-tune is training (this test holds the trainer's place), so the four below wait in line and cost nothing.
    line = app.context.training
    saved, line.max_waiting = line.max_waiting, 10  # the door alone must refuse the fifth
    holder = line.enter("a fine-tune training now")
    try:
        for address in ("10.6.0.1", "10.6.0.1", "10.6.0.2", "10.6.0.3"):  # the line's four places
            client = Client(space, verbose=False, headers=as_visitor(address))
            clients.append(client)
            jobs.append(client.submit(handle_file(str(triplets)), 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune"))
        deadline = time.time() + 60
        while time.time() < deadline and sum(e.fn.api_name == "finetune" for e in app.demo._queue.event_ids_to_events.values()) < 4:
            time.sleep(0.05)
        fifth = join(space, index, [None] * 11, "10.6.0.4")
        third_of_one_address = join(space, index, [None] * 11, "10.6.0.1")  # a new session hash, the same address
    finally:
        for client in clients:  # Stop, as the page's button does: a waiting fine-tune leaves the line
            app.context.finetuner.stop(client.session_hash)
        for job in jobs:
            job.result(timeout=60)
        holder.leave()
        line.max_waiting = saved
    assert fifth.status_code == 429 and "fine-tunes are already waiting" in fifth.json()["detail"], fifth.text
    assert third_of_one_address.status_code == 429, third_of_one_address.text
    assert "Your address already has 2 fine-tunes" in third_of_one_address.json()["detail"]
    assert bilingual(fifth.json()["detail"]) and bilingual(third_of_one_address.json()["detail"])


# --- 6. feedback has a cap ------------------------------------------------------------------------------------------


def test_feedback_marks_past_the_cap_are_refused(space):
    """Attack 6: 300 marks made 3,750 triplets and 813 MB of downloads (each mark a new CSV of them all). Past the cap a
    mark is refused with a bilingual message; each mark replaces the session's one download."""
    import app

    like = private_fn("handler", button="相关 Relevant (+)")
    session = uuid.uuid4().hex
    searched, _ = search_on_page(space, session, "耳机", "10.7.0.1")
    ids = [row[-1] for row in searched["output"]["data"][0]["data"]]
    budgets = app.context.budgets
    saved = budgets.max_feedback_triplets
    budgets.max_feedback_triplets = 3
    outcomes = []
    try:
        for product in ids[0:10:2]:  # every other hit: liking a hit withdraws the triplets it was the negative of
            message = run_event(space, like, [product, None, None], session, "10.7.0.1")
            outcomes.append(message["success"] or message["output"].get("error", ""))
    finally:
        budgets.max_feedback_triplets = saved
    assert outcomes[:3] == [True, True, True], outcomes
    assert len(outcomes) == 5 and all(isinstance(o, str) and "the limit is 3" in o for o in outcomes[3:]), outcomes


def test_an_address_has_a_feedback_budget_over_all_its_sessions(space):
    """Attack 6, by sessions: each session's cap times the sessions an address may open is a lot of feedback. An
    address's marks over all its sessions have a budget of their own; another address still marks."""
    import app

    like = private_fn("handler", button="相关 Relevant (+)")
    budgets = app.context.budgets
    saved = budgets.max_feedback_marks_per_visitor
    budgets.max_feedback_marks_per_visitor = 2
    outcomes = []
    try:
        for address in ("10.7.1.1", "10.7.1.1", "10.7.1.1", "10.7.1.2"):  # a new session each time
            session = uuid.uuid4().hex
            searched, _ = search_on_page(space, session, "耳机", address)
            product = searched["output"]["data"][0]["data"][0][-1]
            message = run_event(space, like, [product, None, None], session, address)
            outcomes.append(message["success"] or message["output"].get("error", ""))
    finally:
        budgets.max_feedback_marks_per_visitor = saved
    assert outcomes[:2] == [True, True] and outcomes[3] is True, outcomes
    assert isinstance(outcomes[2], str) and "Your address has made 2 feedback marks" in outcomes[2] and bilingual(outcomes[2]), outcomes


# --- 7. numbers and prices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity"])
def test_a_number_that_is_not_a_finite_number_gets_a_clear_message(space, bad):
    """Attack 7: NaN steps, epochs or learning rate, or text in a number box, gave gradio's generic error."""
    index = fn_index("finetune")
    raw = json.dumps({"data": [None, 1, 16, 5e-5, "TripletLoss", "active", False, "chinese", 10, None, None], "fn_index": index})
    raw = raw.replace("5e-05", f'"{bad}"' if bad == "abc" else bad, 1).replace("{", '{"session_hash": "' + uuid.uuid4().hex + '", ', 1)
    answer = httpx.post(f"{space}gradio_api/queue/join", content=raw, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 429, answer.text
    assert "must be a finite number" in answer.json()["detail"] and bilingual(answer.json()["detail"])
    client = Client(space, verbose=False)
    with pytest.raises(Exception, match="must be a finite number"):
        client.predict(None, 1, 16, "abc", "TripletLoss", "active", False, "chinese", 10, api_name="/finetune")


@pytest.mark.parametrize("price", ["nan", "inf", "-inf", "-5", "1e999"])
def test_a_catalog_with_an_impossible_price_is_refused_naming_the_row(space, tmp_path, price):
    """Catalogs accepted nan, inf and negative prices (shown as "¥-inf")."""
    path = tmp_path / "p.csv"
    path.write_text(f"id,name,price\nA1,机械键盘 K7,99\nA2,无线耳机,{price}\n", encoding="utf-8")
    with pytest.raises(Exception, match="Row 3: price .* is not a valid price"):
        Client(space, verbose=False).predict(handle_file(str(path)), api_name="/load_catalog")


# --- cached files of visitors go at a restart -----------------------------------------------------------------------


def test_what_was_cached_for_visitors_is_deleted_at_the_next_start_and_the_shared_files_stay(tmp_path):
    """Vectors of uploaded catalogs (7.4 MB per 5,000 rows per model) and runs' ONNX exports (~90 MB) survived a
    restart. The store lists them as it makes them; the next start deletes what is listed."""
    from shopsearch.serving.models import VISITOR_FILES

    cache = EmbeddingCache(tmp_path / "cache")
    store = ModelStore(MODEL_DIR, base_model_path(), tmp_path / "runs", cache)
    shared_fp = store.info("shipped", None).fingerprint
    (tmp_path / "cache" / "onnx").mkdir(parents=True)
    shared_vectors = cache.path(shared_fp, "shipped0catalog")
    visitor_vectors = cache.path(shared_fp, "uploaded0catalog")
    run_export = export_path(cache.directory, "0123456789abcdef")
    for path in (shared_vectors, visitor_vectors, visitor_vectors.with_suffix(".json"), run_export):
        path.write_bytes(b"x" * 100)
    store._note_visitor_file(visitor_vectors)
    store._note_visitor_file(run_export)
    assert (tmp_path / "cache" / VISITOR_FILES).is_file()

    restarted = ModelStore(MODEL_DIR, base_model_path(), tmp_path / "runs", cache)
    assert restarted.remove_visitor_files() == 3
    assert not visitor_vectors.exists() and not run_export.exists() and not visitor_vectors.with_suffix(".json").exists()
    assert shared_vectors.is_file(), "the shared models' vectors stay"
