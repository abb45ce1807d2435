"""Gradio app: 搜索 Search · 相似度 Similarity · 微调 Fine-tune over the shipped model and catalog.

`demo` is built at import (Spaces and `gradio app.py` look for it); `python app.py` launches it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model hub here or on an offline Space: never try the network

import gradio as gr
from starlette.middleware import Middleware

from shopsearch.common.config import Settings, base_model_path, get_settings
from shopsearch.common.errors import UserError
from shopsearch.data.catalog import load_catalog
from shopsearch.retrieval.embeddings import EmbeddingCache
from shopsearch.retrieval.evaluation import load_queries
from shopsearch.retrieval.onnx_encoder import remove_stale_exports
from shopsearch.serving.body_limit import BodyLimit
from shopsearch.serving.fairness import Fairness
from shopsearch.serving.janitor import Janitor
from shopsearch.serving.models import ModelStore
from shopsearch.ui import finetune_tab, search_tab, similarity_tab, text
from shopsearch.ui.context import AppContext, Visitor, max_request_mb, session_id

CSS = """
.hits { display: flex; flex-direction: column; gap: 6px; }
.hit { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; overflow-wrap: anywhere; }
.hit-head { display: flex; gap: 8px; align-items: baseline; }
.hit-rank { font-weight: 700; min-width: 1.6em; color: var(--body-text-color-subdued); }
.hit-name { font-size: 1.05em; }
.hit-name mark { background: #ffe58a; padding: 0 1px; border-radius: 2px; }
.hit-meta { font-size: 0.95em; }
.hit-break { font-size: 0.9em; color: var(--body-text-color); opacity: 0.85; }
.hit-weak { opacity: 0.6; }
.hit-demoted { color: var(--body-text-color-subdued); font-style: italic; }
#query-chips label { border-radius: 999px; }
.hit-weak-sep { font-size: 0.9em; border-top: 1px dashed var(--border-color-primary); padding-top: 4px; }
.tokens { display: flex; flex-wrap: wrap; gap: 4px; }
.tok { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 1px 5px; font-family: monospace; }
.tok.unk { background: #ffd6d6; border-color: #e57373; }
/* Phones: gradio's 32 px side padding and large headings leave ~320 px; its tab bar then hides the third tab
   behind a "…" menu. Tighter padding, smaller headings and tabs keep all three tabs and the content visible. */
@media (max-width: 640px) {
  .prose h1 { font-size: 1.3em !important; line-height: 1.3 !important; }
  .title-tail { display: none; }
  #active-model .md, #warming .md, #timing .md { font-size: var(--text-sm) !important; }
  /* .tab-container covers gradio's hidden copy of the tab bar, which it measures to decide what overflows */
  .tab-container button { padding-left: 6px !important; padding-right: 6px !important; font-size: 0.85em !important; }
  /* Results first: once the search tab shows results (or a message where they go), the first one sits under the query
     box; the timing details, then the model switch and the examples (#search-extras), then the panels follow them. */
  .column:has(> #result-cards :is(.hits, p)) > #timing { order: 1; }
  .column:has(> #result-cards :is(.hits, p)) > #search-extras { order: 2; }
  .column:has(> #result-cards :is(.hits, p)) > #result-cards ~ * { order: 3; }
  /* The run picker has a line of its own (at half the row its labels were cut: "中文模型（扩展词…"), the buttons under it. */
  #run-row { flex-wrap: wrap !important; }
  #run-row > :is(#run-picker, :has(#run-picker)) { flex: 1 1 100% !important; min-width: 100% !important; }
}
"""


# Outside gradio's scoping (its `css` only reaches inside the page's content): the page's own side padding.
HEAD = "<style>@media (max-width: 640px) { .gradio-container .app { padding-left: 6px !important; padding-right: 6px !important; } }</style>"


# Set once the server is up: the background warm-up then imports the training stack (torch & co., ~6 CPU-s), which
# would otherwise compete with building and serving the first page.
PAGE_SERVED = threading.Event()


def build_context(settings: Settings) -> AppContext:
    """Load everything shared by all visitors. Raises UserError with one clear line on a broken set-up."""
    if not (settings.model_dir / "model.safetensors").is_file():
        raise UserError(
            f"找不到模型 {settings.model_dir}/model.safetensors。",
            f"No model at {settings.model_dir}/model.safetensors: restore model/ from git "
            "(git checkout -- model) or rebuild it with `python -m shopsearch.training`.",
        )
    catalog = load_catalog(settings.catalog_path)
    cache = EmbeddingCache(settings.cache_dir)
    chinese_dir = settings.chinese_model_dir if (settings.chinese_model_dir / "model.safetensors").is_file() else None
    if chinese_dir is None:
        logging.getLogger(__name__).warning("no Chinese-aware model at %s: searching with the seed model", settings.chinese_model_dir)
    store = ModelStore(
        settings.model_dir,
        base_model_path(),
        settings.runs_dir,
        cache,
        max_loaded_runs=settings.max_session_models,
        ttl_seconds=settings.run_ttl_seconds,
        ann_threshold=settings.ann_threshold,
        chinese_dir=chinese_dir,
    )
    store.shared_catalogs.add(catalog.documents_fingerprint)
    # No session outlives the process: what the previous one cached for its visitors (their catalogs' vectors, runs'
    # ONNX exports, ~90 MB each) goes now.
    store.remove_visitor_files()
    if store.is_cached(store.default_id, catalog):
        # From the cached vectors and ONNX export alone (no torch): ~3 CPU-s with the first search's dictionaries
        # (jieba's alone is 1.5 s). The page waits for it, so the first search is as fast as any other.
        store.ready_default(catalog)
    # In the background, while the page is built and served: on a first start the default engine (the model embeds
    # the catalog and is exported; searches wait for it), the seed and base models' engines, then the training stack.
    warming = store.warm(catalog, then_training=PAGE_SERVED)
    queries = load_queries(settings.eval_queries_path) if settings.eval_queries_path.is_file() else []
    context = AppContext.create(settings, store, catalog, queries, warming)
    # The runs table shows the shared models' figures on the eval set: measured once their engines are warm.
    threading.Thread(target=lambda: (warming.join(), context.finetuner.measure_shared()), name="measure-shared", daemon=True).start()
    # Expiry and the disk budget run on a timer: API clients never end their sessions, and nothing may wait for the
    # next fine-tune to clean up after them.
    context.janitor = Janitor(
        store,
        context.uploads,
        context.downloads,
        settings.gradio_cache_dir,
        settings.disk_budget_mb * 2**20,
        settings.run_ttl_seconds,
        training=lambda: context.training.busy,
        owners=context.budgets.owners,
        serving=context.budgets.serving,
    )
    # Sessions never outlive the process: what a previous one left for its visitors (zips, uploaded catalogs) goes now,
    # so a zip of a run deleted with its process is never served again.
    context.downloads.clear()
    context.uploads.clear()
    remove_stale_exports(settings.cache_dir)  # exports in a format this code no longer reads (~90 MB each)
    context.janitor.sweep()
    context.janitor.start(settings.sweep_seconds)
    return context


def build_demo(ctx: AppContext) -> gr.Blocks:
    # Uploads and outputs in gradio's cache are deleted after an hour (checked every 10 minutes).
    with gr.Blocks(title="中文商品搜索 Chinese product search", delete_cache=(600, 3600)) as demo:
        visitor = gr.State(Visitor(active=ctx.store.default_id))
        gr.Markdown(f"# {text.TITLE} <span class='title-tail'>{text.TITLE_TAIL}</span>", elem_id="title")
        with gr.Accordion(text.ABOUT_LABEL, open=False, elem_id="about"):  # collapsed: a phone shows the search box first
            gr.Markdown(text.INTRO)
        active_md = gr.Markdown(text.active_model(ctx.store.info(ctx.store.default_id, None).label), elem_id="active-model")
        pending_md = gr.Markdown(elem_id="pending")
        warming_md = gr.Markdown(elem_id="warming")
        warming_timer = gr.Timer(2.0)
        with gr.Tabs():
            with gr.Tab(text.TAB_SEARCH, id="search"):
                model_choice = search_tab.build(ctx, visitor, active_md, pending_md)
            with gr.Tab(text.TAB_SIMILARITY, id="similarity"):
                similarity_tab.build(ctx, visitor)
            with gr.Tab(text.TAB_FINETUNE, id="finetune") as finetune_page:
                finetune_tab.build(ctx, visitor, active_md, pending_md, model_choice, finetune_page)

        def _forget_session(request: gr.Request) -> None:
            ctx.store.drop_session(session_id(request) or "")

        def _show_warming():
            """While the other models warm up after start-up, say so; the timer stops once they are ready."""
            busy = ctx.warming is not None and ctx.warming.is_alive()
            return (text.WARMING if busy else ""), gr.Timer(active=busy)

        demo.load(_show_warming, None, [warming_md, warming_timer], api_visibility="private", queue=False)
        warming_timer.tick(_show_warming, None, [warming_md, warming_timer], api_visibility="private", queue=False)
        demo.unload(_forget_session)
    return demo


# gradio's queue loop looks for new events every 1 ms while it is empty: 1,000 wake-ups a second on the server's
# event-loop thread, each taking the GIL and a core from a fine-tune's two training threads (that thread used ~10% of
# a core through a fine-tune). Every 10 ms adds at most 10 ms to an event's start, far below what a visitor notices.
QUEUE_IDLE_POLL_S = 0.01


def with_queue(demo: gr.Blocks) -> gr.Blocks:
    """`demo` with its queue: one event at a time per handler, polled every QUEUE_IDLE_POLL_S while idle."""
    demo.queue(default_concurrency_limit=1)
    demo._queue.sleep_when_free = QUEUE_IDLE_POLL_S  # private in gradio 6; tests/test_app_api.py checks it is still read
    return demo


def launch_kwargs(settings: Settings, ctx: AppContext | None = None) -> dict:
    """What `launch` needs besides the port: the page's style, the caps, and the door (`ctx`: the app's context)."""
    ctx = ctx or context
    return {
        "css": CSS,
        "head": HEAD,
        # gradio's own cap (its message is English-only) sits far above ours, so a 100 MB file still reaches
        # the handlers and gets the bilingual "over the 5 MB limit" message; they check the size before reading.
        "max_file_size": f"{max_request_mb(settings)}mb",
        "allowed_paths": [],
        "show_error": False,
        # Outermost first. Text bodies over 1 MB are refused before gradio parses them (uploads have their own route);
        # then each visitor's share (fairness.py): queue places, requests in flight, every part of an upload.
        "app_kwargs": {"middleware": [Middleware(BodyLimit, max_bytes=1_000_000), Middleware(Fairness, budgets=ctx.budgets)]},
    }


def _startup_context() -> AppContext:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return build_context(get_settings())
    except UserError as err:
        print(f"启动失败 · cannot start: {err}", file=sys.stderr)
        raise SystemExit(2) from None


context = _startup_context()
demo = build_demo(context)

if __name__ == "__main__":
    settings = get_settings()
    with_queue(demo).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=settings.port,
        prevent_thread_lock=True,
        **launch_kwargs(settings),
    )
    PAGE_SERVED.set()
    demo.block_thread()  # returns on Ctrl-C (SIGINT), once gradio has closed its server
    # Leave at once: the warm-up thread may be inside onnxruntime's or torch's C++, and ending the interpreter under it
    # aborts the process ("terminate called without an active exception", exit -6).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
