"""Fairness: a share of the Space for every visitor, enforced at the door (an ASGI middleware) before gradio works.

A visitor is the client's address: what a script cannot invent for free, unlike a session hash. Behind the Space's
proxy the socket's peer is the proxy itself, so the address is read from X-Forwarded-For: each proxy appends the
address it received the request from, so the entry `proxy_hops` from the right is the one the last trusted proxy
saw. Entries further left are whatever the client sent and are never trusted. With `proxy_hops` 0 (no proxy: local
runs, tests) the socket's peer is the visitor. The session is a second key inside an address (a family or a campus
behind one address gets a larger share than one page). Addresses are grouped by their network (`network`: an IPv4
/24, an IPv6 /64), which one machine or one rented block fills for free: turns are taken by network first, and a
network holds a bounded part of the queue, so fifty addresses of one block are one visitor when others wait.

What each visitor may hold at once (values in `Settings`, README "On a public Space"):
- queued work: events waiting or running per address, per network and per session; the whole queue's waiting
  events (a network with nothing waiting or running may still join a full queue, up to twice its length); places in the training
  line per address; sessions per address. Counted from gradio's own queue at each join, so nothing is
  double-booked and nothing leaks when an event ends however it ends. Each line's waiting events are then served in
  turn by network, then by address (`interleave`), so one visitor's backlog never stands in front of another's first
  request.
- requests in flight per address (any route but the long-lived event streams), uploads in flight per address.
- every part of every multipart request: a non-file form field (gradio holds it in memory) ≤ 64 KB, a bounded number
  of file parts, the whole body ≤ the upload cap. Checked while the bytes arrive, before gradio keeps them.
- stored bytes: `Owners` records who uploaded each file, so the disk budget evicts the largest visitor first.

Each refusal is a 413 or 429 with a bilingual message in `detail` (the page shows it as the event's error).
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from shopsearch.common.errors import UserError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FINETUNE = "finetune"  # the fine-tune event's concurrency id (ui/finetune_tab.py)
# Long-lived by design (a page keeps one open): not counted as requests in flight.
STREAMS = ("/queue/data", "/heartbeat", "/stream")
# Without a proxy in front, loopback is local tools (tests, benches), never a Space's visitor: no session or mark budget.
LOOPBACK = ("127.0.0.1", "::1")


def _both(zh: str, en: str) -> str:
    return f"{zh} · {en}"


def queue_full(waiting: int) -> str:
    return _both(
        f"服务器正忙：已有 {waiting} 个请求在排队，请稍后再试。", f"The server is busy: {waiting} requests are waiting. Please try again in a minute."
    )


def visitor_busy(limit: int) -> str:
    return _both(
        f"你已有 {limit} 个请求在排队或处理中，请等它们完成。",
        f"You already have {limit} requests waiting or running; wait for them to finish.",
    )


def session_busy(limit: int) -> str:
    return _both(f"这个页面已有 {limit} 个请求在处理中，请稍候。", f"This page already has {limit} requests waiting or running; please wait.")


ALREADY_FINETUNING = _both(
    "你已经有一个微调在运行或排队，请等它结束（或先停止它）。",
    "You already have a fine-tune running or waiting; wait for it to finish (or stop it) first.",
)


def line_full(waiting: int) -> str:
    return _both(f"已有 {waiting} 个微调在排队，请稍后再试。", f"{waiting} fine-tunes are already waiting; please try again later.")


def finetunes_per_visitor(limit: int) -> str:
    return _both(
        f"你的网络地址已有 {limit} 个微调在运行或排队，请等其中一个结束。",
        f"Your address already has {limit} fine-tunes running or waiting; wait for one to finish.",
    )


def uploads_busy(limit: int) -> str:
    return _both(f"你已有 {limit} 个上传在进行，请等它们完成。", f"You already have {limit} uploads in progress; wait for them to finish.")


def field_too_large(limit: int) -> str:
    return _both(f"表单字段超过 {limit // 1024} KB，已拒绝。", f"A form field is over {limit // 1024} KB and was refused.")


def too_many_files(limit: int) -> str:
    return _both(f"一次最多上传 {limit} 个文件。", f"At most {limit} files per upload request.")


def upload_too_large(limit: int) -> str:
    return _both(f"上传超过 {limit // 2**20} MB，已拒绝。", f"The upload is over {limit // 2**20} MB and was refused.")


def visitor_address(headers: Iterable[tuple[bytes, bytes]], peer: str | None, proxy_hops: int) -> str:
    """The visitor's address: the X-Forwarded-For entry `proxy_hops` from the right, else the socket's peer.

    Example: (("x-forwarded-for", "6.6.6.6, 1.2.3.4"),), peer "10.0.0.9", hops 1 -> "1.2.3.4" (the client wrote
    6.6.6.6; the Space's proxy appended 1.2.3.4, the address it saw). Hops 0 -> "10.0.0.9".
    """
    if proxy_hops > 0:
        hops = [
            part.strip()
            for name, value in headers
            if name.lower() == b"x-forwarded-for"
            for part in value.decode("latin-1").split(",")
            if part.strip()
        ]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops][:64]
    return peer or "?"


def network(address: str) -> str:
    """The block an address belongs to, which one owner can fill with addresses for free: an IPv4 /24, an IPv6 /64 (the
    block one home or one server is given). Anything else (a name, "?") is its own network.

    Example: "10.12.0.7" -> "10.12.0.0/24"; "2001:db8::1" -> "2001:db8::/64"."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class Owners:
    """Who left each file: path → visitor address (the most recent writer). The janitor groups its items by it."""

    def __init__(self) -> None:
        self._owners: dict[Path, str] = {}
        self._lock = threading.Lock()

    def record(self, path: str | Path, owner: str) -> None:
        with self._lock:
            self._owners[Path(path)] = owner

    def of(self, path: str | Path) -> str | None:
        with self._lock:
            return self._owners.get(Path(path))

    def forget(self, path: str | Path) -> None:
        with self._lock:
            self._owners.pop(Path(path), None)


@dataclass
class Budgets:
    """The per-visitor limits, and the bookkeeping the door needs (requests and uploads in flight per address)."""

    proxy_hops: int = 0
    max_queue: int = 32
    max_queued_per_visitor: int = 16
    max_queued_per_network: int = 24  # below `max_queue`: one block of addresses never fills the queue alone
    max_queued_per_session: int = 4
    max_finetunes: int = 4  # the training line's places: one training and the waiting ones
    max_finetunes_per_visitor: int = 2
    max_requests_per_visitor: int = 32
    max_uploads_per_visitor: int = 2
    max_form_field_bytes: int = 64 * 1024
    max_files_per_request: int = 8
    max_upload_bytes: int = 128 * 2**20
    max_feedback_triplets: int = 500  # one session's feedback rows (the search tab refuses marks past it)
    max_feedback_marks_per_visitor: int = 2000  # marks one address may make per `session_window`, over all its sessions
    max_sessions_per_visitor: int = 64  # distinct sessions (pages) one address may use per `session_window` seconds
    session_window: float = 1800.0
    gradio_cache: Path | None = None  # uploads land in its sub-folders: their owners are recorded

    def __post_init__(self) -> None:
        self.owners = Owners()
        self.in_flight: defaultdict[str, int] = defaultdict(int)  # touched on the event loop's thread only
        self.uploading: defaultdict[str, int] = defaultdict(int)
        self.sessions: defaultdict[str, dict[str, float]] = defaultdict(dict)  # address -> session -> last join
        self.marks: defaultdict[str, deque[float]] = defaultdict(deque)  # address -> times of its recent feedback marks
        self.last_request = 0.0  # time.monotonic() of the last request (event streams aside)
        self._marks_lock = threading.Lock()  # marks are taken in gradio's worker threads

    def serving(self, quiet_seconds: float = 2.0) -> bool:
        """Whether a request (event streams aside) arrived in the last `quiet_seconds`."""
        return time.monotonic() - self.last_request < quiet_seconds

    def address(self, scope: Scope) -> str:
        client = scope.get("client")
        return visitor_address(scope.get("headers") or [], client[0] if client else None, self.proxy_hops)

    def admit_event(self, blocks: Any, address: str, body: dict[str, Any], api_name: str | None = None) -> str | None:
        """None when the event may join gradio's queue; else the bilingual reason it may not.

        Counts from gradio's queue itself (every event waiting or running keeps its request), so an event that ends
        in any way — done, failed, cancelled, its client gone — stops counting at once.
        """
        queue = blocks._queue  # private in gradio 6; tests/test_fairness.py fails if it changes
        fn = blocks.fns.get(body.get("fn_index")) if api_name is None else next((f for f in blocks.fns.values() if f.api_name == api_name), None)
        if fn is None:
            return None  # gradio answers an unknown function itself
        bad_number = _bad_number(fn, body.get("data"))
        if bad_number is not None:
            return bad_number
        session = body.get("session_hash")
        waiting = [e for line in queue.event_queue_per_concurrency_id.values() for e in line.queue]
        # Running: in a worker's job. An event that has sent its result leaves it at once (it stays in gradio's index of
        # events a moment longer, while its iterators are reset): a page's chained events must not count twice.
        events = waiting + [e for job in queue.active_jobs if job for e in job]
        block = network(address)
        ours = [e for e in events if network(self.address(e.request.scope)) == block]
        mine = [e for e in ours if self.address(e.request.scope) == address]
        if len(mine) >= self.max_queued_per_visitor:
            return visitor_busy(self.max_queued_per_visitor)
        if len(ours) >= self.max_queued_per_network:
            return network_busy(self.max_queued_per_network)
        # A full queue still takes a network with nothing waiting or running (up to twice its length): a crowd that
        # keeps it full must not lock a newcomer out, and the newcomer is served in its turn, before the crowd's next.
        newcomer = not ours
        if len(waiting) >= (2 * self.max_queue if newcomer else self.max_queue):
            return queue_full(len(waiting))
        if session and sum(e.session_hash == session for e in events) >= self.max_queued_per_session:
            return session_busy(self.max_queued_per_session)
        if session and not self._may_open(address, session):
            return too_many_sessions(self.max_sessions_per_visitor, self.session_window)
        if fn.concurrency_id == FINETUNE:
            line = [e for e in events if e.concurrency_id == FINETUNE]
            if session and any(e.session_hash == session for e in line):
                return ALREADY_FINETUNING
            if sum(e in mine for e in line) >= self.max_finetunes_per_visitor:
                return finetunes_per_visitor(self.max_finetunes_per_visitor)
            if len(line) >= self.max_finetunes:
                return line_full(len(line) - 1)
        return None

    def take_feedback_mark(self, address: str | None, now: float | None = None) -> None:
        """Count one feedback mark against `address`, or refuse it (UserError) when the address has used its budget.

        The per-session cap keeps one page's feedback small; this keeps one address's small over all the sessions it
        opens (a script opening its 64 sessions could otherwise hold 64 × the session cap). Outside a request (None) and
        from loopback (local tools, as in `_may_open`) nothing is counted. Example: with a budget of 2, a third mark
        within the window is refused."""
        if address is None or address in LOOPBACK:
            return
        now = time.monotonic() if now is None else now
        with self._marks_lock:
            for other in [a for a, kept in self.marks.items() if not kept or now - kept[-1] > self.session_window]:
                del self.marks[other]  # addresses idle for a window: nothing of theirs counts any more
            times = self.marks[address]
            while times and now - times[0] > self.session_window:
                times.popleft()
            if len(times) >= self.max_feedback_marks_per_visitor:
                minutes = self.session_window / 60
                raise UserError(
                    f"你的网络地址在 {minutes:.0f} 分钟内已标记 {len(times)} 次反馈，达到上限：请稍后再试。",
                    f"Your address has made {len(times)} feedback marks in {minutes:.0f} minutes, the limit: try again later.",
                )
            times.append(now)

    def _may_open(self, address: str, session: str, now: float | None = None) -> bool:
        """Whether `session` may join from `address`: a session it used recently, or a new one within its budget. Each
        session holds state in gradio (its results until read, its components' updates): a script inventing session
        hashes made 2,000 of them in 40 s. LOOPBACK is exempt."""
        if address in LOOPBACK:
            return True
        now = time.monotonic() if now is None else now
        seen = self.sessions[address]
        for old in [s for s, at in seen.items() if now - at > self.session_window]:
            del seen[old]
        if session not in seen and len(seen) >= self.max_sessions_per_visitor:
            return False
        seen[session] = now
        return True

    async def interleave(self, queue: Any) -> None:
        """Reorder each line's waiting events so every network, and every address in it, gets its turn: an event waits
        behind another network's only if that network has no more events running or ahead of it than this one has;
        inside a network, addresses take turns the same way. Gradio serves its lines first come, first served, so one
        script's backlog made everyone else wait behind all of it.

        Example (addresses A1, A2 of network A; B of another): waiting A1 A1 A2 B, A1 has one running -> B A2 A1 A1."""
        async with queue.delete_lock:  # what gradio holds while it takes the next events
            running: defaultdict[str, int] = defaultdict(int)
            for job in queue.active_jobs:
                for event in job or ():
                    address = self.address(event.request.scope)
                    running[address] += 1
                    running[_turn_key(network(address))] += 1
            for line in queue.event_queue_per_concurrency_id.values():
                if len(line.queue) > 1:
                    line.queue[:] = _in_turns(line.queue, running, lambda event: self.address(event.request.scope))


def _turn_key(block: str) -> str:
    """A network's key among the turn counts, apart from its addresses' ("?" is both an address and its network)."""
    return f"network {block}"


def _in_turns(events: list[Any], running: dict[str, int], address_of: Callable[[Any], str]) -> list[Any]:
    """`events` reordered by turns: each network's events first in turn by address (an address's k-th after every
    other address's k-th of that network, counting what it has running), then the networks' turns interleaved the
    same way. Stable: equal turns keep their order. Example: A1 A1 A2 B (nothing running) -> A1 B A2 A1."""
    turns: defaultdict[str, int] = defaultdict(int, running)
    by_address = []
    for order, event in enumerate(events):
        who = address_of(event)
        by_address.append((_turn_key(network(who)), turns[who], order, event))
        turns[who] += 1
    ranked = []
    for block, turn, order, event in sorted(by_address, key=lambda k: k[:3]):  # by network, then turn in it, then order
        ranked.append((turns[block], turn, order, event))
        turns[block] += 1
    return [event for *_, event in sorted(ranked, key=lambda k: k[:3])]


def _bad_number(fn: Any, data: Any) -> str | None:
    """A number box or slider sent something that is not a finite number (text, NaN, ±inf): gradio would fail on it with
    a generic error, or pass NaN on to the handler. The bilingual reason, naming the box; None when all are numbers."""
    if not isinstance(data, list):
        return None
    for block, value in zip(getattr(fn, "inputs", []), data):
        kind = getattr(block, "get_block_name", lambda: "")()
        if kind not in ("number", "slider") or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            label = str(getattr(block, "label", None) or kind)[:60]
            return _both(f"“{label}” 须为有限的数字，收到的是 {str(value)[:20]!r}。", f"'{label}' must be a finite number, not {str(value)[:20]!r}.")
    return None


def network_busy(limit: int) -> str:
    return _both(
        f"你所在的网段已有 {limit} 个请求在排队或处理中，请稍后再试。",
        f"Your network already has {limit} requests waiting or running; please try again in a moment.",
    )


def too_many_sessions(limit: int, window: float) -> str:
    return _both(
        f"你的网络地址在 {window / 60:.0f} 分钟内已打开 {limit} 个页面会话，请使用已打开的页面。",
        f"Your address has opened {limit} page sessions in {window / 60:.0f} minutes; please use one that is open.",
    )


class Refused(MultipartParseError):
    """A request part broke a budget while it arrived; `status` and `message` are the answer. A multipart parse error, so
    that gradio's parser, which reads the body through the guard, deletes the temporary files it wrote for the request
    (a refused 128 MB upload left ~18 MB behind) before it answers; the door then answers in its place."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MultipartGuard:
    """Watches a multipart body as it streams past: each non-file field's size, the number of files, the total."""

    def __init__(self, boundary: bytes, budgets: Budgets) -> None:
        self.budgets = budgets
        self.total = 0
        self.files = 0
        self._field = 0  # bytes of the current part, when it is a field
        self._is_file = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._parser: MultipartParser | None = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda data, start, end: self._add("_header_name", data[start:end]),
                "on_header_value": lambda data, start, end: self._add("_header_value", data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
            },
        )

    def _add(self, name: str, chunk: bytes) -> None:
        setattr(self, name, getattr(self, name) + chunk[:8192])  # gradio refuses longer headers itself

    def _begin(self) -> None:
        self._field, self._is_file, self._disposition = 0, False, b""

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._is_file = b"filename" in options
        if self._is_file:
            self.files += 1
            if self.files > self.budgets.max_files_per_request:
                raise Refused(413, too_many_files(self.budgets.max_files_per_request))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if not self._is_file:
            self._field += end - start
            if self._field > self.budgets.max_form_field_bytes:
                raise Refused(413, field_too_large(self.budgets.max_form_field_bytes))

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.budgets.max_upload_bytes:
            raise Refused(413, upload_too_large(self.budgets.max_upload_bytes))
        if self._parser is None:
            return
        try:
            self._parser.write(chunk)
        except Refused:
            raise
        except MultipartParseError:  # a malformed body: gradio's own parser answers it; only the total is counted now
            self._parser = None


