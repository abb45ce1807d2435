"""Where another visitor's slow searches come from under a crowd: each of its searches' start time and latency.

    python bench/probe_crowd.py                      # the app's janitor sweeping every 5 s, as in bench_abuse.py
    python bench/probe_crowd.py --sweep-seconds 3600 # the same with the janitor out of the way

Starts `python app.py` behind a simulated proxy, runs 50 clients from 50 networks searching back to back for 30 s
(`bench_abuse.attackers`: a child process at nice 10) and, meanwhile, one other visitor searching; prints its p50/p95
and every search over 400 ms with the second it started at (periodic stalls show as a rhythm).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_abuse import address, attackers  # noqa: E402
from bench_load import QUERIES, start_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep-seconds", default="5")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_app(Path(tmp) / "runs", {"SHOPSEARCH_SWEEP_SECONDS": args.sweep_seconds, "SHOPSEARCH_PROXY_HOPS": "1"})
        try:
            time.sleep(20)  # the start-up warm-up
            victim = Client(url, verbose=False, headers=address(0, net=9))

            def search(client: Client, i: int) -> str:
                client.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                return "searched"

            outcome: dict[str, int] = {}
            crowd = threading.Thread(
                target=lambda: outcome.update(attackers(args.clients, args.seconds, search, url, same_address=False, net=20, networks=True))
            )
            started = time.time()
            crowd.start()
            time.sleep(3)
            rows: list[tuple[float, float]] = []
            i = 0
            while crowd.is_alive():
                t = time.perf_counter()
                victim.predict(query=QUERIES[i % len(QUERIES)], top_k=10, api_name="/search")
                rows.append((time.time() - started, (time.perf_counter() - t) * 1000))
                i += 1
                time.sleep(0.05)
        finally:
            proc.kill()
    latencies = sorted(ms for _, ms in rows)
    print(f"{len(rows)} searches: p50 {latencies[len(latencies) // 2]:.0f} ms, p95 {latencies[int(0.95 * len(latencies))]:.0f} ms; crowd {outcome}")
    print("over 400 ms (second, ms):", [(round(at, 1), round(ms)) for at, ms in rows if ms > 400])


if __name__ == "__main__":
    main()
