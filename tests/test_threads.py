"""in_own_thread: torch work in a thread that ends with it (threads.py says why)."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from pathlib import Path

import pytest

from shopsearch.common.threads import in_own_thread


def test_the_work_runs_in_another_thread_that_has_ended_and_its_result_comes_back():
    seen: list[threading.Thread] = []
    assert in_own_thread(lambda: seen.append(threading.current_thread()) or 42) == 42
    assert seen[0] is not threading.current_thread() and not seen[0].is_alive()


def test_its_exception_is_raised_in_the_caller():
    def fails() -> None:
        raise ValueError("bad triplets")

    with pytest.raises(ValueError, match="bad triplets"):
        in_own_thread(fails)


def test_a_torch_op_in_it_leaves_no_openmp_worker_behind(shipped_model):
    """The point of it: once it returns, the caller's process holds no OpenMP pool from the work, so a fine-tune's pool
    is the only one. libgomp's workers are threads of the process, and a new thread takes its creator's name: the work
    names its thread, and only threads of that name are counted in /proc, so threads that other tests' sessions
    start or end meanwhile do not count."""
    import torch

    during: list[int] = []

    def work(name: bytes) -> None:
        previous = torch.get_num_threads()
        # Before the name is set: set_num_threads also rebuilds torch's process-wide pthreadpool, whose threads stay.
        torch.set_num_threads(2)  # as the app's default on 2 cores; the test run itself may set OMP_NUM_THREADS=1
        _name_this_thread(name)
        try:
            shipped_model.encode(["寻找一款K7 机械键盘 无线 蓝牙"] * 64, batch_size=64)
            during.append(_threads_named(name))
        finally:
            _name_this_thread(b"torch-work")
            torch.set_num_threads(previous)

    # Once first, under another name: process-wide pools (the tokenizer's, torch's inter-op) start on first use and stay.
    in_own_thread(lambda: work(b"omp-warm"))
    in_own_thread(lambda: work(PROBE))
    assert during[1] >= 2, "the work thread and at least one OpenMP worker"
    deadline = time.monotonic() + 10
    while _threads_named(PROBE) and time.monotonic() < deadline:  # the pool is torn down as the thread exits
        time.sleep(0.05)
    assert _threads_named(PROBE) == 0, "an OpenMP pool outlived the thread that made it"


PR_SET_NAME = 15  # prctl(2): name the calling thread (at most 15 bytes)
PROBE = b"omp-probe"


def _name_this_thread(name: bytes) -> None:
    ctypes.CDLL(None).prctl(PR_SET_NAME, name, 0, 0, 0)


def _threads_named(name: bytes) -> int:
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            count += Path(f"/proc/self/task/{task}/comm").read_bytes().strip() == name
        except OSError:  # the thread ended while we looked
            pass
    return count


def test_a_thread_that_lowers_its_priority_passes_it_to_the_threads_it_starts_and_no_other():
    """A fine-tune's thread runs at TRAINING_NICE, and so do torch's OpenMP workers it starts; the server's threads keep
    theirs, so searches get the cores first."""
    import os
    import threading

    from shopsearch.common.threads import TRAINING_NICE, lower_priority

    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def trainer() -> None:
        seen["lowered"] = lower_priority()
        seen["trainer"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=trainer)
    worker.start()
    worker.join()
    assert seen["lowered"] and seen["trainer"] == max(before, TRAINING_NICE) and seen["child"] == seen["trainer"]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before, "the caller's priority is untouched"
