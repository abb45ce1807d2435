"""Metrics worked out by hand, and the evaluation agrees with sentence-transformers' own evaluator."""

from __future__ import annotations

import math

import pytest

from shopsearch.config import ROOT
from shopsearch.evaluation import ir_evaluator_check, load_queries, metrics


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
    from shopsearch.evaluation import evaluate_engine

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
    main(["evaluate", "--catalog", str(catalog), "--queries", str(queries), "--models", "base",
          "--methods", "lexical,semantic", "--per-query", str(out)])
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
