"""Similarity numbers for the Similarity tab: pairwise matrices, one-vs-many scores, a 2-D map. No plotting."""

from __future__ import annotations

import numpy as np
from sentence_transformers import SentenceTransformer

from shopsearch.errors import QueryError


def parse_sentences(text: str, max_sentences: int, max_chars: int = 500) -> list[str]:
    """One sentence per non-empty line; refuse none, too many, or over-long ones (bilingual messages)."""
    lines = ["".join(ch for ch in line if ch.isprintable()).strip() for line in (text or "").splitlines()]
    sentences = [s for s in lines if s]
    if len(sentences) < 1:
        raise QueryError("请至少输入一个句子（每行一个）。", "Enter at least one sentence (one per line).")
    if len(sentences) > max_sentences:
        raise QueryError(
            f"最多 {max_sentences} 个句子，当前 {len(sentences)} 个。", f"At most {max_sentences} sentences; got {len(sentences)}."
        )
    too_long = [i + 1 for i, s in enumerate(sentences) if len(s) > max_chars]
    if too_long:
        raise QueryError(
            f"第 {too_long[0]} 个句子过长（上限 {max_chars} 字符）。", f"Sentence {too_long[0]} is too long (limit {max_chars} characters)."
        )
    return sentences


def embed(model: SentenceTransformer, sentences: list[str]) -> np.ndarray:
    return model.encode(sentences, normalize_embeddings=True, convert_to_numpy=True, batch_size=64, show_progress_bar=False)


def pairwise(model: SentenceTransformer, sentences: list[str]) -> np.ndarray:
    """N×N cosine similarities. Example: two identical sentences -> [[1, 1], [1, 1]]"""
    vectors = embed(model, sentences)
    return np.clip(vectors @ vectors.T, -1.0, 1.0)


def source_scores(model: SentenceTransformer, source: str, others: list[str]) -> np.ndarray:
    """Cosine similarity of `source` with each of `others` (the Hub widget's form)."""
    vectors = embed(model, [source, *others])
    return vectors[1:] @ vectors[0]


class Projection:
    """PCA to 2-D fitted on a catalog's vectors; new sentences are placed with the same axes."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.mean = vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(vectors - self.mean, full_matrices=False)
        self.axes = vt[:2].T
        self.points = (vectors - self.mean) @ self.axes

    def place(self, vectors: np.ndarray) -> np.ndarray:
        return (vectors - self.mean) @ self.axes
