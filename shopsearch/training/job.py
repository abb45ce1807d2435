"""A fine-tune as one core object: the Fine-tune tab, the `/finetune` API and `python -m shopsearch.training` drive it.

`Finetuner` is app-wide (one per process): the training line, the pace measured by recent runs, the figures measured
for each model, and which session's job is running. `Finetuner.job(spec, session)` makes a `FinetuneJob`, which owns
one run from its place in line to its decision:

    place in line → measure the session's model (and the start model) → train in a worker thread (step, loss, ETA;
    Stop; the time cap) → measure the new model on the same queries → activate it only if it is at least as good

and reports each stage as an event (`Waiting`, `Started`, `Step`, `Stopping`, `Evaluating`, `Finished`). Nothing here
imports gradio: the tab renders the events, the CLI prints them, tests read them.

Which queries measure a run (`measure_set`): an uploaded evaluation file when there is one; on the shipped catalog,
the held-out eval set; on an uploaded catalog, the held-out triplets whose positive is one of its products, else
keyword queries cut from the titles of up to a fifth of its products (`pairs.held_out_title_queries`), which the run
then trains without.
"""

from __future__ import annotations

import contextvars
import logging
import math
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from shopsearch.common.errors import UserError, counted
from shopsearch.common.threads import in_own_thread, lower_priority
from shopsearch.data.catalog import Catalog
from shopsearch.data.triplets import TripletSet
from shopsearch.retrieval.evaluation import EvalQuery, WrongTriplet, evaluate_modes, margins_accuracy, still_wrong, triplet_margins
from shopsearch.training import teacher
from shopsearch.training.estimates import RunTimer, StopSignal, check_step_cap
from shopsearch.training.line import TrainingQueue
from shopsearch.training.pairs import held_out_title_queries
from shopsearch.training.params import LOSSES, ChineseParams, RunResult, StepLog, TrainParams

if TYPE_CHECKING:
    from shopsearch.serving.models import ModelStore

log = logging.getLogger(__name__)

RECIPES = ("chinese", "seed")
HOLDOUT_SHARE = 0.1  # of the triplets, never trained on: the triplet accuracy (and, on an uploaded catalog, queries)
MIN_QUERIES = 10  # fewer measured queries than this: the report says the figures mean little
METRICS = ("recall@1", "recall@5", "mrr@10", "ndcg@10")
DECIDING_METRIC = "mrr@10"  # a new model is switched on only if this is at least the session model's
# … and if the default search (hybrid) does not lose on the same queries: a model that ranks better alone can still
# add less to BM25 (a catalog adaptation learns the titles' own words, which BM25 already matches).
HYBRID_METRIC = "hybrid mrr@10"
TITLE_QUERIES = 50  # keyword queries cut from an uploaded catalog's titles when nothing else measures a run (≤ 1/5 of it)
# The seed model card's widget queries: the top-1 before and after, on the shipped catalog.
GOLDEN = ["我想买一个羽毛球拍", "有什么好的斯伯丁街头篮球推荐吗？", "寻找一款网速", "寻找一款K7", "最近在看童趣派，有什么建议？"]


class _FastTraining(TypedDict, total=False):
    """What a fast run (`FinetuneSpec.fast`) sets in either recipe's params."""

    threads: int
    bf16: bool


@dataclass(frozen=True)
class FinetuneSpec:
    """What one fine-tune is asked to do. Model ids are the store's (`chinese`, `shipped`, `base`, a run id)."""

    recipe: str = "chinese"
    triplets: TripletSet | None = None  # file + feedback; None or empty: the Chinese-aware recipe's catalog pairs only
    start: str = "chinese"
    current: str = "chinese"  # the session's active model: what the visitor would lose ("before")
    catalog: Catalog | None = None  # the session's catalog; None: the shipped one
    queries: list[EvalQuery] | None = None  # an uploaded evaluation file (query, product_ids) for this catalog
    chinese: ChineseParams = ChineseParams(steps=40)  # the Chinese-aware recipe's settings (the tab's defaults)
    seed: TrainParams = TrainParams()  # the seed recipe's settings (the seed model card's)
    holdout: float = HOLDOUT_SHARE  # of the triplets, never trained on (0: train on all, as the shipped models were)
    half: bool = False  # save float16 weights (the shipped Chinese-aware model)
    fast: bool = True  # bfloat16 where the CPU has AMX, on both cores; False: float32, as the shipped models were made

    def split(self) -> tuple[TripletSet, TripletSet]:
        """(trained on, held out). Example: 3 triplets, holdout 0.1 -> 2 and 1; holdout 0 -> 3 and 0"""
        triplets = self.triplets or TripletSet([], [], [])
        return (triplets, TripletSet([], [], [])) if self.holdout <= 0 else triplets.split(self.holdout)

    def planned_steps(self) -> int:
        """Optimizer steps the run will take."""
        if self.recipe == "chinese":
            return self.chinese.total_steps()
        return self.seed.steps(len(self.split()[0]))


