"""Metrics worked out by hand, per-kind slices, the query sets' rules, and the evaluate CLI on outside data."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from shopsearch.common.config import ROOT
from shopsearch.retrieval.evaluation import (
    KINDS,
    EvalQuery,
    QueryFileError,
    check_ids,
    encode_queries,
    ir_evaluator_check,
    load_eval_catalog,
    load_queries,
    metrics,
    ranked_ids,
    sliced_metrics,
)
from shopsearch.text.intent import parse_query

DATA = ROOT / "tests" / "data"


def test_three_query_case_worked_by_hand():
    """q1 hits at rank 1, q2 at rank 3, q3 misses the top 10.

    Recall@1 = 1/3; Recall@5 = 2/3; MRR@10 = (1 + 1/3 + 0)/3 = 4/9;
    NDCG@10 = (1 + (1/log2(4)) / 1 + 0)/3 = (1 + 0.5)/3 = 0.5.
    """
    ranked = [["a", "b", "c"], ["x", "y", "b"], ["x", "y", "z"]]
    relevant = [frozenset({"a"}), frozenset({"b"}), frozenset({"c"})]
    result = metrics(ranked, relevant)
    assert result["recall@1"] == pytest.approx(1 / 3)
    assert result["recall@5"] == pytest.approx(2 / 3)
    assert result["mrr@10"] == pytest.approx(4 / 9)
    assert result["ndcg@10"] == pytest.approx(0.5)


def test_two_relevant_products_ndcg():
    """Both relevant at ranks 1 and 3: DCG = 1 + 1/2; ideal = 1 + 1/log2(3)."""
    result = metrics([["a", "x", "b"]], [frozenset({"a", "b"})])
    assert result["ndcg@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert result["recall@1"] == 1.0


def test_queries_without_an_answer_are_left_out():
    assert metrics([["a"], ["b"]], [frozenset({"a"}), frozenset()])["queries"] == 1


def test_eval_set_meets_the_spec(catalog):
    """≥200 queries covering ≥120 products, every id in the catalog, no template phrasing."""
    queries = load_queries(ROOT / "data" / "eval_queries.csv")
    answered = [q for q in queries if q.relevant]
    assert len(answered) >= 200
    covered = set().union(*(q.relevant for q in answered))
    assert len(covered) >= 120
    assert all(pid in catalog for pid in covered)
    assert not any(q.query.startswith(("我想买一个", "寻找一款", "最近在看")) for q in queries)


def test_our_metrics_match_the_library_evaluator(engine, shipped_model, catalog):
    """Semantic search through our engine scores the same as InformationRetrievalEvaluator."""
    from shopsearch.retrieval.evaluation import evaluate_engine

    queries = load_queries(ROOT / "data" / "eval_queries.csv")[:60]
    ours = evaluate_engine(engine, queries, "semantic")
    theirs = ir_evaluator_check(shipped_model, catalog, queries, name="t")
    for key in ("recall@1", "recall@5", "mrr@10", "ndcg@10"):
        assert ours[key] == pytest.approx(theirs[key], abs=0.02), key


def _outside_data(tmp_path, query_ids: str = "T2"):
    catalog = tmp_path / "titles.csv"
    catalog.write_text(
        "id,name\nT1,红色连衣裙 夏季 雪纺\nT2,es-lf50 电热水壶 1.5L 不锈钢\nT3,儿童 运动鞋 魔术贴 免系带\nT4,蓝牙耳机 无线 降噪\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.csv"
    queries.write_text(f"query,product_ids\n烧水壶,{query_ids}\n小孩 不用系鞋带 的鞋,T3\n", encoding="utf-8")
    return catalog, queries


def test_the_evaluate_cli_runs_on_an_outside_catalog_and_writes_per_query_ranks(tmp_path, capsys):
    """A titles-only catalog (id, name) and its queries: one table row per method, one CSV row per query."""
    import pandas as pd

    from shopsearch.__main__ import main

    catalog, queries = _outside_data(tmp_path)
    out = tmp_path / "per_query.csv"
    main(
        [
            "evaluate",
            "--catalog",
            str(catalog),
            "--queries",
            str(queries),
            "--models",
            "base",
            "--methods",
            "lexical,semantic",
            "--per-query",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "lexical · BM25" in printed and "semantic · base" in printed
    table = pd.read_csv(out)
    assert list(table["query"]) == ["烧水壶", "小孩 不用系鞋带 的鞋"]
    assert {"rank · semantic · base", "top-1 · semantic · base"} <= set(table.columns)
    assert table.loc[1, "top-1 · lexical · BM25 (name, description, tags)"].startswith("儿童 运动鞋")


def test_the_evaluate_cli_names_query_ids_missing_from_the_catalog(tmp_path):
    from shopsearch.__main__ import main

    catalog, queries = _outside_data(tmp_path, query_ids="T9|T2")
    with pytest.raises(SystemExit, match="T9"):
        main(["evaluate", "--catalog", str(catalog), "--queries", str(queries), "--models", "base", "--methods", "lexical"])


def test_each_kind_is_scored_on_its_own_queries_and_all_on_every_answered_one():
    """Two name queries (one right first) and one short query (missed): all 1/3, name 1/2, short 0; no-answer left out."""
    queries = [EvalQuery("a", frozenset({"P1"}), "name"), EvalQuery("b", frozenset({"P2"}), "name"), EvalQuery("c", frozenset({"P3"}), "short")]
    result = sliced_metrics([["P1"], ["P9", "P2"], ["P9"]], queries)
    assert list(result) == ["all", "name", "short"]
    assert result["all"]["recall@1"] == pytest.approx(1 / 3)
    assert result["name"]["recall@1"] == 0.5 and result["name"]["mrr@10"] == pytest.approx(0.75)
    assert result["short"]["queries"] == 1 and result["short"]["recall@1"] == 0.0


@pytest.mark.parametrize("name", ["dev_queries.csv", "eval_queries.csv"])
def test_every_query_has_a_known_kind_and_no_answer_means_no_ids(name, catalog):
    """The kind column is filled from KINDS; no_answer rows, and only they, have no ids; every id is in the catalog."""
    queries = load_queries(ROOT / "data" / name)
    assert {q.kind for q in queries} <= set(KINDS)
    assert all((q.kind == "no_answer") == (not q.relevant) for q in queries)
    check_ids(queries, catalog)


def test_the_harder_slices_are_big_enough_to_report():
    """Issue 14 item 6: each split has ≥ 40 paraphrase, ≥ 20 short and ≥ 10 pinyin, negation, price and audience queries."""
    for name in ("dev_queries.csv", "eval_queries.csv"):
        counts = {k: 0 for k in KINDS}
        for q in load_queries(ROOT / "data" / name):
            counts[q.kind] += 1
        floors = {"paraphrase": 40, "short": 20, "pinyin": 10, "negation": 10, "price": 10, "audience": 10, "no_answer": 30}
        assert all(counts[k] >= n for k, n in floors.items()), (name, counts)


def test_dev_eval_and_training_triplets_share_no_query():
    """Tuning on dev never sees an eval query, and no query set repeats a training anchor."""
    import pandas as pd

    dev = {q.query for q in load_queries(ROOT / "data" / "dev_queries.csv")}
    held_out = {q.query for q in load_queries(ROOT / "data" / "eval_queries.csv")}
    anchors = set(pd.read_csv(ROOT / "data" / "triplets.csv").iloc[:, 0].str.strip())
    assert not dev & held_out
    assert not (dev | held_out) & anchors


def test_an_outside_catalog_maps_item_id_and_title_and_numbers_bare_titles(tmp_path):
    catalog = load_eval_catalog(DATA / "outside_titles.csv")
    assert len(catalog) == 20 and "1002" in catalog and catalog[1].name.startswith("es-lf50 电热水壶")
    bare = tmp_path / "titles.csv"
    bare.write_text("title\n红色连衣裙\n电热水壶 1.5L\n", encoding="utf-8")
    assert [(p.id, p.name) for p in load_eval_catalog(bare)] == [("1", "红色连衣裙"), ("2", "电热水壶 1.5L")]


def test_query_ids_missing_from_the_catalog_are_named_in_chinese_and_english():
    catalog = load_eval_catalog(DATA / "outside_titles.csv")
    with pytest.raises(QueryFileError) as err:
        check_ids([EvalQuery("烧水壶", frozenset({"1002", "9999"}))], catalog)
    assert "9999" in err.value.zh and "不在目录中" in err.value.zh
    assert "9999" in err.value.en and "not in the catalog" in err.value.en


def test_the_cross_check_scores_the_engines_vectors_without_encoding_the_catalog(engine, shipped_model, catalog, monkeypatch):
    """Given the engine's vectors, InformationRetrievalEvaluator embeds only the queries (it would fail on the catalog)."""
    queries = load_queries(ROOT / "data" / "eval_queries.csv")[:40]
    reference = ir_evaluator_check(shipped_model, catalog, queries, name="ref")

    def refuse(*args, **kwargs):
        raise AssertionError("the catalog was encoded again")

    monkeypatch.setattr(shipped_model, "encode_document", refuse)
    reused = ir_evaluator_check(shipped_model, catalog, queries, name="reuse", corpus_embeddings=engine.vectors)
    for key in ("recall@1", "mrr@10"):
        assert reused[key] == pytest.approx(reference[key], abs=1e-6), key


