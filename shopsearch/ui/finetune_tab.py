"""Fine-tune tab: upload/generate triplets → check → train with live loss → before/after → session's model."""

from __future__ import annotations

import contextvars
import queue
import shutil
import threading
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from shopsearch import figures
from shopsearch.csvio import to_safe_csv
from shopsearch.errors import UserError
from shopsearch.estimates import RunTimer, StopSignal, check_step_cap, planned_steps
from shopsearch.evaluation import evaluate_engine, margins_accuracy, still_wrong, triplet_accuracy, triplet_margins
from shopsearch.threads import in_own_thread
from shopsearch.models import BASE, CHINESE, SHIPPED
from shopsearch.train_params import LOSSES, StepLog, TrainParams
from shopsearch.triplets import DROP_REASONS, CheckReport, TripletSet, generate, holdout_size, read_triplets, with_hard_negatives
from shopsearch.ui import text
from shopsearch.ui.context import AppContext, Visitor, log, session_id, user_errors

GOLDEN = ["我想买一个羽毛球拍", "有什么好的斯伯丁街头篮球推荐吗？", "寻找一款网速", "寻找一款K7", "最近在看童趣派，有什么建议？"]
TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "triplets_example.csv"
START_CHOICES = [("基础模型 base", BASE), ("中文模型 Chinese-aware", CHINESE), ("种子模型 seed", SHIPPED), ("当前模型 active", "active")]
RECIPES = [("中文配方（默认）Chinese-aware (default)", "chinese"), ("种子配方 seed (TripletLoss)", "seed")]
DEFAULT_START = {"chinese": BASE, "seed": SHIPPED}
EMPTY = {  # what the tables show before there is anything to show: their real headers
    "preview": pd.DataFrame(columns=["sentence_0", "sentence_1", "sentence_2"]),
    "metrics": pd.DataFrame(columns=["metric", "before", "after", "Δ"]),
    "golden": pd.DataFrame(columns=["query", "before", "after"]),
    "wrong": pd.DataFrame(columns=["margin", "anchor", "positive", "negative"]),
}
TAB_STEPS = 40  # the Chinese-aware recipe's default steps in the tab (README: a seed-size run, measured)


def report_markdown(report: CheckReport, triplets: TripletSet, estimate: tuple[int, float, float]) -> str:
    """The check report as Markdown; column names and notices come from the upload, so they are escaped."""
    dropped = "；".join(f"{DROP_REASONS[k][0]} {DROP_REASONS[k][1]}: {v}" for k, v in report.dropped.items()) or "0"
    steps, per_step, seconds = estimate
    lines = [
        f"**读取 rows read:** {report.rows_read} · **保留 kept:** {report.rows_kept} · **丢弃 dropped:** {dropped}",
        f"**编码 encoding:** {report.encoding} · **分隔符 delimiter:** `{repr(report.delimiter)[1:-1]}` · "
        f"**列 columns:** {', '.join(f'{k}={text.escape_markdown(v)}' for k, v in report.columns.items())}",
        f"**超过 256 个 token 的文本 texts over 256 tokens (truncated):** {report.too_long} · "
        f"**[UNK] 字符比例 share of [UNK] characters:** {report.unknown_rate:.0%} · "
        f"**模型不认识的汉字 characters the model can't see:** {report.unknown_chars}"
        + (" （中文配方会把它们加入词表 · the Chinese-aware recipe adds them to the vocabulary）" if report.unknown_chars else ""),
        *(text.escape_markdown(notice) for notice in report.notices),  # they quote the file's column names
        text.ESTIMATE.format(steps=steps, seconds=seconds, per_step=per_step),
    ]
    return "\n\n".join(lines)


def runs_frame(ctx: AppContext, session: str | None, active: str) -> pd.DataFrame:
    """The shared models and this session's runs, the active one marked."""
    rows = [
        {"": "●" if active == i.id else "", "model": i.id, "label": i.label, "Recall@1": None, "MRR@10": None, "triplet acc": None}
        for i in ctx.store.shared()
    ]
    for info in ctx.store.runs(session):
        rows.append({
            "": "●" if active == info.id else "", "model": info.id[:6], "label": info.label,
            "Recall@1": round(info.metrics.get("recall@1", float("nan")), 3), "MRR@10": round(info.metrics.get("mrr@10", float("nan")), 3),
            "triplet acc": round(info.metrics.get("triplet_acc", float("nan")), 3),
        })
    return pd.DataFrame(rows)


