"""How search results are rendered: weak tail hits are set apart, rank lines are bilingual."""

from __future__ import annotations

from shopsearch.search import SearchHit, SearchResult
from shopsearch.ui.search_tab import result_cards


def _hit(rank: int, score: float) -> SearchHit:
    return SearchHit(rank, f"P{rank}", f"商品{rank}", "类别", 10.0, score, 0.5, 1.0, rank, rank)


def test_hits_far_below_the_first_are_set_apart():
    """`寻找一款K7`: the keyboard, then products that only share 款 — the weak tail is separated and dimmed."""
    html = result_cards(SearchResult("寻找一款K7", "hybrid", [_hit(1, 0.95), _hit(2, 0.8), _hit(3, 0.3), _hit(4, 0.2)], 1.0, 1.0))
    assert html.count("hit-weak-sep") == 1 and html.index("hit-weak-sep") < html.index("商品3") and html.index("商品2") < html.index("hit-weak-sep")
    assert html.count("class='hit hit-weak'") == 2


def test_a_list_of_close_scores_has_no_separator_and_says_its_ranks_in_both_languages():
    html = result_cards(SearchResult("键盘", "hybrid", [_hit(1, 0.9), _hit(2, 0.85)], 1.0, 1.0))
    assert "hit-weak" not in html
    assert "semantic rank 1" in html and "语义排名" in html and "lexical rank 2" in html
