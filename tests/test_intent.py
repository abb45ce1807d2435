"""Query intent: "not" (不要4G), price words (两百以内, under 300, 1000左右, 便宜) and audience words (男, 儿童) are read
into chips; the engine demotes what a query negates, filters or prefers a price, and boosts an audience; removing a
chip searches as if it had never been read."""

from __future__ import annotations

import numpy as np
import pytest

from shopsearch.text.intent import PriceRange, mentions, parse_number, parse_query


@pytest.mark.parametrize(
    ("query", "excluded", "content"),
    [
        ("星耀Pad 11 普通版 不要4G", ("4g",), "星耀Pad 11 普通版"),
        ("星耀Pad 11 普通版 不要 4G", ("4g",), "星耀Pad 11 普通版"),
        ("非4G版平板", ("4g",), "版平板"),
        ("陶瓷内胆 不要涂层", ("涂层",), "陶瓷内胆"),
        ("不带蓝牙的音箱", ("蓝牙",), "音箱"),
        ("不含糖的饮料", ("糖",), "饮料"),
        ("别买4G的平板", ("4g",), "平板"),
        ("speaker without bluetooth", ("bluetooth",), "speaker"),
        ("tablet no 4G", ("4g",), "tablet"),
        ("ＰＡＤ 不要４Ｇ", ("4g",), "ＰＡＤ"),
    ],
)
def test_an_explicit_negation_excludes_its_term_from_the_scored_text(query, excluded, content):
    parsed = parse_query(query)
    assert parsed.excluded == excluded and parsed.content == content
    assert [c.kind for c in parsed.chips] == ["not"]


@pytest.mark.parametrize(
    "query",
    [
        "无线耳机",
        "无糖饮料",
        "非常轻的跑鞋",
        "电池特别大的手机",
        "MIPS头盔 和 速降全盔 有什么区别",
        "要不要买4G版",
        "water bottle that does not leak",
        "不需要插电的风扇",
        "出门不用连wifi",
        "非要4G的",
    ],
)
def test_words_that_only_look_like_negation_are_not_read_as_one(query):
    """无 names what a product is (无线 = wireless, 无糖 = sugar-free); 非常 is "very", 特别 "especially", 区别
    "difference", 非要 "insist on", 要不要 "whether to"; "does not" negates a verb. Only 不要/不含/不带/非/别/without/no/not standing as
    words negate."""
    assert parse_query(query).excluded == ()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("两百", 200),
        ("五百", 500),
        ("三千", 3000),
        ("一千五", 1500),
        ("两千五", 2500),
        ("2千5", 2500),
        ("1.5万", 15000),
        ("一万五", 15000),
        ("一百零五", 105),
        ("十五", 15),
        ("千", 1000),
        ("1,200", 1200),
        ("300", 300),
        ("两三百", None),
    ],
)
def test_chinese_numerals_are_read_as_they_are_said(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("query", "low", "high", "soft"),
    [
        ("两百以内", None, 200, False),
        ("200以内的耳机", None, 200, False),
        ("200元以下", None, 200, False),
        ("300块以下", None, 300, False),
        ("不超过300", None, 300, False),
        ("预算两千五以内", None, 2500, False),
        ("千元以内 儿童平板", None, 1000, False),
        ("under 300", None, 300, False),
        ("router below 300 yuan", None, 300, False),
        ("500以上", 500, None, False),
        ("500到1000", 500, 1000, False),
        ("500-1000元", 500, 1000, False),
        ("between 500 and 1000", 500, 1000, False),
        ("1000左右", 800, 1200, True),
        ("around 1000", 800, 1200, True),
        ("一百多的钢笔", 100, 200, True),
    ],
)
def test_price_words_become_a_price_range(query, low, high, soft):
    """A bound word (以内, 以下, under…) makes a filter; 左右 / around / 一百多 a soft window (±20% for 左右)."""
    price = parse_query(query).price
    assert (price.low, price.high, price.soft) == (low, high, soft)


