"""Load and abuse: replay the public-Space attacks against a real `python app.py` while another visitor searches.

    python bench/bench_abuse.py                     # every attack (~20 min on 2 cores)
    python bench/bench_abuse.py --phases redos,huge --seconds 20
    python bench/bench_abuse.py --phases shapes     # the CSV reader on adversarial shapes, no app (~30 s)
    python bench/bench_abuse.py --phases fair       # the fairness attacks (form fields, queue floods, Compare, the
                                                    # disk, the training line, feedback, Generate), ~25 min

The fairness phases (`fair` = formfield,flood,parallel,compare4,diskfill,line,feedback,generate) run the app as behind
the Space's proxy (SHOPSEARCH_PROXY_HOPS=1) and give each simulated visitor its own address in X-Forwarded-For. The
other visitor then has its own uploaded catalog, a fine-tuned run (active) and its zip, and searches its catalog with
its run; after every phase the bench checks that all three are still there. For each phase: that visitor's p50/p95 and
the ratio to its idle p95, the server's RSS before, at its peak during and 15 s after the attack, and the disk.
`parallel` is 50 clients of one address, then 50 addresses of one /24 (one owner's block). `crowd` (not in `fair`)
is 50 addresses in 50 networks: as far as the Space can tell, 50 visitors, which only capacity serves.

For each attack: the other visitor's search p50/p95 (one client, back to back) and its ratio to the idle p95, that
visitor's errors, what the attacker got, and the server's RSS and the on-disk bytes visitors leave (runs, their ONNX
exports, downloads, gradio's uploads, stored catalogs) before and after. The app runs with a short TTL so the last
rows can show that memory and disk come back once sessions expire. Results: bench/results/abuse.json.

`shapes` times the upload reader (`csvio.parse_table`) on each adversarial table shape at growing sizes and prints
its CPU seconds per MB: a reader linear in the file's size keeps that figure flat (or falling, as fixed costs and
early refusals spread out). Each measurement runs in a worker process, so a quadratic path shows as a timeout
instead of a hang. Results: bench/results/abuse_shapes.json; tests/test_csv_bounds.py asserts the same property.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import itertools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from gradio_client import Client, handle_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import QUERIES, ROOT, start_app  # noqa: E402

sys.path.insert(0, str(ROOT))
from shopsearch.common.config import get_settings  # noqa: E402
from shopsearch.common.errors import UserError  # noqa: E402
from shopsearch.data.csvio import parse_table  # noqa: E402
from shopsearch.serving.janitor import disk_bytes  # noqa: E402

HUGE = "键" * 20_000_000  # 20M characters, 60 MB of UTF-8


class Victim:
    """Another visitor: one session searching back to back, latencies kept per phase."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, mode: str = "hybrid", client: Client | None = None) -> None:
        self.client = client or Client(url, verbose=False, headers=headers)
        self.mode = mode
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.latencies, self.errors, self._stop = [], [], threading.Event()

        def loop() -> None:
            i = 0
            while not self._stop.is_set():
                t = time.perf_counter()
                try:
                    table = self.client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, mode=self.mode, api_name="/search")
                    self.latencies.append((time.perf_counter() - t) * 1000)
                    if not table["data"]:
                        self.errors.append("empty")
                except Exception as err:
                    self.errors.append(repr(err)[:160])
                i += 1
                time.sleep(0.05)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=300)
        ordered = sorted(self.latencies) or [float("nan")]
        return {
            "searches": len(ordered),
            "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "errors": len(self.errors),
        }


def address(k: int, net: int = 8) -> dict[str, str]:
    """The header the Space's proxy would add for visitor `k` (a client-written entry first: it must not count)."""
    return {"X-Forwarded-For": f"6.6.6.6, 10.{net}.{k // 250}.{k % 250 + 1}"}


def attackers(
    n: int, seconds: float, attack: Callable[[Client, int], str], url: str, same_address: bool = True, net: int = 8, networks: bool = False
) -> dict[str, int]:
    """`n` threads, each its own session, running `attack` back to back for `seconds`; counts outcomes. All from one
    address (a script on one machine), or each from its own (`same_address=False`: one block's addresses, or with
    `networks` each in a block of its own: machines far apart).

    The threads run in a child process at a lower priority (nice 10): an attacker's own CPU is on its machines, not the
    Space's. In the bench's process, 50 client threads took the GIL from the other visitor's client thread and charged
    their own polling to its latency (p50 2 s with the server's queue putting its searches first)."""
    context = multiprocessing.get_context("fork")  # the attack is a closure: a forked child runs it as it is
    answers = context.Queue()

    def child() -> None:
        os.nice(10)
        answers.put(_attack_threads(n, seconds, attack, url, same_address, net, networks))

    process = context.Process(target=child, daemon=True)
    process.start()
    try:
        return answers.get(timeout=seconds + 660)
    finally:
        process.join(timeout=30)


