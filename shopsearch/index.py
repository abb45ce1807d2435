"""Nearest-neighbour search over unit vectors: exact (a matrix product) while it is fastest, HNSW beyond.

`bench/bench_search.py` measures where the crossover lies on this machine; the threshold lives in config.
"""

from __future__ import annotations

import numpy as np


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


class HnswIndex:
    """usearch HNSW with cosine metric; `expansion_search` trades speed for recall (≥ 0.99 measured)."""

    kind = "hnsw"

    def __init__(self, vectors: np.ndarray, connectivity: int = 16, expansion_add: int = 128, expansion_search: int = 128) -> None:
        from usearch.index import Index

        self.vectors = vectors
        self._index = Index(
            ndim=vectors.shape[1],
            metric="ip",
            dtype="f32",
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        self._index.add(np.arange(len(vectors), dtype=np.uint64), np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        matches = self._index.search(np.ascontiguousarray(query, dtype=np.float32), min(k, len(self.vectors)))
        ids = np.asarray(matches.keys, dtype=np.int64)
        return ids, 1.0 - np.asarray(matches.distances, dtype=np.float32)


def build_index(vectors: np.ndarray, ann_threshold: int) -> ExactIndex | HnswIndex:
    """Exact below `ann_threshold` rows, HNSW at or above it."""
    return HnswIndex(vectors) if len(vectors) >= ann_threshold else ExactIndex(vectors)