@pytest.mark.parametrize(
    "query", ["女生用的羽毛球拍 不到80克", "3-5岁儿童", "2-3人帐篷", "usb 3.0-3.1", "kids under 12", "under 300g", "千元5G手机", "百公里越野赛"]
)
def test_numbers_that_are_not_prices_are_left_alone(query):
    """A unit after the number (80克, 3-5岁, 2-3人, 300g) makes it a quantity; a bare small number is a version or
    an age; 千元手机 names a class of phone, not a bound."""
    assert parse_query(query).price is None


def test_cheap_is_a_soft_preference_whose_words_stay_scored():
    """便宜 asks for cheaper products first, filters nothing, and still matches listings that say 便宜 or budget."""
    parsed = parse_query("便宜的跑鞋")
    assert parsed.price == PriceRange(soft=True, prefer="low", words=("便宜",))
    assert "便宜" in parsed.content and [c.kind for c in parsed.chips] == ["cheap"]
    assert parse_query("不要太贵的耳机").price.prefer == "low" and parse_query("不要太贵的耳机").excluded == ()


@pytest.mark.parametrize(
    ("query", "audience"),
    [
        ("跑步鞋 男", "男"),
        ("男士长款羽绒服", "男"),
        ("女款防晒衣", "女"),
        ("女生用的羽毛球拍", "女"),
        ("小孩跑鞋 魔术贴", "儿童"),
        ("table tennis paddle for kids", "儿童"),
        ("心电 SOS 老人手表", "老人"),
        ("fall detection watch for elderly", "老人"),
        ("running shoes for women", "女"),
        ("瑜伽垫 一百块以内 成人", "成人"),
        ("yoga mat for adults", "成人"),
        ("男女通用", None),
        ("男生女生都适合的背包", None),
        ("大人小孩都能用的水杯", None),
        ("跑步鞋 男 不要女款", "男"),  # the opposite only negated: still for men
        ("老师录课 摄像头", None),
        ("伟大人物传记", None),
    ],
)
def test_audience_words_are_normalised(query, audience):
    """Whole words only: 男女通用 names no one audience, 老师 is not 老人, 伟大人物 not 大人; naming an audience and its
    opposite (男生女生, 大人小孩) names neither."""
    parsed = parse_query(query)
    assert parsed.audience == audience
    assert parsed.content == parse_query(query, ignore=("audience",)).content  # the words still count as words


def test_every_chip_is_bilingual_and_points_at_its_words():
    query = "星耀Pad 11 不要4G 两百以内 男"
    chips = parse_query(query).chips
    assert [c.kind for c in chips] == ["not", "price", "audience"]
    assert [query[c.span[0] : c.span[1]] for c in chips] == ["不要4G", "两百以内", "男"]
    assert chips[1].label == "价格 ≤ ¥200 · price ≤ 200"
    assert all(" · " in c.label for c in chips)


def test_an_ignored_chip_is_read_as_plain_words_and_kept_aside():
    """Removing a chip (by id or by kind) puts its words back into the scored text and lists it as ignored."""
    parsed = parse_query("耳机 两百以内")
    chip = parsed.chips[0]
    for ignore in ((chip.id,), ("price",)):
        again = parse_query("耳机 两百以内", ignore=ignore)
        assert again.price is None and again.chips == () and again.ignored == (chip,)
        assert again.content == "耳机 两百以内"


@pytest.mark.parametrize(
    ("document", "term", "expected"),
    [
        ("星耀 Pad 11 4G版 支持插卡4G上网", "4g", True),
        ("tablet, 4g lte, sim card", "4G", True),
        ("星耀 Pad 11 11英寸2.5K高刷屏的安卓平板", "4g", False),
        ("内存 14GB", "4g", False),
        ("陶瓷釉内胆的3升电饭煲，内胆不含涂层。coating-free", "涂层", False),
        ("不粘涂层内胆", "涂层", True),
        ("无线 Wi-Fi 路由器", "wifi", True),
        ("pro no pro22 2", "pro2", False),  # cutting "no pro2" out must not join "pro" and "2" into a token
    ],
)
def test_a_product_mentions_a_term_as_the_lexical_index_matches_it(document, term, expected):
    """Case and width folded, model numbers whole (4G is not in 14GB), and a mention the listing negates
    (内胆不含涂层) is not one."""
    assert mentions(document, term) is expected