def _attack_threads(
    n: int, seconds: float, attack: Callable[[Client, int], str], url: str, same_address: bool, net: int, networks: bool
) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.time() + seconds

    def one(k: int) -> None:
        headers = {"X-Forwarded-For": f"6.6.6.6, 10.{net}.{k}.1"} if networks else address(0 if same_address else k, net)
        client: Client | None = None
        i = 0
        while time.time() < deadline:
            try:
                client = client or Client(url, verbose=False, headers=headers)  # refused too when its address is busy
                outcome = attack(client, i)
            except Exception as err:
                text = str(err)
                outcome = "refused: " + (text[text.find("·") + 2 :][:70] if "·" in text else text[:70])
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            i += 1

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 600)
    return outcomes


def raw_post(url: str, path: str, body: bytes) -> str:
    """POST `body` like a script would (declared length, then the bytes); returns the HTTP status it got."""
    address = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        try:
            connection.send(body)
        except OSError:  # refused before the body was read: the server closed the connection
            pass
        return f"HTTP {connection.getresponse().status}"
    finally:
        connection.close()


def write_catalog(path: Path, rows: int, tag: str, description_chars: int = 0) -> Path:
    """A catalog of `rows` products made from the shipped one (ids and names made unique by `tag`)."""
    with open(ROOT / "catalog.csv", encoding="utf-8") as handle:
        base = list(csv.DictReader(handle))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(base[0]))
        writer.writeheader()
        for i in range(rows):
            row = dict(base[i % len(base)])
            row["id"], row["name"] = f"{tag}{i}", f"{row['name']} {tag}{i}"
            if description_chars:
                row["description"] = (row["description"] + " ") * (description_chars // max(1, len(row["description"])) + 1)
                row["description"] = row["description"][:description_chars]
            writer.writerow(row)
    return path


# --- Adversarial table shapes ---------------------------------------------------------------------------------------

MB = 2**20
SHAPE_SIZES = (10 * 1024, 100 * 1024, MB, 5 * MB)  # 10 KB to the 5 MB upload cap


def _repeat(head: str, unit: str | bytes, size: int, tail: str = "") -> bytes:
    """`head`, then `unit` as many times as fit in `size` bytes, then `tail`. Example: ("a\n", "1\n", 8) -> b"a\n1\n1\n1\n" """
    raw = unit.encode() if isinstance(unit, str) else unit
    body = size - len(head.encode()) - len(tail.encode())
    return head.encode() + raw * max(1, body // len(raw)) + tail.encode()


def _distinct_names(size: int) -> bytes:
    """A header of distinct column names c0,c1,… about `size` bytes long, then one data row."""
    names, total = [], 0
    while total < size:
        names.append(f"c{len(names)}")
        total += len(names[-1]) + 1
    return (",".join(names) + "\n1\n").encode()


def _quoted_cells(size: int, rows: int = 1000) -> bytes:
    """An acceptable table: `rows` rows whose quoted cells hold newlines and escaped quotes, `size` bytes in all."""
    cell = _repeat('"', '段落 ""引号"" x,\n', max(16, size // rows - 8), '"').decode()
    return ("id,description\n" + "".join(f"{i},{cell}\n" for i in range(rows))).encode()


_MIXED_LINES = "1,机械师 K7 机械键盘\n".encode() + "2,网速 AX55 无线路由器\n".encode("gbk") + "3,café ñ “quoted”\n".encode("cp1252")

# Each shape at `size` bytes. The names are what a script would send; each was once (or could be) a slow path.
SHAPES: dict[str, Callable[[int], bytes]] = {
    "wide_header": _distinct_names,  # pandas' column-name bookkeeping
    "duplicate_names": lambda n: _repeat("", "a,", n - 3, "a\n1\n"),  # pandas de-duplicates names in quadratic time
    "huge_quoted_field": lambda n: _repeat('id,name\n1,"', "键盘 x,\n", n, '"\n'),
    "nested_quotes": lambda n: _repeat('id,name\n1,"', '""', n, '"\n'),  # escaped quotes only, "" × n/2
    "quote_newline_flood": lambda n: _repeat("", '"\n', n),  # what took csv.Sniffer 15 s at 20 KB
    "empty_rows": lambda n: _repeat("id,name\n", "\n", n),  # millions of blank lines
    "short_rows": lambda n: _repeat("id,name\n", "1,a\n", n),  # rows far over the limit
    "wide_row": lambda n: _repeat("id,name\n", "1,", n, "\n"),  # a normal header, then one row of cells
    "single_line": lambda n: _repeat("", "键盘 keyboard ", n),  # one line, no delimiter, no newline
    "mixed_encodings": lambda n: _repeat("id,name\n", _MIXED_LINES, n),  # UTF-8, GBK and cp1252 lines together
    "quoted_cells_read": _quoted_cells,  # within every limit: pandas parses it all
}


def time_shape(shape: str, size: int, repeats: int = 3) -> tuple[float, str]:
    """The median thread CPU seconds `parse_table` takes on `shape` at `size` bytes, and what it answered.

    CPU time of this thread only, so another process on the cores barely moves it. Example: ("empty_rows", 10240)
    -> (0.0004, "refused: The file has more than 5000 blank lines.")
    """
    data = SHAPES[shape](size)
    seconds = []
    for _ in range(repeats):
        started = time.thread_time()
        try:
            outcome = f"read {len(parse_table(data).frame)} rows"
        except UserError as err:
            outcome = f"refused: {err.en}"
        seconds.append(time.thread_time() - started)
    return statistics.median(seconds), outcome[:90]


def shape_growth(
    sizes: tuple[int, ...] = SHAPE_SIZES, repeats: int = 3, timeout: float = 30.0, shapes: tuple[str, ...] = tuple(SHAPES)
) -> list[dict[str, object]]:
    """Every shape at every size (seconds, seconds per MB, outcome), each in a worker process.

    A measurement still running after `timeout` seconds is recorded as infinite, its worker killed and the shape's
    larger sizes not run: a quadratic path fails the comparison in seconds instead of running for hours.
    """
    rows: list[dict[str, object]] = []
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no lock of this process's threads inherited
    pool = context.Pool(1)
    try:
        for shape in shapes:
            timed_out = False
            for size in sorted(sizes):
                if timed_out:
                    seconds, outcome = float("inf"), "not run: a smaller size timed out"
                else:
                    try:
                        seconds, outcome = pool.apply_async(time_shape, (shape, size, repeats)).get(timeout)
                    except multiprocessing.TimeoutError:
                        pool.terminate()
                        pool, timed_out = context.Pool(1), True
                        seconds, outcome = float("inf"), f"still running after {timeout:.0f} s"
                rows.append({"shape": shape, "bytes": size, "seconds": seconds, "s_per_mb": seconds / (size / MB), "outcome": outcome})
    finally:
        pool.terminate()
    return rows


def growth_ratio(rows: list[dict[str, object]], shape: str) -> float:
    """Seconds per MB at the largest size over seconds per MB at the smallest: ≤ 1 is linear with fixed costs."""
    mine = sorted((r for r in rows if r["shape"] == shape), key=lambda r: r["bytes"])
    if mine[-1]["s_per_mb"] == float("inf"):
        return float("inf")
    return mine[-1]["s_per_mb"] / max(mine[0]["s_per_mb"], 1e-9)


def print_shapes(rows: list[dict[str, object]]) -> None:
    sizes = sorted({r["bytes"] for r in rows})
    print(f"{'shape':22s}" + "".join(f"{s // 1024:>9d} KB" for s in sizes) + "   growth  outcome at the largest (CPU s/MB)")
    for shape in dict.fromkeys(r["shape"] for r in rows):
        mine = {r["bytes"]: r for r in rows if r["shape"] == shape}
        cells = "".join(f"{mine[s]['s_per_mb']:12.4f}" for s in sizes)
        print(f"{shape:22s}{cells}   {growth_ratio(rows, shape):6.2f}  {mine[sizes[-1]]['outcome']}", flush=True)


def wide_csv(path: Path, columns: int) -> Path:
    """The issue's attack: a header of one letter repeated `columns` times, then one data row."""
    path.write_text(",".join(["a"] * columns) + "\n1\n", encoding="utf-8")
    return path


# --- Fairness phases: raw events and the other visitor's belongings ---------------------------------------------------

FAIR = ("formfield", "flood", "parallel", "compare4", "e5read", "diskfill", "line", "feedback", "generate")


class Page:
    """The app's events as its page calls them (private ones included), found in its /config by api name or by the label
    of the button that triggers them."""

    def __init__(self, url: str) -> None:
        self.url = url
        config = json.loads(urllib.request.urlopen(f"{url}config", timeout=30).read())
        self.dependencies = config["dependencies"]
        self.labels = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}

    def by_api(self, name: str) -> int:
        return next(d.get("id", i) for i, d in enumerate(self.dependencies) if d.get("api_name") == name)

    def by_button(self, label: str) -> int:
        return next(d.get("id", i) for i, d in enumerate(self.dependencies) if any(self.labels.get(t[0]) == label for t in d["targets"]))

    def run(self, index: int, data: list, session: str, headers: dict[str, str], timeout: float = 600) -> dict:
        """Join the queue and read the stream to the end: the completion message (or the refusal, as a failed one)."""
        import httpx

        with httpx.Client(base_url=self.url, timeout=timeout, headers=headers) as http:
            joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": index, "session_hash": session})
            if joined.status_code != 200:
                return {"success": False, "output": {"error": f"HTTP {joined.status_code}: {joined.json().get('detail', '')}"}}
            with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
                for line in stream.iter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("msg") == "process_completed":
                        return message
        return {"success": False, "output": {"error": "stream ended"}}


def stream_multipart(url: str, parts: list[tuple[str, str | None, int]], headers: dict[str, str]) -> str:
    """POST a multipart body to /gradio_api/upload 1 MB at a time, as a script would (a field when the filename is None);
    stops sending once the server answers. Returns "HTTP <status>"."""
    import secrets

    boundary = "bench" + secrets.token_hex(8)
    address_ = urllib.parse.urlparse(url)
    filler = secrets.token_bytes(2**20)  # distinct content each time: uploads are stored by their hash
    head = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "") + "\r\n\r\n"
        for name, filename, _ in parts
    ]
    total = sum(len(h.encode()) + size + 2 for h, (_, _, size) in zip(head, parts)) + len(f"--{boundary}--\r\n")
    connection = http.client.HTTPConnection(address_.hostname, address_.port, timeout=120)
    try:
        connection.putrequest("POST", "/gradio_api/upload")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(total))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for h, (_, _, size) in zip(head, parts):
                connection.send(h.encode())
                for start in range(0, size, 2**20):
                    connection.send(filler[: min(2**20, size - start)])
                connection.send(b"\r\n")
            connection.send(f"--{boundary}--\r\n".encode())
        except OSError:  # refused while sending: the server closed the connection
            pass
        return f"HTTP {connection.getresponse().status}"
    finally:
        connection.close()


