"""SessionStore: what sessions upload (catalogs, triplets waiting for a fine-tune) on disk; sessions hold only keys.

A session's state used to hold its whole uploaded catalog, and gradio keeps up to 10,000 sessions' state: 460
sessions uploading one 4 MB catalog took the server from 1.5 to 3.1 GB. Here an object is written once per distinct
content (a catalog's key is its fingerprint, which covers every column, so two uploads share a file only when
identical), a few stay in memory (least recently used), and the rest are read back from disk when needed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from shopsearch.data.catalog import Catalog


class SessionStore:
    def __init__(self, directory: str | Path, max_in_memory: int = 4) -> None:
        self.directory = Path(directory)
        self.max_in_memory = max_in_memory
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}  # key -> the visitor (address) who stored it last (the disk budget reads it)
        self._gone: dict[str, str] = {}  # key -> why it was deleted ("expired" | "budget"), for the session's notice

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pkl"

    def put(self, value: Any, owner: str | None = None) -> str:
        """Keep `value` (written to disk once per distinct content); returns the key a session holds. `owner`: the
        visitor storing it (whose share of the disk budget it counts in).

        Example: store.put(load_catalog("mine.csv")) -> "3f9c…" (a catalog's key is its fingerprint)
        """
        data = None if isinstance(value, Catalog) else pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        key = value.fingerprint if data is None else hashlib.sha256(data).hexdigest()[:16]
        path = self._path(key)
        if not path.is_file():
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")
            partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) if data is None else data)
            partial.replace(path)  # atomic: a reader never sees half a file
        else:
            os.utime(path)  # in use again: the janitor ages files by their modification time
        self._remember(key, value)
        with self._lock:
            if owner is not None:
                self._owners[key] = owner
            self._gone.pop(key, None)
        return key

    def owner_of(self, path: Path) -> str | None:
        with self._lock:
            return self._owners.get(path.stem)

    def gone_reason(self, key: str) -> str:
        """Why the object stored under `key` was deleted: "budget" (the disk budget) or "expired"."""
        with self._lock:
            return self._gone.get(key, "expired")

    def get(self, key: str | None) -> Any | None:
        """The object stored under `key`, or None when it is gone (expired, evicted for disk space, bad key)."""
        if not key or not all(c in "0123456789abcdef" for c in key):  # keys are hex digests: never a path
            return None
        path = self._path(key)
        with self._lock:
            value = self._memory.get(key)
        try:
            if value is None:
                with path.open("rb") as handle:
                    value = pickle.load(handle)  # only files this store wrote: the folder is the app's own
            os.utime(path)  # also tells a catalog the janitor deleted (OSError) from one in use
        except (OSError, pickle.UnpicklingError, EOFError):
            with self._lock:
                self._memory.pop(key, None)
            return None
        self._remember(key, value)
        return value

    def _remember(self, key: str, value: Any) -> None:
        with self._lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_in_memory:
                self._memory.popitem(last=False)

    def files(self) -> list[Path]:
        """The stored objects' files (what the janitor counts and may delete)."""
        return sorted(self.directory.glob("*.pkl")) if self.directory.is_dir() else []

    def delete(self, path: Path, reason: str = "expired") -> None:
        """Forget the object stored in `path` (a session holding its key falls back: the shipped catalog, no triplets)
        and remember why (`reason`), so that session is told the truth."""
        with self._lock:
            self._memory.pop(path.stem, None)
            self._owners.pop(path.stem, None)
            self._gone[path.stem] = reason
        path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Delete everything stored (at start-up: no session outlives the process that stored its uploads)."""
        for path in self.files():
            self.delete(path)

    def prune(self, max_age_seconds: float, now: float | None = None) -> int:
        """Delete objects nobody used for `max_age_seconds`; returns how many went."""
        cutoff = (time.time() if now is None else now) - max_age_seconds
        old = [p for p in self.files() if p.stat().st_mtime < cutoff]
        for path in old:
            self.delete(path)
        return len(old)

    @property
    def in_memory(self) -> int:
        return len(self._memory)
