"""Fine-tunes as a visitor meets them: a small upload and 500 triplets through `/finetune` with the tab's defaults
(the Chinese-aware recipe, 40 steps from the session's model), each from a new session, on `python app.py`.

    python bench/bench_finetune.py              # idle machine
    python bench/bench_finetune.py --load       # with one CPU-bound process beside the app (a busy machine)
    python bench/bench_finetune.py --recipe seed

Prints, per upload: the pre-check's estimate, the end-to-end seconds, the steps and their pace, the report's before
(the session's model) and after figures, and whether the run was switched on.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path

from gradio_client import Client, handle_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import ROOT, start_app  # noqa: E402

UPLOADS = {"template (3 rows)": ROOT / "assets" / "triplets_example.csv", "data/triplets.csv (500 rows)": ROOT / "data" / "triplets.csv"}


def _busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", action="store_true", help="run one CPU-bound process beside the app")
    parser.add_argument("--recipe", choices=("chinese", "seed"), default="chinese")
    args = parser.parse_args()
    hog = None
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as scratch:
        proc, url = start_app(Path(scratch) / "runs")
        try:
            if args.load:
                hog = multiprocessing.Process(target=_busy, daemon=True)
                hog.start()
            print(f"{'busy (one CPU-bound process beside the app)' if args.load else 'idle'} machine; recipe {args.recipe}")
            for name, path in UPLOADS.items():
                client = Client(url, verbose=False)
                start = "active" if args.recipe == "chinese" else "shipped"
                started = time.perf_counter()
                job = client.submit(handle_file(str(path)), 2, 16, 5e-5, "TripletLoss", start, False, args.recipe, 40, api_name="/finetune")
                updates = list(job)
                seconds = time.perf_counter() - started
                first = next((u[0] for u in updates if str(u[0]).startswith("训练")), "")
                estimate = re.search(r"about (\d+) s", first)
                final, metrics = updates[-1][0], updates[-1][2]
                rows = {row[0]: row for row in metrics["data"]}
                headers = metrics["headers"]
                figures = ", ".join(f"{h} {rows['mrr@10'][headers.index(h)]}" for h in headers if h in ("before", "start", "after"))
                decision = "switched on" if "Switched on" in final else "kept, not switched on"
                done = re.search(r"Done: (\d+) steps, (\d+) s", final) or re.search(r"(\d+)/\d+ steps \((\d+) s\)", final)
                print(
                    f"- {name}: estimate {estimate.group(1) if estimate else '?'} s, end to end {seconds:.0f} s, "
                    f"{done.group(1) if done else '?'} steps in {done.group(2) if done else '?'} s in the trainer; "
                    f"MRR@10 {figures}; {decision}"
                )
        finally:
            if hog is not None:
                hog.terminate()
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
