"""Fine-tune tab: upload/generate triplets → plan → a `FinetuneJob` (finetune_job.py) whose events this tab renders.

The job owns the run (its place in line, the worker thread, Stop and the caps, the before/after measurement, whether
the new model is switched on); this module only turns its events into components and applies its decision to the
session's state.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from shopsearch.common.errors import UserError, counted
from shopsearch.common.threads import in_own_thread
from shopsearch.data.catalog import Catalog
from shopsearch.data.csvio import to_safe_csv
from shopsearch.data.triplets import DROP_REASONS, CheckReport, TripletSet, generate, read_triplets, with_hard_negatives
from shopsearch.retrieval.evaluation import QueryFileError, check_ids, load_queries
from shopsearch.serving.models import BASE, CHINESE, SHIPPED
from shopsearch.text.tokens import unknown_rate
from shopsearch.training.job import (
    HYBRID_METRIC,
    METRICS,
    Evaluating,
    FinetuneSpec,
    Finished,
    LeftLine,
    NothingTrained,
    Plan,
    Report,
    Started,
    Step,
    Stopping,
    Waiting,
)
from shopsearch.training.params import LOSSES, ChineseParams, TrainParams
from shopsearch.ui import figures, text
from shopsearch.ui.context import AppContext, Visitor, bounded_slider, session_id, user_errors

TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "triplets_example.csv"
START_CHOICES = [("当前模型 active", "active"), ("中文模型 Chinese-aware", CHINESE), ("种子模型 seed", SHIPPED), ("基础模型 base", BASE)]
RECIPES = [("中文配方（默认）Chinese-aware (default)", "chinese"), ("种子配方 seed (TripletLoss)", "seed")]
# The Chinese-aware recipe goes on from the session's model; the seed recipe reproduces the seed card from its model.
DEFAULT_START = {"chinese": "active", "seed": SHIPPED}
EMPTY = {  # what the tables show before there is anything to show: their real headers
    "preview": pd.DataFrame(columns=["anchor", "positive", "negative"]),
    "metrics": pd.DataFrame(columns=["metric", "before", "after", "Δ"]),
    "golden": pd.DataFrame(columns=["query", "before", "after"]),
    "wrong": pd.DataFrame(columns=["margin", "anchor", "positive", "negative"]),
}
TAB_STEPS = 40  # the Chinese-aware recipe's default steps in the tab (README: a seed-size run, measured)
ROLE_NAMES = {"current": "before", "start": "start", "new": "after"}
SOURCE_NAMES = {"eval": "eval set", "file": "your file", "held_out": "held-out triplets", "titles": "title queries", "none": "—"}


def report_markdown(report: CheckReport, triplets: TripletSet, current: tuple[str, float] | None = None) -> str:
    """The check report as Markdown; column names and notices come from the upload, so they are escaped.

    The [UNK] figures are the original all-MiniLM-L6-v2's (what the seed recipe trains); `current`, the label of the
    session's model and its share of [UNK] characters, adds that model's (what the Chinese-aware recipe starts from).
    """
    dropped = "；".join(f"{DROP_REASONS[k][0]} {DROP_REASONS[k][1]}: {v}" for k, v in report.dropped.items()) or "0"
    lines = [
        f"**读取 rows read:** {report.rows_read} · **保留 kept:** {report.rows_kept} · **丢弃 dropped:** {dropped}",
        f"**编码 encoding:** {report.encoding} · **分隔符 delimiter:** `{repr(report.delimiter)[1:-1]}` · "
        f"**列 columns:** {', '.join(f'{k}={text.escape_markdown(v)}' for k, v in report.columns.items())}",
        f"**超过 256 个 token 的文本 texts over 256 tokens (truncated):** {report.too_long} · "
        f"**[UNK] 字符比例 share of [UNK] characters**，原始 all-MiniLM-L6-v2（种子配方 seed recipe）: {report.unknown_rate:.0%}"
        + (f" · 当前模型 your current model（{text.escape_markdown(current[0])}）: {current[1]:.0%}" if current else "")
        + f" · **原始模型不认识的汉字 characters all-MiniLM-L6-v2 can't see:** {report.unknown_chars}"
        + (" （中文配方会把它们加入词表 · the Chinese-aware recipe adds them to the vocabulary）" if report.unknown_chars else ""),
        *(text.escape_markdown(notice) for notice in report.notices),  # they quote the file's column names
    ]
    return "\n\n".join(lines)


def plan_markdown(plan: Plan, from_file: int, from_feedback: int, recipe: str, needs_triplets: bool = False) -> str:
    """What Start would do: the triplets by source, the split, the estimate, and a warning when it passes the time cap.

    Args:
        needs_triplets: Start refuses a run without triplets (the Chinese-aware recipe on the shipped catalog, which
            the shipped model was trained on); on a catalog of the visitor's own it trains on the catalog's pairs.
    """
    no_triplets = ""
    if needs_triplets:
        no_triplets = (
            "还没有三元组：请上传 CSV、从目录生成，或从搜索发送反馈（换成你自己的目录则可以不用）。 · No triplets yet: upload a "
            "CSV, generate them from the catalog, or send feedback from Search (with a catalog of your own, none are needed)."
        )
    elif recipe == "chinese":
        no_triplets = (
            "没有三元组：中文配方只用从目录生成的查询–商品对。 · No triplets: the Chinese-aware recipe trains on query–product "
            "pairs from the catalog only."
        )
    lines = [text.pending_line(from_file, from_feedback) or no_triplets]
    if plan.teacher_seconds:
        lines.append(text.TEACHER_PLAN.format(seconds=plan.teacher_seconds))
    if plan.unmeasured:
        lines.append(text.UNMEASURED)
    if from_file or from_feedback:
        lines.append(f"训练 {plan.train} 个，留出 {plan.held_out} 个评估。 · {plan.train} to train on, {plan.held_out} held out.")
    lines.append(text.ESTIMATE.format(n=plan.steps, steps=counted(plan.steps, "step"), seconds=plan.seconds, per_step=plan.per_step))
    if plan.over_cap:
        fit, fit_en = (
            ("", "")
            if plan.fitting_steps is None
            else (f"把步数设为 {plan.fitting_steps} 可在上限内完成。", f" Set the steps to {plan.fitting_steps} to finish within it.")
        )
        if recipe == "seed":
            fit, fit_en = "减少轮数或行数可在上限内完成。", " Use fewer epochs or rows to finish within it."
        lines.append(text.OVER_CAP.format(training=plan.training_seconds, cap=plan.cap_seconds, fit=fit, fit_en=fit_en))
    return "\n\n".join(line for line in lines if line)


def metrics_frame(report: Report) -> pd.DataFrame:
    """metric × (before = the session's model, start when it differs, after = the new run, Δ = after − before); a
    metric no model has a figure for (triplet accuracy with nothing held out) is left out."""
    columns = {ROLE_NAMES[c.role]: c.scores for c in report.columns}
    rows = []
    for metric in ("triplet_acc", *METRICS, HYBRID_METRIC):
        row = {"metric": metric, **{name: _round(scores.get(metric)) for name, scores in columns.items()}}
        if all(row[name] is None for name in columns):
            continue
        row["Δ"] = _round(columns["after"].get(metric, float("nan")) - columns["before"].get(metric, float("nan")))
        rows.append(row)
    return pd.DataFrame(rows)


def _round(value: float | None) -> float | None:
    return None if value is None or value != value else round(float(value), 3)


def runs_frame(ctx: AppContext, session: str | None, active: str) -> pd.DataFrame:
    """The shared models (their figures on the eval set, once measured) and this session's runs, the active one marked;
    a run's MRR@10 has beside it the session's model's on the same queries (a run on another catalog is measured on
    other queries than the eval set)."""
    rows = []
    for info in ctx.store.shared():
        scores = ctx.finetuner.shipped_scores(info.id) or {}
        rows.append(
            {
                "": "●" if active == info.id else "",
                "model": info.id,
                "label": info.label,
                "measured on": "eval set" if scores else "…",
                "Recall@1": _round(scores.get("recall@1")),
                "MRR@10": _round(scores.get("mrr@10")),
                "之前 before MRR@10": None,
                "triplet acc": None,
            }
        )
    for info in ctx.store.runs(session):
        m = info.metrics
        rows.append(
            {
                "": "●" if active == info.id else "",
                "model": info.id[:6],
                "label": info.label,
                "measured on": f"{SOURCE_NAMES.get(str(m.get('measured_on')), '—')} ({m.get('queries', 0)})",
                "Recall@1": _round(m.get("recall@1")),
                "MRR@10": _round(m.get("mrr@10")),
                "之前 before MRR@10": _round(m.get("before_mrr@10")),
                "triplet acc": _round(m.get("triplet_acc")),
            }
        )
    return pd.DataFrame(rows)


def build(
    ctx: AppContext, visitor: gr.State, active_md: gr.Markdown, pending_md: gr.Markdown, model_choice: gr.Radio, page: gr.Tab | None = None
) -> None:
    """The tab's components and handlers. `page`: the tab itself, whose opening refreshes the plan (the catalog it
    depends on changes on the Search tab)."""
    settings, finetuner = ctx.settings, ctx.finetuner

    def _needs_triplets(state: Visitor, recipe: str) -> bool:
        """The Chinese-aware recipe on the shipped catalog, which the shipped model was trained on, needs triplets."""
        return recipe == "chinese" and ctx.catalog_of(state) is ctx.catalog

    def _model_choices(session: str | None) -> list[tuple[str, str]]:
        return [(i.label, i.id) for i in ctx.store.shared() if i.id != BASE] + [(i.label, i.id) for i in ctx.store.runs(session)]

    def _switch_choices(session: str | None, active: str):
        """The search tab's model switch, always showing the active model (this session's runs included)."""
        runs = [(i.label, i.id) for i in ctx.store.runs(session)]
        return gr.update(choices=text.model_choices(text.SHARED_MODELS, runs), value=active)

    gr.Markdown(
        text.LIMITS.format(
            mb=settings.max_upload_mb,
            rows=settings.max_triplet_rows,
            epochs=settings.max_epochs,
            steps=settings.max_train_steps,
            minutes=settings.max_train_seconds / 60,
            waiting=settings.max_waiting_finetunes,
        )
    )
    with gr.Row():
        triplet_file = gr.File(label="三元组 CSV · Triplet CSV (anchor, positive, negative)", file_types=[".csv"], elem_id="triplet-file", scale=3)
        with gr.Column(scale=2):
            gr.DownloadButton("下载模板 Download template", value=str(TEMPLATE), size="sm", elem_id="template-download")
            generate_btn = gr.Button("从目录生成三元组 Generate triplets from the catalog", size="sm")
            hard_negatives = gr.Checkbox(False, label="困难负例 Hard negatives", info=text.HARD_NEGATIVES_HELP)
            generated_file = gr.DownloadButton("下载生成的三元组 Download generated", size="sm", visible=False)
    report_md = gr.Markdown(elem_id="check-report")
    preview = gr.Dataframe(EMPTY["preview"], interactive=False, label="预览 Preview", wrap=True, max_height=260, elem_id="preview")
    with gr.Accordion("评估查询（可选）· Evaluation queries (optional)", open=False):
        gr.Markdown(text.EVAL_FILE_HELP)
        eval_file = gr.File(label="query,product_ids CSV", file_types=[".csv"], elem_id="eval-file")
    recipe = gr.Radio(RECIPES, value="chinese", label="配方 Recipe", info=text.RECIPE_HELP, elem_id="recipe")
    with gr.Accordion("超参数 Hyper-parameters", open=False):
        with gr.Row():
            steps = bounded_slider(
                10, settings.max_chinese_steps, value=TAB_STEPS, step=10, label="中文配方：步数 Chinese-aware recipe: steps", elem_id="steps"
            )
            start_from = gr.Radio(START_CHOICES, value=DEFAULT_START["chinese"], label="起点 Start from")
        gr.Markdown("种子配方 Seed recipe (TripletLoss)")
        with gr.Row():
            epochs = bounded_slider(1, settings.max_epochs, value=2, step=1, label="轮数 Epochs")
            batch_size = gr.Dropdown([4, 8, 16, 32], value=16, label="批大小 Batch size")
            learning_rate = gr.Number(5e-5, label="学习率 Learning rate", minimum=1e-7, maximum=1e-3)
        # One above the other: side by side, the loss names overflowed their column on a phone.
        loss = gr.Radio(list(LOSSES), value="TripletLoss", label="损失 Loss (TripletLoss: Euclidean, margin 5)")
        extend_vocab = gr.Checkbox(False, label="扩展词表 Extend the tokenizer with the data's Chinese characters", info=text.EXTEND_VOCAB_HELP)
    plan_md = gr.Markdown(elem_id="plan")
    with gr.Row():
        start_btn = gr.Button("开始微调 Start fine-tune", variant="primary", elem_id="start-finetune")
        stop_btn = gr.Button("停止 Stop", variant="secondary", elem_id="stop-finetune")  # red only while a fine-tune runs
    status = gr.Markdown(elem_id="finetune-status")
    loss_plot = gr.Plot(label="损失曲线 Loss curve", elem_id="loss-plot")
    metrics = gr.Dataframe(EMPTY["metrics"], interactive=False, label=text.BEFORE_AFTER_LABEL, elem_id="before-after")
    golden = gr.Dataframe(EMPTY["golden"], interactive=False, label="查询示例 Example queries (semantic top-1)", wrap=True, elem_id="golden")
    wrong = gr.Dataframe(
        EMPTY["wrong"], interactive=False, label="训练后仍然错误 Still wrong after training (held-out, worst first)", wrap=True, max_height=300
    )
    with gr.Accordion("本会话的模型 This session's models", open=True):
        runs = gr.Dataframe(runs_frame(ctx, None, ctx.store.default_id), interactive=False, elem_id="runs")
        with gr.Row(elem_id="run-row"):
            run_picker = gr.Dropdown(
                _model_choices(None),
                value=ctx.store.default_id,
                label="切换模型 Activate a model",
                elem_id="run-picker",
                scale=3,
                allow_custom_value=True,  # ownership is checked by the store, with a bilingual message
            )
            activate_btn = gr.Button("启用 Activate", size="sm", scale=1)
            zip_btn = gr.Button("打包模型 .zip · Prepare model zip", size="sm", scale=1, elem_id="prepare-zip")
            model_zip = gr.DownloadButton("下载模型 .zip · Download model", size="sm", visible=False, scale=1, elem_id="model-zip")
        zip_md = gr.Markdown(elem_id="zip-status")

    def _spec(
        state: Visitor,
        recipe: str,
        epochs: float,
        batch: float,
        steps: float,
        start: str = "active",
        queries: list | None = None,
        learning_rate: float = 5e-5,
        loss: str = "TripletLoss",
        extend_vocab: bool = False,
    ) -> FinetuneSpec:
        return FinetuneSpec(
            recipe=recipe,
            triplets=ctx.pending_triplets(state),
            start=state.active if start == "active" else start,
            current=state.active,
            catalog=ctx.catalog_of(state),
            queries=queries,
            chinese=ChineseParams(steps=int(steps)),
            seed=TrainParams(
                epochs=int(epochs), batch_size=int(batch), learning_rate=float(learning_rate), loss=loss, extend_vocab=bool(extend_vocab)
            ),
        )

    def _plan(recipe: str, epochs: float, batch: float, steps: float, state: Visitor) -> str:
        """The plan line under the hyper-parameters: refreshed by every input it depends on."""
        upload, feedback = ctx.pending_of(state)
        plan = finetuner.plan(_spec(state, recipe, epochs, batch, steps))
        needs = _needs_triplets(state, recipe)
        return plan_markdown(plan, len(upload) if upload else 0, len(feedback) if feedback else 0, recipe, needs)

    def _pending(state: Visitor) -> str:
        upload, feedback = ctx.pending_of(state)
        return text.pending_line(len(upload) if upload else 0, len(feedback) if feedback else 0)

    @user_errors
    def _check_upload(path: str | None, state: Visitor, request: gr.Request):
        """A new file replaces the file's triplets (feedback stays); ✕ clears them (feedback stays too).

        A file that cannot be used leaves the box (its message stays in the report): Start then never reads it.
        """
        if not path:
            ctx.set_pending(state, None)
            return state, "", EMPTY["preview"], _pending(state), gr.skip()
        try:
            triplets, report = read_triplets(path, settings.max_upload_mb, settings.max_triplet_rows, tokenizer=ctx.store.tokenizer(BASE, None))
        except UserError as err:  # the message stays in the report, not only in a toast that fades
            ctx.set_pending(state, None)
            return state, text.file_problem(str(err)), EMPTY["preview"], _pending(state), None
        ctx.set_pending(state, triplets)
        session = session_id(request)
        texts = [*triplets.anchors, *triplets.positives, *triplets.negatives]
        current = ctx.store.info(state.active, session).label, unknown_rate(ctx.store.tokenizer(state.active, session), texts)
        return state, report_markdown(report, triplets, current), _preview(triplets), _pending(state), gr.skip()

    def _preview(triplets: TripletSet) -> pd.DataFrame:
        return pd.DataFrame({"anchor": triplets.anchors[:20], "positive": triplets.positives[:20], "negative": triplets.negatives[:20]})

    @user_errors
    def _generate(hard: bool, state: Visitor, request: gr.Request):
        catalog = ctx.catalog_of(state)
        # Each draw scans the catalog for a negative: on a crafted 5,000-row catalog whose names share their words that
        # took 45 s. Triplets come from an even sample of at most max_generate_products rows (500 triplets need few).
        sample = (
            catalog
            if len(catalog) <= settings.max_generate_products
            else Catalog(catalog.products[:: -(-len(catalog) // settings.max_generate_products)])
        )
        triplets = generate(sample, n=min(500, 3 * len(sample)))
        mined_note = ""
        if hard:
            model = ctx.store.model(state.active, session_id(request))
            triplets, replaced = in_own_thread(lambda: with_hard_negatives(triplets, catalog, model))  # torch: threads.py
            mined_note = (
                f"困难负例：{replaced} 个负例换成了当前模型最容易混淆的商品。 · Hard negatives: {counted(replaced, 'negative')} "
                "replaced by the products the active model confuses most."
            )
        ctx.set_pending(state, triplets)
        path = ctx.downloads.new_path("generated_triplets.csv")
        to_safe_csv(_preview_all(triplets), path)
        note = f"已从 {len(catalog)} 件商品生成 {len(triplets)} 个三元组。 · Generated {counted(len(triplets), 'triplet')} from {counted(len(catalog), 'product')}."
        return state, "\n\n".join(filter(None, [note, mined_note])), _preview(triplets), gr.update(value=str(path), visible=True), _pending(state)

    def _preview_all(triplets: TripletSet) -> pd.DataFrame:
        return pd.DataFrame({"anchor": triplets.anchors, "positive": triplets.positives, "negative": triplets.negatives})

    def _eval_queries(path: str | None, state: Visitor):
        if not path:
            return None
        size = Path(path).stat().st_size
        if size > settings.max_upload_mb * 2**20:
            raise QueryFileError(
                f"评估文件 {size / 2**20:.1f} MB，超过上限 {settings.max_upload_mb} MB。",
                f"The evaluation file is {size / 2**20:.1f} MB, over the {settings.max_upload_mb} MB limit.",
            )
        queries = load_queries(path)
        check_ids(queries, ctx.catalog_of(state))
        if not any(q.relevant for q in queries):
            raise QueryFileError("评估文件里没有带答案的查询。", "The evaluation file has no query with an answer.")
        return queries

    @user_errors
    def _start_finetune(
        triplet_file: str | None = None,
        epochs: int = 2,
        batch_size: int = 16,
        learning_rate: float = 5e-5,
        loss: str = "TripletLoss",
        start_from: str = "active",
        extend_vocab: bool = False,
        recipe: str = "chinese",
        steps: int = TAB_STEPS,
        eval_file: str | None = None,
        state: Visitor | None = None,
        request: gr.Request | None = None,
    ):
        """Stream a `FinetuneJob`'s events; at the end the session's model changes only if the job says so."""
        state = state or Visitor()
        session = session_id(request) or ""
        if triplet_file:  # the file in the box (the API sends it here; the page has checked it already)
            triplets, _ = read_triplets(triplet_file, settings.max_upload_mb, settings.max_triplet_rows)
            ctx.set_pending(state, triplets)
        queries = _eval_queries(eval_file, state)
        for value, name in ((epochs, "epochs"), (batch_size, "batch size"), (learning_rate, "learning rate"), (steps, "steps")):
            if value is None or value != value:
                raise UserError(f"请填写 {name}。", f"Please give the {name}.")
        spec = _spec(state, recipe, epochs, batch_size, steps, start_from, queries, learning_rate, loss, extend_vocab)
        if not spec.triplets and _needs_triplets(state, recipe):
            raise UserError(
                "请先上传三元组 CSV、从目录生成，或从搜索发送反馈。", "Upload a triplet CSV, generate triplets, or send feedback from Search first."
            )
        job = finetuner.job(spec, session)
        job.visitor = ctx.visitor(request)  # whose share of the disk budget the run counts in
        skip10 = [gr.skip()] * 11
        for event in job.run():
            if isinstance(event, Waiting):
                yield (text.WAITING.format(ahead=event.ahead), *skip10)
            elif isinstance(event, LeftLine):
                yield (text.LEFT_QUEUE, *skip10)
            elif isinstance(event, NothingTrained):
                yield (text.NOTHING_TRAINED, *skip10)
            elif isinstance(event, Started):
                yield (
                    text.started_line(event.train, event.held_out, event.steps, event.seconds, event.teacher_seconds)
                    + f"\n\n{event.measured_on.describe()}",
                    figures.loss_curve([], [], event.steps),
                    EMPTY["metrics"],
                    EMPTY["golden"],
                    EMPTY["wrong"],
                    *[gr.skip()] * 7,
                )
            elif isinstance(event, Step):
                last = event.log
                yield (
                    f"第 {last.step}/{last.max_steps} 步 · step {last.step}/{last.max_steps} · 损失 loss {last.loss:.4f} · "
                    f"剩余约 ETA {event.eta:.0f} s",
                    figures.loss_curve([h.step for h in event.history], [h.loss for h in event.history], last.max_steps),
                    *[gr.skip()] * 10,
                )
            elif isinstance(event, Stopping):
                line = text.STOPPING if event.by == "stop" else text.TIME_CAP.format(minutes=settings.max_train_seconds / 60)
                yield (line, *skip10)
            elif isinstance(event, Evaluating):
                yield (text.EVALUATING, *skip10)
            elif isinstance(event, Finished):
                yield _finished(event.report, state, session)

    def _finished(report: Report, state: Visitor, session: str) -> tuple:
        result = report.result
        if report.activate:
            state.active = report.run_id
        ended = {
            "done": text.DONE.format(done=result.steps_done, steps=counted(result.steps_done, "step"), seconds=result.seconds),
            "stopped": text.STOPPED.format(done=result.steps_done, total=result.max_steps, seconds=result.seconds),
            "time_cap": text.CAPPED.format(
                minutes=settings.max_train_seconds / 60, done=result.steps_done, total=result.max_steps, seconds=result.seconds
            ),
        }[report.ended]
        golden_df = pd.DataFrame(report.golden, columns=["query", "before", "after"])
        wrong_df = pd.DataFrame(
            [{"margin": round(w.margin, 3), "anchor": w.anchor, "positive": w.positive, "negative": w.negative} for w in report.wrong],
            columns=["margin", "anchor", "positive", "negative"],
        )
        return (
            "\n\n".join([ended, f"**{report.decision}**", report.measured_on.describe()]),
            gr.skip(),
            metrics_frame(report),
            golden_df,
            wrong_df,
            runs_frame(ctx, session, state.active),
            text.active_model(ctx.store.info(state.active, session).label),
            gr.update(choices=_model_choices(session), value=report.run_id),
            gr.update(value=None, visible=False),
            state,
            gr.skip(),
            _switch_choices(session, state.active),
        )

    def _runs_table(state: Visitor, request: gr.Request) -> pd.DataFrame:
        return runs_frame(ctx, session_id(request), state.active)

    def _stop(shown: str | None, request: gr.Request) -> str:
        """Stop this session's run; with none running, the last run's report stays, with a line saying so under it."""
        if finetuner.stop(session_id(request) or ""):
            return text.STOPPING
        shown = (shown or "").removesuffix(f"\n\n{text.NOTHING_RUNNING}")
        return f"{shown}\n\n{text.NOTHING_RUNNING}" if shown.strip() else text.NOTHING_RUNNING

    @user_errors
    def _activate(model_id: str, state: Visitor, request: gr.Request):
        session = session_id(request)
        info = ctx.store.info(model_id or SHIPPED, session)
        state.active = info.id
        return state, text.active_model(info.label), runs_frame(ctx, session, state.active), _switch_choices(session, state.active)

    @user_errors
    def _prepare_zip(model_id: str, state: Visitor, request: gr.Request):
        """Zip one of this session's runs, on request (stored, not deflated); the zip is deleted with the run."""
        session = session_id(request)
        model_id = model_id or state.active
        info = ctx.store.info(model_id, session)
        if info.owner is None:
            raise UserError(
                "共享模型就在代码仓库里（model/、model_chinese/），这里只打包你微调的模型。",
                "Shared models are in the repository (model/, model_chinese/); only your fine-tuned runs are zipped here.",
            )
        archive = ctx.downloads.zip_of(info.path, f"finetuned-{info.id[:6]}.zip", info.attachments, owner=ctx.visitor(request))
        size_mb = archive.stat().st_size / 2**20
        return gr.update(value=str(archive), visible=True), text.ZIP_READY.format(mb=size_mb)

    def _forget_zip():
        """The zip link and its line belong to the model in the picker: another pick (an activation, a new run) hides them."""
        return gr.update(value=None, visible=False), ""

    def _after_switch(state: Visitor, request: gr.Request):
        """The search tab switched the model: the runs table and the picker follow."""
        return runs_frame(ctx, session_id(request), state.active), gr.update(value=state.active)

    upload_outputs = [visitor, report_md, preview, pending_md, triplet_file]
    triplet_file.upload(_check_upload, [triplet_file, visitor], upload_outputs, api_visibility="private")
    triplet_file.clear(_check_upload, [triplet_file, visitor], upload_outputs, api_visibility="private")
    recipe.input(lambda r: DEFAULT_START[r], [recipe], [start_from], queue=False, api_visibility="private")
    generate_btn.click(
        _generate,
        [hard_negatives, visitor],
        [visitor, report_md, preview, generated_file, pending_md],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="heavy",  # with Compare and the 2-D map: one CPU-heavy task at a time, apart from searches
    )
    # The plan follows everything it depends on: the waiting triplets (pending_md changes with them) and the settings,
    # and is there when the page opens (a run needs no upload: it trains on the catalog's pairs).
    plan_inputs = [recipe, epochs, batch_size, steps, visitor]
    gr.on(None, _plan, plan_inputs, [plan_md], queue=False, api_visibility="private")  # None: the page's load and every input
    pending_md.change(_plan, plan_inputs, [plan_md], queue=False, api_visibility="private")
    if page is not None:
        page.select(_plan, plan_inputs, [plan_md], queue=False, api_visibility="private")
        # The shared models' figures are measured after the page is built: the table shows them when the tab opens.
        page.select(_runs_table, [visitor], [runs], queue=False, api_visibility="private")
    # While a run streams, Start is greyed out (a second click would be refused: one run per session) and Stop is red.
    started = start_btn.click(
        lambda: (gr.update(variant="stop"), gr.update(interactive=False)), None, [stop_btn, start_btn], queue=False, api_visibility="private"
    )
    finetuned = started.then(
        _start_finetune,
        [triplet_file, epochs, batch_size, learning_rate, loss, start_from, extend_vocab, recipe, steps, eval_file, visitor],
        [status, loss_plot, metrics, golden, wrong, runs, active_md, run_picker, model_zip, visitor, pending_md, model_choice],
        # Several handlers may be in flight, but the training line lets one train; the others show their place in line.
        api_name="finetune",
        concurrency_limit=settings.max_waiting_finetunes + 1,
        concurrency_id="finetune",
    )
    ended = finetuned.then(
        lambda: (gr.update(variant="secondary"), gr.update(interactive=True)), None, [stop_btn, start_btn], queue=False, api_visibility="private"
    )
    ended.then(_plan, plan_inputs, [plan_md], queue=False, api_visibility="private")  # the estimate, at the pace just measured
    stop_btn.click(_stop, [status], [status], queue=False, api_visibility="private")
    activate_btn.click(_activate, [run_picker, visitor], [visitor, active_md, runs, model_choice], api_name="activate")
    zip_btn.click(_prepare_zip, [run_picker, visitor], [model_zip, zip_md], api_name="model_zip", concurrency_limit=1)
    run_picker.change(_forget_zip, None, [model_zip, zip_md], queue=False, api_visibility="private")
    model_choice.input(_after_switch, [visitor], [runs, run_picker], queue=False, api_visibility="private")