@dataclass(frozen=True)
class MeasureSet:
    """The queries a run is measured on, and where they came from (said in the report)."""

    queries: list[EvalQuery]
    # "eval" (the shipped eval set) | "file" (the visitor's) | "held_out" (held-out triplets) | "titles" (keyword queries
    # cut from the titles of products the run never trains on) | "none"
    source: str

    def training_catalog(self, catalog: Catalog) -> Catalog:
        """The catalog a run trains on: without the products the titles' queries measure. The training pairs are cut
        from the same titles by the same generator, so "速干长裤男" would teach the answer to a measured "速干长裤"."""
        if self.source != "titles":
            return catalog
        measured = {product for query in self.queries for product in query.relevant}
        return Catalog([p for p in catalog.products if p.id not in measured])

    @property
    def too_few(self) -> bool:
        return len(self.queries) < MIN_QUERIES

    def describe(self) -> str:
        n = len(self.queries)
        where = {
            "eval": ("内置评测集（训练从未见过）", "the built-in eval set (never trained on)"),
            "file": ("你上传的评估文件", "your evaluation file"),
            "held_out": ("留出的三元组中正例在你目录里的查询", "held-out triplets whose positive is in your catalog"),
            "titles": (
                "从部分商品标题截取的关键词查询（这些商品不参与训练；上传评估文件更准）",
                "keyword queries cut from the titles of products left out of training (an evaluation file of real queries measures better)",
            ),
            "none": ("没有可用的查询", "no usable queries"),
        }[self.source]
        line = f"衡量于 {where[0]}：{n} 条查询。 · Measured on {where[1]}: {counted(n, 'query')}."
        if self.too_few:
            line += (
                f" 少于 {MIN_QUERIES} 条，这些数字说明不了多少。 · Fewer than {MIN_QUERIES}: these figures mean little; "
                "upload an evaluation file (query,product_ids) for a real measure."
            )
        return line