class Keeper:
    """The other visitor's belongings: an uploaded catalog, a fine-tuned run (active) and its zip. `check()` says which
    are still there (the catalog: its own products come back; the run: it can still be activated; the zip: it is served)."""

    def __init__(self, url: str, headers: dict[str, str], tmp: Path) -> None:
        self.url, self.tag = url, "KEEP"
        self.client = Client(url, verbose=False, headers=headers)
        self.client.predict(handle_file(str(write_catalog(tmp / "keeper.csv", 300, self.tag))), api_name="/load_catalog")
        triplets = tmp / "keeper_triplets.csv"
        triplets.write_text(
            "anchor,positive,negative\n" + "\n".join(f"寻找一款K{i}款,机械师 K{i} 机械键盘,峰景 双人登山帐篷" for i in range(20)),
            encoding="utf-8",
        )
        final = list(self.client.submit(handle_file(str(triplets)), 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune"))[-1]
        self.run_id = final[7]["value"] if isinstance(final[7], dict) else final[7]
        self.client.predict(self.run_id, api_name="/activate")
        self.client.predict(self.run_id, api_name="/model_zip")
        self.downloads = tmp / "gradio" / "shopsearch-downloads"  # the app's (start_app puts gradio's folder here)
        assert self.zip_exists(), "the keeper's zip is where the app serves it from"

    def zip_exists(self) -> bool:
        return any(self.downloads.glob(f"*/finetuned-{self.run_id[:6]}.zip"))

    def check(self) -> dict[str, bool]:
        table = self.client.predict(query=f"{self.tag}7", top_k=3, mode="lexical", api_name="/search")
        try:
            self.client.predict(self.run_id, api_name="/activate")
            run = True
        except Exception:
            run = False
        return {"catalog": any(str(row[-1]).startswith(self.tag) for row in table["data"]), "run": run, "zip": self.zip_exists()}


def crafted_catalog(path: Path, rows: int) -> Path:
    """A catalog whose names share one word: every Generate draw scans the whole catalog for a negative and misses."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "category", "price", "description"])
        for i in range(rows):
            writer.writerow([f"G{i}", f"通用 商品{i % 7}", "类别", 10, "通用商品"])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="shapes,redos,huge,wide,compare,finetunes,sessions")
    parser.add_argument("--seconds", type=float, default=40, help="length of each timed attack")
    parser.add_argument("--finetunes", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--ttl", type=int, default=None, help="run and upload TTL in the app (seconds; default 90, 900 with fairness phases)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "abuse.json"))
    parser.add_argument("--disk-budget-mb", type=int, default=1536, help="the app's disk budget (the diskfill phase fills it)")
    parser.add_argument("--parallel", type=int, default=50, help="clients of the parallel phase, each from its own address")
    args = parser.parse_args()
    phases = [p for name in args.phases.split(",") for p in (FAIR if name == "fair" else (name,))]
    fair = any(p in FAIR for p in phases)
    # A short TTL shows memory and disk coming back; with the fairness phases uploads wait minutes in the heavy line
    # (4 catalogs of 1,500 rows embedded one at a time) and must not expire meanwhile.
    args.ttl = args.ttl or (900 if fair else 90)
    if "shapes" in phases:
        shape_rows = shape_growth()
        print_shapes(shape_rows)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name("abuse_shapes.json").write_text(json.dumps(shape_rows, indent=2, ensure_ascii=False))
        phases.remove("shapes")
        if not phases:
            return
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        runs_dir = tmp_path / "runs"
        env = {
            "SHOPSEARCH_RUN_TTL_SECONDS": str(args.ttl),
            "SHOPSEARCH_SWEEP_SECONDS": "5",
            # As behind the Space's proxy: each simulated visitor has its own address (`address`).
            "SHOPSEARCH_PROXY_HOPS": "1",
            "SHOPSEARCH_DISK_BUDGET_MB": str(args.disk_budget_mb),
        }
        proc, url = start_app(runs_dir, env)
        server = psutil.Process(proc.pid)
        cache_onnx = get_settings().cache_dir / "onnx"  # the child reads the same environment
        shared_exports = disk_bytes(cache_onnx)

        def disk() -> int:
            """What visitors left: runs, their ONNX exports (beyond the shared models'), gradio's folder, uploads."""
            return (
                disk_bytes(runs_dir)
                + disk_bytes(tmp_path / "runs-sessions")
                + disk_bytes(tmp_path / "gradio")
                + max(0, disk_bytes(cache_onnx) - shared_exports)
            )

        def rss() -> int:
            return server.memory_info().rss

        keeper: Keeper | None = None
        try:
            time.sleep(20)  # let the start-up warm-up finish
            if fair:  # the other visitor searches its own catalog with its own run (and has its zip)
                keeper = Keeper(url, address(0, net=9), tmp_path)
                victim = Victim(url, client=keeper.client)
            else:
                victim = Victim(url, headers=address(0, net=9))
            victim.start()
            time.sleep(args.seconds)
            idle = victim.stop()
            rows.append({"phase": "idle", **idle, "attacker": {}, "rss_mb": rss() / 2**20, "disk_mb": disk() / 2**20})
            print(rows[-1], flush=True)

            def phase(name: str, run: Callable[[], dict[str, int]], settle: float = 15) -> None:
                """Run one attack while the victim searches; RSS before, at its peak during, and `settle` s after (the
                janitor sweeps and trims every 5 s); what the victim still has."""
                rss0, disk0 = rss(), disk()
                peak, sampling = [rss0], threading.Event()

                def sample() -> None:
                    while not sampling.wait(0.5):
                        peak[0] = max(peak[0], rss())

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                victim.start()
                outcome = run()
                stats = victim.stop()
                sampling.set()
                sampler.join()
                time.sleep(settle)
                rss1 = rss()
                rows.append(
                    {
                        "phase": name,
                        **stats,
                        "p95_ratio": stats["p95_ms"] / idle["p95_ms"],
                        "attacker": outcome,
                        "rss_mb_before": rss0 / 2**20,
                        "rss_mb_peak": peak[0] / 2**20,
                        "rss_mb_after": rss1 / 2**20,
                        "rss_after_ratio": rss1 / rss0,
                        "disk_mb_before": disk0 / 2**20,
                        "disk_mb_after": disk() / 2**20,
                        "victim_errors": victim.errors[:3],
                        "victim_still_has": keeper.check() if keeper else None,
                    }
                )
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(rows, indent=2, ensure_ascii=False))  # kept if a later phase fails

            page = Page(url)
            if "formfield" in phases:
                phase(
                    "a 200 MB non-file form field to /gradio_api/upload, 2 loops",
                    lambda: attackers(
                        2,
                        args.seconds,
                        lambda c, i: stream_multipart(url, [("files", "a.csv", 1000), ("note", None, 200 * 2**20)], address(0, net=10)),
                        url,
                        net=10,
                    ),
                )
            if "flood" in phases:

                def flood() -> dict[str, int]:
                    """2,000 searches joined as fast as one script can, from one address, never read."""
                    import httpx

                    outcome: dict[str, int] = {}
                    index = page.by_api("search")
                    with httpx.Client(timeout=60, headers=address(0, net=11)) as http:
                        for i in range(2000):
                            body = {"data": [QUERIES[i % len(QUERIES)], 10], "fn_index": index, "session_hash": f"flood{i}"}
                            key = f"HTTP {http.post(f'{url}gradio_api/queue/join', json=body).status_code}"
                            outcome[key] = outcome.get(key, 0) + 1
                    time.sleep(5)  # what was admitted runs meanwhile
                    return outcome

                phase("2,000 searches never read, from one address", flood)

            def search(client: Client, i: int) -> str:
                client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                return "searched"

            if "parallel" in phases:
                n = args.parallel
                phase(f"{n} clients of one address searching back to back", lambda: attackers(n, args.seconds, search, url, net=21))
                phase(
                    f"{n} clients from {n} addresses of one /24 searching back to back",
                    lambda: attackers(n, args.seconds, search, url, same_address=False, net=12),
                )
            if "crowd" in phases:
                phase(
                    f"{args.parallel} clients from {args.parallel} networks searching back to back",
                    lambda: attackers(args.parallel, args.seconds, search, url, same_address=False, net=20, networks=True),
                )
            if "compare4" in phases:
                catalogs = [write_catalog(tmp_path / f"cmp{k}.csv", 1500, f"CP{k}x") for k in range(4)]

                def compare4(client: Client, i: int) -> str:
                    if i == 0:
                        k = int(str(client.headers["X-Forwarded-For"]).rsplit(".", 1)[-1]) - 1
                        client.predict(handle_file(str(catalogs[k % 4])), api_name="/load_catalog")
                    client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                    client.predict(api_name="/compare")
                    return "compared"

                phase(
                    "4 addresses: each a fresh 1,500-product catalog, then /compare in a loop",
                    lambda: attackers(4, args.seconds, compare4, url, same_address=False, net=13, networks=True),
                )
            if "e5read" in phases:
                # A catalog of up to reference.SYNC_UP_TO products is read by e5 before its first search, on the instance
                # every visitor's hybrid query uses: four networks each upload a fresh one (names never seen, so nothing
                # is cached) again and again, and search it once.
                sync = 400
                fresh = itertools.count()

                def e5read(client: Client, i: int) -> str:
                    k = next(fresh)
                    path = write_catalog(tmp_path / f"e5r{k}.csv", sync, f"E{k}r")
                    try:
                        client.predict(handle_file(str(path)), api_name="/load_catalog")
                        client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                    finally:
                        path.unlink()
                    return "loaded and searched"

                phase(
                    "4 networks: a fresh 400-product catalog each (e5 reads it before its first search), in a loop",
                    lambda: attackers(4, args.seconds, e5read, url, same_address=False, net=18, networks=True),
                )
            if "diskfill" in phases:

                def fill() -> dict[str, int]:
                    outcome: dict[str, int] = {}
                    for i in range(14):
                        key = stream_multipart(url, [("files", f"junk{i}.bin", 120 * 2**20)], address(0, net=14))  # under the 128 MB cap
                        outcome[key] = outcome.get(key, 0) + 1
                    time.sleep(10)  # two janitor sweeps
                    return outcome

                phase(f"14 junk uploads of 120 MB from one address (disk budget {args.disk_budget_mb} MB)", fill)
            if "line" in phases:
                triplets = tmp_path / "line.csv"
                triplets.write_text(
                    "anchor,positive,negative\n" + "\n".join(f"寻找一款K{i}款,机械师 K{i} 机械键盘,峰景 双人登山帐篷" for i in range(20)),
                    encoding="utf-8",
                )

                def line() -> dict[str, int]:
                    """10 fine-tunes from 10 addresses at once, and 3 more from the first address."""
                    outcome: dict[str, int] = {}
                    lock = threading.Lock()

                    def one(k: int) -> None:
                        client = Client(url, verbose=False, headers=address(min(k, 10), net=15))
                        try:
                            client.predict(handle_file(str(triplets)), 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
                            key = "trained"
                        except Exception as err:
                            text = str(err)
                            key = "refused: " + (text[text.find("·") + 2 :][:60] if "·" in text else text[:60])
                        with lock:
                            outcome[key] = outcome.get(key, 0) + 1

                    threads = [threading.Thread(target=one, args=(k,)) for k in range(13)]
                    for thread in threads:
                        thread.start()
                        time.sleep(0.2)
                    for thread in threads:
                        thread.join(timeout=900)
                    return outcome

                phase("13 fine-tunes at once: 10 addresses, 3 more from one of them", line)
            if "feedback" in phases:

                def feedback() -> dict[str, int]:
                    """600 👍 marks from one session (each on another hit or query)."""
                    outcome: dict[str, int] = {}
                    headers, session = address(0, net=16), "feedback-session"
                    show = next(  # the step that draws a search's results (notices, the pick list): private, named by gradio
                        d.get("id", i) for i, d in enumerate(page.dependencies) if str(d.get("api_name") or "").startswith("_show_search")
                    )
                    like = page.by_button("相关 Relevant (+)")
                    search = page.by_api("search")
                    ids: list[str] = []
                    for i in range(600):
                        if i % 5 == 0:
                            query = f"{QUERIES[(i // 5) % len(QUERIES)]} {i // (5 * len(QUERIES))}"
                            found = page.run(search, [query, 10, "hybrid", 0.5, "全部类别 all categories", None, None, None], session, headers)
                            ids = [row[-1] for row in found["output"]["data"][0]["data"]] if found.get("success") else []
                            page.run(show, [None, None, None], session, headers)
                        if len(ids) > 2 * (i % 5):
                            done = page.run(like, [ids[2 * (i % 5)], None, None], session, headers)
                            key = "marked" if done.get("success") else "refused: " + str(done["output"].get("error", ""))[-60:]
                            outcome[key] = outcome.get(key, 0) + 1
                    return outcome

                phase("600 feedback marks from one session", feedback)
            if "generate" in phases:
                crafted = crafted_catalog(tmp_path / "crafted.csv", 5000)
                sessions = []
                for k in range(2):  # set-up, not timed: the 5,000 products are embedded once (same content)
                    client = Client(url, verbose=False, headers=address(k, net=17))
                    client.predict(handle_file(str(crafted)), api_name="/load_catalog")
                    sessions.append(client)
                generate_index = page.by_button("从目录生成三元组 Generate triplets from the catalog")

                def generate_loop() -> dict[str, int]:
                    outcome: dict[str, int] = {}
                    lock = threading.Lock()
                    deadline = time.time() + args.seconds

                    def one(client: Client, headers: dict[str, str]) -> None:
                        while time.time() < deadline:
                            started = time.perf_counter()
                            done = page.run(generate_index, [False, None], client.session_hash, headers)
                            key = "generated" if done.get("success") else "failed: " + str(done["output"].get("error", ""))[:60]
                            with lock:
                                outcome[key] = outcome.get(key, 0) + 1
                                outcome["max_ms"] = max(outcome.get("max_ms", 0), round(1000 * (time.perf_counter() - started)))

                    threads = [threading.Thread(target=one, args=(c, address(k, net=17))) for k, c in enumerate(sessions)]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    return outcome

                phase("2 addresses pressing Generate on a crafted 5,000-product catalog", generate_loop)

            if "redos" in phases:
                redos = tmp_path / "redos.csv"
                redos.write_bytes(b'"\n' * 10000)
                phase(
                    "ReDoS file (b'\"\\n' × 10,000) to /finetune, 2 loops",
                    lambda: attackers(
                        2,
                        args.seconds,
                        lambda c, i: (
                            c.predict(handle_file(str(redos)), 1, 16, 5e-5, "TripletLoss", "base", False, "seed", api_name="/finetune"),
                            "accepted",
                        )[1],
                        url,
                    ),
                )
            if "huge" in phases:
                # Raw HTTP with the bodies built once, as a script would: the attacker's own JSON encoding must not
                # eat the shared cores and pass for the server's cost.
                config = json.loads(urllib.request.urlopen(f"{url}config", timeout=30).read())
                ids = {d.get("api_name"): d.get("id", i) for i, d in enumerate(config["dependencies"])}
                bodies = [
                    json.dumps({"data": [HUGE, *extra], "fn_index": ids[name], "session_hash": "attacker"}).encode()
                    for name, extra in (
                        ("search", [10]),
                        ("similarity", ["active"]),
                        ("similarity_source", ["active"]),
                        ("embedding_map", ["active"]),
                    )
                ]

                def post_huge(_client: Client, i: int) -> str:
                    return raw_post(url, "/gradio_api/queue/join", bodies[i % len(bodies)])

                phase(
                    "20M-character inputs to /search, /similarity, /similarity_source, /embedding_map, 2 loops",
                    lambda: attackers(2, args.seconds, post_huge, url),
                )
            if "wide" in phases:
                wide = wide_csv(tmp_path / "wide.csv", 40_000)
                answered: list[float] = []

                def upload_wide(client: Client, i: int) -> str:
                    """The 40,000-column catalog to /load_catalog, then as triplets to /finetune, and so on."""
                    started = time.perf_counter()
                    try:
                        if i % 2:
                            client.predict(handle_file(str(wide)), api_name="/finetune")
                        else:
                            client.predict(handle_file(str(wide)), api_name="/load_catalog")
                        return "accepted"
                    finally:
                        answered.append(time.perf_counter() - started)

                def wide_uploads() -> dict[str, object]:
                    outcome: dict[str, object] = dict(attackers(2, args.seconds, upload_wide, url))
                    ordered = sorted(answered)
                    outcome["answer_ms_p50"] = round(1000 * statistics.median(ordered))
                    outcome["answer_ms_max"] = round(1000 * ordered[-1])
                    return outcome

                phase("40,000-column CSV (80 KB) to /load_catalog and /finetune, 2 loops", wide_uploads)
            if "compare" in phases:
                fresh = write_catalog(tmp_path / "fresh.csv", 1000, "CMP")

                def compare(client: Client, i: int) -> str:
                    if i == 0:
                        client.predict(handle_file(str(fresh)), api_name="/load_catalog")
                    client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                    client.predict(api_name="/compare")
                    return "compared"

                phase("10 sessions: a fresh 1,000-product catalog, then /compare in parallel", lambda: attackers(10, args.seconds, compare, url))
            if "finetunes" in phases:
                triplets = tmp_path / "t.csv"
                triplets.write_text(
                    "anchor,positive,negative\n" + "\n".join(f"寻找一款K{i}款,机械师 K{i} 机械键盘,峰景 双人登山帐篷" for i in range(20)),
                    encoding="utf-8",
                )
                kept: list[Client] = []  # never closed: like a script that never sends the heartbeat or unload

                def loop_finetunes() -> dict[str, int]:
                    outcomes: dict[str, int] = {}
                    for _ in range(args.finetunes):
                        client = Client(url, verbose=False)
                        kept.append(client)
                        try:
                            final = list(
                                client.submit(handle_file(str(triplets)), 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
                            )[-1]
                            run_id = final[7]["value"] if isinstance(final[7], dict) else final[7]
                            client.predict(run_id, api_name="/model_zip")
                            key = "trained + zipped"
                        except Exception as err:
                            key = "refused: " + str(err)[:70]
                        outcomes[key] = outcomes.get(key, 0) + 1
                    return outcomes

                phase(f"{args.finetunes} looped API fine-tunes, each zipped", loop_finetunes)
            if "sessions" in phases:
                big = write_catalog(tmp_path / "big.csv", 5000, "BIG", description_chars=260)
                print(f"catalog of {big.stat().st_size / 2**20:.1f} MB", flush=True)

                def sessions() -> dict[str, int]:
                    """Each upload from a new session (a new client), 4 at a time, as a script would."""
                    outcome: dict[str, int] = {}

                    def one(_: int) -> str:
                        try:
                            Client(url, verbose=False).predict(handle_file(str(big)), api_name="/load_catalog")
                            return "uploaded"
                        except Exception as err:
                            return "refused: " + str(err)[:70]

                    started = time.perf_counter()
                    with ThreadPoolExecutor(4) as pool:
                        for done, key in enumerate(pool.map(one, range(args.sessions)), 1):
                            outcome[key] = outcome.get(key, 0) + 1
                            if done % 50 == 0:
                                print(f"  {done} sessions, {time.perf_counter() - started:.0f} s, RSS {rss() / 2**20:.0f} MB", flush=True)
                    return outcome

                phase(f"{args.sessions} sessions each uploading a {big.stat().st_size / 2**20:.1f} MB catalog", sessions)
            if not fair:  # (with the fairness phases, each row's RSS 15 s after the attack says it instead)
                time.sleep(args.ttl + 15)  # runs and uploads expire; the janitor sweeps every 5 s
                rows.append({"phase": f"after expiry ({args.ttl} s TTL)", "rss_mb": rss() / 2**20, "disk_mb": disk() / 2**20})
                print(rows[-1], flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
