"""What a query asks for: its content words, with the filler of a request (我想买, 一款, 推荐, 吗…) dropped.

Filler must carry no weight in BM25: `寻找一款K7` gave every product with 款 in its text (女款 helmets, 短款 pens) a
score, and 有什么/推荐 match product descriptions that happen to use them. The model still reads the query as typed;
only the lexical score and the "nothing relevant" coverage read `content`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Phrases of a request, not of a product. At each position the longest one that fits is dropped.
FILLER = (
    "有什么建议",
    "有什么推荐",
    "有什么好的",
    "最近在看",
    "帮我找找",
    "帮我推荐",
    "给我推荐",
    "我想买",
    "我想要",
    "我需要",
    "我在找",
    "求推荐",
    "帮我找",
    "请推荐",
    "有没有",
    "有什么",
    "有哪些",
    "想买个",
    "想要个",
    "需要个",
    "想买",
    "想要",
    "我要",
    "需要",
    "寻找",
    "请问",
    "推荐",
    "一款",
    "一个",
    "一台",
    "一只",
    "一把",
    "一下",
    "哪款",
    "哪个",
    "好的",
    "什么",
    "求",
)
# Sentence-final particles: dropped only at the end of a sentence, since jieba does not know every word they
# start (吧台 is 吧 | 台 to it; 呢子 it knows).
PARTICLES = ("吗", "呢", "吧")
_BY_LENGTH = sorted(FILLER + PARTICLES, key=len, reverse=True)
# A phrase right after a negation stays: "不需要插电" should not become "不 插电" (negations are for later).
_NEGATIONS = ("不", "没")


@dataclass(frozen=True)
class FillerSplit:
    """One query split in two: the text as typed (for the model) and its content without filler (for BM25 and coverage).

    intent.parse_query reads the rest of a query (negations, prices, audiences) on top of this.
    """

    text: str
    content: str  # `text` without the filler phrases, spaces where they were, whitespace collapsed
    filler: tuple[str, ...]  # the phrases dropped, in order


@lru_cache(maxsize=1)
def _segmenter():
    """A private jieba tokenizer (the global one is shared with pairs.py); its dictionary loads on first use."""
    import jieba

    jieba.setLogLevel(60)
    return jieba.Tokenizer()


def word_boundaries(text: str) -> set[int]:
    """Offsets in `text` where a jieba word starts or ends (dictionary words only, no HMM guessing).

    Example: "一款式背包" -> {0, 1, 3, 5} (一 | 款式 | 背包: no boundary after 一款)
    """
    bounds, offset = {0}, 0
    for word in _segmenter().lcut(text, HMM=False):
        offset += len(word)
        bounds.add(offset)
    return bounds


def _droppable(text: str, start: int, phrase: str, bounds: set[int]) -> bool:
    """Whether `phrase` is at `start` as whole words, not after a negation, and (a particle) at a sentence's end."""
    end = start + len(phrase)
    if not text.startswith(phrase, start) or end not in bounds or text[start - 1 : start] in _NEGATIONS:
        return False
    return phrase not in PARTICLES or end == len(text) or not text[end].isalnum()


def split_filler(text: str) -> FillerSplit:
    """Drop the filler phrases of `text` that are whole words or runs of words, each replaced by a space.

    A phrase is dropped only where it starts and ends on a word boundary, so 一款 goes from 寻找一款K7 but stays in
    一款式背包 (一 | 款式 | 背包). The space keeps the words on either side from making a bigram BM25 would score.
    Example: "我想买一个羽毛球拍" -> content "羽毛球拍", filler ("我想买", "一个")
    """
    bounds = word_boundaries(text) if any(phrase in text for phrase in _BY_LENGTH) else set()
    kept: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(text):
        phrase = next((p for p in _BY_LENGTH if _droppable(text, i, p, bounds)), None) if i in bounds else None
        if phrase:
            dropped.append(phrase)
            kept.append(" ")
            i += len(phrase)
        else:
            kept.append(text[i])
            i += 1
    return FillerSplit(text, " ".join("".join(kept).split()), tuple(dropped))


def content_text(text: str) -> str:
    """`text` without its filler phrases. Example: "寻找一款K7" -> "K7"; "一款式背包" -> "一款式背包" """
    return split_filler(text).content
