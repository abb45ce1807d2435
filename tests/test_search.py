"""The search engine: each mode's strength, filters, "nothing relevant", the embedding cache."""

from __future__ import annotations

import numpy as np
import pytest

from shopsearch.common.errors import QueryError
from shopsearch.data.catalog import load_catalog
from shopsearch.retrieval.embeddings import EmbeddingCache
from shopsearch.retrieval.search import DEFAULT_ALPHA, Filters, SearchEngine, build_engine, validate_query
from shopsearch.ui.search_tab import result_cards


def top_name(engine, query: str, mode: str) -> str:
    return engine.search(query, mode=mode, top=1).hits[0].name


def test_lexical_finds_a_pure_model_number(engine):
    assert top_name(engine, "AX55", "lexical") == "网速 AX55 无线路由器"


def test_lexical_finds_a_brand_the_model_sees_as_unk(engine):
    """ "鹰击" (a dev query) is two [UNK]s to the model; BM25 matches the characters."""
    assert top_name(engine, "鹰击", "lexical") == "鹰击 Pro 羽毛球拍"
    assert top_name(engine, "鹰击", "semantic") != "鹰击 Pro 羽毛球拍"


def test_semantic_finds_a_product_bm25_misses(engine):
    """ "badminton racket for a 7 year old" (a dev query) names the child only as an age: BM25 has no word for it."""
    assert top_name(engine, "badminton racket for a 7 year old", "semantic") == "飞羽 儿童羽毛球拍"
    assert top_name(engine, "badminton racket for a 7 year old", "lexical") != "飞羽 儿童羽毛球拍"


def test_lexical_finds_a_model_number_typed_without_its_space(engine):
    """ "星耀Watch4" (a dev query) is the listing's "Watch 4": both give the joined token "watch4"."""
    assert top_name(engine, "星耀Watch4", "lexical") == "星耀 Watch 4"


def test_lexical_finds_a_product_typed_in_pinyin(engine):
    """ "saodijiqiren" spells 扫地机器人 (robot vacuum): the engine indexes the names' pinyin, and says it found something."""
    result = engine.search("saodijiqiren", mode="lexical", top=1)
    assert "扫地机器人" in result.hits[0].name and not result.nothing_relevant


def test_hybrid_finds_a_product_neither_mode_finds_alone(chinese_engine):
    """A dev query (a toothbrush whose charge lasts two months): the model and BM25 each put another toothbrush
    first; fused, the right one (P0200) comes first. The default engine: the Chinese-aware model."""
    top = {m: chinese_engine.search("充一次电能用两个月的牙刷", mode=m, top=1).hits[0].product_id for m in ("hybrid", "semantic", "lexical")}
    assert top["hybrid"] == "P0200" and top["semantic"] != "P0200" and top["lexical"] != "P0200"


def test_hybrid_weight_follows_what_the_model_can_see(engine):
    english = engine.search("wireless router", top=1)
    chinese = engine.search("我想买一个羽毛球拍", top=1)
    assert english.semantic_weight == pytest.approx(DEFAULT_ALPHA) and english.model_coverage == 1.0
    assert chinese.semantic_weight < DEFAULT_ALPHA * 0.6 and chinese.model_coverage < 0.6
    assert engine.search("AX55", mode="lexical").semantic_weight == 0.0


