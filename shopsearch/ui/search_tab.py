"""Search tab: query → ranked products with score breakdown, what the model sees, compare, feedback, own catalog."""

from __future__ import annotations

import html
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from shopsearch.common.errors import UserError
from shopsearch.data.catalog import load_catalog
from shopsearch.data.csvio import to_safe_csv
from shopsearch.retrieval.search import DEFAULT_ALPHA, Filters, SearchHit, SearchResult, validate_query
from shopsearch.serving.models import SHIPPED
from shopsearch.text.glosses import is_cjk
from shopsearch.text.intent import ParsedQuery
from shopsearch.text.lexical import tokenize
from shopsearch.text.tokens import view
from shopsearch.ui import text
from shopsearch.ui.context import AppContext, Visitor, bounded_slider, session_id, user_errors

EXAMPLES = [
    "我想买一个羽毛球拍",
    "有什么好的斯伯丁街头篮球推荐吗？",
    "寻找一款网速",
    "寻找一款K7",
    "最近在看童趣派，有什么建议？",
    "跑步时戴不会掉的耳机",
    "AX3000 路由器",
    "wireless mechanical keyboard",
]
# Hits scoring under this share of the first hit's score are set apart as weak (e.g. `寻找一款K7`: the K7 keyboard,
# then products that only share 款); a judgement call, not calibrated: it separates, it does not hide.
WEAK_SHARE = 0.5
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
TABLE_COLUMNS = ["rank", "name", "category", "price", "score", "semantic", "lexical", "e5", "rank_semantic", "rank_lexical", "id"]


