"""A query typed in pinyin (full, without spaces, or initials) finds the product whose name it spells."""

from __future__ import annotations

import pytest

from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.search import lexical_documents
from shopsearch.text.lexical import LexicalIndex
from shopsearch.text.pinyin import pinyin_tokens


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> LexicalIndex:
    """The engine's lexical index over catalog.csv (built without the model: lexical mode does not need it)."""
    return LexicalIndex(lexical_documents(catalog), names=[p.name for p in catalog.products])


def top_names(index: LexicalIndex, catalog: Catalog, query: str, k: int = 3) -> list[str]:
    scores = index.scores(query)
    return [catalog[int(i)].name for i in scores.argsort(kind="stable")[::-1][:k] if scores[i] > 0]


def test_a_name_gives_its_syllables_joined_and_its_initials():
    """Every run of consecutive syllables is a token, joined without spaces, and so is every run of initials."""
    tokens = pinyin_tokens("洁家 入门扫地机器人")
    for expected in ("py:saodi", "py:jiqiren", "py:saodijiqiren", "py:sdjqr", "py:jqr", "py:jiejia"):
        assert expected in tokens
    assert "py:s" not in tokens and "py:sao" not in tokens, "a lone initial or syllable matches far too much"


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("saodi jiqiren", "扫地机器人"),
        ("saodijiqiren", "扫地机器人"),
        ("sdjqr", "扫地机器人"),
        ("yumaoqiu pai", "羽毛球拍"),
        ("yumaoqiupai", "羽毛球拍"),
        ("ymqp", "羽毛球拍"),
        ("jixie jianpan", "机械键盘"),
        ("jixiejianpan", "机械键盘"),
        ("jxjp", "机械键盘"),
    ],
)
def test_a_pinyin_query_finds_the_product_it_spells(index, catalog, query, word):
    """Each of the top 3 lexical hits has the word in its name (the catalog has 3+ of each)."""
    names = top_names(index, catalog, query)
    assert len(names) == 3 and all(word in name for name in names), names


@pytest.mark.parametrize(
    "query",
    ["wireless router", "badminton racket", "AX55 vs AX73", "router under 200 yuan", "ping pong blade arylate carbon"],
)
def test_pinyin_leaves_english_queries_exactly_as_they_were(catalog, index, query):
    """Latin words the listings use are never read as pinyin, a lone syllable ("yuan", "ping") is not indexed, and
    pinyin tokens live in their own index (they do not lengthen the documents BM25 normalises by), so English
    scores are identical with or without the names' pinyin."""
    without = LexicalIndex(lexical_documents(catalog))
    assert index.scores(query).tolist() == without.scores(query).tolist()


def test_a_pinyin_query_covers_the_product_it_found(index, catalog):
    """The "nothing relevant" coverage counts pinyin tokens: a racket found by "yumaoqiupai" covers the query."""
    racket = next(d for p, d in zip(catalog.products, lexical_documents(catalog)) if "羽毛球拍" in p.name)
    assert index.coverage("yumaoqiupai", racket) == 1.0
    assert index.coverage("yumaoqiupai", lexical_documents(catalog)[0].replace("羽毛球拍", "")) < 1.0