def test_approximate_index_agrees_with_exact_search(engine, shipped_model, catalog):
    """The IVF index (used from 200k products) finds ≥ 99% of the exact top-10 on clustered vectors."""
    from shopsearch.retrieval.index import ExactIndex, IvfIndex

    rng = np.random.default_rng(0)
    centres = engine.vectors[rng.integers(0, len(engine.vectors), 20_000)]
    vectors = centres + 0.02 * rng.standard_normal(centres.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ivf, exact = IvfIndex(vectors), ExactIndex(vectors)
    queries = shipped_model.encode(["寻找一款K7", "wireless router", "保温杯 500ml", "儿童平板", "露营 帐篷"] * 4, normalize_embeddings=True)
    found = 0
    for q in queries:
        candidates, _ = ivf.search(q, 200)
        best = candidates[np.argsort(-(vectors[candidates] @ q))[:10]]
        found += len(set(best.tolist()) & set(exact.search(q, 10)[0].tolist()))
    assert found / (10 * len(queries)) >= 0.99


def test_semantic_ranks_by_cosine_and_finds_a_product_from_its_own_text(engine, catalog):
    """Semantic mode: the product whose indexed document is the query comes first; scores are the cosines."""
    product = catalog[catalog.index_of("P0097")]
    hits = engine.search(product.document, mode="semantic", top=5).hits
    assert hits[0].product_id == "P0097" and hits[0].semantic == pytest.approx(1.0, abs=1e-3)
    assert [h.score for h in hits] == [h.semantic for h in hits]


def test_hybrid_finds_every_seed_widget_product_first(engine):
    expected = {
        "我想买一个羽毛球拍": "羽毛球拍",
        "有什么好的斯伯丁街头篮球推荐吗？": "斯伯丁街头篮球",
        "寻找一款K7": "机械师 K7 机械键盘",
        "寻找一款网速": "网速",
        "最近在看童趣派，有什么建议？": "童趣派",
    }
    for query, fragment in expected.items():
        assert fragment in top_name(engine, query, "hybrid"), query


def test_hits_carry_a_score_breakdown_in_rank_order(engine):
    result = engine.search("机械键盘 青轴", top=5)
    assert [h.rank for h in result.hits] == [1, 2, 3, 4, 5]
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h.rank_lexical is not None and h.rank_semantic is not None for h in result.hits)
    assert result.total_ms == pytest.approx(result.encode_ms + result.search_ms)


def test_filters_exclude_what_they_should(engine):
    hits = engine.search("耳机", top=50, filters=Filters(category="蓝牙耳机", max_price=300)).hits
    assert hits and all(h.category == "蓝牙耳机" and h.price <= 300 for h in hits)
    assert not engine.search("耳机", filters=Filters(min_price=10**9)).hits


def test_a_filtered_search_over_an_approximate_index_scores_candidates_among_the_filtered_rows(engine, catalog, monkeypatch):
    """Above MASKED_ALL_ROWS kept rows (0 here), the IVF index picks the candidates within the filter instead of every
    kept row being read; probing every list, the top hits are those of exact search under the same filter."""
    import shopsearch.retrieval.search as search_module
    from shopsearch.retrieval.index import IvfIndex

    ivf = IvfIndex(engine.vectors)
    ivf.nprobe, ivf.probe_margin = ivf.nlist, None
    approximate = SearchEngine(
        None,
        catalog,
        engine.vectors,
        index=ivf,
        lexical=engine.lexical,
        encoder=engine.encoder,
        tokenizer=engine.tokenizer,
        reference=engine.reference,
    )
    monkeypatch.setattr(search_module, "MASKED_ALL_ROWS", 0)
    monkeypatch.setattr(search_module, "CANDIDATES", 30)  # per side: fewer than the products under 300
    rows = []
    monkeypatch.setattr(approximate, "_rows", lambda ids: rows.append(len(ids)) or engine._rows(ids))
    passing = Filters(max_price=300)
    kept = int(passing.mask(approximate._categories, approximate._prices).sum())
    for query, mode in (("蓝牙耳机 降噪", "hybrid"), ("a tent for camping", "semantic")):
        got = approximate.search(query, mode=mode, top=5, filters=passing).hits
        want = engine.search(query, mode=mode, top=5, filters=passing).hits
        assert got and all(h.price <= 300 for h in got)
        assert [h.product_id for h in got] == [h.product_id for h in want], query
    assert kept > 60 and rows and max(rows) <= 60  # candidates only, not every product under 300
    # Unfiltered, the ANN's candidates come with their cosines, and only the lexical side's rows are read.
    rows.clear()
    got, want = approximate.search("蓝牙耳机 降噪", top=5).hits, engine.search("蓝牙耳机 降噪", top=5).hits
    assert [(h.product_id, round(h.semantic, 5)) for h in got] == [(h.product_id, round(h.semantic, 5)) for h in want]
    assert rows and max(rows) <= 30


