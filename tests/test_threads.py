"""in_own_thread: torch work in a thread that ends with it (threads.py says why)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from shopsearch.threads import in_own_thread


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
    is the only one. libgomp's workers are threads of the process: counted in /proc while the work runs and after."""
    import torch

    during: list[int] = []

    def work() -> None:
        previous = torch.get_num_threads()
        torch.set_num_threads(2)  # as the app's default on 2 cores; the test run itself sets OMP_NUM_THREADS=1
        try:
            shipped_model.encode(["寻找一款K7 机械键盘 无线 蓝牙"] * 64, batch_size=64)
            during.append(_os_threads())
        finally:
            torch.set_num_threads(previous)

    in_own_thread(work)  # once first: process-wide pools (the tokenizer's, torch's inter-op) start on first use and stay
    time.sleep(0.5)
    before = _os_threads()
    in_own_thread(work)
    assert during[1] >= before + 2, "the work thread and at least one OpenMP worker"
    deadline = time.monotonic() + 5
    while _os_threads() > before and time.monotonic() < deadline:  # the pool is torn down as the thread exits
        time.sleep(0.05)
    assert _os_threads() <= before, "an OpenMP pool outlived the thread that made it"


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))