def test_the_cli_evaluates_an_outside_catalog_in_a_child_process(tmp_path):
    """`python -m shopsearch evaluate` on item_id,title + query,expected_id: a table, JSON, per-query CSV, progress on stderr."""
    import pandas as pd

    out, per_query = tmp_path / "result.json", tmp_path / "per_query.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SHOPSEARCH_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopsearch",
            "evaluate",
            "--catalog",
            str(DATA / "outside_titles.csv"),
            "--queries",
            str(DATA / "outside_queries.csv"),
            "--models",
            "base",
            "--methods",
            "lexical,hybrid",
            "--json",
            str(out),
            "--per-query",
            str(per_query),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| lexical · BM25" in done.stdout and "| hybrid · base" in done.stdout
    assert "base: embedded 20/20 products" in done.stderr
    result = json.loads(out.read_text())
    assert result["catalog"]["products"] == 20 and result["queries"]["answered"] == 10
    assert set(result["methods"]) == {"lexical · BM25 (name, description, tags)", "hybrid · base"}
    assert result["methods"]["hybrid · base"]["recall@1"] >= 0.5
    table = pd.read_csv(per_query, dtype={"expected": str})
    assert list(table["expected"][:2]) == ["1002", "1002"]
    assert table.loc[table["query"] == "LF50", "top-1 · hybrid · base"].item().startswith("es-lf50")