def test_a_large_catalog_scores_bm25_in_another_thread_while_the_query_is_encoded(engine, monkeypatch):
    """From PARALLEL_LEXICAL_FROM products on (0 here), BM25 runs in a "bm25" thread beside the encoding; the hits are
    those of scoring it after. Lexical mode, which encodes nothing, scores in the caller's thread."""
    import threading

    import shopsearch.retrieval.search as search_module

    queries = ["蓝牙耳机 降噪", "a tent for camping", "寻找一款K7 不要青轴", "保温杯 两百以内"]
    serial = {(q, mode): engine.search(q, mode=mode, top=5).hits for q in queries for mode in ("hybrid", "semantic")}
    threads = []
    started = threading.Event()
    scores = engine.lexical.scores

    def scored(query):
        threads.append(threading.current_thread().name)
        started.set()
        return scores(query)

    monkeypatch.setattr(engine.lexical, "scores", scored)
    monkeypatch.setattr(search_module, "PARALLEL_LEXICAL_FROM", 0)
    encode = engine.encode_query  # waits for the scoring to start, so a "bm25" thread surely starts first (a task not
    # yet started would be scored inline); were the scoring not in a thread, it would wait 10 s and the assert fail
    monkeypatch.setattr(engine, "encode_query", lambda text: (started.wait(10), encode(text))[1])
    for (q, mode), hits in serial.items():
        threads.clear()
        started.clear()
        assert [(h.product_id, h.score) for h in engine.search(q, mode=mode, top=5).hits] == [(h.product_id, h.score) for h in hits]
        assert threads[0].startswith("bm25"), threads
    threads.clear()
    engine.search(queries[0], mode="lexical")
    assert threads[0] == threading.current_thread().name


def test_nothing_relevant_is_flagged_for_a_product_the_catalog_lacks(engine):
    assert engine.search("猫粮").nothing_relevant
    assert not engine.search("寻找一款K7").nothing_relevant


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01", "x" * 501])
def test_unsearchable_queries_raise(query):
    with pytest.raises(QueryError):
        validate_query(query, 500)


def test_cache_is_reused_and_invalidated(tmp_path, shipped_model, write):
    """A second engine reads the vectors from disk; changing one product re-embeds; a corrupt file is rebuilt."""
    cache = EmbeddingCache(tmp_path / "cache")
    calls = []
    first = load_catalog(write("a.csv", "id,name\nA,机械师 K7 机械键盘\nB,网速 AX55 无线路由器\n"))
    build_engine(shipped_model, "fp", first, cache, on_progress=lambda d, t: calls.append(d))
    assert calls == [2]
    build_engine(shipped_model, "fp", first, cache, on_progress=lambda d, t: calls.append(d))
    assert calls == [2], "the second build must come from the cache"
    changed = load_catalog(write("b.csv", "id,name\nA,机械师 K7 机械键盘\nB,网速 AX73 无线路由器\n"))
    build_engine(shipped_model, "fp", changed, cache, on_progress=lambda d, t: calls.append(d))
    assert calls == [2, 2]
    path = cache.path("fp", changed.documents_fingerprint)
    path.write_bytes(path.read_bytes()[:-64])  # truncate
    assert cache.load("fp", changed.documents_fingerprint, 2) is None
    engine = build_engine(shipped_model, "fp", changed, cache, on_progress=lambda d, t: calls.append(d))
    assert calls == [2, 2, 2] and np.allclose(np.linalg.norm(engine.vectors, axis=1), 1, atol=1e-4)


