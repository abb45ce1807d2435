"""Chinese-aware lexical search: BM25 (bm25s) over character uni/bigrams and latin words, plus the names' pinyin.

The model sees most Chinese characters as [UNK]; characters themselves are what a lexical index reads best.
"""

from __future__ import annotations

import re
import unicodedata

import bm25s
import numpy as np

from shopsearch.pinyin import as_pinyin, pinyin_tokens
from shopsearch.query import content_text

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:[-.][a-z0-9]+)*")
_IS_CJK = re.compile(rf"[{_CJK}]")
# Inside a latin/digit run: segments split at punctuation, pieces at letter/digit boundaries too. A dot between
# digits is a decimal point, not punctuation ("12.4" stays whole; "1.5升" should not match every "5").
_SEGMENT = re.compile(r"(?:[a-z]+|\d+(?:\.\d+)*)+")
_PIECE = re.compile(r"[a-z]+|\d+(?:\.\d+)*")
# A lone letter or digit cut out of a model number ("k" of K7, "7" of K7) matches too widely to index: every
# 4K monitor has a "k". Runs that are one character on their own ("Wi-Fi 6") are still tokens.
MIN_PIECE = 2


def _joins(left: str, right: str) -> bool:
    """Whether two latin runs separated by a space read as one model name ("Pro 2", "Watch 4", "e ink", "usb c").

    Two ordinary words ("bluetooth speaker") are not joined: on dev the phrase token they would give is shared by
    every product listing the phrase, and it cost hybrid Recall@1 (0.924 with it, 0.931 without).
    """
    return any(ch.isdigit() for ch in left + right) or min(len(left), len(right)) <= 2


def latin_tokens(run: str) -> list[str]:
    """The tokens of one lower-cased latin/digit run: its joined form, its segments and their pieces.

    Example: "es-lf50" -> ["eslf50", "es", "lf50", "lf", "50"]; "pro2" -> ["pro2", "pro"]; "12.4" -> ["12.4"]
    """
    segments = _SEGMENT.findall(run)
    tokens = {"".join(segments): None}
    for segment in segments:
        tokens.setdefault(segment, None)
        for piece in _PIECE.findall(segment):
            if len(piece) >= MIN_PIECE:
                tokens.setdefault(piece, None)
    return list(tokens)


def tokenize(text: str) -> list[str]:
    """Split text into the tokens the BM25 index uses.

    CJK runs give every character and every adjacent pair. Latin/digit runs give `latin_tokens` (joined form,
    segments at punctuation, pieces at letter/digit boundaries), and two runs separated only by spaces that read as
    one model name (see `_joins`) also give their joined form, so "Pro2" ≡ "Pro 2" and "LF50" ≡ "LF-50" ≡ "lf 50"
    share a token.

    Text is NFKC-normalised and lower-cased first, so full-width "ＡＸ５５" matches "AX55".
    Example: "网速 AX55 Wi-Fi 6" -> ["网", "速", "网速", "ax55", "ax", "55", "wifi", "wi", "fi", "ax55wifi", "6", "wifi6"]
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    previous: re.Match[str] | None = None  # the last latin run, while only spaces follow it
    for match in _RUN.finditer(folded):
        run = match.group()
        if _IS_CJK.match(run):
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
            previous = None
            continue
        own = latin_tokens(run)
        tokens.extend(own)
        if previous is not None and folded[previous.end() : match.start()].isspace():
            left = latin_tokens(previous.group())[0]
            if _joins(left, own[0]):
                tokens.append(left + own[0])
        previous = match
    return tokens


def query_terms(text: str) -> list[str]:
    """The distinct words and characters of a query worth highlighting: CJK characters and the latin tokens of its
    content (filler such as 寻找一款 dropped, as the engine scores it), plus each model number spelled with a space
    or a hyphen between its pieces, so "Pro2" marks the "Pro 2" it matched.

    Example: "键盘" -> ["键", "盘"]; "lf-50" -> ["lf50", "lf", "50"]; "Pro2" -> ["pro2", "pro", "pro 2", "pro-2"]
    """
    seen: dict[str, None] = {}
    for run in _RUN.findall(unicodedata.normalize("NFKC", content_text(text)).lower()):
        if _IS_CJK.match(run):
            seen.update(dict.fromkeys(run))
            continue
        seen.update(dict.fromkeys(latin_tokens(run)))
        for pieces in (_PIECE.findall(segment) for segment in _SEGMENT.findall(run)):
            if len(pieces) > 1:
                seen.update(dict.fromkeys((" ".join(pieces), "-".join(pieces))))
    return list(seen)


class _Bm25:
    """One bm25s index over token lists, scored by tokens; tokens it never saw are skipped."""

    def __init__(self, corpus: list[list[str]]) -> None:
        self.size = len(corpus)
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokens or ["\x00"] for tokens in corpus], show_progress=False)
        self.vocab: dict[str, int] = self._bm25.vocab_dict

    def scores(self, tokens: list[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)


class LexicalIndex:
    """BM25 over product texts, plus the pinyin of their names; `scores(query)` gives a score for every document.

    The pinyin tokens (`pinyin.pinyin_tokens`) have their own BM25 index, so they neither lengthen the documents the
    text index normalises by nor weigh in a query that has no pinyin: such a query scores exactly as without them.
    """

    def __init__(self, documents: list[str], names: list[str] | None = None) -> None:
        """Args:
            documents: the text indexed per product.
            names: the products' names (same order), whose pinyin is indexed; None indexes no pinyin.
        """
        self.size = len(documents)
        self._text = _Bm25([tokenize(d) for d in documents])
        self._pinyin = _Bm25([pinyin_tokens(n) for n in names]) if names is not None else None

    def _query_tokens(self, query: str) -> tuple[list[str], list[str]]:
        """The query's tokens in the text index, and its latin words the text index lacks read as pinyin (if indexed)."""
        tokens = tokenize(query)
        text = [t for t in tokens if t in self._text.vocab]
        pinyin = [t for t in as_pinyin(tokens, self._text.vocab) if t in self._pinyin.vocab] if self._pinyin else []
        return text, pinyin

    def coverage(self, query: str, document: str) -> float:
        """Share of the query's indexed bigrams and words (its characters if it has none) found in `document`.

        Tokens no product uses (filler like 寻找, or a thing the catalog lacks like 猫粮) are not in the index:
        they count in neither direction, and a query with no indexed token at all scores 0. Pinyin tokens count
        too, matched against the pinyin of `document`.
        Example: "寻找一款K7" vs "机械师 K7 机械键盘" -> 1.0; "猫粮" vs anything -> 0.0; "ymqp" vs a 羽毛球拍 -> 1.0
        """
        text, pinyin = self._query_tokens(query)
        indexed = list(dict.fromkeys(text + pinyin))
        tokens = [t for t in indexed if len(t) > 1] or indexed
        if not tokens:
            return 0.0
        present = set(tokenize(document))
        if pinyin:
            present.update(pinyin_tokens(document))
        return sum(t in present for t in tokens) / len(tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query`: text plus name pinyin (zeros when no query token is indexed)."""
        text, pinyin = self._query_tokens(query)
        scores = self._text.scores(text)
        if pinyin:
            scores = scores + self._pinyin.scores(pinyin)
        return scores