def title_query_budget(catalog: Catalog) -> int:
    """How many keyword queries cut from titles may measure a run on `catalog` when nothing else does: a fifth of its
    products at most (they leave the training catalog), so none under 5 products. Example: 2,083 titles -> 50; 3 -> 0"""
    return min(TITLE_QUERIES, len(catalog) // 5)


def measure_set(
    catalog: Catalog, shipped: Catalog, eval_queries: list[EvalQuery], uploaded: list[EvalQuery] | None, held_out: TripletSet
) -> MeasureSet:
    """The queries that measure a run on this catalog (see the module docstring for the order).

    Example: an uploaded catalog, no file, held-out ("寻找台灯", "<a product's name>", …) -> [EvalQuery("寻找台灯", {id})]
    """
    if uploaded:
        return MeasureSet([q for q in uploaded if q.relevant], "file")
    if catalog.fingerprint == shipped.fingerprint:
        return MeasureSet([q for q in eval_queries if q.relevant], "eval")
    ids: dict[str, str] = {}
    for product in catalog.products:
        for key in (product.document, product.text, product.name, product.id):
            ids.setdefault(key.strip(), product.id)
    queries = [EvalQuery(a, frozenset({ids[p.strip()]})) for a, p in zip(held_out.anchors, held_out.positives) if p.strip() in ids]
    if queries:
        return MeasureSet(queries, "held_out")
    # A fifth of the products at most: they leave the training catalog (MeasureSet.training_catalog).
    cut = held_out_title_queries(catalog, title_query_budget(catalog))
    titles = [EvalQuery(query, frozenset({product})) for query, product in cut]
    return MeasureSet(titles, "titles" if titles else "none")


# --- events --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    ahead: int  # fine-tunes ahead of this one in line


@dataclass(frozen=True)
class LeftLine:
    """Stopped while waiting: nothing was trained."""


@dataclass(frozen=True)
class NothingTrained:
    """Stopped before the first step ended: no model is kept (it would be the start model again)."""


@dataclass(frozen=True)
class Started:
    train: int  # triplets trained on
    held_out: int
    steps: int
    seconds: float  # the estimate for the whole run
    measured_on: MeasureSet
    teacher_seconds: float = 0.0  # of `seconds`: the teacher reading a titles-only catalog before the first step


@dataclass(frozen=True)
class Step:
    log: StepLog
    eta: float
    history: list[StepLog]


@dataclass(frozen=True)
class Stopping:
    by: str  # "stop" (the visitor) | "time_cap"


@dataclass(frozen=True)
class Evaluating:
    """Training is over; the new model is being measured."""


@dataclass(frozen=True)
class Column:
    """One model's figures in the report."""

    role: str  # "current" (the session's model) | "start" | "new"
    model_id: str
    label: str
    scores: dict[str, float]  # METRICS (semantic search on the measure set), HYBRID_METRIC, triplet_acc (held-out triplets)


@dataclass(frozen=True)
class Report:
    run_id: str
    result: RunResult
    ended: str  # "done" | "stopped" (the visitor) | "time_cap"
    measured_on: MeasureSet
    columns: list[Column]  # current, start (when it differs), new
    activate: bool
    decision: str  # one bilingual line: why the run is (not) switched on, with the figures
    golden: list[tuple[str, str, str]]  # (query, top-1 before, top-1 after)
    wrong: list[WrongTriplet]  # held-out triplets the new model still gets wrong, worst first

    def column(self, role: str) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)


@dataclass(frozen=True)
class Finished:
    report: Report


Event = Waiting | LeftLine | NothingTrained | Started | Step | Stopping | Evaluating | Finished


# --- the decision ----------------------------------------------------------------------------------------------------
def decide(ended: str, current: dict[str, float], new: dict[str, float], label: str, flattering: bool = False) -> tuple[bool, str]:
    """Whether a finished run is switched on for its session, and the one line that says why.

    A run the visitor stopped is kept, never switched on. Otherwise it must be at least as good as the session's model
    (ties go to the new run) on MRR@10 over the measured queries, and so must the default (hybrid) search's MRR@10, or,
    with no query to measure, on the held-out triplets' accuracy; with neither, it is kept for the visitor to decide.

    `flattering`: the queries were cut from titles as the run's training queries are (MeasureSet source "titles"). On
    them a run's semantic gain is inflated and hybrid search is near its ceiling, so a tie says nothing: the default
    search must gain. (On 2,083 real Taobao titles such a run tied, 0.980 = 0.980, and was switched on; on 100 real
    queries its hybrid MRR@10 fell, 0.869 -> 0.862. BENCHMARKS.md, "2026-12-07 (late)".)

    Example: decide("done", {"mrr@10": 0.95}, {"mrr@10": 0.81}, "中文模型") -> (False, "没有启用：… 0.810 < 0.950 …")
    """
    if ended == "stopped":
        return False, "你停止了训练：模型已保留，可在下方启用。 · You stopped the run: the model is kept; activate it below."
    metric = next((m for m in (DECIDING_METRIC, "triplet_acc") if _known(current.get(m)) and _known(new.get(m))), None)
    if metric is None:
        return False, (
            "没有可以衡量新模型的查询或留出的三元组，所以没有自动启用；模型已保留，可在下方启用。 · "
            "Nothing to measure the new model on (no queries, no held-out triplets), so it was not switched on; "
            "it is kept: activate it below if you want it."
        )
    after, before = figures(new[metric], current[metric])
    hybrid_after, hybrid_before = new.get(HYBRID_METRIC), current.get(HYBRID_METRIC)
    # Equal up to the last bits of a sum: MRR@10 adds reciprocal ranks in query order, so two queries that swap ranks
    # give the same figure, not always the same float.
    gained = new[metric] > current[metric] - SAME
    hybrid = _known(hybrid_after) and _known(hybrid_before)
    hybrid_fell = hybrid and hybrid_after < hybrid_before - SAME  # type: ignore[operator]
    hybrid_tied = hybrid and abs(hybrid_after - hybrid_before) <= SAME  # type: ignore[operator]
    if gained and hybrid_fell:
        fell, stood = figures(hybrid_after, hybrid_before)  # type: ignore[arg-type]
        return False, (
            f"没有启用：{metric} {after} ≥ {before}，但默认的混合检索 MRR@10 {fell} < 当前模型（{label}）的 "
            f"{stood}；新模型已保留，可在下方启用。 · Not switched on: {metric} {after} ≥ {before}, but the "
            f"default (hybrid) search's MRR@10 {fell} < {stood} with this session's model ({label}). "
            "The new model is kept: activate it below if you want it anyway."
        )
    if flattering and gained and hybrid_tied:
        tied, _ = figures(hybrid_after, hybrid_before)  # type: ignore[arg-type]
        return False, (
            f"没有启用：{metric} {after} ≥ {before}，但在从标题截取的查询上默认的混合检索没有提高（MRR@10 都是 {tied}），"
            "这样的查询偏向新模型；新模型已保留，可在下方启用（上传真实查询的评估文件衡量更准）。 · "
            f"Not switched on: {metric} {after} ≥ {before}, but the default (hybrid) search did not gain (MRR@10 {tied} "
            "both) on queries cut from titles, which favour the new model. It is kept: activate it below if you want it "
            "(an evaluation file of real queries measures better)."
        )
    if gained:
        return True, (
            f"已启用：{metric} {after} ≥ 之前的模型（{label}）{before}。 · "
            f"Switched on: {metric} {after} ≥ {before} for the model this session used ({label})."
        )
    return False, (
        f"没有启用：{metric} {after} < 当前模型（{label}）的 {before}，本会话继续使用当前模型；新模型已保留，可在下方启用。 · "
        f"Not switched on: {metric} {after} < {before} for this session's model ({label}); the session "
        "keeps it. The new model is kept: activate it below if you want it anyway."
    )


