"""Similarity tab: one-vs-many bars (the Hub widget), an N×N heatmap, a 2-D catalog map, matrix download."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr
import numpy as np
import pandas as pd

from shopsearch.common.errors import UserError
from shopsearch.data.csvio import to_safe_csv
from shopsearch.retrieval import similarity
from shopsearch.retrieval.embeddings import Encoder
from shopsearch.serving.models import BASE, SHIPPED, ModelStore
from shopsearch.ui import figures
from shopsearch.ui.context import AppContext, Visitor, session_id, user_errors

# The seed model card's widget groups: a source sentence and three candidates.
PRESETS = {
    "羽毛球拍 badminton": [
        "我想买一个羽毛球拍",
        "疾光 77 羽毛球拍 攻防兼备的4U轻量级平衡型羽毛球拍。",
        "恒温瓶 1升 1升容量，双层真空不锈钢保温瓶，可保温12小时。",
        "台湾百条必走步道全图解 包含地图、交通、难易度分级的健行步道工具书。",
    ],
    "篮球 basketball": [
        "有什么好的斯伯丁街头篮球推荐吗？",
        "童趣派 10寸儿童平板 专为儿童设计的10英寸平板电脑，内置家长控制功能并附赠防摔保护套。",
        "气流 Pro 自行车头盔 轻量化、高通风性的专业自行车头盔。",
        "斯伯丁街头篮球 采用耐磨合成皮的室内外两用7号篮球。",
    ],
    "网速 router": [
        "寻找一款网速",
        "清视 Pro 会议摄像头 支持1080p 60fps和120度广角的视频会议摄像头，内置降噪麦克风。",
        "网速 AX55 无线路由器 AX3000级别的Wi-Fi 6无线路由器，适合中小坪数家庭。",
        "力动 Pro 无线运动耳机 IPX7级防水，超长续航的运动无线蓝牙耳机，采用耳挂式设计，运动时不易脱落。",
    ],
    "K7 keyboard": [
        "寻找一款K7",
        "野径大师 X4 越野跑鞋 专业级越野跑鞋，具有出色的抓地力和Gore-Tex防水性能。",
        "机械师 K7 机械键盘 采用Gateron青轴的104键RGB机械键盘。",
        "力动 Pro 无线运动耳机 IPX7级防水，超长续航的运动无线蓝牙耳机，采用耳挂式设计，运动时不易脱落。",
    ],
    "童趣派 kids tablet": [
        "最近在看童趣派，有什么建议？",
        "童趣派 10寸儿童平板 专为儿童设计的10英寸平板电脑，内置家长控制功能并附赠防摔保护套。",
        "重力感应车载手机支架 采用重力联动设计的冷气出风口夹式车载手机支架。",
        "罗马的黄昏：一部帝国衰亡史 一本关于罗马帝国晚期社会变迁的畅销历史著作。",
    ],
}
MODEL_CHOICES = [
    ("当前模型 active", "active"),
    ("种子模型 seed", "seed"),
    ("基础模型 base", "base"),
    ("差值 difference (active − base)", "difference"),
]


MAP_OF_ACTIVE = "当前模型的地图（差值只用于热力图和第一句 vs 其余）· The active model's map (the difference is for the heatmap and first vs rest)"


def _model_id(choice: str, state: Visitor, store: ModelStore, session: str | None) -> str:
    """The store's id for a choice of MODEL_CHOICES ("difference" is computed from active and base); an expired run
    falls back to the default model with a notice."""
    if choice in ("base", "seed"):
        return {"base": BASE, "seed": SHIPPED}[choice]
    active, expired = state.active_model(store, session)
    if expired:
        gr.Info(expired)
    return active


def _remember(view: str) -> Callable[[], str]:
    """A listener that records the view a button asks for: a change of model redraws it."""
    return lambda: view


def _reveal() -> tuple:
    """After a view is drawn: show the table and its download."""
    return gr.update(visible=True), gr.update(visible=True)


def build(ctx: AppContext, visitor: gr.State) -> None:
    settings = ctx.settings
    with gr.Row():
        preset = gr.Dropdown(list(PRESETS), value=None, label="预设 Presets (seed widget)", scale=2)
        products = gr.Dropdown(
            [(f"{p.name}", p.id) for p in ctx.catalog.products],
            multiselect=True,
            label="从目录挑选商品（加到句子后面）· Pick products from the catalog (added below your sentences)",
            scale=3,
            max_choices=settings.max_sentences,
            elem_id="pick-products",
        )
    sentences = gr.Textbox(
        "\n".join(PRESETS["K7 keyboard"]),
        lines=6,
        max_lines=20,
        elem_id="sentences",
        label=f"句子，每行一个（最多 {settings.max_sentences} 个） · Sentences, one per line (up to {settings.max_sentences})",
    )
    picked = gr.State([])  # the products the picker has put in the box, to take out the lines of those it drops
    model_choice = gr.Radio(MODEL_CHOICES, value="active", label="模型 Model", elem_id="similarity-model")
    with gr.Row():
        heat_btn = gr.Button("热力图 Heatmap", variant="primary")
        bars_btn = gr.Button("第一句 vs 其余 · First vs the rest")
        map_btn = gr.Button("二维地图 2-D map")
    plot = gr.Plot(elem_id="similarity-plot")
    # The table and its download appear with the first view: before it there is nothing to show or save.
    matrix = gr.Dataframe(interactive=False, elem_id="matrix", wrap=True, visible=False)
    download = gr.DownloadButton("下载矩阵 CSV · Download matrix", size="sm", visible=False)
    view = gr.State(None)  # the view drawn last ("heatmap", "source", "map"): a change of model redraws it

    def _model_for(choice: str, state: Visitor, session: str | None) -> Encoder:
        """The chosen model's encoder: its ONNX export when there is one (the model is then never loaded in torch)."""
        return ctx.store.encoder(_model_id(choice, state, ctx.store, session), session)

    def _matrix_for(choice: str, lines: list[str], state: Visitor, session: str | None) -> np.ndarray:
        if choice == "difference":
            return similarity.pairwise(_model_for("active", state, session), lines) - similarity.pairwise(_model_for("base", state, session), lines)
        return similarity.pairwise(_model_for(choice, state, session), lines)

    @user_errors
    def _run_similarity(sentences: str, model_choice: str = "active", state: Visitor | None = None, request: gr.Request | None = None):
        state = state or Visitor()
        lines = similarity.parse_sentences(sentences, settings.max_sentences, settings.max_query_chars)
        values = _matrix_for(model_choice, lines, state, session_id(request))
        title = dict((v, k) for k, v in MODEL_CHOICES)[model_choice]
        fig = figures.similarity_heatmap(lines, values, title=title, diverging=model_choice == "difference")
        frame = pd.DataFrame(np.round(values.astype(np.float64), 4), columns=figures.unique_labels(lines, 16))
        frame.insert(0, "sentence", lines)
        return fig, frame, _csv(frame, "similarity_matrix.csv")

    def _csv(frame: pd.DataFrame, name: str) -> str:
        """The table under the plot as a download: every view replaces the previous view's file."""
        path = ctx.downloads.new_path(name)
        to_safe_csv(frame, path)
        return str(path)

    @user_errors
    def _run_source(sentences: str, model_choice: str, state: Visitor, request: gr.Request):
        lines = similarity.parse_sentences(sentences, settings.max_sentences + 1, settings.max_query_chars)
        if len(lines) < 2:
            raise UserError("第一行是源句，至少还需要一行。", "The first line is the source; add at least one more line.")
        session = session_id(request)
        if model_choice == "difference":
            scores = similarity.source_scores(_model_for("active", state, session), lines[0], lines[1:]) - similarity.source_scores(
                _model_for("base", state, session), lines[0], lines[1:]
            )
        else:
            scores = similarity.source_scores(_model_for(model_choice, state, session), lines[0], lines[1:])
        frame = pd.DataFrame({"sentence": lines[1:], "score": np.round(scores.astype(np.float64), 4)}).sort_values("score", ascending=False)
        # Numbered as in the box (and the heatmap): the source is line 1, the first candidate line 2.
        return figures.score_bars(lines[0], lines[1:], scores), frame, _csv(frame, "similarity_to_first.csv")

    @user_errors
    def _run_map(sentences: str, model_choice: str, state: Visitor, request: gr.Request):
        """The catalog's 2-D map with the sentences on it; with "difference" chosen, the active model's map, titled so
        (a map shows one model's space: the difference applies to the heatmap and first vs the rest)."""
        lines = similarity.parse_sentences(sentences, settings.max_sentences, settings.max_query_chars, required=False)
        session = session_id(request)
        model_id = _model_id(model_choice, state, ctx.store, session)
        catalog = ctx.catalog_of(state)
        engine = ctx.store.engine(model_id, session, catalog)
        # At most max_map_points products (an even sample of a larger catalog): the figure and the table it sends are
        # ~3 MB for 5,000, held per session until read, and nobody reads 5,000 labels on a scatter plot.
        rows = np.arange(len(catalog))[:: -(-len(catalog) // settings.max_map_points)]
        projection = similarity.Projection(np.asarray(engine.vectors)[rows])
        extra = projection.place(similarity.embed(engine.encoder, lines)) if lines else None
        names, categories = [catalog.products[i].name for i in rows], [catalog.products[i].category for i in rows]
        frame = pd.DataFrame({"name": names + lines, "category": categories + ["你的句子 your sentence"] * len(lines)})
        points = projection.points if extra is None else np.vstack([projection.points, extra])
        frame["x"], frame["y"] = np.round(points[:, 0].astype(np.float64), 4), np.round(points[:, 1].astype(np.float64), 4)
        figure = figures.embedding_map(projection.points, names, categories, extra, lines)
        if model_choice == "difference":
            figure.update_layout(title_text=MAP_OF_ACTIVE, title_font_size=13)
        return figure, frame.tail(len(lines)) if lines else frame.head(0), _csv(frame, "embedding_map.csv")

    def _redraw_light(shown: str | None, sentences: str, model_choice: str, state: Visitor, request: gr.Request):
        """A new model choice redraws the heatmap or first-vs-rest on show (nothing before the first view)."""
        run = {"heatmap": _run_similarity, "source": _run_source}.get(shown or "")
        return (gr.skip(), gr.skip(), gr.skip()) if run is None else run(sentences, model_choice, state, request)

    def _redraw_map(shown: str | None, sentences: str, model_choice: str, state: Visitor, request: gr.Request):
        """A new model choice redraws the 2-D map on show, in the heavy line as the map button does."""
        return _run_map(sentences, model_choice, state, request) if shown == "map" else (gr.skip(), gr.skip(), gr.skip())

    def _apply_preset(name: str | None):
        """A preset is a whole group: it replaces the box, and the picker (whose products left the box) is emptied."""
        return ("\n".join(PRESETS[name]), [], []) if name in PRESETS else (gr.skip(), gr.skip(), gr.skip())

    def _pick_products(ids: list[str] | None, before: list[str], sentences: str | None):
        """The picker edits the box line by line: a product picked is added below the sentences already there (typed ones
        stay), a product taken out of the picker loses its line; a line already in the box is not added twice."""
        ids = [i for i in ids or [] if i in ctx.catalog]
        line_of = {i: ctx.catalog[ctx.catalog.index_of(i)].text for i in {*ids, *before} if i in ctx.catalog}
        dropped = {line_of[i] for i in before if i not in ids and i in line_of}
        lines = [line for line in (sentences or "").splitlines() if line.strip() and line.strip() not in dropped]
        present = {line.strip() for line in lines}
        lines += [line_of[i] for i in ids if line_of[i] not in present]
        return "\n".join(lines), ids

    preset.change(_apply_preset, [preset], [sentences, products, picked], api_visibility="private")
    products.input(_pick_products, [products, picked, sentences], [sentences, picked], api_visibility="private")
    drawn = [
        heat_btn.click(_run_similarity, [sentences, model_choice, visitor], [plot, matrix, download], api_name="similarity", concurrency_limit=2),
        bars_btn.click(_run_source, [sentences, model_choice, visitor], [plot, matrix, download], api_name="similarity_source", concurrency_limit=2),
        # The map may embed a whole uploaded catalog: in the heavy line with Compare and Generate, one at a time.
        map_btn.click(
            _run_map,
            [sentences, model_choice, visitor],
            [plot, matrix, download],
            api_name="embedding_map",
            concurrency_limit=1,
            concurrency_id="heavy",
        ),
    ]
    for button, event, name in zip((heat_btn, bars_btn, map_btn), drawn, ("heatmap", "source", "map")):
        button.click(_remember(name), None, [view], queue=False, api_visibility="private")  # at the click: a redraw follows it
        # The API's answers stay plain values; the page shows the table and its download once a view is drawn.
        event.success(_reveal, None, [matrix, download], queue=False, api_visibility="private")
    redraw_inputs = [view, sentences, model_choice, visitor]
    # The last choice wins ("always_last": a choice made while a redraw waits is not dropped), each view in its button's line.
    model_choice.input(
        _redraw_light, redraw_inputs, [plot, matrix, download], api_visibility="private", concurrency_limit=2, trigger_mode="always_last"
    )
    model_choice.input(
        _redraw_map,
        redraw_inputs,
        [plot, matrix, download],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="heavy",
        trigger_mode="always_last",
    )
