"""Pinyin of product names, so a query typed in pinyin — full, without spaces, or initials — finds the listing.

A name's every run of two or more consecutive syllables is one token, joined without spaces ("saodi", "jiqiren",
"saodijiqiren"), and so is every run of two or more initials ("sdjqr"): a latin word of a query then matches
however much of the name it spells, with no need to split it into syllables. Tokens carry the prefix `py:` so they
never meet the listings' own latin words.

Readings come from pypinyin (MIT), which picks a polyphone's reading from the words around it (重力 zhongli).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable
from functools import lru_cache

PREFIX = "py:"
# Longer runs than this are rarely typed and would only multiply tokens (a run of n syllables gives up to 14n).
MAX_SYLLABLES = 8
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SYLLABLE = re.compile(r"[a-z]+")


def _syllable_runs(readings: list[str]) -> list[list[str]]:
    """Split pypinyin's output where it gave something other than a syllable (a character it cannot read)."""
    runs: list[list[str]] = [[]]
    for reading in readings:
        if _SYLLABLE.fullmatch(reading):
            runs[-1].append(reading)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _joined_ngrams(parts: list[str], shortest: int) -> Iterable[str]:
    """Every run of `shortest` to MAX_SYLLABLES consecutive parts, joined. Example: (["a", "b", "c"], 2) -> ab, abc, bc"""
    for start in range(len(parts)):
        for end in range(start + shortest, min(start + MAX_SYLLABLES, len(parts)) + 1):
            yield "".join(parts[start:end])


def pinyin_tokens(text: str) -> list[str]:
    """The `py:` tokens of the Chinese in `text`: runs of 2 to MAX_SYLLABLES syllables, and of as many initials.

    Example: "扫地机" -> ["py:saodi", "py:saodiji", "py:diji", "py:sd", "py:sdj", "py:dj"]
    """
    tokens: dict[str, None] = {}
    for run in _CJK_RUN.findall(unicodedata.normalize("NFKC", text)):
        tokens.update(dict.fromkeys(_run_tokens(run)))
    return list(tokens)


@lru_cache(maxsize=1 << 16)
def _run_tokens(run: str) -> tuple[str, ...]:
    """`pinyin_tokens` of one CJK run. Cached: names repeat their brands and kinds, and pypinyin takes ~0.2 ms a name."""
    from pypinyin import Style, lazy_pinyin  # imported on first use: it loads its phrase dictionary

    tokens: dict[str, None] = {}
    # Two syllables at least: a lone one is ambiguous and doubles as an English word. On dev, "yuan" in
    # "router under 200 yuan" and "ping" in "ping pong blade" matched 远见 and 平板 products.
    for syllables in _syllable_runs(lazy_pinyin(run, style=Style.NORMAL)):
        tokens.update((PREFIX + t, None) for t in _joined_ngrams(syllables, 2))
    # Two initials at least: a lone one would match every name with a character starting with that letter.
    for initials in _syllable_runs(lazy_pinyin(run, style=Style.FIRST_LETTER)):
        tokens.update((PREFIX + t, None) for t in _joined_ngrams(initials, 2))
    return tuple(tokens)


def as_pinyin(tokens: Iterable[str], listed: Container[str]) -> list[str]:
    """The query tokens that may be pinyin, as `py:` tokens: latin letters only, and not a word the listings use.

    A word the catalog itself uses ("router", "mesh") keeps its ordinary meaning; only the rest is read as pinyin.
    Example: (["saodi", "router", "k7", "键"], {"router"}) -> ["py:saodi"]
    """
    return [PREFIX + t for t in tokens if t.isascii() and t.isalpha() and t not in listed]
