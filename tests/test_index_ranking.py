"""Top-k and ranks over a million scores without sorting them: the same answer as a stable sort by -score, ties
in index order, so the hits' order and the ranks shown beside them always agree."""

from __future__ import annotations

import numpy as np
import pytest

from shopsearch.retrieval import index
from shopsearch.retrieval.index import ranks_of, top_k


def scores_with_ties(n: int, distinct: int | None, zeros: float, seed: int) -> np.ndarray:
    """n float32 scores: `distinct` values only (None: all different), and a share of them exactly 0 (BM25's misses)."""
    rng = np.random.default_rng(seed)
    scores = rng.random(n).astype(np.float32) if distinct is None else rng.integers(0, distinct, n).astype(np.float32)
    scores[rng.random(n) < zeros] = 0
    return scores


CASES = [  # (n, distinct values, share of zeros)
    (1, None, 0.0),
    (7, 2, 0.0),
    (300, None, 0.0),
    (300, 3, 0.5),
    (5_000, None, 0.9),
    (5_000, 1, 0.0),
    (300_000, None, 0.0),
    (300_000, 40, 0.6),
    (300_000, None, 0.9999),
]


@pytest.mark.parametrize("n, distinct, zeros", CASES)
@pytest.mark.parametrize("k", [1, 10, 200])
def test_top_k_is_the_first_k_of_a_stable_sort(n, distinct, zeros, k):
    """Large arrays take the chunk-maxima path (n ≥ 4 · 1024 · k), small ones a partition: both give exactly the first
    k indices of a stable sort by -score, heavy ties and all-zero tails included."""
    scores = scores_with_ties(n, distinct, zeros, seed=n + k)
    assert top_k(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


@pytest.mark.parametrize("n, distinct, zeros", CASES)
def test_ranks_of_are_positions_in_a_stable_sort(n, distinct, zeros, monkeypatch):
    """Each asked position's 1-based rank, as the stable sort gives it; also when too many scores tie with the lowest
    one asked for and the ranks are counted per position instead."""
    scores = scores_with_ties(n, distinct, zeros, seed=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-scores, kind="stable")] = np.arange(1, n + 1)
    positions = np.random.default_rng(0).choice(n, min(n, 12), replace=False)
    assert ranks_of(scores, positions).tolist() == rank[positions].tolist()
    monkeypatch.setattr(index, "RANK_SORT_LIMIT", 0)
    assert ranks_of(scores, positions).tolist() == rank[positions].tolist()


def test_top_k_of_nothing_and_ties_in_index_order():
    assert top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 2]
    assert top_k(np.zeros(0, dtype=np.float32), 5).tolist() == [] and top_k(np.ones(3), 0).tolist() == []
    assert ranks_of(np.array([0.1, 0.9, 0.5, 0.9]), np.array([3, 2])).tolist() == [2, 3]
