"""Many users at once, against a real `python app.py` in a subprocess, through gradio_client.

    python bench/bench_load.py                       # 50 searchers × 60 s idle, the same during a seed-size
                                                     # fine-tune, then 20 sessions fine-tuning in turn (~25 min)
    python bench/bench_load.py --clients 10 --seconds 10 --sessions 3 --epochs 1   # a short run

Reports search p50/p95 and errors (idle and while training), the p95 ratio, whether two trainings ever
overlapped, and for the sessions: the server's peak RSS, runs held in memory, run folders left on disk.
`tests/test_load.py` runs a short variant of the same functions in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from gradio_client import Client, handle_file

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "寻找一款K7",
    "我想买一个羽毛球拍",
    "跑步时戴不会掉的耳机",
    "AX3000 路由器",
    "wireless router",
    "保温杯 500ml",
    "儿童平板",
    "机械键盘 青轴",
    "有什么好的斯伯丁街头篮球推荐吗？",
    "露营 帐篷 四人",
    "电动牙刷",
    "noise cancelling",
]


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return {
            "requests": len(self.latencies_ms),
            "errors": len(self.errors),
            "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        }


def start_app(runs_dir: Path, env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free port; returns the process and its URL once the page answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_SERVER_PORT": str(port),
        "SHOPSEARCH_RUNS_DIR": str(runs_dir),
        "GRADIO_TEMP_DIR": str(runs_dir.parent / "gradio"),
        **(env_extra or {}),
    }
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the app exited during start-up") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start within 120 s")


def search_load(url: str, clients: int, seconds: float, stop: threading.Event | None = None) -> LoadResult:
    """`clients` threads, each with its own gradio_client session, searching back to back for `seconds`."""
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.time() + seconds

    def one(seed: int) -> None:
        rng = random.Random(seed)
        try:
            client = Client(url, verbose=False)
        except Exception as err:  # a refused session is an error like any other
            with lock:
                result.errors.append(f"connect: {err!r}"[:200])
            return
        while time.time() < deadline and not (stop and stop.is_set()):
            t = time.perf_counter()
            try:
                table = client.predict(query=rng.choice(QUERIES), top_k=10, api_name="/search")
                ok = bool(table["data"])
                with lock:
                    result.latencies_ms.append((time.perf_counter() - t) * 1000)
                    if not ok:
                        result.errors.append("empty result")
            except Exception as err:
                with lock:
                    result.errors.append(repr(err)[:200])

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return result


def finetune(url: str, triplets: Path, epochs: int) -> tuple[float, str]:
    """One fine-tune through /finetune from a new session; returns (seconds, last status line)."""
    client = Client(url, verbose=False)
    t = time.perf_counter()
    job = client.submit(handle_file(str(triplets)), epochs, 16, 5e-5, "TripletLoss", "shipped", False, api_name="/finetune")
    updates = list(job)
    return time.perf_counter() - t, str(updates[-1][0]) if updates else ""


def search_during_training(url: str, clients: int, seconds: float, triplets: Path, epochs: int) -> tuple[LoadResult, float, str]:
    """Search load that starts once a fine-tune is running and stops when it ends (or after `seconds`)."""
    done = threading.Event()
    outcome: dict[str, object] = {}

    def train() -> None:
        outcome["seconds"], outcome["status"] = finetune(url, triplets, epochs)
        done.set()

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    time.sleep(15)  # past the before-metrics, into the training steps
    result = search_load(url, clients, seconds, stop=done)
    trainer.join()
    return result, float(outcome["seconds"]), str(outcome["status"])


def sessions_in_turn(url: str, pid: int, runs_dir: Path, sessions: int, triplets: Path) -> dict[str, float]:
    """`sessions` clients fine-tune one after another; track the server's peak RSS and the run folders."""
    server = psutil.Process(pid)
    peak = server.memory_info().rss
    folders = []
    for _ in range(sessions):
        seconds, status = finetune(url, triplets, 1)
        peak = max(peak, server.memory_info().rss)
        folders.append(len([p for p in runs_dir.iterdir() if p.is_dir()]) if runs_dir.is_dir() else 0)
    return {"sessions": sessions, "peak_rss_mb": peak / 2**20, "run_folders_after_each": folders, "last_status": status[:120]}


def small_triplets(path: Path, rows: int = 48) -> Path:
    lines = ["anchor,positive,negative"] + [f"寻找一款K{i}款,机械师 K{i} 机械键盘 测试{i},峰景 双人登山帐篷" for i in range(rows)]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the seed-size fine-tune (data/triplets.csv)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--ttl", type=int, default=60, help="run TTL for the sessions phase (seconds)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = parser.parse_args()
    report: dict[str, object] = {"clients": args.clients, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        proc, url = start_app(runs_dir, {"SHOPSEARCH_RUN_TTL_SECONDS": str(args.ttl)})
        try:
            idle = search_load(url, args.clients, args.seconds)
            report["idle"] = idle.summary()
            print(f"idle: {report['idle']}", flush=True)
            busy, train_s, status = search_during_training(url, args.clients, args.seconds, ROOT / "data" / "triplets.csv", args.epochs)
            report["during_finetune"] = {**busy.summary(), "finetune_s": train_s, "status": status[:120]}
            report["p95_ratio"] = report["during_finetune"]["p95_ms"] / report["idle"]["p95_ms"]
            print(f"during fine-tune: {report['during_finetune']}; p95 ratio {report['p95_ratio']:.2f}", flush=True)
            for name, res in (("idle", idle), ("during_finetune", busy)):
                if res.errors:
                    print(f"{name} errors (first 3): {res.errors[:3]}")
            if args.sessions:
                report["sessions"] = sessions_in_turn(url, proc.pid, runs_dir, args.sessions, small_triplets(Path(tmp) / "t.csv"))
                print(f"sessions: {report['sessions']}", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
