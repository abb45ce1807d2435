"""Janitor: on a timer, expire idle runs and keep everything visitors leave on disk under one budget.

What visitors leave: fine-tuned runs (a model folder, its ONNX export, its zip if one was asked for), other
downloads (CSV exports), uploads in gradio's cache, and uploaded catalogs. Clients that never open the browser's
heartbeat never end their session, so nothing may wait for a session to end or for the next fine-tune: the janitor
runs every `interval` seconds, deletes what is older than its age limit, then — while the total is over the budget —
deletes the oldest item (a run by its last use, a file by its modification time) of the visitor who holds the most
bytes, items idle for IN_USE_SECONDS before any in use. Who holds what comes from the visitor's address where it is
known (fairness.py): a script filling the disk with junk loses its own oldest junk first, never another visitor's
catalog, run or zip while it holds more than they do. What is deleted for the budget is remembered as such, so a
session that loses it is told why (not "expired").
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shopsearch.serving.downloads import Downloads
from shopsearch.serving.fairness import Owners
from shopsearch.serving.models import ModelStore
from shopsearch.serving.session_store import SessionStore

log = logging.getLogger(__name__)

IN_USE_SECONDS = 120  # an item used this recently is in use: the disk budget takes idle items first
TRIM_AT_LEAST_EVERY = 600.0  # seconds: memory is handed back this often even while requests never stop


def disk_bytes(path: Path) -> int:
    """Bytes in a file or a folder tree (0 when it does not exist). Example: disk_bytes(Path("model")) -> 90_912_345"""
    try:
        if path.is_file():
            return path.stat().st_size
    except OSError:
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:  # deleted while walking
                pass
    return total


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Item:
    """One evictable thing on disk."""

    kind: str  # "run", "download", "upload", "catalog", "vectors" (of a visitor's catalog)
    last_used: float
    size: int
    delete: Callable[[str], object]  # deletes it, for a reason ("expired" | "budget") its session is told
    owner: str = "?"  # the visitor (address) who left it; "?" when unknown


@dataclass(frozen=True)
class SweepReport:
    expired: int  # deleted for age
    evicted: int  # deleted for the budget
    bytes_before: int
    bytes_after: int


class Janitor:
    def __init__(
        self,
        store: ModelStore,
        uploads: SessionStore,  # uploaded catalogs and waiting triplets
        downloads: Downloads,
        gradio_cache: Path,
        budget_bytes: int,
        max_age_seconds: int,
        training: Callable[[], bool] = lambda: False,
        owners: Owners | None = None,
        serving: Callable[[], bool] = lambda: False,
    ) -> None:
        """`training` says whether a fine-tune is training now, `serving` whether visitors' requests are arriving; memory
        is handed back in neither case (see `tick`). `owners`: who uploaded each of gradio's upload folders (the app's
        door records them)."""
        self.store = store
        self.uploads = uploads
        self.downloads = downloads
        self.gradio_cache = Path(gradio_cache)
        self.budget_bytes = budget_bytes
        self.max_age_seconds = max_age_seconds
        self.training = training
        self.serving = serving
        self._trimmed = time.monotonic()
        self.owners = owners or Owners()
        # What gradio cached while the app was built (the triplet template, …) is the app's, not a visitor's.
        self._startup_entries = self._gradio_entries()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _gradio_entries(self) -> set[Path]:
        if not self.gradio_cache.is_dir():
            return set()
        return {p for p in self.gradio_cache.iterdir() if p != self.downloads.directory}

    def items(self) -> list[Item]:
        """Everything visitors left on disk, oldest first."""
        runs = self.store.run_files()  # one snapshot: a run saved between two calls would be counted twice or not at all
        # mypy cannot type a lambda whose default binds a loop variable (python/mypy#15459): hence the ignores below.
        found = [
            Item("run", last_used, sum(disk_bytes(p) for p in paths), lambda why, run_id=run_id: self.store.forget_run(run_id, why), owner)  # type: ignore[misc]
            for last_used, run_id, paths, owner in runs
        ]
        attached = {p for _, _, paths, _ in runs for p in paths}
        if self.downloads.directory.is_dir():
            for folder in self.downloads.directory.iterdir():
                if folder not in attached:  # a run's zip goes with its run
                    owner = self.downloads.owner_of(folder) or "?"
                    found.append(Item("download", _mtime(folder), disk_bytes(folder), lambda _why, p=folder: _remove(p), owner))  # type: ignore[misc]
        for entry in self._gradio_entries() - self._startup_entries:
            owner = self.owners.of(entry) or "?"
            found.append(Item("upload", _mtime(entry), disk_bytes(entry), lambda _why, p=entry: self._remove_upload(p), owner))  # type: ignore[misc]
        for path in self.store.visitor_files():  # a cache: deleting it costs a rebuild, never a visitor's work
            found.append(Item("vectors", _mtime(path), disk_bytes(path), lambda _why, p=path: self.store.forget_visitor_file(p), "cache"))  # type: ignore[misc]
        for path in self.uploads.files():
            owner = self.uploads.owner_of(path) or "?"
            found.append(Item("catalog", _mtime(path), disk_bytes(path), lambda why, p=path: self.uploads.delete(p, why), owner))  # type: ignore[misc]
        return sorted(found, key=lambda item: item.last_used)

    def _remove_upload(self, path: Path) -> None:
        _remove(path)
        self.owners.forget(path)

    def usage(self) -> int:
        """Bytes used by everything the budget covers."""
        return sum(item.size for item in self.items())

    def sweep(self, now: float | None = None) -> SweepReport:
        """Delete what is too old, then the oldest items until the total fits the budget."""
        now = time.time() if now is None else now
        with self._lock:
            items = self.items()
            before = sum(item.size for item in items)
            expired = self.store.expire(now)  # runs: by last use, with the store's own TTL
            kept: list[Item] = []
            for item in items:
                if item.kind != "run" and now - item.last_used > self.max_age_seconds:
                    item.delete("expired")
                    expired += 1
                elif item.kind != "run" or item.last_used >= now - self.store.ttl_seconds:
                    kept.append(item)
            total, evicted = sum(item.size for item in kept), 0
            held: dict[str, list[Item]] = {}
            for item in kept:  # oldest first within each visitor's list
                held.setdefault(item.owner, []).append(item)
            while total > self.budget_bytes and any(held.values()):
                # What someone used in the last IN_USE_SECONDS (a run being searched with, its catalog) goes only when
                # nothing idle is left: a visitor searching with one run and its zip holds more bytes than each of
                # a script's addresses with one fresh run it never uses.
                idle = {o: [i for i in items if now - i.last_used > IN_USE_SECONDS] for o, items in held.items()}
                pool = idle if any(idle.values()) else held
                largest = max((o for o in pool if pool[o]), key=lambda o: sum(i.size for i in held[o]))
                item = pool[largest][0]
                held[largest].remove(item)
                item.delete("budget")
                total -= item.size
                evicted += 1
                log.info("janitor: evicted a %s (%.0f MB) of the largest visitor %s for the disk budget", item.kind, item.size / 1e6, largest[:8])
            report = SweepReport(expired, evicted, before, total)
        if expired or evicted:
            log.info("janitor: %d expired, %d evicted, %.0f → %.0f MB", expired, evicted, before / 1e6, total / 1e6)
        return report

    def tick(self) -> bool:
        """One turn of the timer: sweep, then hand freed memory back unless a fine-tune is training or visitors are being
        served. Returns whether it did. gc.collect holds the GIL (~0.3 s of a fine-tune's time; up to 1 s with many
        sessions' state alive), and the pages malloc_trim hands back are the ones the next step faults in again: with a
        sweep every 5 s under 50 searching clients, another visitor's search p95 went from 0.48 to 0.90 s. The first
        quiet tick trims; under traffic that never stops, one in TRIM_AT_LEAST_EVERY seconds does."""
        self.sweep()
        if self.training():
            return False
        if self.serving() and time.monotonic() - self._trimmed < TRIM_AT_LEAST_EVERY:
            return False
        release_memory()
        self._trimmed = time.monotonic()
        return True

    def start(self, interval_seconds: float) -> threading.Thread:
        """Sweep every `interval_seconds` in a daemon thread until `stop()`."""

        def loop() -> None:
            while not self._stop.wait(interval_seconds):
                try:
                    self.tick()
                except Exception:  # a failed sweep must not end the timer; the next one tries again
                    log.exception("janitor sweep failed")

        thread = threading.Thread(target=loop, name="janitor", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def release_memory() -> None:
    """Hand freed memory back to the system: glibc keeps what a fine-tune or a big upload freed in its arenas, so the
    process's RSS would stay at its peak long after the sessions that caused it are gone."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
