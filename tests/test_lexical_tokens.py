"""The BM25 tokenizer, and what the model's tokenizer sees."""

from __future__ import annotations

import pytest

from shopsearch.lexical import LexicalIndex, query_terms, tokenize
from shopsearch.tokens import missing_cjk_chars, view


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("网速 AX55", ["网", "速", "网速", "ax55"]),
        ("Wi-Fi 6", ["wi-fi", "wifi", "6"]),
        ("K7键盘", ["k7", "键", "盘", "键盘"]),
        ("", []),
        ("😀!!", []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_query_terms_for_highlighting():
    assert query_terms("K7 键盘 k7") == ["k7", "键", "盘"]


def test_bm25_ranks_the_document_sharing_the_model_number_first():
    index = LexicalIndex(["机械师 K7 机械键盘", "机械师 K5 机械键盘", "网速 AX55 无线路由器"])
    scores = index.scores("k7")
    assert scores.argmax() == 0 and scores[1] == 0


def test_unknown_query_tokens_give_zero_scores():
    index = LexicalIndex(["机械师 K7 机械键盘"])
    assert index.scores("zzz").tolist() == [0.0]


def test_seed_query_marks_unknown_characters(shipped_model):
    """The model card's central fact: `我想买一个羽毛球拍` is mostly [UNK]; 我 and 一 are known."""
    seen = view(shipped_model.tokenizer, "我想买一个羽毛球拍")
    assert seen.tokens == ["我", "[UNK]", "[UNK]", "一", "[UNK]", "[UNK]", "[UNK]", "[UNK]", "[UNK]"]
    assert seen.unknown_chars == ["想", "买", "个", "羽", "毛", "球", "拍"]
    assert seen.coverage == pytest.approx(2 / 9)


def test_latin_text_is_fully_visible(shipped_model):
    seen = view(shipped_model.tokenizer, "AX55 Wi-Fi router")
    assert seen.unknown_chars == [] and seen.coverage == 1.0


def test_base_vocabulary_has_244_cjk_characters(base_model):
    vocab = base_model.tokenizer.get_vocab()
    assert sum(len(t) == 1 and "\u4e00" <= t <= "\u9fff" for t in vocab) == 244
    assert missing_cjk_chars(base_model.tokenizer, ["我想买羽毛球拍拍"]) == ["拍", "买", "想", "毛", "球", "羽"]