# The engine, with the app's default model (the Chinese-aware one).


def test_not_4g_ranks_the_model_without_4g_first(chinese_engine):
    """The issue's example: the query named the plain Pad 11 and said "not 4G", and got the 4G version first."""
    query = "星耀Pad 11 普通版 不要4G"
    for mode in ("hybrid", "lexical", "semantic"):
        result = chinese_engine.search(query, mode=mode, top=10)
        assert result.hits[0].name == "星耀 Pad 11", mode
        assert "星耀 Pad 11 4G版" not in [h.name for h in result.hits], mode
    unread = chinese_engine.search(query, top=10, ignore=("not",))
    assert unread.hits[0].name == "星耀 Pad 11 4G版"


def test_a_product_with_a_negated_term_is_demoted_below_all_others_not_removed(chinese_model, session_cache, write):
    """On a small catalog every product is shown: the two 4G listings, the best lexical matches for "Pad 4G", come last."""
    from shopsearch.data.catalog import load_catalog
    from shopsearch.retrieval.search import build_engine

    catalog = load_catalog(
        write(
            "small.csv",
            (
                "id,name,description\n"
                "A,星耀 Pad 11 4G版,支持插卡4G上网\nB,星耀 Pad 11,安卓平板\nC,机械师 K7 机械键盘,青轴\n"
                "D,极客 Tab 4G,4g lte 平板\nE,内存 14GB 的平板,大内存\n"
            ),
        )
    )
    engine = build_engine(chinese_model, "chinese", catalog, session_cache, onnx=False)
    for mode in ("hybrid", "lexical", "semantic"):
        hits = engine.search("平板 Pad 不要4G", mode=mode, top=10).hits
        assert len(hits) == 5, mode
        assert [h.product_id for h in hits[-2:]] in (["A", "D"], ["D", "A"]), mode
        assert all(h.demoted == ("4g",) for h in hits[-2:]) and not any(h.demoted for h in hits[:3])


@pytest.mark.parametrize("top", [1, 3, 10, 50])
def test_only_the_best_scoring_holders_of_a_negated_term_are_read_and_the_hits_are_those_of_reading_all(chinese_engine, monkeypatch, top):
    """The engine reads a product's text to see whether it mentions a negated term only while that can change the top
    `top`: the hits (ids, scores, demotions) equal those of demoting every product that mentions it, over the whole
    catalog and within a category (where the demoted products come last among the hits)."""
    from shopsearch.retrieval.search import Filters
    from shopsearch.text.intent import mentions

    engine = chinese_engine
    queries = ["平板 不要4G", "跑鞋 不要白色", "机械键盘 不要青轴", "耳机 without noise cancelling"]
    searches = [
        (q, mode, f)
        for q in queries
        for mode in ("hybrid", "lexical", "semantic")
        for f in (Filters(), Filters(category=engine.search(q, top=1).hits[0].category))
    ]
    read = []
    original = engine._document
    monkeypatch.setattr(engine, "_document", lambda row: read.append(row) or original(row))
    lazy = {key: engine.search(key[0], mode=key[1], top=top, filters=key[2]).hits for key in searches}
    lazy_reads = len(read)

    def every_holder(terms, fused, ids, top):  # the former rule: every product that mentions a term, all read
        found = {}
        for j, row in enumerate(range(len(fused)) if ids is None else ids.tolist()):
            said = tuple(t for t in terms if engine.lexical.scores(t)[row] > 0 and mentions(original(row), t))
            if said:
                found[j] = said
        return found

    monkeypatch.setattr(engine, "_mentioning", every_holder)
    demoted = 0
    for key in searches:
        full = engine.search(key[0], mode=key[1], top=top, filters=key[2]).hits
        assert [(h.product_id, h.score, h.demoted) for h in lazy[key]] == [(h.product_id, h.score, h.demoted) for h in full], key
        demoted += sum(bool(h.demoted) for h in full)
    if top == 50:
        assert demoted >= 6  # in a category, the products that mention the term come last
    else:
        assert lazy_reads < 5 * len(searches)  # a few per search, not every product that says 白色


