"""Nearest-neighbour search over unit vectors: exact (a matrix product) while it is fast enough, IVF beyond.

`bench/bench_search.py` measures where the crossover lies on this machine; the threshold lives in config.
Exact search is a copy-free matrix product: 0.3 ms at 10k rows, 8.5 ms at 100k, 100 ms at 1M, so the approximate
index starts at 200k rows.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from typing import cast

import numpy as np

BLOCK_ROWS = 65_536  # vectors read at a time while the IVF index trains and fills
TOP_K_CHUNK = 1024  # top_k: scores per chunk whose maximum bounds the k-th largest score
RANK_SORT_LIMIT = 200_000  # ranks_of: beyond this many scores to sort, count per position instead


def row_blocks(vectors: np.ndarray, rows: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float32 block) over `vectors`, in order. A memmap's blocks are read from its file with plain reads,
    so building an index does not leave the whole file mapped into the process (and counted in its RSS).

    Example: 150k rows, rows=65_536 -> blocks starting at 0, 65_536 and 131_072
    """
    path = _plain_file(vectors)
    dim = vectors.shape[1]
    for start in range(0, len(vectors), rows):
        count = min(rows, len(vectors) - start)
        if path is not None:
            offset = cast(np.memmap, vectors).offset + start * dim * 4  # a path comes only with a memmap
            yield start, np.fromfile(path, dtype=np.float32, count=count * dim, offset=offset).reshape(count, dim)
        else:
            yield start, np.ascontiguousarray(vectors[start : start + count], dtype=np.float32)


def _plain_file(vectors: np.ndarray) -> str | None:
    """The file behind a C-ordered float32 memmap (rows can be read from it directly), else None."""
    path = getattr(vectors, "filename", None)
    if isinstance(vectors, np.memmap) and path and vectors.flags.c_contiguous and vectors.dtype == np.float32:
        return path
    return None


