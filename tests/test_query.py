"""Query understanding: filler phrases (我想买, 一款, 推荐…) are dropped before lexical scoring, never inside a word."""

from __future__ import annotations

import pytest

from shopsearch.text.lexical import query_terms
from shopsearch.text.query import content_text, split_filler


@pytest.mark.parametrize(
    ("query", "content"),
    [
        ("我想买一个羽毛球拍", "羽毛球拍"),
        ("寻找一款K7", "K7"),
        ("寻找一款网速", "网速"),
        ("有什么好的斯伯丁街头篮球推荐吗？", "斯伯丁街头篮球 ？"),
        ("最近在看童趣派，有什么建议？", "童趣派， ？"),
        ("请问有没有带灯的拐杖", "带灯的拐杖"),
        ("帮我找静音鼠标", "静音鼠标"),
        ("哪款吹风机好", "吹风机好"),
        ("求推荐 降噪耳机", "降噪耳机"),
        ("wireless router", "wireless router"),
    ],
)
def test_filler_is_dropped_and_the_product_words_kept(query, content):
    assert content_text(query) == content


@pytest.mark.parametrize(
    ("query", "word"),
    [("一款式背包", "款式"), ("一台式电脑", "台式"), ("呢子大衣", "呢子"), ("吧台椅", "吧台"), ("不需要插电的风扇", "不需要")],
)
def test_filler_is_never_cut_out_of_a_word(query, word):
    """一款 is filler, but not in 一款式背包 (一 | 款式 | 背包): a phrase goes only on word boundaries, a particle
    (吗, 呢, 吧) only at a sentence's end, and nothing right after a negation."""
    assert word in content_text(query)


def test_a_query_of_filler_alone_has_no_content():
    parsed = split_filler("我想买一个好的")
    assert parsed.content == "" and parsed.filler == ("我想买", "一个", "好的") and parsed.text == "我想买一个好的"


def test_highlighting_marks_no_filler():
    """The terms highlighted are the ones scored: 寻找一款K7 marks K7, not the 款 of a 女款 product."""
    assert query_terms("寻找一款K7") == query_terms("K7") and "款" not in query_terms("寻找一款K7")


def test_filler_gives_no_product_lexical_credit(engine):
    """Before, 寻找一款K7 gave every product with 款 in its text (女款 helmets, 短款 pens) a BM25 score."""
    hits = engine.search("寻找一款K7", mode="lexical", top=10).hits
    credited = [h.name for h in hits if h.lexical > 0]
    assert credited[0] == "机械师 K7 机械键盘" and all("K7" in name for name in credited), credited


def test_a_query_wrapped_in_filler_still_finds_its_product(engine):
    assert "羽毛球拍" in engine.search("我想买一个羽毛球拍", mode="lexical", top=1).hits[0].name
    assert not engine.search("寻找一款K7").nothing_relevant