@pytest.mark.parametrize(
    ("low", "high", "expected", "noted"),
    [
        (0, 0, (None, None), False),  # what an opened Options panel shows: no filter, not "free products only"
        (None, None, (None, None), False),
        (500, 100, (100, 500), True),  # reversed: swapped, and said
        (-5, 300, (None, 300), True),  # negative: read as no bound, and said
        (100, 0, (100, None), False),
    ],
)
def test_price_boxes_are_read_as_a_person_meant_them(low, high, expected, noted):
    filters, notes = Filters.from_inputs(None, low, high)
    assert (filters.min_price, filters.max_price) == expected
    assert bool(notes) == noted and all("·" in n for n in notes)


def test_top_k_over_the_limit_is_capped_and_said(engine):
    result = engine.search("键盘", top=999)
    assert len(result.hits) == 50 and any("50" in n for n in result.notes)


@pytest.mark.parametrize(
    ("query", "flagged"), [("猫粮", True), ("婴儿纸尿裤", True), ("跑步鞋 男", False), ("iphone 充电器", True), ("寻找一款K7", False)]
)
def test_nothing_relevant_uses_the_calibrated_rule_of_the_chinese_model(chinese_engine, query, flagged):
    """The catalog sells no cat food, diapers or phone chargers (only power banks); it has 11 running shoes and the K7.
    (More in tests/test_no_answer.py.)"""
    result = chinese_engine.search(query)
    assert chinese_engine.no_answer.uses_cosine
    assert result.nothing_relevant is flagged, (query, result.signals)


def test_tied_hits_come_in_catalog_order_and_their_ranks_count_up(engine):
    """Two cameras score the same for this dev query: tied products are listed in catalog order, and the lexical
    ranks shown beside the hits are their positions in that same order (a partition once listed rank 7 before 6)."""
    hits = engine.search("2K 带隐私遮挡的摄像头", mode="lexical", top=10).hits
    ties = [(a, b) for a, b in zip(hits, hits[1:]) if a.score == b.score]
    assert ties
    assert all(engine.catalog.index_of(a.product_id) < engine.catalog.index_of(b.product_id) for a, b in ties)
    assert [h.rank_lexical for h in hits] == list(range(1, len(hits) + 1))


def test_the_engine_keeps_no_text_per_product(engine):
    """At 1M products a list of every product's indexed text took ~0.3 GB: the engine rebuilds a product's text when
    it reads it (coverage, "nothing relevant", negations, audiences)."""
    assert [name for name, value in vars(engine).items() if isinstance(value, list) and len(value) == len(engine.catalog)] == []
    top = engine.search("鹰击", mode="lexical", top=1)
    assert top.coverage == 1.0 and top.content_words


def test_a_price_in_the_query_is_ignored_with_a_note_on_a_catalog_without_prices(chinese_model, session_cache, write):
    """A titles-only catalog has no prices: "两百以内" used to say no product matched it and show "the closest prices"."""
    titles = load_catalog(write("titles.csv", "title\n专业护膝运动男膝盖女士跑步装备\n羽毛球拍 碳素 单拍\n夏季 速干 跑步短裤\n"))
    engine = build_engine(chinese_model, "fp-titles", titles, session_cache)
    result = engine.search("两百以内的护膝")
    assert any("没有价格" in note and "两百以内" in note and "no prices" in note for note in result.notes), result.notes
    assert not any("closest prices" in note for note in result.notes)
    assert result.hits[0].name.startswith("专业护膝")


def test_a_brand_typed_run_together_is_found_and_marked_on_its_card(tmp_path, chinese_model, write):
    """ "heynaofficial" finds the coat listed as "HEYNA Official", and its card marks both words."""
    catalog = load_catalog(write("shop.csv", "id,name\nA,HEYNA Official 中古羊毛呢外套\nB,国际时装 羊毛呢外套 官方旗舰\nC,机械师 K7 机械键盘\n"))
    engine = build_engine(chinese_model, "fp", catalog, EmbeddingCache(tmp_path / "cache"), reference=False)
    result = engine.search("heynaofficial外套", top=3)
    assert result.hits[0].product_id == "A" and result.read_together == ("heyna", "official")
    assert "<mark>HEYNA</mark> <mark>Official</mark>" in result_cards(result)