SAME = 1e-9  # figures closer than this are equal (decide)


def figures(a: float, b: float) -> tuple[str, str]:
    """Two figures to 3 decimals, or to as many more (up to 6) as it takes to tell them apart.

    Example: figures(0.96912, 0.96915) -> ("0.96912", "0.96915"); figures(0.9, 0.95) -> ("0.900", "0.950")
    """
    for places in range(3, 7):
        shown = f"{a:.{places}f}", f"{b:.{places}f}"
        if shown[0] != shown[1] or a == b:
            return shown
    return shown


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


# --- planning --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    max_steps: int = 300  # optimizer steps one run may take
    max_seconds: int = 300  # wall time one run may train
    max_epochs: int = 5
    max_chinese_steps: int = 200


@dataclass(frozen=True)
class Plan:
    """What a fine-tune of these triplets will do, said before Start."""

    train: int
    held_out: int
    steps: int
    per_step: float
    seconds: float  # the whole run
    training_seconds: float  # the part the time cap counts
    cap_seconds: int
    fitting_steps: int | None  # when the training would pass the time cap: the Chinese-aware steps that fit
    teacher_seconds: float = 0.0  # of `seconds`: multilingual-e5-small reading a titles-only catalog (training.teacher)
    unmeasured: bool = False  # nothing will measure the run (no queries, nothing held out, too few titles to cut them from)

    @property
    def over_cap(self) -> bool:
        return self.training_seconds > self.cap_seconds


def merge(*sets: TripletSet | None) -> TripletSet:
    """Triplets of several sources in order, each distinct row once. Example: merge(file, feedback)"""
    rows = dict.fromkeys(row for s in sets if s for row in zip(s.anchors, s.positives, s.negatives))
    return TripletSet([a for a, _, _ in rows], [p for _, p, _ in rows], [n for _, _, n in rows])