class Fairness:
    """The ASGI middleware that applies `Budgets` to every request (see the module docstring)."""

    def __init__(self, app: ASGIApp, budgets: Budgets) -> None:
        self.app = app
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        budgets, path = self.budgets, scope.get("path", "").rstrip("/")
        address = budgets.address(scope)
        if any(stream in path for stream in STREAMS):
            await self.app(scope, receive, send)
            return
        budgets.last_request = time.monotonic()
        if budgets.in_flight[address] >= budgets.max_requests_per_visitor:
            await _refuse(send, 429, visitor_busy(budgets.max_requests_per_visitor))
            return
        budgets.in_flight[address] += 1
        try:
            await self._guarded(scope, receive, send, address, path)
        finally:
            budgets.in_flight[address] -= 1
            if budgets.in_flight[address] <= 0:
                del budgets.in_flight[address]

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, address: str, path: str) -> None:
        budgets = self.budgets
        headers = dict(scope.get("headers") or [])
        content_type, options = parse_options_header(headers.get(b"content-type", b""))
        if scope.get("method") == "POST" and (path.endswith("/queue/join") or "/call/" in path):
            await self._join(scope, receive, send, address, path)
            return
        if content_type != b"multipart/form-data":
            await self.app(scope, receive, send)
            return
        if budgets.uploading[address] >= budgets.max_uploads_per_visitor:
            await _refuse(send, 429, uploads_busy(budgets.max_uploads_per_visitor))
            return
        guard = MultipartGuard(options.get(b"boundary", b""), budgets)
        refusal: list[Refused] = []

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                try:
                    guard.feed(message.get("body", b""))
                except Refused as refused:
                    refusal.append(refused)
                    raise
            return message

        started = False
        body = bytearray()

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refusal:  # gradio's own answer to the aborted parse: the door's is sent instead
                return
            started = started or message["type"] == "http.response.start"
            if path.endswith("/upload") and message["type"] == "http.response.body" and len(body) < 65536:
                body.extend(message.get("body", b""))
            await send(message)

        budgets.uploading[address] += 1
        try:
            await self.app(scope, guarded_receive, watched_send)
        except Refused:
            pass  # not caught on its way (a route that does not parse with gradio's parser): answered below
        finally:
            budgets.uploading[address] -= 1
            if budgets.uploading[address] <= 0:
                del budgets.uploading[address]
        if refusal:
            if not started:
                await _refuse(send, refusal[0].status, refusal[0].message)
            return
        self._record_owner(bytes(body), address)

    def _record_owner(self, body: bytes, address: str) -> None:
        """An upload's answer lists where its files landed (`<gradio cache>/<sha>/<name>`): that folder is the visitor's."""
        if self.budgets.gradio_cache is None or not body:
            return
        try:
            paths = json.loads(body)
        except ValueError:
            return
        for served in paths if isinstance(paths, list) else []:
            folder = Path(str(served)).parent
            if folder.parent == self.budgets.gradio_cache:
                self.budgets.owners.record(folder, address)

    async def _join(self, scope: Scope, receive: Receive, send: Send, address: str, path: str) -> None:
        """Read the join's body (small: BodyLimit, outside this middleware, caps it), decide, then pass it on intact."""
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        app = scope.get("app")
        blocks = app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None
        api_name = path.rsplit("/", 1)[-1] if "/call/" in path else None
        refusal = None
        if blocks is not None and getattr(blocks, "_queue", None) is not None and isinstance(body, dict):
            refusal = self.budgets.admit_event(blocks, address, body, api_name)
        if refusal is not None:
            user_agent = dict(scope.get("headers") or []).get(b"user-agent", b"")
            if b"gradio_client" in user_agent:  # shown by the Python client only in its validation-error format
                await _refuse(send, 422, [{"__type__": "validate", "is_valid": False, "parameter_name": "request", "message": refusal}])
            else:
                await _refuse(send, 429, refusal)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        queue = getattr(blocks, "_queue", None) if blocks is not None else None

        async def send_in_turn(message: Message) -> None:
            # Gradio has queued the event when it answers: reorder the lines before the answer leaves, so an event is in
            # its turn by the time its client hears it joined (after the answer, a busy loop let the client see first).
            if queue is not None and message["type"] == "http.response.start":
                await self.budgets.interleave(queue)
            await send(message)

        await self.app(scope, replay, send_in_turn)


async def _refuse(send: Send, status: int, message: str | list[dict[str, Any]]) -> None:
    """`detail` is what the page shows for a refused event (gradio_client: a 422's list of validation messages);
    `error` what BodyLimit's refusals carry."""
    error = message if isinstance(message, str) else message[0]["message"]
    body = json.dumps({"detail": message, "error": error}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