def test_a_negated_term_adds_no_score(chinese_engine):
    """不要4G: every product scores exactly as for the query without those words, lexically and semantically, before
    the demotion; the 4G version's own BM25 share of "4G" is gone."""
    with_not = chinese_engine.search("星耀Pad 11 普通版 不要4G", mode="lexical", top=50)
    without = chinese_engine.search("星耀Pad 11 普通版", mode="lexical", top=50)
    lexical = {h.product_id: h.lexical for h in without.hits}
    assert all(h.lexical == lexical[h.product_id] for h in with_not.hits if h.lexical)
    assert lexical["P0059"] > 0 and "P0059" not in {h.product_id for h in with_not.hits}  # the 4G version, demoted
    typed = chinese_engine.search("星耀Pad 11 普通版 不要4G", mode="semantic", top=50)
    plain = chinese_engine.search("星耀Pad 11 普通版", mode="semantic", top=50)
    cosine = {h.product_id: h.semantic for h in plain.hits}
    assert [h.semantic for h in typed.hits if h.product_id in cosine] == pytest.approx(
        [cosine[h.product_id] for h in typed.hits if h.product_id in cosine]
    )
    assert len([h for h in typed.hits if h.product_id in cosine]) >= 45


def test_wireless_earbuds_are_not_a_negation(chinese_engine):
    result = chinese_engine.search("无线耳机", top=5)
    assert result.parsed.chips == () and all("耳机" in h.name for h in result.hits)


def test_a_price_limit_is_a_removable_chip_that_filters(chinese_engine):
    """两百以内 filters to ≤ ¥200; removing the chip searches the same words unfiltered."""
    result = chinese_engine.search("蓝牙耳机 两百以内", top=10)
    chip = next(c for c in result.parsed.chips if c.kind == "price")
    assert result.parsed.price.high == 200 and chip.label.startswith("价格 ≤ ¥200")
    assert result.hits and all(h.price <= 200 for h in result.hits)
    removed = chinese_engine.search("蓝牙耳机 两百以内", top=10, ignore=(chip.id,))
    assert removed.parsed.ignored == (chip,) and removed.parsed.price is None
    assert any(h.price > 200 for h in removed.hits)
    assert [h.product_id for h in removed.hits] == [h.product_id for h in chinese_engine.search("蓝牙耳机 两百以内", top=10, ignore=("price",)).hits]


def test_a_price_limit_nothing_meets_becomes_a_preference_and_says_so(chinese_engine):
    result = chinese_engine.search("平板 10块以内", top=5)
    assert result.hits and all("平板" in h.name or "Tab" in h.name for h in result.hits[:3])
    assert any("10块以内" in n and "No product matches" in n for n in result.notes)


def test_the_form_filters_and_the_query_price_both_apply(chinese_engine):
    from shopsearch.retrieval.search import Filters

    hits = chinese_engine.search("耳机 五百以内", top=50, filters=Filters(min_price=200)).hits
    assert hits and all(200 <= h.price <= 500 for h in hits)


def test_around_a_price_prefers_products_in_the_window(chinese_engine):
    """1000左右 is soft: nothing is filtered, products priced ¥800–¥1200 get a small boost, and far ones none."""
    result = chinese_engine.search("1000左右的跑鞋", top=50)
    assert result.parsed.price == PriceRange(800, 1200, True, None, ("1000左右",))
    by_price = {h.price: h.boost for h in result.hits if h.category == "跑鞋"}
    assert by_price[1099.0] > 0 and by_price[899.0] > 0 and by_price[299.0] == 0
    assert any(h.price < 800 for h in result.hits[:5])  # soft: cheap shoes still show


