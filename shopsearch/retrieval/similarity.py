"""Similarity numbers for the Similarity tab: pairwise matrices, one-vs-many scores, a 2-D map. No plotting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shopsearch.common.errors import QueryError
from shopsearch.retrieval.embeddings import Encoder, as_encoder
from shopsearch.text.inputs import check_raw_length, clean_text

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def parse_sentences(text: str | None, max_sentences: int, max_chars: int = 500, required: bool = True) -> list[str]:
    """One sentence per non-empty line, each through the input gate; refuse too many or over-long ones (bilingual).

    The whole box's raw length is checked first, so a huge paste is refused before it is split or cleaned.

    Args:
        required: refuse a box with no sentence (the 2-D map passes False: it then draws the catalog alone).

    Example: parse_sentences("寻找一款K7\n\n机械键盘\x07", 50) -> ["寻找一款K7", "机械键盘"]
    """
    box = text or ""
    check_raw_length(box, max_sentences * (max_chars + 1), "输入", "The text")
    sentences: list[str] = []
    for line in box.splitlines():
        n = len(sentences) + 1
        sentence = clean_text(line, max_chars, f"第 {n} 个句子", f"Sentence {n}")
        if sentence:
            sentences.append(sentence)
    if required and not sentences:
        raise QueryError("请至少输入一个句子（每行一个）。", "Enter at least one sentence (one per line).")
    if len(sentences) > max_sentences:
        raise QueryError(f"最多 {max_sentences} 个句子，当前 {len(sentences)} 个。", f"At most {max_sentences} sentences; got {len(sentences)}.")
    return sentences


def embed(model: Encoder | SentenceTransformer, sentences: list[str]) -> np.ndarray:
    """Unit rows for `sentences`, by an Encoder (ONNX or torch) or a bare SentenceTransformer."""
    return as_encoder(model).encode(sentences, batch_size=64)


def pairwise(model: Encoder | SentenceTransformer, sentences: list[str]) -> np.ndarray:
    """N×N cosine similarities. Example: two identical sentences -> [[1, 1], [1, 1]]"""
    vectors = embed(model, sentences)
    return np.clip(vectors @ vectors.T, -1.0, 1.0)


def source_scores(model: Encoder | SentenceTransformer, source: str, others: list[str]) -> np.ndarray:
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
