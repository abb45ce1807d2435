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
from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.embeddings import model_fingerprint
from shopsearch.retrieval.evaluation import embed_catalog, evaluate_engine, load_eval_catalog, load_queries
from shopsearch.retrieval.search import build_engine

REALDATA = Path(os.environ.get("SHOPSEARCH_REALDATA_DIR") or ROOT.parent / "shared" / "realdata" / "multicpr_ecom")

pytestmark = pytest.mark.skipif(not (REALDATA / "dev_queries.csv").is_file(), reason=f"real data not found at {REALDATA}")


DISTRACTORS = 400  # real titles beside the labelled ones: a quarter of the catalog, which e5 reads in ~30 s here


def test_hybrid_search_beats_bm25_and_the_model_alone_on_real_titles(chinese_model, session_cache):
    """100 real Taobao queries over real titles (the labelled ones and the first DISTRACTORS others of
    `catalog_2083.csv`): the default hybrid's MRR@10 is above both of its parts'. The whole catalog is measured by
    `python -m shopsearch evaluate` (README)."""
    queries = load_queries(REALDATA / "dev_queries.csv")
    labelled = {product for query in queries for product in query.relevant}
    products = load_eval_catalog(REALDATA / "catalog_2083.csv").products
    others = [p for p in products if p.id not in labelled][:DISTRACTORS]
    catalog = Catalog([p for p in products if p.id in labelled] + others)
    assert len(catalog) > DISTRACTORS + 90
    fingerprint = model_fingerprint(CHINESE_DIR)
    embed_catalog(chinese_model, fingerprint, catalog, session_cache)
    engine = build_engine(chinese_model, fingerprint, catalog, session_cache, model_dir=CHINESE_DIR)
    mrr = {mode: evaluate_engine(engine, queries, mode)["mrr@10"] for mode in ("hybrid", "lexical", "semantic")}
    assert mrr["hybrid"] > max(mrr["lexical"], mrr["semantic"]), mrr
