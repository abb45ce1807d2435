"""Retrieval metrics on held-out queries: Recall@1, Recall@5, MRR@10, NDCG@10, per kind of query, and the [UNK] rate.

Recall@k here is the share of queries with at least one relevant product in the top k (the "success@k" /
accuracy@k of sentence-transformers' InformationRetrievalEvaluator), since most queries have one answer.

`python -m shopsearch evaluate --catalog PATH --queries PATH --json PATH` prints the tables and writes JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd

from shopsearch.common.errors import CsvFileError, UserError
from shopsearch.data.catalog import Catalog, load_catalog
from shopsearch.data.csvio import read_table
from shopsearch.text.intent import parse_query

if TYPE_CHECKING:
    import torch

# The `kind` column of data/dev_queries.csv and data/eval_queries.csv: one per query, so results are reported per slice.
# Rows that existed before the column were classified by fixed rules, in this order of precedence: no answer; latin-only
# (pinyin when the words are pinyin syllables, model_number when a model code of the answer's name appears, else
# english); negation words (不要, 不带, 不含, without…); price words (N元/块, 以内, 左右 after a number, 千元, 便宜,
# under N…); a model code of the answer's name (K7, AX55, X4, F-3, 疾光88…); an audience word the answer's name lacks
# (男, 女, 儿童, 老人, 学生, 宝宝…); 2–6 characters without spaces (short); at least half of the query's characters in
# the answer's name, or 80% in its name + description + tags (name); otherwise paraphrase.
KINDS: dict[str, str] = {
    "name": "copies the listing's words (name, description or tags)",
    "paraphrase": "the need in the shopper's words, sharing few characters with the product's name",
    "short": "a Taobao-style keyword query of 2–6 characters",
    "english": "English words (or other latin text that is not pinyin or a model code)",
    "model_number": "a model code: K7, AX55, Pro 2, F-3, 疾光88",
    "pinyin": "the name in pinyin, full or initials, with or without spaces",
    "negation": "says what the shopper does not want: 不要4G, without 4G",
    "price": "a price bound or level: 两百以内, 1000左右, under 300, 便宜",
    "audience": "who it is for: 女, 儿童, 老人, 学生",
    "no_answer": "the catalog has nothing that fits (empty product_ids)",
}
ALL = "all"  # the slice of every answered query
QUERY_ID_COLUMNS = ("product_ids", "expected_id", "expected_ids", "product_id", "relevant_ids")


class QueryFileError(UserError):
    """A query file cannot be read, lacks a column, or expects products the catalog does not have."""


@dataclass(frozen=True)
class EvalQuery:
    query: str
    relevant: frozenset[str]  # empty: the catalog carries nothing that fits (a "nothing relevant" query)
    kind: str = ""  # one of KINDS, or "" when the file has no kind column


def _pick(columns: Sequence[str], choices: Sequence[str]) -> str | None:
    """The first of `choices` among `columns` (already lower-cased). Example: (["q", "expected_id"], ID) -> "expected_id" """
    return next((c for c in choices if c in columns), None)


def load_queries(path: str | Path, max_rows: int | None = None) -> list[EvalQuery]:
    """Read a query file: `query` and the expected ids (`product_ids`, or `expected_id`…), optionally `kind`.

    Ids are separated by `|`; an empty cell means no product fits. Rows with an empty query are skipped.

    Args:
        max_rows: refused beyond this before parsing; None: the settings' largest upload (visitors upload these files).

    Raises:
        QueryFileError: the file is missing or unreadable, or has no query or id column.
    """
    try:
        frame = read_table(path, max_mb=50, max_rows=max_rows).frame
    except (CsvFileError, OSError) as err:
        raise QueryFileError(f"无法读取查询文件 {path}：{err}", f"Cannot read the query file {path}: {err}") from err
    frame = frame.rename(columns={c: c.strip().lower() for c in frame.columns})
    ids = _pick(list(frame.columns), QUERY_ID_COLUMNS)
    if "query" not in frame.columns or ids is None:
        raise QueryFileError(
            f"查询文件 {path} 需要 query 列和 {' 或 '.join(QUERY_ID_COLUMNS)} 列（现有：{', '.join(frame.columns)}）。",
            f"The query file {path} needs a query column and one of {', '.join(QUERY_ID_COLUMNS)} (it has: {', '.join(frame.columns)}).",
        )
    return [
        EvalQuery(
            str(row["query"]).strip(),
            frozenset(i.strip() for i in str(row[ids] or "").split("|") if i.strip()),
            str(row.get("kind", "") or "").strip(),
        )
        for row in frame.to_dict("records")
        if str(row["query"]).strip()
    ]


def load_eval_catalog(path: str | Path) -> Catalog:
    """A catalog for evaluation: any layout `load_catalog` reads (outside ones mapped onto `id` and `name`, titles alone
    numbered 1, 2, 3…, the ids a query file then uses), up to the CLI's 200 MB.
    Example: "item_id,title\n7,红色连衣裙" -> Catalog([Product(id="7", name="红色连衣裙", …)])

    Raises:
        CatalogError: the file is unreadable or has no name/title column (or an id is empty or repeated).
    """
    return load_catalog(path, max_mb=200)


def metrics(ranked: list[list[str]], relevant: list[frozenset[str]]) -> dict[str, float]:
    """Mean Recall@1, Recall@5, MRR@10 and NDCG@10 (binary relevance) over queries that have an answer.

    Example: ranked [["a","b"], ["c","a"]], relevant [{"a"}, {"a"}] -> recall@1 0.5, mrr@10 0.75
    """
    pairs = [(r, rel) for r, rel in zip(ranked, relevant) if rel]
    if not pairs:
        return {"recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0, "queries": 0}
    r1 = r5 = mrr = ndcg = 0.0
    for ranks, rel in pairs:
        hits = [doc in rel for doc in ranks[:10]]
        r1 += any(hits[:1])
        r5 += any(hits[:5])
        first = next((i for i, h in enumerate(hits) if h), None)
        mrr += 1.0 / (first + 1) if first is not None else 0.0
        dcg = sum(1.0 / math.log2(i + 2) for i, h in enumerate(hits) if h)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        ndcg += dcg / ideal
    n = len(pairs)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr@10": mrr / n, "ndcg@10": ndcg / n, "queries": n}


def slices(queries: Sequence[EvalQuery]) -> dict[str, list[int]]:
    """Positions of the answered queries: every one under ALL, then each kind's (in KINDS order, unknown kinds last).

    Example: [EvalQuery("a", {"P1"}, "short"), EvalQuery("b", {}, "no_answer")] -> {"all": [0], "short": [0]}
    """
    answered = [i for i, q in enumerate(queries) if q.relevant]
    out = {ALL: answered}
    order = list(KINDS) + sorted({queries[i].kind for i in answered} - set(KINDS))
    for kind in order:
        members = [i for i in answered if queries[i].kind == kind]
        if members and kind:
            out[kind] = members
    return out


def sliced_metrics(ranked: Sequence[list[str]], queries: Sequence[EvalQuery]) -> dict[str, dict[str, float]]:
    """`metrics` over all answered queries and over each kind's. `ranked[i]` belongs to `queries[i]`.

    Example: ranked [["P1"], ["P9"]] for a name query and a short one, both expecting P1
        -> {"all": {recall@1 0.5…}, "name": {recall@1 1.0…}, "short": {recall@1 0.0…}}
    """
    return {name: metrics([ranked[i] for i in members], [queries[i].relevant for i in members]) for name, members in slices(queries).items()}


def results_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table of method → metrics."""
    keys = ["recall@1", "recall@5", "mrr@10", "ndcg@10"]
    lines = ["| method | " + " | ".join(k.replace("recall", "Recall").replace("mrr", "MRR").replace("ndcg", "NDCG") for k in keys) + " |"]
    lines.append("|---|" + "---:|" * len(keys))
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{values[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines)


def slices_table(rows: dict[str, dict[str, dict[str, float]]]) -> str:
    """A Markdown table: one row per method, one column per slice, each cell "Recall@1 / MRR@10".

    Args:
        rows: method → slice → metrics (as `sliced_metrics` returns); the first row's slices set the columns.
    """
    if not rows:
        return ""
    first = next(iter(rows.values()))
    names = list(first)
    lines = ["| method (Recall@1 / MRR@10) | " + " | ".join(f"{n} ({first[n]['queries']})" for n in names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for method, by_slice in rows.items():
        cells = [f"{by_slice[n]['recall@1']:.3f} / {by_slice[n]['mrr@10']:.3f}" if n in by_slice else "" for n in names]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def frame_of(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows).T


def embed_catalog(model, model_fp: str, catalog: Catalog, cache, on_progress=None, chunk: int = 256) -> np.ndarray:
    """The catalog's vectors from `cache`, or encoded once and stored there, where `search.build_engine` then finds them.

    Encoded by the model in torch, as build_engine does, but longest documents first across the whole catalog, so a
    batch pads little: 17.7 instead of 22.5 CPU-seconds for 2,083 titles on one thread (build_engine streams the catalog
    in its own order to bound memory on huge catalogs; an evaluation holds its catalog anyway).

    Args:
        model_fp: `model_fingerprint` of the model's folder (the cache key, as build_engine uses it).
        on_progress: called with (documents done, total) after each chunk.
    """
    cached = cache.load(model_fp, catalog.documents_fingerprint, len(catalog))
    if cached is not None:
        return cached
    documents = catalog.documents
    order = np.argsort([-len(d) for d in documents], kind="stable")
    vectors = np.empty((len(documents), model.get_embedding_dimension()), dtype=np.float32)
    for start in range(0, len(documents), chunk):
        rows = order[start : start + chunk]
        vectors[rows] = model.encode(
            [documents[i] for i in rows], batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        if on_progress:
            on_progress(min(start + chunk, len(documents)), len(documents))
    cache.store(model_fp, catalog.documents_fingerprint, vectors)
    return vectors


def encode_queries(engine, queries: Sequence[EvalQuery], batch_size: int = 64) -> np.ndarray:
    """Every query's vector from the engine's own query encoder (ONNX or torch), in one batched pass.

    The same vectors `engine.search` would compute one query at a time: of what the model reads of each query, without
    its negations and price ranges (`ParsedQuery.semantic`). Reused for every method that needs them.
    """
    return engine.encoder.encode([parse_query(q.query).semantic for q in queries], batch_size=batch_size)


def ranked_ids(
    engine,
    queries: Sequence[EvalQuery],
    mode: str,
    alpha: float | None = None,
    top: int = 10,
    query_vectors: np.ndarray | None = None,
) -> list[list[str]]:
    """The top product ids `engine.search` returns for each query, in order. Hybrid waits until e5 has read the
    catalog (retrieval.reference): a measure taken while it reads would compare searches made two ways.

    Args:
        query_vectors: the queries' vectors (`encode_queries`), so that no method encodes a query again; None lets
            `engine.search` encode each query itself.
    """
    from shopsearch.retrieval.search import DEFAULT_ALPHA

    reference = getattr(engine, "reference", None)
    if mode == "hybrid" and reference is not None:
        reference.wait()

    weight = DEFAULT_ALPHA if alpha is None else alpha
    vectors = [None] * len(queries) if query_vectors is None or mode == "lexical" else list(query_vectors)
    return [[h.product_id for h in engine.search(q.query, mode=mode, top=top, alpha=weight, query_vector=v).hits] for q, v in zip(queries, vectors)]


def evaluate_engine(engine, queries: list[EvalQuery], mode: str, alpha: float | None = None) -> dict[str, float]:
    """Run every query with at least one answer through `engine.search` and score the top 10."""
    return evaluate_modes(engine, queries, (mode,), alpha)[mode]


def evaluate_modes(engine, queries: list[EvalQuery], modes: Sequence[str], alpha: float | None = None) -> dict[str, dict[str, float]]:
    """`evaluate_engine` for each of `modes`, the queries encoded once for all of them.

    They are encoded first, in batches (`encode_queries`): for the 446 eval queries ~4× less time than `search`
    encoding them one at a time, which a fine-tune's before/after report waits for."""
    answered = [q for q in queries if q.relevant]
    vectors = None if all(mode == "lexical" for mode in modes) else encode_queries(engine, answered)
    return {mode: metrics(ranked_ids(engine, answered, mode, alpha, query_vectors=vectors), [q.relevant for q in answered]) for mode in modes}


def check_ids(queries: list[EvalQuery], catalog) -> None:
    """Raise a QueryFileError (bilingual) naming the queries whose expected product ids are not in the catalog."""
    unknown = [(q.query, sorted(i for i in q.relevant if i not in catalog)) for q in queries if any(i not in catalog for i in q.relevant)]
    if unknown:
        shown = "; ".join(f"{query!r} → {', '.join(ids)}" for query, ids in unknown[:5])
        more = f" (+{len(unknown) - 5})" if len(unknown) > 5 else ""
        raise QueryFileError(
            f"{len(unknown)} 条查询期望的商品 id 不在目录中：{shown}{more}。请检查查询文件和目录是否对应。",
            f"{len(unknown)} queries expect product ids that are not in the catalog: {shown}{more}. "
            "Check that the query file belongs to this catalog.",
        )


def first_rank(ranked: list[str], relevant: frozenset[str]) -> int | None:
    """1-based rank of the first relevant id, or None. Example: (["a", "b"], {"b"}) -> 2"""
    return next((i for i, doc in enumerate(ranked, start=1) if doc in relevant), None)


class _EvaluatorExtras(TypedDict, total=False):
    """What `ir_evaluator_check` may pass InformationRetrievalEvaluator besides the model."""

    corpus_embeddings: torch.Tensor


def ir_evaluator_check(model, catalog, queries: list[EvalQuery], name: str, corpus_embeddings: np.ndarray | None = None) -> dict[str, float]:
    """The same metrics from sentence-transformers' InformationRetrievalEvaluator (a cross-check).

    Args:
        corpus_embeddings: the catalog's vectors in catalog order (an engine's `vectors`), so the library scores
            them instead of encoding the catalog again; None lets it encode the catalog itself.
    """
    import torch
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    answered = [q for q in queries if q.relevant]
    evaluator = InformationRetrievalEvaluator(
        queries={str(i): parse_query(q.query).semantic for i, q in enumerate(answered)},  # what search encodes
        corpus={p.id: p.document for p in catalog.products},
        relevant_docs={str(i): set(q.relevant) for i, q in enumerate(answered)},
        accuracy_at_k=[1, 5],
        precision_recall_at_k=[1],
        mrr_at_k=[10],
        ndcg_at_k=[10],
        map_at_k=[10],
        name=name,
        write_csv=False,
    )
    extra: _EvaluatorExtras = (
        {} if corpus_embeddings is None else {"corpus_embeddings": torch.from_numpy(np.asarray(corpus_embeddings, dtype=np.float32))}
    )
    raw = evaluator(model, **extra)
    get = lambda key: float(raw[f"{name}_cosine_{key}"])  # noqa: E731
    return {"recall@1": get("accuracy@1"), "recall@5": get("accuracy@5"), "mrr@10": get("mrr@10"), "ndcg@10": get("ndcg@10")}


@dataclass(frozen=True)
class WrongTriplet:
    anchor: str
    positive: str
    negative: str
    margin: float  # cos(anchor, positive) − cos(anchor, negative); negative means the model gets it wrong


def triplet_margins(model, triplets) -> list[WrongTriplet]:
    """Every triplet with its cosine margin (positive when the model ranks the positive closer)."""
    a, p, n = (
        model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=64, show_progress_bar=False)
        for texts in (triplets.anchors, triplets.positives, triplets.negatives)
    )
    margins = (a * p).sum(axis=1) - (a * n).sum(axis=1)
    return [
        WrongTriplet(anchor, positive, negative, float(m))
        for anchor, positive, negative, m in zip(triplets.anchors, triplets.positives, triplets.negatives, margins)
    ]


def margins_accuracy(margins: Sequence[WrongTriplet]) -> float:
    """Share of triplets whose anchor is closer to the positive: TripletEvaluator's cosine accuracy. nan for none.

    Example: margins 0.2, -0.1, 0.05, 0.3 -> 0.75
    """
    return float(np.mean([t.margin > 0 for t in margins])) if margins else float("nan")


def triplet_accuracy(model, triplets) -> float:
    """`margins_accuracy` of the model's `triplet_margins` (tests check it against TripletEvaluator)."""
    return margins_accuracy(triplet_margins(model, triplets))


def still_wrong(margins: Sequence[WrongTriplet], limit: int = 20) -> list[WrongTriplet]:
    """The triplets the model gets wrong (margin ≤ 0), worst first, from its `triplet_margins`."""
    return sorted((t for t in margins if t.margin <= 0), key=lambda t: t.margin)[:limit]