def results_frame(result: SearchResult) -> pd.DataFrame:
    """The API's table: plain text, rank order, float64 rounded (float32 would show 0.7436000108718872)."""
    rows = [
        {
            "rank": h.rank,
            "name": h.name,
            "category": h.category,
            "price": h.price,
            "score": round(float(h.score), 4),
            "semantic": round(float(h.semantic), 4),
            "lexical": round(float(h.lexical), 3),
            "e5": None if h.reference is None else round(h.reference, 4),
            "rank_semantic": h.rank_semantic,
            "rank_lexical": h.rank_lexical,
            "id": h.product_id,
        }
        for h in result.hits
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _fold(name: str) -> tuple[str, list[int]]:
    """Fold `name` as query terms are folded (NFKC, lower case), one character at a time, remembering where each
    folded character came from — folding can lengthen a character ("İ".lower() is 2 characters).

    Example: _fold("İＫ7") -> ("i̇k7", [0, 0, 1, 2])
    """
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(name):
        piece = unicodedata.normalize("NFKC", ch).lower()
        pieces.append(piece)
        origin.extend([i] * len(piece))
    return "".join(pieces), origin


def _joined(folded: str) -> tuple[str, list[int]]:
    """`folded` without the hyphens, dots, underscores and spaces between two latin letters or digits, and where each
    kept character stands in it: BM25 joins such runs (`lexical.tokenize`), so its joined tokens are marked there too.

    Example: _joined("heyna_official 外套") -> ("heynaofficial 外套", [0, 1, 2, 3, 4, 6, …])
    """
    latin = [ch.isascii() and ch.isalnum() for ch in folded]
    kept = [i for i, ch in enumerate(folded) if not (ch in "-._ " and 0 < i < len(folded) - 1 and latin[i - 1] and latin[i + 1])]
    return "".join(folded[i] for i in kept), kept


def highlight(name: str, terms: list[str]) -> str:
    """Escape `name` and wrap each occurrence of a query term in <mark> (longest terms first), matching on its
    folded copy (see `_fold`), and on that copy with latin runs joined (`_joined`: "heynaofficial" marks the letters of
    "HEYNA_Official"), so marks land on the original characters.

    Example: highlight("机械师 K7 机械键盘", ["k7", "键"]) -> "机械师 <mark>K7</mark> 机械<mark>键</mark>盘"
    """
    marks = [False] * len(name)
    folded, origin = _fold(name)
    compact = _joined(folded)
    for term in sorted(terms, key=len, reverse=True):
        for copy, at in ((folded, range(len(folded))), compact):
            start = copy.find(term)
            while term and start >= 0:
                for k in range(start, start + len(term)):
                    marks[origin[at[k]]] = True
                start = copy.find(term, start + len(term))
    out, open_ = [], False
    for ch, marked in zip(name, marks):
        if marked and not open_:
            out.append("<mark>")
        elif not marked and open_:
            out.append("</mark>")
        open_ = marked
        out.append(html.escape(ch))
    if open_:
        out.append("</mark>")
    return "".join(out)


def highlight_terms(query: str) -> list[str]:
    """What to mark in a hit's name: the query's latin words, its Chinese bigrams, and a Chinese character only when
    it stands alone in the query (`男` in `跑步鞋 男`). A character of a longer word (`步` of `跑步`) is not marked by
    itself: inside a brand name like `步云` it is a coincidence, not a match.

    Example: highlight_terms("跑步鞋 男") -> ["跑步", "步鞋", "男"]; highlight_terms("K7") -> ["k7"]
    """
    lone = {run for run in _CJK_RUN.findall(unicodedata.normalize("NFKC", query)) if len(run) == 1}
    return [t for t in dict.fromkeys(tokenize(query)) if len(t) > 1 or not is_cjk(t) or t in lone]


def chip_choices(parsed: ParsedQuery | None) -> tuple[list[tuple[str, str]], list[str]]:
    """The chip checkboxes for a parsed query: every intent read (in the order of the query) as (label, id), and
    the ids ticked — the ones in force; a removed chip stays listed, unticked, so it can be put back.

    Example: parse_query("耳机 两百以内", ignore=("price",)) -> ([("价格 ≤ ¥200 · price ≤ 200", "price:两百以内")], [])
    """
    if parsed is None:
        return [], []
    chips = sorted(parsed.chips + parsed.ignored, key=lambda c: c.span)
    return [(c.label, c.id) for c in chips], [c.id for c in parsed.chips]


def removed_chips(parsed: ParsedQuery | None, ticked: list[str] | None) -> tuple[str, ...]:
    """The ids of the chips the user unticked: what the next search must ignore.

    Example: chips "not:4g" and "price:两百以内", ticked ["not:4g"] -> ("price:两百以内",)
    """
    if parsed is None:
        return ()
    kept = set(ticked or ())
    return tuple(c.id for c in parsed.chips + parsed.ignored if c.id not in kept)


def result_cards(result: SearchResult) -> str:
    if not result.hits:
        return "<p>没有符合条件的商品。 · No product matches the filters.</p>"
    terms = highlight_terms(result.parsed.content if result.parsed else result.query) + list(result.read_together)  # not a negated term
    cards = []
    weak_from = next((h.rank for h in result.hits if h.score < WEAK_SHARE * result.hits[0].score), None)
    for h in result.hits:
        if h.rank == weak_from:
            cards.append(f"<div class='hit-weak-sep'>{text.WEAK_HITS}</div>")
        price = f"¥{h.price:,.2f}" if h.price is not None else "—"
        demoted = f"<div class='hit-break hit-demoted'>{html.escape(text.demoted(h.demoted))}</div>" if h.demoted else ""
        cards.append(
            f"<div class='hit{' hit-weak' if weak_from and h.rank >= weak_from else ''}'><div class='hit-head'><span class='hit-rank'>{h.rank}</span>"
            f"<span class='hit-name'>{highlight(h.name, terms)}</span></div>"
            f"<div class='hit-meta'>{html.escape(h.category or '—')} · {price} · <b>{h.score:.3f}</b></div>"
            f"<div class='hit-break'>{score_breakdown(h, result.mode)}</div>{demoted}</div>"
        )
    return "<div class='hits'>" + "".join(cards) + "</div>"


def score_breakdown(hit: SearchHit, mode: str) -> str:
    """The scores and ranks behind a hit, only those that were computed: a lexical search never encodes the query, so
    it has no semantic score or rank to show (the core reports 0.0 and None for them).

    Example: score_breakdown(hit, "lexical") -> "字词 lexical 3.21 · 字词排名 lexical rank 1"
    """
    parts = [] if mode == "lexical" else [f"语义 semantic {hit.semantic:.3f}"]
    parts.append(f"字词 lexical {hit.lexical:.2f}")
    if hit.reference is not None:  # hybrid with e5 (retrieval.reference): its raw cosine to the name
        parts.append(f"e5 {hit.reference:.3f}")
    if mode != "lexical":
        parts.append(f"语义排名 semantic rank {hit.rank_semantic or '—'}")
    parts.append(f"字词排名 lexical rank {hit.rank_lexical or '—'}")
    if hit.boost:
        parts.append(text.intent_boost(hit.boost))
    return " · ".join(parts)


def tokens_html(tokenizer, query: str) -> str:
    seen = view(tokenizer, query)
    chips = "".join(f"<span class='tok{' unk' if t == tokenizer.unk_token else ''}'>{html.escape(t)}</span>" for t in seen.tokens)
    unknown = "".join(dict.fromkeys(seen.unknown_chars))
    return (
        f"<div class='tokens'>{chips}</div><p>覆盖率 coverage: <b>{seen.coverage:.0%}</b> "
        f"({seen.chars - seen.unknown_count}/{seen.chars}) · [UNK] 字符 characters: "
        f"<span class='unk-chars'>{html.escape(unknown) or '—'}</span></p>"
    )


def build(ctx: AppContext, visitor: gr.State, active_md: gr.Markdown, pending_md: gr.Markdown) -> gr.Radio:
    """The tab's components and handlers; returns the model switch (the Fine-tune tab keeps it showing the active model).

    One rule for everything shown: results follow their inputs. The model, the catalog, the mode, the semantic weight,
    top-k, the category and the prices each search the query in the box again when they change, as Enter does; what is
    drawn from the results (cards, tokens, chips, feedback picks, the comparison) is redrawn with them.
    """
    settings = ctx.settings
    last = gr.State(None)
    # Set by every search that produced results (None when a trigger searched nothing), for the steps that draw them:
    # {"boxes": the price bounds the search used if it corrected the boxes (a reversed range, a negative price), else None,
    #  "ticket": the search's number on this page (Visitor.start_search), drawn once}.
    fresh = gr.State(None)
    comparing = gr.State(False)  # the visitor asked for the comparison: it then follows the results
    with gr.Row(equal_height=True):
        query = gr.Textbox(label="查询 Query", placeholder="例如 e.g. 寻找一款K7", elem_id="query", scale=5, max_lines=1)
        search_btn = gr.Button("搜索 Search", variant="primary", scale=1, min_width=90, elem_id="search-btn")
    # On a phone, once there are results, this column moves below them (app.py's CSS): the first result shows under the box.
    with gr.Column(elem_id="search-extras"):
        model_choice = gr.Radio(
            text.SHARED_MODELS,
            value=ctx.store.default_id,
            label=text.MODEL_CHOICE_LABEL,
            info=text.MODEL_CHOICE_INFO,
            elem_id="model-choice",
        )
        gr.Examples(EXAMPLES, inputs=[query], label="示例 Examples")
    with gr.Accordion("选项 Options", open=False, elem_id="search-options"):
        with gr.Row():
            mode = gr.Radio(text.MODES, value="hybrid", label="模式 Mode", elem_id="mode")
            alpha = bounded_slider(0, 1, value=DEFAULT_ALPHA, step=0.05, label=text.ALPHA_LABEL, elem_id="alpha")
            top_k = bounded_slider(1, 50, value=10, step=1, label="返回数量 Top-k", elem_id="top-k")
        with gr.Row():
            # Wide enough for "全部类别 all categories" on a phone, where it then takes a line of its own.
            category = gr.Dropdown(
                [text.ALL_CATEGORIES, *ctx.catalog.categories], value=text.ALL_CATEGORIES, label="类别 Category", min_width=300, elem_id="category"
            )
            # 0 or empty: no bound (Filters.from_inputs); gradio shows an unset number box as 0, hence the hint.
            min_price = gr.Number(
                value=None, label="最低价 Min price (¥)", info=text.PRICE_HINT, placeholder=text.NO_LIMIT, min_width=140, elem_id="min-price"
            )
            max_price = gr.Number(
                value=None, label="最高价 Max price (¥)", info=text.PRICE_HINT, placeholder=text.NO_LIMIT, min_width=140, elem_id="max-price"
            )
    chips = gr.CheckboxGroup([], label=text.CHIPS_LABEL, visible=False, elem_id="query-chips")
    warning = gr.Markdown(elem_id="search-warning")
    timing = gr.Markdown(elem_id="timing")
    cards = gr.HTML(elem_id="result-cards")
    with gr.Accordion("结果表格 Results table (API)", open=False):
        table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, elem_id="results", wrap=True)
    with gr.Accordion("模型看到了什么 What the model sees", open=True):
        tokens = gr.HTML(text.TOKENS_HINT, elem_id="tokens")
    with gr.Accordion("比较中文模型与种子模型 Compare the Chinese-aware and seed models", open=False):
        compare_btn = gr.Button("比较 Compare", size="sm")
        compare = gr.Dataframe(interactive=False, elem_id="compare", wrap=True)
    with gr.Accordion("反馈 Feedback → triplets", open=False):
        gr.Markdown(text.FEEDBACK_RULES, elem_id="feedback-rules")
        pick = gr.Radio([], label="选择一个结果 Pick a result", elem_id="pick")
        with gr.Row():
            like_btn = gr.Button("相关 Relevant (+)", size="sm")
            dislike_btn = gr.Button("不相关 Not relevant (−)", size="sm")
        feedback_md = gr.Markdown("还没有反馈。 · No feedback yet.", elem_id="feedback-status")
        with gr.Row():
            download_btn = gr.DownloadButton("下载三元组 CSV · Download triplets", size="sm", interactive=False, elem_id="feedback-download")
            send_btn = gr.Button("发送到微调 Send to Fine-tune", size="sm")
    with gr.Accordion("你自己的目录 Your own catalog", open=False):
        gr.Markdown(text.CATALOG_LIMITS.format(mb=settings.max_upload_mb, rows=settings.max_catalog_rows))
        catalog_file = gr.File(label="目录 CSV · catalog CSV", file_types=[".csv"], elem_id="catalog-file")
        catalog_status = gr.Markdown(elem_id="catalog-status")
        reset_catalog = gr.Button("恢复默认目录 Use the shipped catalog", size="sm")
        # The API's /load_catalog (it answers a bad file with an error); the page's upload says why in the status instead.
        load_catalog_api = gr.Button(visible=False)

    def _search(query, ignore, top_k, mode, alpha, category, min_price, max_price, state, request):
        state = state or Visitor()
        ticket = state.start_search()
        try:
            q = validate_query(query, settings.max_query_chars)
            active, expired = state.active_model(ctx.store, session_id(request))
            engine = ctx.store.engine(active, session_id(request), ctx.catalog_of(state))
            filters, corrections = Filters.from_inputs(None if category == text.ALL_CATEGORIES else category, min_price, max_price)
            result = engine.search(q, mode=mode, top=top_k, alpha=alpha, filters=filters, ignore=ignore)
        except BaseException:
            state.search_failed(ticket)
            raise
        gone, state.notice = ([state.notice] if state.notice else []), None  # the session's catalog was deleted: why
        result.notes[:0] = gone + corrections + ([expired] if expired else [])  # the core checks the numbers
        if not state.is_latest(ticket):  # a newer search of this page began meanwhile: it is what the page draws
            state.notice = state.notice or (gone[0] if gone else None)
            # The table is the API's answer; the page's states keep the newer search's results (which the drawing step,
            # run after this one too, draws again with the table), whether that search has ended or not.
            return results_frame(result), gr.skip(), gr.skip()
        boxes = (filters.min_price, filters.max_price) if corrections else None
        return results_frame(result), result, {"boxes": boxes, "ticket": ticket}

    @user_errors
    def _run_search(
        query: str,
        top_k: int = 10,
        mode: str = "hybrid",
        alpha: float = DEFAULT_ALPHA,
        category: str | None = text.ALL_CATEGORIES,
        min_price: float | None = None,
        max_price: float | None = None,
        state: Visitor | None = None,
        request: gr.Request | None = None,
    ):
        """A new search: the query's intents are all read afresh (removed chips come back)."""
        return _search(query, (), top_k, mode, alpha, category, min_price, max_price, state, request)

    @user_errors
    def _refine_search(
        ticked: list[str],
        result: SearchResult | None,
        top_k: int,
        mode: str,
        alpha: float,
        category: str | None,
        min_price: float | None,
        max_price: float | None,
        state: Visitor,
        request: gr.Request,
    ):
        """A chip was unticked (or ticked again): the last query once more, without the intents now unticked."""
        if result is None:
            return gr.skip(), gr.skip(), gr.skip()  # nothing searched: the page's results stay as they are
        ignore = removed_chips(result.parsed, ticked)
        return _search(result.query, ignore, top_k, mode, alpha, category, min_price, max_price, state, request)

    @user_errors
    def _follow_inputs(
        query: str | None,
        ticked: list[str],
        result: SearchResult | None,
        top_k: int,
        mode: str,
        alpha: float,
        category: str | None,
        min_price: float | None,
        max_price: float | None,
        state: Visitor,
        request: gr.Request,
    ):
        """An input of the results changed: the query in the box is searched again (an empty box is not an error here).
        While it is the query of the results shown, the intents the visitor unticked stay unticked."""
        if not (query or "").strip():
            return gr.skip(), gr.skip(), gr.skip()  # nothing searched: the page's results stay as they are
        q = validate_query(query, settings.max_query_chars)
        ignore = removed_chips(result.parsed, ticked) if result is not None and result.query == q else ()
        return _search(q, ignore, top_k, mode, alpha, category, min_price, max_price, state, request)

    def _show_search(result: SearchResult | None, new: dict | None, state: Visitor, request: gr.Request):
        """Draw the page's results (`last`) once, with the table: an older search that ended last wrote its own table
        (the API's answer) and left `last` and `fresh` to the newer one; its drawing step then puts the table back."""
        if result is None:
            return (gr.skip(),) * 9
        if new is None or new["ticket"] == state.drawn:  # nothing new since the last drawing: what is shown stays
            return (results_frame(result),) + (gr.skip(),) * 8
        state.drawn = new["ticket"]  # the session's own object (gradio hands it to each event): no output needed
        engine = ctx.store.engine(state.active, session_id(request), ctx.catalog_of(state))
        notes = list(result.notes)
        if result.nothing_relevant and result.hits:  # no hits at all: the cards already say no product matches
            notes.append(text.NOTHING_RELEVANT)
        if result.model_coverage < 0.5:
            notes.append(text.unk_warning(result.model_coverage))
        details = [text.timing(result.encode_ms, result.search_ms, result.total_ms, len(engine.catalog))]
        if result.mode == "hybrid":  # how the scores were made: beside the timing, not among the warnings
            details.append(
                text.hybrid_weight(result.alpha, result.model_coverage, result.semantic_weight, result.reference_weight, result.reference_reading)
            )
        choices, ticked = chip_choices(result.parsed)
        seen = result.parsed.semantic if result.parsed else result.query  # what the model was given
        # The price boxes show the bounds the search used when it corrected them (a reversed range swapped, a negative
        # price emptied); otherwise they are left alone, so a box being typed in is never overwritten.
        low, high = (gr.skip(), gr.skip()) if new["boxes"] is None else new["boxes"]
        return (
            results_frame(result),
            "\n\n".join(notes),
            "\n\n".join(details),
            result_cards(result),
            tokens_html(engine.tokenizer, seen),
            gr.update(choices=[(f"{h.rank}. {h.name}", h.product_id) for h in result.hits], value=None),
            gr.update(choices=choices, value=ticked, visible=bool(choices)),
            low,
            high,
        )

    def _comparison(result: SearchResult | None, state: Visitor, request: gr.Request) -> pd.DataFrame:
        """The same query with the other shipped model: the Chinese-aware one against the seed's, rank by rank."""
        if result is None:
            raise UserError("请先搜索。", "Search first.")
        catalog = ctx.catalog_of(state)
        session = session_id(request)
        other_id = SHIPPED if state.active != SHIPPED else ctx.store.default_id
        ignored = tuple(c.id for c in result.parsed.ignored) if result.parsed else ()
        other = ctx.store.engine(other_id, session, catalog).search(
            result.query, mode=result.mode, top=len(result.hits), alpha=result.alpha, filters=result.filters or Filters(), ignore=ignored
        )
        other_rank = {h.product_id: h.rank for h in other.hits}
        other_name = text.SHORT_NAMES.get(other_id, other_id)
        rows = []
        for h in result.hits:
            before = other_rank.get(h.product_id)
            move = (
                "新 new" if before is None else ("=" if before == h.rank else (f"↑{before - h.rank}" if before > h.rank else f"↓{h.rank - before}"))
            )
            rows.append(
                {
                    "当前排名 active rank": h.rank,
                    f"{other_name} 排名 rank": before or "—",
                    "变化 move": move,
                    "商品 product": h.name,
                    f"{other_name} 同名次的商品 its hit at that rank": other.hits[h.rank - 1].name if h.rank <= len(other.hits) else "",
                }
            )
        return pd.DataFrame(rows)

    @user_errors
    def _compare(result: SearchResult | None, state: Visitor, request: gr.Request):
        return _comparison(result, state, request), True

    @user_errors
    def _follow_compare(comparing: bool, result: SearchResult | None, new: dict | None, state: Visitor, request: gr.Request):
        """New results: the comparison, once asked for, is redrawn for them (a model switch changes which pair it compares),
        once per search (the drawing step of an older search that ended last draws nothing new)."""
        if not (comparing and result is not None and new is not None and new["ticket"] != state.compared):
            return gr.skip()
        state.compared = new["ticket"]
        return _comparison(result, state, request)

    @user_errors
    def _switch_model(model_id: str, state: Visitor, request: gr.Request):
        info = ctx.store.info(model_id or ctx.store.default_id, session_id(request))
        state.active = info.id
        return state, text.active_model(info.label)

    def _mark(liked: bool):
        @user_errors
        def handler(product_id: str | None, result: SearchResult | None, state: Visitor, request: gr.Request):
            if result is None or not product_id:
                raise UserError("请先搜索并选择一个结果。", "Search and pick a result first.")
            cap = ctx.budgets.max_feedback_triplets  # each mark rewrites the session's download: keep it small
            if len(state.feedback) >= cap:
                raise UserError(
                    f"反馈已有 {len(state.feedback)} 个三元组，达到上限 {cap}：请先发送到微调或下载。",
                    f"Your feedback has {len(state.feedback)} triplets, the limit is {cap}: send them to Fine-tune or download them first.",
                )
            catalog = ctx.catalog_of(state)
            if product_id not in catalog:
                raise UserError("该结果已不在当前目录中。", "That result is no longer in the current catalog.")
            ctx.budgets.take_feedback_mark(ctx.visitor(request))  # refused past the address's budget
            product_text = catalog[catalog.index_of(product_id)].text
            log = state.feedback
            # The results' product texts (what the triplets hold) → how the visitor sees them: "#2 机械师 K8 …".
            names = {catalog[catalog.index_of(h.product_id)].text: f"#{h.rank} {h.name}" for h in result.hits if h.product_id in catalog}

            def named(texts) -> list[str]:
                return [text.escape_markdown(names.get(t, t[:30])) for t in texts]

            if liked:
                shown = [catalog[catalog.index_of(h.product_id)].text for h in result.hits if h.product_id in catalog]
                log.like(result.query, product_text, shown)
                negatives = [t[2] for t in log.triplets if t[0] == result.query and t[1] == product_text]
                marked = set(log.disliked.get(result.query, []))
                note = text.liked_note(
                    named([product_text])[0],
                    named([n for n in negatives if n in marked]),
                    named([n for n in negatives if n not in marked]),
                    len(log),
                )
            else:
                log.dislike(result.query, product_text)
                positives = [t[1] for t in log.triplets if t[0] == result.query and t[2] == product_text]
                note = text.disliked_note(named([product_text])[0], named(positives), len(log))
            return state, note, _feedback_file(state, ctx.visitor(request))

        return handler

    def _feedback_file(state: Visitor, owner: str | None):
        """The download button, pointing at a fresh CSV of this session's feedback (one click downloads it); the
        previous one is deleted, so a session keeps one feedback file however many marks it makes."""
        if state.feedback_file:
            shutil.rmtree(Path(state.feedback_file).parent, ignore_errors=True)
            state.feedback_file = None
        if not state.feedback:
            return gr.update(value=None, interactive=False)
        path = ctx.downloads.new_path("feedback_triplets.csv", owner)
        state.feedback_file = str(path)
        to_safe_csv(state.feedback.to_frame(), path)
        return gr.update(value=str(path), interactive=True)

    @user_errors
    def _send_feedback(state: Visitor):
        if not state.feedback:
            raise UserError("还没有反馈三元组。", "No feedback triplets yet.")
        ctx.set_feedback(state, state.feedback.to_triplets())
        upload, feedback = ctx.pending_of(state)
        sent = len(feedback) if feedback else 0
        return state, text.pending_line(len(upload) if upload else 0, sent), text.sent_feedback(sent)

    def _use_catalog(path: str, state: Visitor, request: gr.Request, progress: gr.Progress):
        """Read, embed and store the session's catalog (raises UserError for a file that cannot be used)."""
        catalog = load_catalog(path, max_mb=settings.max_upload_mb, max_rows=settings.max_catalog_rows)
        progress(0, desc="嵌入目录 Embedding the catalog")
        ctx.store.engine(state.active, session_id(request), catalog, on_progress=lambda done, total: progress(done / total, desc=f"{done}/{total}"))
        state.catalog_key = ctx.uploads.put(catalog, owner=ctx.visitor(request))
        return state, _category_choices(catalog), text.catalog_loaded(len(catalog))

    @user_errors
    def _load_catalog(path: str | None, state: Visitor, request: gr.Request, progress=gr.Progress()):
        """The API's upload: a file that cannot be used is an error."""
        if not path:
            return state, gr.skip(), gr.skip()
        return _use_catalog(path, state, request, progress)

    @user_errors
    def _upload_catalog(path: str | None, state: Visitor, request: gr.Request, progress=gr.Progress()):
        """The page's upload. The file box shows what is searched: a file that cannot be used leaves the box, the
        session goes back to the shipped catalog, and the status says why (where it stays, unlike a toast)."""
        if not path:
            return state, gr.skip(), gr.skip(), gr.skip()
        try:
            return (*_use_catalog(path, state, request, progress), gr.skip())
        except UserError as err:
            state.catalog_key = None
            return state, _category_choices(ctx.catalog), f"{text.file_problem(str(err))}\n\n{text.CATALOG_FALLBACK}", None

    def _reset_catalog(state: Visitor):
        state.catalog_key = None
        return state, _category_choices(ctx.catalog), "已恢复默认目录。 · Back to the shipped catalog.", None

    def _category_choices(catalog) -> dict:
        """The category filter lists the categories of the catalog being searched (the session's own, if uploaded)."""
        return gr.update(choices=[text.ALL_CATEGORIES, *catalog.categories], value=text.ALL_CATEGORIES)

    def _announce_wait(query: str | None, state: Visitor | None, request: gr.Request):
        """Before a search that will wait for its engine (a first start exports the model and embeds the catalog): say
        so where the results appear, at once and outside the queue. Otherwise nothing changes on the page."""
        try:
            validate_query(query, settings.max_query_chars)  # a query the search refuses builds nothing
            state = state or Visitor()
            waits = ctx.store.needs_build(state.active, session_id(request), ctx.catalog_of(state))
        except Exception:  # noqa: BLE001 — only a message depends on it: never an error of its own
            return gr.skip()
        return text.PREPARING_SEARCH if waits else gr.skip()

    def _clear_announcement(shown: str | None):
        """After a failed search: the "preparing" line goes (the error says what happened); other cards stay."""
        return "" if shown == text.PREPARING_SEARCH else gr.skip()

    def _mark_previous(result: SearchResult | None):
        """After a refused search (an empty box, a query too long): the results still shown are the previous query's."""
        return gr.skip() if result is None else text.PREVIOUS_RESULTS.format(query=text.escape_markdown(result.query))

    search_inputs = [query, top_k, mode, alpha, category, min_price, max_price, visitor]
    searched_outputs = [table, last, fresh]
    in_search_line: dict[str, Any] = dict(concurrency_limit=4, concurrency_id="search")
    # Compare may embed a whole uploaded catalog with a second model (a minute for 5,000 rows): never in the search line,
    # whose four places it would hold while others' searches wait. The heavy line runs one such task at a time.
    in_heavy_line: dict[str, Any] = dict(concurrency_limit=1, concurrency_id="heavy")
    announce: dict[str, Any] = dict(
        fn=_announce_wait, inputs=[query, visitor], outputs=[cards], api_visibility="private", queue=False, show_progress="hidden"
    )
    unannounce: dict[str, Any] = dict(
        fn=_clear_announcement, inputs=[cards], outputs=[cards], api_visibility="private", queue=False, show_progress="hidden"
    )

    def _shown(searched) -> None:
        """Draw what a search found, then the comparison (if asked for) for the same results."""
        drawn = searched.success(
            _show_search,
            [last, fresh, visitor],
            [table, warning, timing, cards, tokens, pick, chips, min_price, max_price],
            api_visibility="private",
        )
        drawn.success(_follow_compare, [comparing, last, fresh, visitor], [compare], api_visibility="private", **in_heavy_line)

    # Enter and the button run the same search; only the button's event is the public /search endpoint.
    visibilities: list[tuple[Any, dict[str, Any]]] = [(search_btn.click, dict(api_name="search")), (query.submit, dict(api_visibility="private"))]
    for trigger, visibility in visibilities:
        trigger(**announce)
        searched = trigger(_run_search, search_inputs, searched_outputs, **in_search_line, **visibility)
        _shown(searched)
        searched.failure(**unannounce)
        searched.failure(_mark_previous, [last], [warning], api_visibility="private", queue=False, show_progress="hidden")

    # Unticking a chip searches again without that intent (`.input`: only the user's clicks, not the update above).
    _shown(chips.input(_refine_search, [chips, last, *search_inputs[1:]], searched_outputs, api_visibility="private", **in_search_line))

    # The model: switched here by the visitor, or by the Fine-tune tab (a run switched on or activated) — `.change` sees both.
    switched = model_choice.change(_switch_model, [model_choice, visitor], [visitor, active_md], api_visibility="private")
    # The catalog: the page's upload, its ✕ and the reset button (the file box shows what is searched).
    catalog_outputs = [visitor, category, catalog_status, catalog_file]
    # The page's and the API's uploads embed a catalog: in the heavy line too, so one CPU-heavy task runs at a time.
    uploaded = catalog_file.upload(_upload_catalog, [catalog_file, visitor], catalog_outputs, api_visibility="private", **in_heavy_line)
    cleared = catalog_file.clear(_reset_catalog, [visitor], catalog_outputs, api_visibility="private")
    reset = reset_catalog.click(_reset_catalog, [visitor], catalog_outputs, api_visibility="private")
    load_catalog_api.click(_load_catalog, [catalog_file, visitor], [visitor, category, catalog_status], api_name="load_catalog", **in_heavy_line)
    # Every input of the results re-runs the search. Sliders follow `.input` (dragging, arrow keys, the number box; the
    # last value wins), price boxes Enter or leaving the box (not every keystroke), choices the visitor's pick.
    follow_inputs = [query, chips, last, top_k, mode, alpha, category, min_price, max_price, visitor]
    for trigger in (
        switched.success,
        uploaded.success,
        cleared.success,
        reset.success,
        mode.input,
        category.input,
        top_k.input,
        alpha.input,
        min_price.submit,
        min_price.blur,
        max_price.submit,
        max_price.blur,
    ):
        trigger(**announce)  # a run switched on from the Fine-tune tab may need its engine built first (~15 s)
        followed = trigger(_follow_inputs, follow_inputs, searched_outputs, api_visibility="private", trigger_mode="always_last", **in_search_line)
        _shown(followed)
        followed.failure(**unannounce)

    compare_btn.click(_compare, [last, visitor], [compare, comparing], api_name="compare", **in_heavy_line)
    like_btn.click(_mark(True), [pick, last, visitor], [visitor, feedback_md, download_btn], api_visibility="private")
    dislike_btn.click(_mark(False), [pick, last, visitor], [visitor, feedback_md, download_btn], api_visibility="private")
    send_btn.click(_send_feedback, [visitor], [visitor, pending_md, feedback_md], api_visibility="private")
    return model_choice