def test_the_cli_reports_each_kind_of_query(tmp_path, capsys):
    """A query file with a kind column gets a per-kind table and per-kind JSON (lexical only: no model is needed to rank)."""
    from shopsearch.__main__ import main

    queries = tmp_path / "q.csv"
    queries.write_text(
        "query,product_ids,kind\n疾光 88 羽毛球拍,P0001,name\n疾光88,P0001,model_number\njiguang,P0001,pinyin\n猫粮,,no_answer\n", encoding="utf-8"
    )
    out = tmp_path / "r.json"
    main(["evaluate", "--queries", str(queries), "--models", "base", "--methods", "lexical", "--json", str(out)])
    assert "Per kind of query" in capsys.readouterr().out
    slices = json.loads(out.read_text())["slices"]["lexical · BM25 (name, description, tags)"]
    assert list(slices) == ["all", "name", "model_number", "pinyin"]
    assert slices["name"]["recall@1"] == 1.0 and slices["all"]["queries"] == 3


def test_the_cli_refuses_an_unknown_method(tmp_path):
    from shopsearch.__main__ import main

    with pytest.raises(SystemExit, match="semantik"):
        main(["evaluate", "--methods", "semantik", "--models", "base"])


def test_triplet_accuracy_matches_the_library_evaluator_and_still_wrong_lists_the_misses(base_model):
    """One encoding of the held-out triplets gives the report's accuracy (TripletEvaluator's cosine accuracy, which
    encoded them a second time before) and its "still wrong" table."""
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

    from shopsearch.data.triplets import read_triplets
    from shopsearch.retrieval.evaluation import margins_accuracy, still_wrong, triplet_margins

    triplets, _ = read_triplets(ROOT / "data" / "triplets.csv", 10, 10_000)
    triplets = triplets.split(0.1)[1]  # the 50 the tab holds out
    theirs = TripletEvaluator(triplets.anchors, triplets.positives, triplets.negatives, name="t", write_csv=False)(base_model)
    margins = triplet_margins(base_model, triplets)
    assert 0 < theirs["t_cosine_accuracy"] < 1, "a base model that gets some wrong, so the comparison means something"
    assert margins_accuracy(margins) == pytest.approx(theirs["t_cosine_accuracy"])
    wrong = still_wrong(margins, limit=5)
    misses = sorted(m.margin for m in margins if m.margin <= 0)
    assert [w.margin for w in wrong] == misses[:5]
    assert math.isnan(margins_accuracy([]))


def test_batched_query_vectors_rank_as_search_does_on_negations_and_prices(chinese_engine):
    """The evaluator encodes every query in one batch; each vector must be what `search` encodes itself: the model reads
    a query without its negation (不要二代) and price range (两百以内). Encoding the query as typed had ranked the
    negated model first in the evaluator while the app ranked the product asked for."""
    queries = [
        EvalQuery("清视Pro会议摄像头 不要二代", frozenset({"P0075"})),
        EvalQuery("K8 机械键盘 不要有线款", frozenset({"P0116"})),
        EvalQuery("两百以内的蓝牙耳机", frozenset({"P0093"})),
        EvalQuery("寻找一款K7", frozenset({"P0118"})),
    ]
    vectors = encode_queries(chinese_engine, queries)
    for query, vector in zip(queries, vectors):
        np.testing.assert_allclose(vector, chinese_engine.encode_query(parse_query(query.query).semantic), atol=1e-5)
    for mode in ("semantic", "hybrid"):
        assert ranked_ids(chinese_engine, queries, mode, query_vectors=vectors) == ranked_ids(chinese_engine, queries, mode), mode