class RowReader:
    """Reads chosen rows of a vector matrix as float32. A memmap's rows are read from its file with `os.pread`, so
    the pages a query touches stay in the page cache and never join the process's RSS: at 1M products, re-scoring
    candidates through the memmap had left ~1.4 GB of its pages mapped in the process after 600 queries
    (BENCHMARKS.md, run C). Thread-safe (pread has no file position).

    Example: RowReader(vectors)(np.array([3, 4, 9])) -> vectors[[3, 4, 9]] as float32
    """

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        path = _plain_file(vectors)
        self._fd: int | None = None
        if path is not None:
            self._fd = os.open(path, os.O_RDONLY)
            weakref.finalize(self, os.close, self._fd)
            self._offset = cast(np.memmap, vectors).offset  # a path comes only with a memmap
            self._row_bytes = vectors.shape[1] * 4

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` (any order), one read per run of consecutive ids."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._fd is None:
            return np.asarray(self.vectors[ids], dtype=np.float32)
        out = np.empty((len(ids), self.vectors.shape[1]), dtype=np.float32)
        if not len(ids):
            return out
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        starts = ordered[np.r_[0, breaks]].tolist()
        sizes = (np.diff(np.r_[0, breaks, len(ordered)]) * self._row_bytes).tolist()
        buffer = b"".join(os.pread(self._fd, size, self._offset + start * self._row_bytes) for start, size in zip(starts, sizes))
        out[order] = np.frombuffer(buffer, dtype=np.float32).reshape(len(ids), -1)
        return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first, ties in index order: the first k of a stable sort by -score.

    Large arrays are not partitioned whole: the k-th largest of their chunks' maxima bounds the k-th largest score
    from below, so one pass keeps only the few scores at or above it (at 1M scores ~2 ms instead of ~10 ms).
    Example: top_k(np.array([.1, .9, .5, .9]), 3) -> [1, 3, 2]
    """
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    pool = scores
    if len(scores) >= TOP_K_CHUNK * 4 * k:
        maxima = np.maximum.reduceat(scores, np.arange(0, len(scores), TOP_K_CHUNK))
        pool = scores[scores >= np.partition(maxima, len(maxima) - k)[len(maxima) - k]]
    kth = np.partition(pool, len(pool) - k)[len(pool) - k]  # the k-th largest score
    above = np.flatnonzero(scores > kth)
    ties = np.flatnonzero(scores == kth)[: k - len(above)]  # the lowest indices among those equal to it
    chosen = np.sort(np.concatenate([above, ties]))
    return chosen[np.argsort(-scores[chosen], kind="stable")]


def ranks_of(scores: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """1-based rank of each of `positions` in a stable sort of `scores` by -score (ties: lower index first).

    One pass over `scores` for all positions together (the scores at or above the lowest asked for are sorted),
    rather than two passes per position.
    Example: ranks_of(np.array([.1, .9, .5, .9]), np.array([3, 2])) -> [2, 3]
    """
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return np.empty(0, dtype=np.int64)
    lowest = scores[positions].min()
    higher = np.flatnonzero(scores >= lowest)
    if len(higher) > RANK_SORT_LIMIT:  # too many to sort: count per position
        return np.array([int((scores > scores[j]).sum() + (scores[:j] == scores[j]).sum()) + 1 for j in positions.tolist()])
    by_score = np.argsort(-scores[higher], kind="stable")  # positions in `higher`, best first
    rank = np.empty(len(higher), dtype=np.int64)
    rank[by_score] = np.arange(1, len(higher) + 1)
    return rank[np.searchsorted(higher, positions)]


class ExactIndex:
    """Brute force: every score, exact."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ query
        ids = top_k(scores, k)
        return ids, scores[ids]


@contextlib.contextmanager
def all_cores_for_faiss() -> Iterator[int]:
    """For the block inside, faiss (its OpenMP threads, in this thread) and BLAS use every core this process may use;
    what was set before comes back after. Yields the number of threads.

    A build is a one-off wait for whoever uploaded a catalog of ≥ 200k products (or for start-up); searches stay on one
    thread. At 250k vectors on 2 cores: 6.7 s instead of 10.7 s (scratch/ivf_threads.py, 2026-11-30).
    """
    import faiss
    from threadpoolctl import threadpool_limits

    cores = max(1, len(os.sched_getaffinity(0)))
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(cores)
    try:
        with threadpool_limits(cores, user_api="blas"):  # faiss's k-means and list assignment are matrix products
            yield cores
    finally:
        faiss.omp_set_num_threads(before)


class IvfIndex:
    """faiss-cpu IVF over inner product (= cosine on unit vectors) with 8-bit scalar-quantised codes: √N lists, at most
    `nprobe` of them searched (those near the query's best one: PROBE_MARGIN); the candidates it returns are re-scored
    exactly from `vectors`.

    IVF was chosen by bench/bench_search.py over faiss HNSW, hnswlib and usearch: at 1M vectors IVF-Flat built in
    ~1 min (HNSW: ~6.5 min) and reached recall@10 0.995 against brute force at nprobe 512 of 4,000 lists in 11 ms, where
    HNSW stopped at 0.965 even with ef_search 6400. The codes are 1 byte per dimension instead of IVF-Flat's 4
    (384 MB instead of 1.5 GB at 1M × 384), and the exact re-scoring of the fetched candidates (the engine asks for
    CANDIDATES) from `vectors` — a memmap for large catalogs — makes their order exact. √N lists instead of 4·√N
    make filling the index 4× cheaper (each vector is compared with every list's centroid); the searched share of
    the lists, hence recall and scan time, is what nprobe sets.
    """

    kind = "ivf"
    # The most lists searched, as a share of them. At 1M (1,000 lists) the engine's semantic recall@10 against brute
    # force was 0.961 / 0.980 / 0.990 at nprobe 64 / 128 / 256 (bench_search.py, 2026-11-29); IVF-Flat with 4,000 lists
    # had reached 0.995 at 512 (12.8%): the 8-bit codes reorder near-duplicates, so more lists must be searched.
    PROBE_SHARE = 0.256
    # Of those, a query searches the lists whose centroid scores within PROBE_MARGIN of its best centroid's (at least
    # MIN_PROBE_SHARE of all lists): a query deep in one region of the space needs fewer lists than one between regions.
    # At 1M, over 100 dev + eval queries, in one run: recall@10 0.990 at 137 lists on average and 15.9 ms, against
    # 0.990 at all 256 and 28.7 ms; margin 0.25 gave 0.980 at 111 lists, 6.7 ms (scratch study, 2026-11-30).
    PROBE_MARGIN = 0.3
    MIN_PROBE_SHARE = 0.016
    LIGHT_KMEANS_FROM = 500  # lists (250k vectors)

    def __init__(self, vectors: np.ndarray, nprobe: int | None = None, seed: int = 0) -> None:
        import faiss

        self.vectors = vectors
        self.rows = RowReader(vectors)
        rows, dim = vectors.shape
        nlist = max(1, int(np.sqrt(rows)))
        self._index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        # k-means costs samples × lists × iterations, which grows as N^1.5: from LIGHT_KMEANS_FROM lists on it runs 10
        # iterations instead of faiss's 25. At 1M vectors (1,000 lists, 64k samples) training took 27 instead of 67 CPU s
        # with the same recall, 0.990 at nprobe 250 against brute force (39 samples a list: 0.980; scratch runs, 2026-11-29).
        if nlist >= self.LIGHT_KMEANS_FROM:
            self._index.cp.niter = 10
        sample = np.sort(np.random.default_rng(seed).choice(rows, min(rows, 64 * nlist), replace=False))
        picked = []
        for start, block in row_blocks(vectors):
            inside = sample[(sample >= start) & (sample < start + len(block))]
            picked.append(block[inside - start])
        with all_cores_for_faiss():
            self._index.train(np.concatenate(picked))
            del picked
            for _, block in row_blocks(vectors):
                self._index.add(block)
        self.nprobe = nprobe if nprobe is not None else max(1, round(self.PROBE_SHARE * nlist))
        self.probe_margin: float | None = self.PROBE_MARGIN  # None: always search nprobe lists
        self.min_probe = max(1, round(self.MIN_PROBE_SHARE * nlist))

    @property
    def nlist(self) -> int:
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._index.nprobe = int(min(max(value, 1), self._index.nlist))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows the probed lists hold, by exact cosine (best first), and those cosines.

        Args:
            allowed: a boolean mask over the rows (a category or price filter): only rows it keeps are returned. The
                lists are scanned as without it, so a mask that keeps few rows may return fewer than k.
        """
        import faiss

        x = np.ascontiguousarray(query[None], dtype=np.float32)
        k = min(k, len(self.vectors))
        nprobe = self.nprobe  # read once: it sizes `lists`, whose row length faiss reads from params
        centroid_scores, lists = self._index.quantizer.search(x, nprobe)
        # A filter's rows may lie away from the query's region: under a mask every one of the nprobe lists is searched.
        if self.probe_margin is not None and allowed is None:
            close = int((centroid_scores[0] >= centroid_scores[0, 0] - self.probe_margin).sum())
            lists[:, max(self.min_probe, close) :] = -1  # faiss skips a list numbered -1
        params = faiss.SearchParametersIVF(nprobe=nprobe)  # type: ignore[call-arg]  # faiss's wrapper takes fields as keywords; its stub says no arguments
        if allowed is not None:
            bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")  # row i is bit i % 8 of byte i // 8
            params.sel = selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        scores, ids = np.empty((1, k), dtype=np.float32), np.empty((1, k), dtype=np.int64)
        # The lists chosen above, searched (faiss's Python wrapper of this call takes no parameters, so the C++ one).
        self._index.search_preassigned_c(  # type: ignore[attr-defined]  # a SWIG method faiss's stub leaves out
            1,
            faiss.swig_ptr(x),
            k,
            faiss.swig_ptr(lists),
            faiss.swig_ptr(centroid_scores),
            faiss.swig_ptr(scores),
            faiss.swig_ptr(ids),
            False,
            params,
        )
        if allowed is not None:
            del selector, bitmap  # faiss read the bitmap in place; both were needed until here
        ids = np.sort(ids[0][ids[0] >= 0]).astype(np.int64)  # ascending: a memmap is read front to back
        exact = np.asarray(self.rows(ids) @ query, dtype=np.float32)
        order = np.argsort(-exact, kind="stable")
        return ids[order], exact[order]


def build_index(vectors: np.ndarray, ann_threshold: int) -> ExactIndex | IvfIndex:
    """Exact below `ann_threshold` rows, IVF at or above it."""
    return IvfIndex(vectors) if len(vectors) >= ann_threshold else ExactIndex(vectors)