def build(ctx: AppContext, visitor: gr.State, active_md: gr.Markdown, pending_md: gr.Markdown) -> None:
    settings = ctx.settings

    def _model_choices(session: str | None) -> list[tuple[str, str]]:
        return [(i.label, i.id) for i in ctx.store.shared() if i.id != BASE] + [(i.label, i.id) for i in ctx.store.runs(session)]

    timer = RunTimer()
    stop_flags: dict[str, threading.Event] = {}
    running: set[str] = set()  # sessions whose fine-tune is in progress
    eval_cache: dict[str, dict[str, float]] = {}

    gr.Markdown(text.LIMITS.format(
        mb=settings.max_upload_mb, rows=settings.max_triplet_rows, epochs=settings.max_epochs, steps=settings.max_train_steps,
        minutes=settings.max_train_seconds / 60, waiting=settings.max_waiting_finetunes,
    ))
    with gr.Row():
        triplet_file = gr.File(label="三元组 CSV · Triplet CSV (anchor, positive, negative)", file_types=[".csv"], elem_id="triplet-file", scale=3)
        with gr.Column(scale=2):
            gr.DownloadButton("下载模板 Download template", value=str(TEMPLATE), size="sm")
            generate_btn = gr.Button("从目录生成三元组 Generate triplets from the catalog", size="sm")
            hard_negatives = gr.Checkbox(False, label="困难负例 Hard negatives", info=text.HARD_NEGATIVES_HELP)
            generated_file = gr.DownloadButton("下载生成的三元组 Download generated", size="sm", visible=False)
    report_md = gr.Markdown(elem_id="check-report")
    preview = gr.Dataframe(EMPTY["preview"], interactive=False, label="预览 Preview", wrap=True, max_height=260, elem_id="preview")
    recipe = gr.Radio(RECIPES, value="chinese", label="配方 Recipe", info=text.RECIPE_HELP, elem_id="recipe")
    with gr.Accordion("超参数 Hyper-parameters", open=False):
        with gr.Row():
            steps = gr.Slider(10, settings.max_chinese_steps, value=TAB_STEPS, step=10, label="中文配方：步数 Chinese-aware recipe: steps")
            start_from = gr.Radio(START_CHOICES, value=DEFAULT_START["chinese"], label="起点 Start from")
        gr.Markdown("种子配方 Seed recipe (TripletLoss)")
        with gr.Row():
            epochs = gr.Slider(1, settings.max_epochs, value=2, step=1, label="轮数 Epochs")
            batch_size = gr.Dropdown([4, 8, 16, 32], value=16, label="批大小 Batch size")
            learning_rate = gr.Number(5e-5, label="学习率 Learning rate", minimum=1e-7, maximum=1e-3)
        with gr.Row():
            loss = gr.Radio(list(LOSSES), value="TripletLoss", label="损失 Loss (TripletLoss: Euclidean, margin 5)")
            extend_vocab = gr.Checkbox(False, label="扩展词表 Extend the tokenizer with the data's Chinese characters", info=text.EXTEND_VOCAB_HELP)
    with gr.Row():
        start_btn = gr.Button("开始微调 Start fine-tune", variant="primary", elem_id="start-finetune")
        stop_btn = gr.Button("停止 Stop", variant="stop", elem_id="stop-finetune")
    status = gr.Markdown(elem_id="finetune-status")
    loss_plot = gr.Plot(label="损失曲线 Loss curve", elem_id="loss-plot")
    metrics = gr.Dataframe(EMPTY["metrics"], interactive=False, label=text.BEFORE_AFTER_LABEL, elem_id="before-after")
    golden = gr.Dataframe(EMPTY["golden"], interactive=False, label="黄金查询 Golden queries (semantic top-1)", wrap=True, elem_id="golden")
    wrong = gr.Dataframe(EMPTY["wrong"], interactive=False, label="训练后仍然错误 Still wrong after training (held-out, worst first)", wrap=True, max_height=300)
    with gr.Accordion("本会话的模型 This session's models", open=True):
        runs = gr.Dataframe(runs_frame(ctx, None, ctx.store.default_id), interactive=False, elem_id="runs")
        with gr.Row():
            run_picker = gr.Dropdown(
                _model_choices(None), value=ctx.store.default_id, label="切换模型 Activate a model", scale=3,
                allow_custom_value=True,  # ownership is checked by the store, with a bilingual message
            )
            activate_btn = gr.Button("启用 Activate", size="sm", scale=1)
            zip_btn = gr.Button("打包模型 .zip · Prepare model zip", size="sm", scale=1, elem_id="prepare-zip")
            model_zip = gr.DownloadButton("下载模型 .zip · Download model", size="sm", visible=False, scale=1, elem_id="model-zip")
        zip_md = gr.Markdown(elem_id="zip-status")

    def _estimate(recipe: str, rows: int, epochs: int, batch: int, steps: int) -> tuple[int, float, float]:
        """The run's estimate, from the same step count the run will take (on the 90% that is trained on)."""
        train_rows = rows - holdout_size(rows, 0.1)
        return timer.estimate(recipe, planned_steps(recipe, train_rows, epochs, batch, steps))

    @user_errors
    def _check_upload(path: str | None, recipe: str, epochs: int, batch: int, steps: int, state: Visitor):
        if not path:
            ctx.set_pending(state, None)
            return state, "", EMPTY["preview"], ""
        try:
            triplets, report = read_triplets(
                path, settings.max_upload_mb, settings.max_triplet_rows, tokenizer=ctx.store.tokenizer(BASE, None)
            )
        except UserError as err:  # the message stays in the report, not only in a toast that fades
            ctx.set_pending(state, None)
            return state, text.file_problem(str(err)), EMPTY["preview"], ""
        ctx.set_pending(state, triplets)
        return (
            state, report_markdown(report, triplets, _estimate(recipe, len(triplets), epochs, batch, steps)), triplets.to_frame().head(20),
            f"{len(triplets)} 个上传的三元组待训练。 · {len(triplets)} uploaded triplets ready to train.",
        )

    @user_errors
    def _generate(recipe: str, epochs: int, batch: int, steps: int, hard: bool, state: Visitor, request: gr.Request):
        catalog = ctx.catalog_of(state)
        triplets = generate(catalog, n=min(500, 3 * len(catalog)))
        mined_note = ""
        if hard:
            model = ctx.store.model(state.active, session_id(request))
            triplets, replaced = in_own_thread(lambda: with_hard_negatives(triplets, catalog, model))  # torch: threads.py
            mined_note = (f"困难负例：{replaced} 个负例换成了当前模型最容易混淆的商品。 · Hard negatives: {replaced} negatives "
                          "replaced by the products the active model confuses most.\n\n")
        ctx.set_pending(state, triplets)
        path = ctx.downloads.new_path("generated_triplets.csv")
        to_safe_csv(triplets.to_frame(), path)
        n_steps, per_step, seconds = _estimate(recipe, len(triplets), epochs, batch, steps)
        note = f"已从 {len(catalog)} 件商品生成 {len(triplets)} 个三元组。 · Generated {len(triplets)} triplets from {len(catalog)} products.\n\n"
        return (
            state, note + mined_note + text.ESTIMATE.format(steps=n_steps, seconds=seconds, per_step=per_step), triplets.to_frame().head(20),
            gr.update(value=str(path), visible=True), f"{len(triplets)} 个生成的三元组待训练。 · {len(triplets)} generated triplets ready.",
        )

    held_out_queries = [q.query for q in ctx.eval_queries] + GOLDEN

    def _before_metrics(model_id: str, session: str | None) -> dict[str, float]:
        info = ctx.store.info(model_id, session)
        if info.fingerprint not in eval_cache:
            engine = ctx.store.engine(model_id, session, ctx.catalog)
            eval_cache[info.fingerprint] = evaluate_engine(engine, ctx.eval_queries, "semantic")
        return eval_cache[info.fingerprint]

    def _golden(model_id: str, session: str | None) -> list[str]:
        engine = ctx.store.engine(model_id, session, ctx.catalog)
        return [engine.search(q, mode="semantic", top=1).hits[0].name for q in GOLDEN]

    @user_errors
    def _start_finetune(
        triplet_file: str | None = None,
        epochs: int = 2,
        batch_size: int = 16,
        learning_rate: float = 5e-5,
        loss: str = "TripletLoss",
        start_from: str = BASE,
        extend_vocab: bool = False,
        recipe: str = "chinese",
        steps: int = TAB_STEPS,
        state: Visitor | None = None,
        request: gr.Request | None = None,
    ):
        """Stream progress while training in a worker thread; the session's active model changes at the end."""
        state = state or Visitor()
        session = session_id(request)
        if triplet_file:
            triplets, _ = read_triplets(triplet_file, settings.max_upload_mb, settings.max_triplet_rows)
        elif (pending := ctx.pending_of(state)) is not None:
            triplets = pending
        else:
            raise UserError("请先上传三元组 CSV 或从目录生成。", "Upload a triplet CSV or generate triplets first.")
        if len(triplets) < 2:
            raise UserError("至少需要 2 个三元组。", "At least 2 triplets are needed.")
        if not 1 <= int(epochs) <= settings.max_epochs:
            raise UserError(f"轮数须在 1 到 {settings.max_epochs} 之间。", f"Epochs must be between 1 and {settings.max_epochs}.")
        if loss not in LOSSES:
            raise UserError("未知的损失函数。", "Unknown loss.")
        if recipe not in DEFAULT_START:
            raise UserError("未知的配方。", "Unknown recipe.")
        if not 1 <= int(steps) <= settings.max_chinese_steps:
            raise UserError(f"步数须在 1 到 {settings.max_chinese_steps} 之间。", f"Steps must be between 1 and {settings.max_chinese_steps}.")
        planned = planned_steps(recipe, len(triplets) - holdout_size(len(triplets), 0.1), epochs, batch_size, steps)
        check_step_cap(planned, settings.max_train_steps)
        start_id = state.active if start_from == "active" else start_from
        start_info = ctx.store.info(start_id, session)

        # The training stack is imported here, not with the page: it costs ~6 CPU-seconds the first page need not wait
        # for (start-up warms it in the background, so this is usually instant).
        from shopsearch.chinese_recipe import ChineseParams, train_chinese
        from shopsearch.training import bf16_is_fast, train, training_threads

        train_set, holdout = triplets.split(0.1)
        # bfloat16 where the CPU has AMX (half the time per step), on both cores (training_threads says why).
        bf16, threads = bf16_is_fast(), training_threads()
        params = TrainParams(
            epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate), loss=loss,
            extend_vocab=bool(extend_vocab), threads=threads, bf16=bf16,
        )
        chinese_params = ChineseParams(steps=int(steps), threads=threads, bf16=bf16)
        catalog = ctx.catalog_of(state)
        steps_total, per_step, seconds = _estimate(recipe, len(triplets), epochs, batch_size, steps)
        stop = stop_flags.setdefault(session or "", threading.Event())
        stop.clear()
        should_stop = StopSignal(stop, settings.max_train_seconds)  # Stop pressed, or the wall-time cap passed

        logged: queue.Queue[StepLog] = queue.Queue()
        outcome: dict[str, object] = {}
        run_id, run_dir = ctx.store.new_run_dir()

        def work() -> None:
            try:
                if recipe == "chinese":
                    # Never train on the queries the report is measured on (eval, golden).
                    outcome["result"] = train_chinese(
                        start_info.path, catalog, train_set, run_dir, chinese_params, exclude=held_out_queries,
                        on_step=logged.put, should_stop=should_stop, onnx_cache_dir=ctx.store.cache.directory,
                    )
                else:
                    outcome["result"] = train(
                        start_info.path, train_set, run_dir, params, on_step=logged.put, should_stop=should_stop,
                        onnx_cache_dir=ctx.store.cache.directory,  # exported at save time: its first search loads it
                    )
            except Exception as err:  # reported to the visitor as a generic failure, logged in full here
                log.exception("fine-tune failed")
                outcome["error"] = err

        worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
        ticket = ctx.training.enter(session or "")  # one place in line per session; a full line refuses at once
        running.add(session or "")
        history: list[StepLog] = []
        try:
            while not ticket.wait(1.0):  # another session's fine-tune is training: say where this one is in line
                if stop.is_set():
                    yield (text.LEFT_QUEUE, *[gr.skip()] * 10)
                    return
                yield (text.WAITING.format(ahead=ticket.position), *[gr.skip()] * 10)
            yield (
                f"训练 {len(train_set)} 个三元组（留出 {len(holdout)} 个评估），{steps_total} 步，预计 {seconds:.0f} 秒。 · "
                f"Training on {len(train_set)} triplets ({len(holdout)} held out), {steps_total} steps, about {seconds:.0f} s.",
                figures.loss_curve([], [], steps_total), EMPTY["metrics"], EMPTY["golden"], EMPTY["wrong"], *[gr.skip()] * 6,
            )
            started = time.perf_counter()
            # torch work in threads of their own, never this handler's: a pool OpenMP leaves in a living thread would slow
            # the fine-tune's steps by ~15% (threads.py).
            before = in_own_thread(
                lambda: {"triplet_acc": triplet_accuracy(ctx.store.model(start_id, session), holdout), **_before_metrics(start_id, session)}
            )
            golden_before = _golden(start_id, session)
            should_stop.start()
            worker.start()
            worker_started = time.perf_counter()
            while worker.is_alive() or not logged.empty():
                worker.join(timeout=0.5)
                fresh = []
                while not logged.empty():
                    fresh.append(logged.get())
                if stop.is_set():
                    yield (text.STOPPING, *[gr.skip()] * 10)
                elif should_stop.timed_out:
                    yield (text.TIME_CAP.format(minutes=settings.max_train_seconds / 60), *[gr.skip()] * 10)
                elif fresh:
                    history.extend(fresh)
                    last = history[-1]
                    eta = timer.eta(recipe, last.step, last.max_steps, last.elapsed_s)
                    yield (
                        f"第 {last.step}/{last.max_steps} 步 · step {last.step}/{last.max_steps} · 损失 loss {last.loss:.4f} · "
                        f"剩余约 ETA {eta:.0f} s", figures.loss_curve([h.step for h in history], [h.loss for h in history], last.max_steps),
                        *[gr.skip()] * 9,
                    )
            if "error" in outcome:
                raise gr.Error(text.INTERNAL_ERROR, print_exception=False)
            result = outcome["result"]
            trained = time.perf_counter()
            steps_s = history[-1].elapsed_s if history else 0.0
            yield (text.EVALUATING, *[gr.skip()] * 10)
            how = f"{text.RECIPE_NAMES[recipe]} · {result.steps_done} steps" if recipe == "chinese" else f"{len(train_set)}×{params.epochs} · {loss}"
            label = f"微调 run {time.strftime('%H:%M:%S')} · {how}" + (" · 已停止 stopped" if result.stopped else "")
            info = ctx.store.add_run(session or "", run_id, result.path, label, {})
            # Encoded once: the accuracy and the "still wrong" table.
            margins = in_own_thread(lambda: triplet_margins(ctx.store.model(run_id, session), holdout))
            after = {"triplet_acc": margins_accuracy(margins), **_before_metrics(run_id, session)}
            info.metrics.update(after)
            golden_after = _golden(run_id, session)
            capped = result.stopped and not stop.is_set()  # the wall-time cap ended it, not the visitor
            if not result.stopped or capped:  # a run the visitor stopped is kept to activate, never switched to silently
                state.active = run_id
            table = pd.DataFrame(
                [{"metric": k, "before": round(before[k], 3), "after": round(after[k], 3), "Δ": round(after[k] - before[k], 3)}
                 for k in ("triplet_acc", "recall@1", "recall@5", "mrr@10", "ndcg@10")]
            )
            golden_df = pd.DataFrame({"query": GOLDEN, "before": golden_before, "after": golden_after})
            wrong_df = pd.DataFrame(
                [{"margin": round(w.margin, 3), "anchor": w.anchor, "positive": w.positive, "negative": w.negative} for w in still_wrong(margins)],
                columns=["margin", "anchor", "positive", "negative"],
            )
            before_s, after_s = worker_started - started + result.seconds - steps_s, time.perf_counter() - trained
            timer.record(recipe, result.steps_done, before_s, steps_s, after_s)
            log.info("fine-tune (%s, %d steps): start model evaluated in %.1f s; %.1f s of steps, %.1f s more in the trainer "
                     "(load, save, ONNX export); new model evaluated in %.1f s", recipe, result.steps_done,
                     worker_started - started, steps_s, result.seconds - steps_s, after_s)
            choices = _model_choices(session)
            if capped:
                done = text.CAPPED.format(minutes=settings.max_train_seconds / 60, done=result.steps_done, total=result.max_steps)
            elif result.stopped:
                done = (f"已停止：{result.steps_done}/{result.max_steps} 步，{result.seconds:.0f} 秒。模型已保留，可在下方启用。 · "
                        f"Stopped: {result.steps_done}/{result.max_steps} steps, {result.seconds:.0f} s. The model is kept; activate it below.")
            else:
                done = (f"完成：{result.steps_done} 步，{result.seconds:.0f} 秒。本会话的搜索和相似度现在使用新模型。 · "
                        f"Done: {result.steps_done} steps, {result.seconds:.0f} s. This session's search and similarity now use the new model.")
            yield (
                done, gr.skip(), table, golden_df, wrong_df, runs_frame(ctx, session, state.active),
                text.active_model(ctx.store.info(state.active, session).label),
                gr.update(choices=choices, value=run_id), gr.update(value=None, visible=False), state, "",
            )
        finally:
            ticket.leave()
            running.discard(session or "")
            stop.set()  # a closed page or a cancelled job must not leave the trainer running
            if worker.is_alive():
                threading.Thread(target=lambda: (worker.join(), shutil.rmtree(run_dir, ignore_errors=True)), daemon=True).start()
            elif run_id not in {i.id for i in ctx.store.runs(session)}:
                shutil.rmtree(run_dir, ignore_errors=True)

    def _stop(request: gr.Request):
        session = session_id(request) or ""
        if session not in running:
            return text.NOTHING_RUNNING
        stop_flags[session].set()
        return text.STOPPING

    @user_errors
    def _activate(model_id: str, state: Visitor, request: gr.Request):
        info = ctx.store.info(model_id or SHIPPED, session_id(request))
        state.active = info.id
        return state, text.active_model(info.label), runs_frame(ctx, session_id(request), state.active)

    @user_errors
    def _prepare_zip(model_id: str, state: Visitor, request: gr.Request):
        """Zip one of this session's runs, on request (stored, not deflated); the zip is deleted with the run."""
        session = session_id(request)
        model_id = model_id or state.active
        info = ctx.store.info(model_id, session)
        if info.owner is None:
            raise UserError("共享模型就在代码仓库里（model/、model_chinese/），这里只打包你微调的模型。",
                            "Shared models are in the repository (model/, model_chinese/); only your fine-tuned runs are zipped here.")
        archive = ctx.downloads.zip_of(info.path, f"finetuned-{info.id[:6]}.zip", info.attachments)
        size_mb = archive.stat().st_size / 2**20
        return gr.update(value=str(archive), visible=True), text.ZIP_READY.format(mb=size_mb)

    check_inputs = [triplet_file, recipe, epochs, batch_size, steps, visitor]
    triplet_file.upload(_check_upload, check_inputs, [visitor, report_md, preview, pending_md], api_visibility="private")
    triplet_file.clear(_check_upload, check_inputs, [visitor, report_md, preview, pending_md], api_visibility="private")
    recipe.input(lambda r: DEFAULT_START[r], [recipe], [start_from], api_visibility="private", queue=False)
    generate_btn.click(_generate, [recipe, epochs, batch_size, steps, hard_negatives, visitor], [visitor, report_md, preview, generated_file, pending_md], api_visibility="private")
    start_btn.click(
        _start_finetune,
        [triplet_file, epochs, batch_size, learning_rate, loss, start_from, extend_vocab, recipe, steps, visitor],
        [status, loss_plot, metrics, golden, wrong, runs, active_md, run_picker, model_zip, visitor, pending_md],
        # Several handlers may be in flight, but ctx.training lets one train; the others show their place in line.
        api_name="finetune", concurrency_limit=settings.max_waiting_finetunes + 1, concurrency_id="finetune",
    )
    stop_btn.click(_stop, None, [status], api_visibility="private", queue=False)
    activate_btn.click(_activate, [run_picker, visitor], [visitor, active_md, runs], api_name="activate")
    zip_btn.click(_prepare_zip, [run_picker, visitor], [model_zip, zip_md], api_name="model_zip", concurrency_limit=1)
