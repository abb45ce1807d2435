"""Retrieval metrics on held-out queries: Recall@1, Recall@5, MRR@10, NDCG@10, and the [UNK] rate.

Recall@k here is the share of queries with at least one relevant product in the top k (the "success@k" /
accuracy@k of sentence-transformers' InformationRetrievalEvaluator), since most queries have one answer.

`python -m shopsearch evaluate --catalog PATH --queries PATH --json PATH` prints the table and writes JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shopsearch.csvio import read_table


@dataclass(frozen=True)
class EvalQuery:
    query: str
    relevant: frozenset[str]  # empty: the catalog carries nothing that fits (a "nothing relevant" query)


def load_queries(path: str | Path) -> list[EvalQuery]:
    """Read `query,product_ids` (ids separated by `|`; an empty cell means no product fits)."""
    frame = read_table(path, max_mb=50).frame
    return [
        EvalQuery(row["query"].strip(), frozenset(i.strip() for i in row["product_ids"].split("|") if i.strip()))
        for row in frame.to_dict("records")
        if row["query"].strip()
    ]


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


def results_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table of method → metrics."""
    keys = ["recall@1", "recall@5", "mrr@10", "ndcg@10"]
    lines = ["| method | " + " | ".join(k.replace("recall", "Recall").replace("mrr", "MRR").replace("ndcg", "NDCG") for k in keys) + " |"]
    lines.append("|---|" + "---:|" * len(keys))
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{values[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines)


def frame_of(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows).T


def ranked_ids(engine, queries: list[EvalQuery], mode: str, alpha: float | None = None, top: int = 10) -> list[list[str]]:
    """The top product ids `engine.search` returns for each query, in order."""
    from shopsearch.search import DEFAULT_ALPHA

    weight = DEFAULT_ALPHA if alpha is None else alpha
    return [[h.product_id for h in engine.search(q.query, mode=mode, top=top, alpha=weight).hits] for q in queries]


def evaluate_engine(engine, queries: list[EvalQuery], mode: str, alpha: float | None = None) -> dict[str, float]:
    """Run every query with at least one answer through `engine.search` and score the top 10."""
    answered = [q for q in queries if q.relevant]
    return metrics(ranked_ids(engine, answered, mode, alpha), [q.relevant for q in answered])


def check_ids(queries: list[EvalQuery], catalog) -> None:
    """Raise a ValueError naming the queries whose expected product ids are not in the catalog."""
    unknown = [(q.query, sorted(q.relevant - {i for i in q.relevant if i in catalog})) for q in queries if any(i not in catalog for i in q.relevant)]
    if unknown:
        shown = "; ".join(f"{query!r} → {', '.join(ids)}" for query, ids in unknown[:5])
        raise ValueError(f"{len(unknown)} queries expect product ids that are not in the catalog: {shown}")


def first_rank(ranked: list[str], relevant: frozenset[str]) -> int | None:
    """1-based rank of the first relevant id, or None. Example: (["a", "b"], {"b"}) -> 2"""
    return next((i for i, doc in enumerate(ranked, start=1) if doc in relevant), None)


def ir_evaluator_check(model, catalog, queries: list[EvalQuery], name: str) -> dict[str, float]:
    """The same metrics from sentence-transformers' InformationRetrievalEvaluator (a cross-check)."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    answered = [q for q in queries if q.relevant]
    evaluator = InformationRetrievalEvaluator(
        queries={str(i): q.query for i, q in enumerate(answered)},
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
    raw = evaluator(model)
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
    return [WrongTriplet(*row, float(m)) for *row, m in zip(triplets.anchors, triplets.positives, triplets.negatives, margins)]


def triplet_accuracy(model, triplets) -> float:
    """Share of triplets whose anchor is closer to the positive (TripletEvaluator, cosine)."""
    from shopsearch.training import triplet_evaluator

    if len(triplets) == 0:
        return float("nan")
    raw = triplet_evaluator(triplets, name="holdout")(model)
    return float(raw["holdout_cosine_accuracy"])


def still_wrong(model, triplets, limit: int = 20) -> list[WrongTriplet]:
    """Held-out triplets the model still gets wrong (margin ≤ 0), worst first."""
    wrong = [t for t in triplet_margins(model, triplets) if t.margin <= 0]
    return sorted(wrong, key=lambda t: t.margin)[:limit]


SIGNALS = ("cosine", "coverage")


def no_answer_signals(engine, queries: list[EvalQuery], signal: str = "coverage") -> list[float]:
    """Per query, the value a "nothing relevant" cut-off is applied to (lower means less relevant).

    "coverage": the share of the query's indexed tokens found in the top hybrid hit (lexical);
    "cosine": the best cosine between the query and any product (semantic).
    """
    if signal not in SIGNALS:
        raise ValueError(f"unknown signal {signal!r}; choose from {SIGNALS}")
    results = [engine.search(q.query, top=1, mode="hybrid") for q in queries]
    return [r.coverage if signal == "coverage" else (r.best_cosine or 0.0) for r in results]


def nothing_relevant_report(engine, queries: list[EvalQuery], threshold: float, signal: str = "coverage") -> dict[str, float]:
    """Precision/recall of flagging "nothing relevant" on queries without an answer (positives) vs with one."""
    return _flag_report(no_answer_signals(engine, queries, signal), [not q.relevant for q in queries], threshold)


def _flag_report(values: list[float], truth: list[bool], threshold: float) -> dict[str, float]:
    flagged = [v < threshold for v in values]
    tp = sum(f and t for f, t in zip(flagged, truth))
    fp = sum(f and not t for f, t in zip(flagged, truth))
    fn = sum(t and not f for f, t in zip(flagged, truth))
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "false_alarms_on_answered": fp / max(1, sum(not t for t in truth)),
        "no_answer_queries": sum(truth),
        "answered_queries": len(truth) - sum(truth),
    }


def calibrate_threshold(
    engine, queries: list[EvalQuery], signal: str = "coverage", beta: float = 1.0, max_false_alarms: float | None = None
) -> float:
    """The cut-off on `signal` with the best F-beta for flagging no-answer queries (ties: the lower cut-off).

    Args:
        beta: < 1 weighs precision more.
        max_false_alarms: only cut-offs that flag at most this share of the answered queries are considered (a false
            "nothing relevant" over a right answer costs more trust than a miss).
    """
    values = no_answer_signals(engine, queries, signal)
    truth = [not q.relevant for q in queries]
    levels = sorted({round(v, 4) for v in values})
    candidates = [(a + b) / 2 for a, b in zip(levels, levels[1:])] or [0.5]
    if max_false_alarms is not None:
        candidates = [t for t in candidates if _flag_report(values, truth, t)["false_alarms_on_answered"] <= max_false_alarms] or [0.0]

    def f_beta(threshold: float) -> float:
        p, r = (_flag_report(values, truth, threshold)[k] for k in ("precision", "recall"))
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    return round(max(candidates, key=lambda t: (f_beta(t), -t)), 2)
