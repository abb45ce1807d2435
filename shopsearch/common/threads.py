"""Run torch work in a thread of its own, so that a fine-tune's two training threads keep both cores.

torch's OpenMP (libgomp) keeps a pool of worker threads for every thread that ran a parallel op, for as long as that
thread lives. gradio's handler threads live on (an idle one retires after 10 s), and a fine-tune's handler waits in
one for the whole run. Once libgomp manages more threads than there are cores, its workers stop spinning between
parallel ops and sleep instead, and every op then waits for them to wake. On this 2-core machine, one such extra pool
made a seed-size fine-tune's 57 steps take 43–45 s instead of 38 s in a script (`scratch`, same code, two runs each);
inside the app, with the handler's pool, its OpenMP worker was busy 45% of the time instead of ~95%.

A thread started for the work and ended after it takes its pool with it.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# A fine-tune's thread runs at this nice value: Linux keeps one per thread, and the threads it starts (torch's OpenMP
# workers) inherit it, so the server's search threads (nice 0) get the cores first when both want them. With 13
# fine-tunes queued, another visitor's search p95 was 0.53 s against 0.08 s idle (`bench/bench_abuse.py --phases line`).
TRAINING_NICE = 5


def lower_priority(nice: int = TRAINING_NICE) -> bool:
    """Give the calling thread (and the threads it starts from now on) the nice value `nice`, unless it already runs
    at a lower priority. Whether it could: not on a system without per-thread nice values, or when not allowed."""
    try:
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < nice:
            os.setpriority(os.PRIO_PROCESS, thread, nice)
        return True
    except (AttributeError, OSError):  # no os.setpriority (Windows), or not permitted
        return False


def in_own_thread(work: Callable[[], T]) -> T:
    """`work()`, run in a new thread that ends with it; its result, or its exception raised here.

    Example: in_own_thread(lambda: model.encode(texts)) -> the vectors, with no OpenMP pool left in the calling thread.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as err:  # noqa: BLE001 — handed to the caller, which raises it as its own
            outcome["error"] = err

    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="torch-work")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