class Finetuner:
    """App-wide: the training line, the pace of recent runs, measured figures, and the running job of each session."""

    def __init__(
        self,
        store: ModelStore,
        shipped_catalog: Catalog,
        eval_queries: list[EvalQuery],
        limits: Limits = Limits(),
        line: TrainingQueue | None = None,
        exclude: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.shipped_catalog = shipped_catalog
        self.eval_queries = eval_queries
        self.limits = limits
        self.line = line
        self.timer = RunTimer()
        # Never trained on: the eval queries runs are measured on, and what the caller adds (the app: the golden ones).
        self.exclude = [*(q.query for q in eval_queries), *exclude]
        self._scores: dict[tuple[str, str, int], dict[str, float]] = {}
        self._lock = threading.Lock()
        self._running: dict[str, FinetuneJob] = {}

    # --- before Start ------------------------------------------------------------------------------------------------
    def plan(self, spec: FinetuneSpec) -> Plan:
        """Steps and time of `spec` at the pace the latest runs of its kind measured, and what fits the time cap."""
        train, held = spec.split()
        teacher_s = self.teacher_seconds(spec)
        pace = self.pace_key(spec, teacher_s > 0)
        steps, per_step, seconds = self.timer.estimate(pace, spec.planned_steps())
        around = self.timer.in_trainer.get(pace, 0.0) + teacher_s
        training = steps * per_step + around
        fitting = None
        if training > self.limits.max_seconds and spec.recipe == "chinese":
            fitting = max(0, int((self.limits.max_seconds - around) / per_step) // 10 * 10)
        catalog = spec.catalog or self.shipped_catalog
        own = catalog.fingerprint != self.shipped_catalog.fingerprint  # the shipped catalog has the eval set
        unmeasured = own and not spec.queries and not len(held) and title_query_budget(catalog) == 0
        return Plan(len(train), len(held), steps, per_step, seconds + teacher_s, training, self.limits.max_seconds, fitting, teacher_s, unmeasured)

    @staticmethod
    def pace_key(spec: FinetuneSpec, taught: bool) -> str:
        """Which pace an estimate uses: a teacher step encodes four texts a row where MNRL's encode two or three."""
        return "teacher" if taught else spec.recipe

    def teacher_seconds(self, spec: FinetuneSpec) -> float:
        """The teacher's reading time when `spec` will learn from it (a titles-only catalog, no triplets), else 0.

        Decided on the catalog the run trains on: with no evaluation file, the products whose titles measure the run
        (up to a fifth, `measure_set`) leave it, so 110 titles train on 88, too few for the teacher."""
        catalog = spec.catalog or self.shipped_catalog
        if spec.recipe != "chinese":
            return 0.0
        training = len(catalog) - (0 if spec.queries else title_query_budget(catalog))
        if teacher.resolve(spec.chinese, catalog, len(spec.split()[0]) > 0, training).pairs != "teacher":
            return 0.0
        return teacher.planned_seconds(training, spec.chinese.steps, spec.chinese.batch_size)

    def validate(self, spec: FinetuneSpec) -> None:
        """Refuse a spec the app cannot run, with a bilingual UserError (before anything waits or trains)."""
        if spec.recipe not in RECIPES:
            raise UserError("未知的配方。", "Unknown recipe.")
        seed, chinese = spec.seed, spec.chinese
        if seed.loss not in LOSSES:
            raise UserError("未知的损失函数。", "Unknown loss.")
        if not 1 <= seed.epochs <= self.limits.max_epochs:
            raise UserError(f"轮数须在 1 到 {self.limits.max_epochs} 之间。", f"Epochs must be between 1 and {self.limits.max_epochs}.")
        if spec.recipe == "chinese" and not 0 <= chinese.steps <= self.limits.max_chinese_steps:
            raise UserError(f"步数须在 1 到 {self.limits.max_chinese_steps} 之间。", f"Steps must be between 1 and {self.limits.max_chinese_steps}.")
        if not (1 <= seed.batch_size <= 256 and 1e-7 <= seed.learning_rate <= 1e-2):
            raise UserError("批大小或学习率超出范围。", "Batch size or learning rate out of range.")
        if spec.recipe == "chinese" and not spec.triplets and spec.catalog is not None and len(spec.catalog) < 2:
            # In-batch negatives need two products: one alone makes no batch, and nothing would train.
            raise UserError(
                "目录只有一个商品，无法对比训练：请上传至少两个商品的目录，或上传三元组。",
                "The catalog has one product, so there is nothing to tell it apart from: upload a catalog of two or more products, or triplets.",
            )
        if spec.recipe == "seed" and not spec.triplets:
            raise UserError(
                "种子配方需要三元组：请上传 CSV、从目录生成或发送反馈。",
                "The seed recipe needs triplets: upload a CSV, generate them, or send feedback.",
            )
        check_step_cap(spec.planned_steps(), self.limits.max_steps)

    # --- running ------------------------------------------------------------------------------------------------------
    def job(self, spec: FinetuneSpec, session: str, out_dir: Path | None = None) -> FinetuneJob:
        """A job for `session` (validated now; it waits for its turn when run). `out_dir`: where the model is saved
        (default: a new run folder of the store)."""
        self.validate(spec)
        return FinetuneJob(self, spec, session, out_dir)

    def stop(self, session: str) -> bool:
        """Stop this session's running or waiting job; False when it has none."""
        with self._lock:
            job = self._running.get(session)
        if job is None:
            return False
        job.stop()
        return True

    def running(self, session: str) -> bool:
        with self._lock:
            return session in self._running

    # --- measuring ----------------------------------------------------------------------------------------------------
    def scores(self, model_id: str, session: str | None, catalog: Catalog, measured: MeasureSet) -> dict[str, float]:
        """Semantic-search metrics of a model on the measure set over `catalog` (cached per model, catalog and queries)."""
        if not measured.queries:
            return {}
        info = self.store.info(model_id, session)
        key = (info.fingerprint, catalog.fingerprint, hash(tuple((q.query, q.relevant) for q in measured.queries)))
        with self._lock:
            if key in self._scores:
                return self._scores[key]
        engine = self.store.engine(model_id, session, catalog)
        by_mode = evaluate_modes(engine, measured.queries, ("semantic", "hybrid"))
        scores = {**by_mode["semantic"], HYBRID_METRIC: by_mode["hybrid"]["mrr@10"]}
        with self._lock:
            self._scores[key] = scores
        return scores

    def shipped_scores(self, model_id: str) -> dict[str, float] | None:
        """A shared model's figures on the eval set over the shipped catalog, if measured yet (never waits)."""
        info = self.store.info(model_id, None)
        measured = MeasureSet([q for q in self.eval_queries if q.relevant], "eval")
        key = (info.fingerprint, self.shipped_catalog.fingerprint, hash(tuple((q.query, q.relevant) for q in measured.queries)))
        with self._lock:
            return self._scores.get(key)

    def measure_shared(self) -> None:
        """Measure every shared model on the eval set (the runs table shows them); for a background thread."""
        measured = MeasureSet([q for q in self.eval_queries if q.relevant], "eval")
        for info in self.store.shared():
            started = time.perf_counter()
            self.scores(info.id, None, self.shipped_catalog, measured)
            log.info("measured the %s model on %d eval queries in %.1f s", info.id, len(measured.queries), time.perf_counter() - started)


class FinetuneJob:
    """One fine-tune; `run()` yields its events. `stop()` from any thread (Stop, a closed page, a cancelled job)."""

    def __init__(self, owner: Finetuner, spec: FinetuneSpec, session: str, out_dir: Path | None = None) -> None:
        self.owner = owner
        self.spec = spec
        self.session = session
        self.catalog = spec.catalog or owner.shipped_catalog
        self._pressed = threading.Event()
        self.signal = StopSignal(self._pressed, owner.limits.max_seconds)
        self.visitor: str | None = None  # the address that asked for it (the run counts in its share of the disk)
        if out_dir is None:
            self.run_id, self.out_dir = owner.store.new_run_dir()
            self._owned_dir = True
        else:
            self.run_id, self.out_dir, self._owned_dir = secrets.token_urlsafe(12), Path(out_dir), False

    def stop(self) -> None:
        self._pressed.set()

    def run(self) -> Iterator[Event]:
        """Wait in line, measure, train, measure, decide. Raises UserError for what the visitor can fix; other errors
        are the app's (logged by the caller). However it ends (closed generator included), the trainer is stopped."""
        owner, spec, store, session = self.owner, self.spec, self.owner.store, self.session
        with owner._lock:
            if session in owner._running:
                raise UserError(
                    "你已经有一个微调在运行或排队，请等它结束（或先停止它）。",
                    "You already have a fine-tune running or waiting; wait for it to finish (or stop it) first.",
                )
            owner._running[session] = self
        try:
            ticket = owner.line.enter(session) if owner.line is not None else None
        except BaseException:  # a full line refuses at the door: this session has no job then
            with owner._lock:
                owner._running.pop(session, None)
            raise
        worker: threading.Thread | None = None
        saved = False
        try:
            if ticket is not None:
                while not ticket.wait(1.0):  # another session's fine-tune is training
                    if self._pressed.is_set():
                        yield LeftLine()
                        return
                    yield Waiting(ticket.position)
            train_set, held_out = spec.split()
            measured = measure_set(self.catalog, owner.shipped_catalog, owner.eval_queries, spec.queries, held_out)
            plan = owner.plan(spec)
            yield Started(len(train_set), len(held_out), plan.steps, plan.seconds, measured, plan.teacher_seconds)
            started = time.perf_counter()
            models = [("current", spec.current)] + ([("start", spec.start)] if spec.start != spec.current else [])
            # torch work in threads of their own, never this one: an OpenMP pool left in a living thread slows the
            # steps (threads.py).
            # mypy cannot type a lambda whose default binds a loop variable (python/mypy#15459).
            before = {role: in_own_thread(lambda m=model_id: self._measure(m, measured, held_out)[0]) for role, model_id in models}  # type: ignore[misc]
            golden_queries = GOLDEN if measured.source == "eval" else [q.query for q in measured.queries[:5]]
            golden_before = self._top1(spec.current, golden_queries)
            logged: queue.Queue[StepLog] = queue.Queue()
            outcome: dict[str, object] = {}
            exclude = [*owner.exclude, *(q.query for q in measured.queries)]

            def work() -> None:
                lower_priority()  # searches first: training takes what they leave (common/threads.py)
                try:
                    outcome["result"] = self._train(train_set, exclude, logged.put, measured.training_catalog(self.catalog))
                except Exception as err:  # noqa: BLE001 — raised again in run(), where the caller logs it
                    outcome["error"] = err

            worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="finetune", daemon=True)
            self.signal.start()
            worker.start()
            worker_started = time.perf_counter()
            history: list[StepLog] = []
            announced = False
            while worker.is_alive() or not logged.empty():
                worker.join(timeout=0.5)
                fresh = []
                while not logged.empty():
                    fresh.append(logged.get())
                history.extend(fresh)
                if not announced and (self._pressed.is_set() or self.signal.timed_out):
                    announced = True
                    yield Stopping("stop" if self._pressed.is_set() else "time_cap")
                elif fresh and not announced:
                    last = history[-1]
                    yield Step(last, owner.timer.eta(spec.recipe, last.step, last.max_steps, last.elapsed_s), list(history))
            if "error" in outcome:
                raise outcome["error"]  # type: ignore[misc]
            result: RunResult = outcome["result"]  # type: ignore[assignment]
            if self._pressed.is_set() and result.steps_done == 0:
                yield NothingTrained()
                return
            saved = True
            trained = time.perf_counter()
            yield Evaluating()
            # A run may also end short because its data made fewer batches than steps (a tiny catalog): that is done.
            ended = "stopped" if self._pressed.is_set() else "time_cap" if result.stopped and self.signal.timed_out else "done"
            how = f"{spec.recipe} · {counted(len(train_set), 'triplet')} · {result.steps_done}/{result.max_steps} steps"
            label = (
                f"微调 run {time.strftime('%H:%M:%S')} · {how}"
                + {"done": "", "stopped": " · 已停止 stopped", "time_cap": " · 时间上限 time cap"}[ended]
            )
            info = store.add_run(session, self.run_id, result.path, label, {}, visitor=self.visitor)
            new_scores, margins = in_own_thread(lambda: self._measure(self.run_id, measured, held_out))
            info.metrics.update(new_scores)
            info.metrics["measured_on"] = measured.source  # type: ignore[assignment]
            info.metrics["queries"] = len(measured.queries)
            # The session's model on the same queries: the runs table sets the run's figure beside it (the shared models'
            # figures there are on the eval set, which a run on another catalog is not measured on).
            info.metrics["before_mrr@10"] = before["current"].get(DECIDING_METRIC, float("nan"))
            golden_after = self._top1(self.run_id, golden_queries)
            current_info = store.info(spec.current, session)
            activate, decision = decide(ended, before["current"], new_scores, current_info.label, flattering=measured.source == "titles")
            columns = [Column(role, model_id, store.info(model_id, session).label, before[role]) for role, model_id in models]
            columns.append(Column("new", self.run_id, label, new_scores))
            steps_s = history[-1].elapsed_s if history else 0.0
            owner.timer.record(
                owner.pace_key(spec, result.teacher_seconds > 0),
                result.steps_done,
                worker_started - started,
                steps_s,
                time.perf_counter() - trained,
                in_trainer=result.seconds - steps_s - result.teacher_seconds,
            )
            log.info(
                "fine-tune (%s, %d steps, %s): measured before in %.1f s; %.1f s of steps, %.1f s more in the trainer; measured after in %.1f s; %s",
                spec.recipe,
                result.steps_done,
                ended,
                worker_started - started,
                steps_s,
                result.seconds - steps_s,
                time.perf_counter() - trained,
                "activated" if activate else "kept, not activated",
            )
            yield Finished(
                Report(
                    self.run_id,
                    result,
                    ended,
                    measured,
                    columns,
                    activate,
                    decision,
                    list(zip(golden_queries, golden_before, golden_after)),
                    still_wrong(margins),
                )
            )
        finally:
            if ticket is not None:
                ticket.leave()
            with owner._lock:
                owner._running.pop(session, None)
            self._pressed.set()  # a closed page or a cancelled job must not leave the trainer running
            if self._owned_dir:
                kept = any(i.id == self.run_id for i in store.runs(session))
                if worker is not None and worker.is_alive():
                    # The tuple only runs the two calls in order; its items are never read.
                    threading.Thread(target=lambda w=worker: (w.join(), shutil.rmtree(self.out_dir, ignore_errors=True)), daemon=True).start()  # type: ignore[func-returns-value]
                elif not (saved and kept):
                    shutil.rmtree(self.out_dir, ignore_errors=True)

    # --- the parts ------------------------------------------------------------------------------------------------
    def _train(self, train_set: TripletSet, exclude: list[str], on_step, catalog: Catalog) -> RunResult:
        """The recipe itself, in the worker thread (imports the training stack on first use)."""
        from shopsearch.retrieval.no_answer import inherit
        from shopsearch.training.chinese import train_chinese
        from shopsearch.training.seed import bf16_is_fast, train, training_threads

        spec, store = self.spec, self.owner.store
        start = store.info(spec.start, self.session).path
        # bfloat16 where the CPU has AMX (half the time per step), on both cores (training.py says why).
        fast: _FastTraining = dict(threads=training_threads(), bf16=bf16_is_fast()) if spec.fast else {}
        onnx_dir = store.cache.directory  # exported at save time: the new model's first search loads it
        if spec.recipe == "chinese":
            result = train_chinese(
                start,
                catalog,
                train_set or None,
                self.out_dir,
                replace(spec.chinese, **fast),
                exclude=exclude,
                on_step=on_step,
                should_stop=self.signal,
                half=spec.half,
                onnx_cache_dir=onnx_dir,
            )
            inherit(start, result.path)  # the start model's "nothing relevant" rule (no_answer.inherit says why)
            return result
        return train(start, train_set, self.out_dir, replace(spec.seed, **fast), on_step=on_step, should_stop=self.signal, onnx_cache_dir=onnx_dir)

    def _measure(self, model_id: str, measured: MeasureSet, held_out: TripletSet) -> tuple[dict[str, float], list[WrongTriplet]]:
        """A model's search metrics on the measure set and its accuracy on the held-out triplets (with their margins)."""
        scores = dict(self.owner.scores(model_id, self.session, self.catalog, measured))
        margins = triplet_margins(self.owner.store.model(model_id, self.session), held_out) if len(held_out) else []
        scores["triplet_acc"] = margins_accuracy(margins)
        return scores, margins

    def _top1(self, model_id: str, queries: list[str]) -> list[str]:
        if not queries:
            return []
        engine = self.owner.store.engine(model_id, self.session, self.catalog)
        return [(hits[0].name if (hits := engine.search(q, mode="semantic", top=1).hits) else "") for q in queries]
