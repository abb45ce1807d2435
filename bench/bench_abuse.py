"""Load and abuse: replay the public-Space attacks against a real `python app.py` while another visitor searches.

    python bench/bench_abuse.py                     # every attack (~20 min on 2 cores)
    python bench/bench_abuse.py --phases redos,huge --seconds 20

For each attack: the other visitor's search p50/p95 (one client, back to back) and its ratio to the idle p95, that
visitor's errors, what the attacker got, and the server's RSS and the on-disk bytes visitors leave (runs, their ONNX
exports, downloads, gradio's uploads, stored catalogs) before and after. The app runs with a short TTL so the last
rows can show that memory and disk come back once sessions expire. Results: bench/results/abuse.json.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
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
from shopsearch.config import get_settings  # noqa: E402
from shopsearch.janitor import disk_bytes  # noqa: E402

HUGE = "键" * 20_000_000  # 20M characters, 60 MB of UTF-8


class Victim:
    """Another visitor: one session searching back to back, latencies kept per phase."""

    def __init__(self, url: str) -> None:
        self.client = Client(url, verbose=False)
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
                    table = self.client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
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
        return {"searches": len(ordered), "p50_ms": statistics.median(ordered),
                "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "errors": len(self.errors)}


def attackers(n: int, seconds: float, attack: Callable[[Client, int], str], url: str) -> dict[str, int]:
    """`n` threads, each its own session, running `attack` back to back for `seconds`; counts outcomes."""
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.time() + seconds

    def one(k: int) -> None:
        client = Client(url, verbose=False)
        i = 0
        while time.time() < deadline:
            try:
                outcome = attack(client, i)
            except Exception as err:
                text = str(err)
                outcome = "refused: " + (text[text.find("·") + 2:][:70] if "·" in text else text[:70])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="redos,huge,compare,finetunes,sessions")
    parser.add_argument("--seconds", type=float, default=40, help="length of each timed attack")
    parser.add_argument("--finetunes", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--ttl", type=int, default=90, help="run and upload TTL in the app (seconds)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "abuse.json"))
    args = parser.parse_args()
    phases = args.phases.split(",")
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        runs_dir = tmp_path / "runs"
        env = {"SHOPSEARCH_RUN_TTL_SECONDS": str(args.ttl), "SHOPSEARCH_SWEEP_SECONDS": "5"}
        proc, url = start_app(runs_dir, env)
        server = psutil.Process(proc.pid)
        cache_onnx = get_settings().cache_dir / "onnx"  # the child reads the same environment
        shared_exports = disk_bytes(cache_onnx)

        def disk() -> int:
            """What visitors left: runs, their ONNX exports (beyond the shared models'), gradio's folder, uploads."""
            return (disk_bytes(runs_dir) + disk_bytes(tmp_path / "runs-sessions") + disk_bytes(tmp_path / "gradio")
                    + max(0, disk_bytes(cache_onnx) - shared_exports))

        def rss() -> int:
            return server.memory_info().rss

        victim = Victim(url)
        try:
            time.sleep(20)  # let the start-up warm-up finish
            victim.start()
            time.sleep(args.seconds)
            idle = victim.stop()
            rows.append({"phase": "idle", **idle, "attacker": {}, "rss_mb": rss() / 2**20, "disk_mb": disk() / 2**20})
            print(rows[-1], flush=True)

            def phase(name: str, run: Callable[[], dict[str, int]]) -> None:
                rss0, disk0 = rss(), disk()
                victim.start()
                outcome = run()
                stats = victim.stop()
                rows.append({"phase": name, **stats, "p95_ratio": stats["p95_ms"] / idle["p95_ms"], "attacker": outcome,
                             "rss_mb_before": rss0 / 2**20, "rss_mb_after": rss() / 2**20,
                             "disk_mb_before": disk0 / 2**20, "disk_mb_after": disk() / 2**20,
                             "victim_errors": victim.errors[:3]})
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

            if "redos" in phases:
                redos = tmp_path / "redos.csv"
                redos.write_bytes(b'"\n' * 10000)
                phase("ReDoS file (b'\"\\n' × 10,000) to /finetune, 2 loops", lambda: attackers(2, args.seconds, lambda c, i: (
                    c.predict(handle_file(str(redos)), 1, 16, 5e-5, "TripletLoss", "base", False, "seed", api_name="/finetune"), "accepted")[1], url))
            if "huge" in phases:
                # Raw HTTP with the bodies built once, as a script would: the attacker's own JSON encoding must not
                # eat the shared cores and pass for the server's cost.
                config = json.loads(urllib.request.urlopen(f"{url}config", timeout=30).read())
                ids = {d.get("api_name"): d.get("id", i) for i, d in enumerate(config["dependencies"])}
                bodies = [json.dumps({"data": [HUGE, *extra], "fn_index": ids[name], "session_hash": "attacker"}).encode()
                          for name, extra in (("search", [10]), ("similarity", ["active"]), ("similarity_source", ["active"]),
                                              ("embedding_map", ["active"]))]

                def post_huge(_client: Client, i: int) -> str:
                    return raw_post(url, "/gradio_api/queue/join", bodies[i % len(bodies)])

                phase("20M-character inputs to /search, /similarity, /similarity_source, /embedding_map, 2 loops",
                      lambda: attackers(2, args.seconds, post_huge, url))
            if "compare" in phases:
                fresh = write_catalog(tmp_path / "fresh.csv", 1000, "CMP")

                def compare(client: Client, i: int) -> str:
                    if i == 0:
                        client.predict(handle_file(str(fresh)), api_name="/load_catalog")
                    client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                    client.predict(api_name="/compare")
                    return "compared"

                phase("10 sessions: a fresh 1,000-product catalog, then /compare in parallel",
                      lambda: attackers(10, args.seconds, compare, url))
            if "finetunes" in phases:
                triplets = tmp_path / "t.csv"
                triplets.write_text("anchor,positive,negative\n" + "\n".join(
                    f"寻找一款K{i}款,机械师 K{i} 机械键盘,峰景 双人登山帐篷" for i in range(20)), encoding="utf-8")
                kept: list[Client] = []  # never closed: like a script that never sends the heartbeat or unload

                def loop_finetunes() -> dict[str, int]:
                    outcomes: dict[str, int] = {}
                    for _ in range(args.finetunes):
                        client = Client(url, verbose=False)
                        kept.append(client)
                        try:
                            final = list(client.submit(handle_file(str(triplets)), 1, 8, 5e-5, "TripletLoss", "shipped",
                                                       False, "seed", api_name="/finetune"))[-1]
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
                                print(f"  {done} sessions, {time.perf_counter() - started:.0f} s, RSS {rss() / 2**20:.0f} MB",
                                      flush=True)
                    return outcome

                phase(f"{args.sessions} sessions each uploading a {big.stat().st_size / 2**20:.1f} MB catalog", sessions)
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
