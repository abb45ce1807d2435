"""Chinese-aware lexical search: BM25 (bm25s) over character uni/bigrams and latin words.

The model sees most Chinese characters as [UNK]; characters themselves are what a lexical index reads best.
"""

from __future__ import annotations

import re
import unicodedata

import bm25s
import numpy as np

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:[-.][a-z0-9]+)*")
_IS_CJK = re.compile(rf"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    """Split text into the tokens the BM25 index uses.

    CJK runs give every character and every adjacent pair; latin/digit runs give the lower-cased word and,
    when it has a hyphen or dot, the word without it (so "Wi-Fi" matches "wifi").

    Text is NFKC-normalised first, so full-width "ＡＸ５５" matches "AX55".
    Example: "网速 AX55 Wi-Fi" -> ["网", "速", "网速", "ax55", "wi-fi", "wifi"]
    """
    tokens: list[str] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _IS_CJK.match(run):
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
            joined = run.replace("-", "").replace(".", "")
            if joined != run:
                tokens.append(joined)
    return tokens


def query_terms(text: str) -> list[str]:
    """The distinct words and characters of a query worth highlighting (CJK characters and latin words).

    Example: "K7 键盘" -> ["k7", "键", "盘"]
    """
    seen: dict[str, None] = {}
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        for term in (list(run) if _IS_CJK.match(run) else [run]):
            seen.setdefault(term, None)
    return list(seen)


class LexicalIndex:
    """BM25 over product texts; `scores(query)` gives a score for every document."""

    def __init__(self, documents: list[str]) -> None:
        self.size = len(documents)
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(d) or ["\x00"] for d in documents]
        self._bm25.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = self._bm25.vocab_dict

    def coverage(self, query: str, document: str) -> float:
        """Share of the query's indexed bigrams and words (its characters if it has none) found in `document`.

        Tokens no product uses (filler like 寻找, or a thing the catalog lacks like 猫粮) are not in the index:
        they count in neither direction, and a query with no indexed token at all scores 0.
        Example: "寻找一款K7" vs "机械师 K7 机械键盘" -> 1.0; "猫粮" vs anything -> 0.0
        """
        indexed = [t for t in dict.fromkeys(tokenize(query)) if t in self._vocab]
        tokens = [t for t in indexed if len(t) > 1] or indexed
        if not tokens:
            return 0.0
        present = set(tokenize(document))
        return sum(t in present for t in tokens) / len(tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros when no query token is in the index)."""
        ids = [self._vocab[t] for t in tokenize(query) if t in self._vocab]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)
