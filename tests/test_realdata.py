"""Real shops' data (Multi-CPR e-commerce dev slice, kept outside the repository): hybrid never loses to BM25 there.

The files are read from `../shared/realdata/multicpr_ecom/` beside the checkout, or SHOPSEARCH_REALDATA_DIR; the test
skips when they are absent (they are evaluation data, never shipped).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CHINESE_DIR

from shopsearch.common.config import ROOT
from shopsearch.retrieval.embeddings import model_fingerprint
from shopsearch.retrieval.evaluation import embed_catalog, evaluate_engine, load_eval_catalog, load_queries
from shopsearch.retrieval.search import build_engine

REALDATA = Path(os.environ.get("SHOPSEARCH_REALDATA_DIR") or ROOT.parent / "shared" / "realdata" / "multicpr_ecom")

pytestmark = pytest.mark.skipif(not (REALDATA / "dev_queries.csv").is_file(), reason=f"real data not found at {REALDATA}")


def test_hybrid_search_beats_bm25_and_the_model_alone_on_real_titles(chinese_model, session_cache):
    """100 real Taobao queries over 2,083 real titles: the default hybrid's MRR@10 is above both of its parts'."""
    catalog = load_eval_catalog(REALDATA / "catalog_2083.csv")
    queries = load_queries(REALDATA / "dev_queries.csv")
    fingerprint = model_fingerprint(CHINESE_DIR)
    embed_catalog(chinese_model, fingerprint, catalog, session_cache)
    engine = build_engine(chinese_model, fingerprint, catalog, session_cache, model_dir=CHINESE_DIR)
    mrr = {mode: evaluate_engine(engine, queries, mode)["mrr@10"] for mode in ("hybrid", "lexical", "semantic")}
    assert mrr["hybrid"] > max(mrr["lexical"], mrr["semantic"]), mrr
