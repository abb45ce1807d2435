"""How search results are rendered: weak tail hits are set apart, rank lines are bilingual."""

from __future__ import annotations

from shopsearch.retrieval.search import SearchHit, SearchResult
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


def test_a_demoted_hit_says_why_it_is_last_and_a_negated_term_is_not_highlighted():
    from shopsearch.text.intent import parse_query

    hits = [_hit(1, 0.9), SearchHit(2, "P2", "星耀 Pad 11 4G版", "平板", 2599.0, -0.5, 0.5, 1.0, 2, 2, demoted=("4g",))]
    html = result_cards(SearchResult("Pad 不要4G", "hybrid", hits, 1.0, 1.0, parsed=parse_query("Pad 不要4G")))
    assert html.count("hit-demoted") == 1 and "mentions 4g: ranked last" in html and "含 4g" in html
    assert "<mark>Pad</mark>" in html and "<mark>4G</mark>" not in html


def test_chips_list_every_intent_and_tick_the_ones_in_force():
    """Unticking a chip removes its intent; it stays listed, unticked, so it can be ticked again; a new query resets."""
    from shopsearch.text.intent import parse_query
    from shopsearch.ui.search_tab import chip_choices, removed_chips

    parsed = parse_query("耳机 不要4G 两百以内")
    choices, ticked = chip_choices(parsed)
    assert choices == [("不要 4G · not 4G", "not:4g"), ("价格 ≤ ¥200 · price ≤ 200", "price:两百以内")]
    assert ticked == ["not:4g", "price:两百以内"]
    assert removed_chips(parsed, ["not:4g"]) == ("price:两百以内",)
    without_price = parse_query("耳机 不要4G 两百以内", ignore=removed_chips(parsed, ["not:4g"]))
    assert chip_choices(without_price) == (choices, ["not:4g"])
    assert removed_chips(without_price, ["not:4g", "price:两百以内"]) == ()  # ticked again: back in force
