"""Nearest-neighbour search over unit vectors: exact (a matrix product) while it is fast enough, IVF beyond.

`bench/bench_search.py` measures where the crossover lies on this machine; the threshold lives in config.
Exact search is a copy-free matrix product: 0.3 ms at 10k rows, 8.5 ms at 100k, 100 ms at 1M, so the approximate
index starts at 200k rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK_ROWS = 65_536  # vectors read at a time while the IVF index trains and fills


def row_blocks(vectors: np.ndarray, rows: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float32 block) over `vectors`, in order. A memmap's blocks are read from its file with plain reads,
    so building an index does not leave the whole file mapped into the process (and counted in its RSS).

    Example: 150k rows, rows=65_536 -> blocks starting at 0, 65_536 and 131_072
    """
    path = getattr(vectors, "filename", None)
    plain_file = isinstance(vectors, np.memmap) and path and vectors.flags.c_contiguous and vectors.dtype == np.float32
    dim = vectors.shape[1]
    for start in range(0, len(vectors), rows):
        count = min(rows, len(vectors) - start)
        if plain_file:
            offset = vectors.offset + start * dim * 4
            yield start, np.fromfile(path, dtype=np.float32, count=count * dim, offset=offset).reshape(count, dim)
        else:
            yield start, np.ascontiguousarray(vectors[start : start + count], dtype=np.float32)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first. Example: top_k(np.array([.1, .9, .5]), 2) -> [1, 2]"""
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


class ExactIndex:
    """Brute force: every score, exact."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ query
        ids = top_k(scores, k)
        return ids, scores[ids]


class IvfIndex:
    """faiss-cpu IVF over inner product (= cosine on unit vectors) with 8-bit scalar-quantised codes: √N lists,
    `nprobe` of them searched; the candidates it returns are re-scored exactly from `vectors`.

    IVF was chosen by bench/bench_search.py over faiss HNSW, hnswlib and usearch: at 1M vectors IVF-Flat built in
    ~1 min (HNSW: ~6.5 min) and reached recall@10 0.995 against brute force at nprobe 512 of 4,000 lists in 11 ms, where
    HNSW stopped at 0.965 even with ef_search 6400. The codes are 1 byte per dimension instead of IVF-Flat's 4
    (384 MB instead of 1.5 GB at 1M × 384), and the exact re-scoring of the fetched candidates (the engine asks for
    CANDIDATES) from `vectors` — a memmap for large catalogs — makes their order exact. √N lists instead of 4·√N
    make filling the index 4× cheaper (each vector is compared with every list's centroid); the searched share of
    the lists, hence recall and scan time, is what nprobe sets.
    """

    kind = "ivf"
    # The share of lists searched by default. At 1M (1,000 lists) the engine's semantic recall@10 against brute force
    # was 0.961 / 0.980 / 0.990 at nprobe 64 / 128 / 256 (bench_search.py, 2026-11-29); IVF-Flat with 4,000 lists
    # had reached 0.995 at 512 (12.8%): the 8-bit codes reorder near-duplicates, so more lists must be searched.
    PROBE_SHARE = 0.256

    def __init__(self, vectors: np.ndarray, nprobe: int | None = None, seed: int = 0) -> None:
        import faiss

        self.vectors = vectors
        rows, dim = vectors.shape
        nlist = max(1, int(np.sqrt(rows)))
        self._index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        sample = np.sort(np.random.default_rng(seed).choice(rows, min(rows, 64 * nlist), replace=False))
        picked = []
        for start, block in row_blocks(vectors):
            inside = sample[(sample >= start) & (sample < start + len(block))]
            picked.append(block[inside - start])
        self._index.train(np.concatenate(picked))
        del picked
        for _, block in row_blocks(vectors):
            self._index.add(block)
        self.nprobe = nprobe if nprobe is not None else max(1, round(self.PROBE_SHARE * nlist))

    @property
    def nlist(self) -> int:
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._index.nprobe = int(min(max(value, 1), self._index.nlist))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows the probed lists hold, by exact cosine (best first), and those cosines."""
        _, ids = self._index.search(np.ascontiguousarray(query[None], dtype=np.float32), min(k, len(self.vectors)))
        ids = np.sort(ids[0][ids[0] >= 0]).astype(np.int64)  # ascending: a memmap is read front to back
        exact = np.asarray(self.vectors[ids] @ query, dtype=np.float32)
        order = np.argsort(-exact, kind="stable")
        return ids[order], exact[order]


def build_index(vectors: np.ndarray, ann_threshold: int) -> ExactIndex | IvfIndex:
    """Exact below `ann_threshold` rows, IVF at or above it."""
    return IvfIndex(vectors) if len(vectors) >= ann_threshold else ExactIndex(vectors)