def test_cheap_puts_cheaper_relevant_products_first(chinese_engine):
    plain = chinese_engine.search("跑鞋", mode="lexical", top=10)
    cheap = chinese_engine.search("便宜的跑鞋", mode="lexical", top=10, ignore=())
    boosts = {h.price: h.boost for h in cheap.hits if h.category == "跑鞋"}
    assert boosts[min(boosts)] > boosts[max(boosts)]
    assert np.mean([h.price for h in cheap.hits[:3]]) <= np.mean([h.price for h in plain.hits[:3]])


def test_running_shoes_for_men_still_find_running_shoes(chinese_engine):
    """跑步鞋 男: audience 男 is a soft boost — every top hit is a running shoe, the women's model is nudged down, and
    the query is not flagged "nothing relevant" (the catalog has 11 running shoes)."""
    result = chinese_engine.search("跑步鞋 男", top=5)
    assert result.parsed.audience == "男" and not result.nothing_relevant
    assert all(h.category == "跑鞋" for h in result.hits)
    womens = chinese_engine.search("跑步鞋 男", top=20, mode="semantic")
    assert next(h for h in womens.hits if "女款" in h.name).boost < 0


def test_kids_products_get_the_audience_boost(chinese_engine):
    result = chinese_engine.search("table tennis paddle for kids", top=5)
    assert result.parsed.audience == "儿童" and result.hits[0].boost > 0 and "儿童" in result.hits[0].name


def test_an_adults_query_puts_the_kids_product_below_the_adults_one(chinese_engine):
    """瑜伽垫 一百块以内 成人: both yoga mats are under ¥100; the kids' one (儿童瑜伽垫) names the opposite audience, so it
    is demoted in every mode (a soft boost), and the default search puts the adults' mat first."""
    for mode in ("hybrid", "semantic"):
        result = chinese_engine.search("瑜伽垫 一百块以内 成人", top=5, mode=mode)
        mats = [h for h in result.hits if h.category == "瑜伽垫"]
        assert result.parsed.audience == "成人" and next(h for h in mats if "儿童" in h.name).boost < 0, (mode, [h.name for h in mats])
        if mode == "hybrid":
            assert "儿童" not in mats[0].name, [h.name for h in mats]


@pytest.mark.parametrize("query", ["1" * 500, "1" * 499 + "x", "一" * 500, "1" + " " * 498 + "x", "不要" * 250, "一百多" * 166])
def test_hostile_queries_are_parsed_at_once(query):
    """The price patterns' repetitions are bounded: a run of 500 digits used to backtrack without end."""
    parsed = parse_query(query)
    assert parsed.text == query and parsed.semantic


@pytest.mark.parametrize("audience", ["男", "女", "儿童", "老人", "成人"])
def test_audience_marks_read_only_products_the_index_finds_and_mark_the_same_as_reading_all(chinese_engine, audience):
    """Every product whose text names an audience holds one of its AUDIENCE_NAMES (which name it) or AUDIENCE_HINTS
    (whose holders are read): at 1M products, reading every text had made one query take 60 s. The marks equal a pass
    over every text."""
    from shopsearch.retrieval.search import lexical_document
    from shopsearch.text.intent import OPPOSITE_AUDIENCE, has_audience

    documents = [lexical_document(p) for p in chinese_engine.catalog.products]
    opposite = OPPOSITE_AUDIENCE.get(audience)
    expected = [1.0 if has_audience(d, audience) else -1.0 if opposite and has_audience(d, opposite) else 0.0 for d in documents]
    assert any(expected)  # the catalog names each audience, or (男) the opposite one
    chinese_engine._audiences.pop(audience, None)
    read = []
    original = chinese_engine._document
    chinese_engine._document = lambda row: read.append(row) or original(row)
    try:
        assert chinese_engine._audience_rows(audience).tolist() == expected
    finally:
        del chinese_engine._document
    assert len(read) < len(documents) // 10  # only the few products holding nothing but a hint are read
