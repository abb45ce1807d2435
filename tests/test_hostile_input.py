"""Hostile input from the security review (issue 11): refused fast and in both languages, shown as text, never a crash."""

from __future__ import annotations

import time

import numpy as np
import pytest

from shopsearch.common.errors import UserError
from shopsearch.data.csvio import parse_table
from shopsearch.retrieval.search import validate_query
from shopsearch.retrieval.similarity import parse_sentences

# --- CSV delimiter detection ----------------------------------------------------------------------------------------


def test_a_quote_and_newline_flood_is_read_or_refused_within_a_second_or_two():
    """b'"\\n' × 10,000 took csv.Sniffer 15 s (quadratic, holding the GIL); detection now reads a bounded sample once."""
    started = time.thread_time()  # this thread's CPU time: a busy machine cannot fail it
    try:
        parse_table(b'"\n' * 10_000)
    except UserError as err:
        assert " · " in str(err)
    assert time.thread_time() - started < 2.0


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n机械师 K7, 机械键盘\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('a,b,c\n"x;y;z","1\n2;3",3\n', ","),  # delimiters inside quotes do not count
        ("=1+1,+cmd|' /C calc'!A0,-2+3\n@SUM(A1),=HYPERLINK(\"http://x\"),商品\n", ","),
        ("just one column\nanother row\n", ","),  # nothing to split on: comma
    ],
)
def test_the_delimiter_is_the_one_splitting_every_line_alike(content, delimiter):
    """The header's delimiter that splits the most sampled rows into the same number of cells wins; ties go to , ; tab |."""
    assert parse_table(content.encode()).delimiter == delimiter


# --- The text gate: raw length first, then cleaning -----------------------------------------------------------------

HUGE = "键" * 20_000_000


def refused_fast(call, *args) -> str:
    """Run `call`, expect a UserError within a second (the length is checked before the text is read); its message."""
    started = time.thread_time()  # this thread's CPU time: a busy machine cannot fail it
    with pytest.raises(UserError) as err:
        call(*args)
    assert time.thread_time() - started < 1.0, "a huge input must be refused by its length, not after reading it"
    return str(err.value)


def assert_too_long(message: str) -> None:
    zh, sep, en = message.partition(" · ")
    assert sep and "过长" in zh and "too long" in en, message


def test_a_20_million_character_query_is_refused_by_its_length():
    """Walking 20M characters to clean them took ~5 s per request before the length was looked at."""
    assert_too_long(refused_fast(validate_query, HUGE, 500))


@pytest.mark.parametrize("box", [HUGE, "句子\n" * 7_000_000], ids=["one_huge_line", "millions_of_lines"])
def test_a_20_million_character_sentence_box_is_refused_by_its_length(box):
    """The similarity box is checked as a whole before any line is split or cleaned, then line by line."""
    assert_too_long(refused_fast(parse_sentences, box, 50, 500))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("键盘\ud800", "键盘"), ("\udfff寻找一款K7", "寻找一款K7"), ("寻找\x07一款\u200bK7", "寻找一款K7"), ("机械\u3000键盘\t青轴", "机械 键盘 青轴")],
)
def test_lone_surrogates_and_invisible_characters_are_dropped_and_spaces_kept(raw, clean):
    """A lone surrogate would raise later (UTF-8 encoding, the tokenizer, JSON); any whitespace becomes a space."""
    assert validate_query(raw, 500) == clean
    assert parse_sentences(f"{raw}\n{raw}", 50, 500) == [clean, clean]


def test_a_lone_surrogate_alone_is_an_empty_query_in_both_languages():
    """Nothing is left once it is dropped: the usual bilingual "type something", not an encoding error."""
    with pytest.raises(UserError) as err:
        validate_query("\ud800", 500)
    assert "type something" in err.value.en and err.value.zh


@pytest.fixture(scope="module")
def tab_handler(catalog, shipped_model, base_model, tmp_path_factory):
    """tab_handler(api_name) -> that event's handler, from the search and similarity tabs built as the app builds them
    (over 12 products, so the engine is quick to embed)."""
    import gradio as gr
    from conftest import MODEL_DIR

    from shopsearch.common.config import base_model_path, get_settings
    from shopsearch.data.catalog import Catalog
    from shopsearch.retrieval.embeddings import EmbeddingCache
    from shopsearch.serving.models import ModelStore
    from shopsearch.ui import search_tab, similarity_tab
    from shopsearch.ui.context import AppContext, Visitor

    tmp = tmp_path_factory.mktemp("tabs")
    store = ModelStore(MODEL_DIR, base_model_path(), tmp / "runs", EmbeddingCache(tmp / "cache"), shipped=shipped_model, base=base_model)
    ctx = AppContext.create(get_settings(), store, Catalog(catalog.products[:12]), [])
    with gr.Blocks() as demo:
        visitor = gr.State(Visitor())
        search_tab.build(ctx, visitor, gr.Markdown(), gr.Markdown())
        similarity_tab.build(ctx, visitor)
    return lambda api_name: next(f.fn for f in demo.fns.values() if f.api_name == api_name)


@pytest.fixture(scope="module")
def run_map(tab_handler):
    """The similarity tab's 2-D map handler: run_map(text) -> figure (its table and CSV are dropped here)."""
    from shopsearch.ui.context import Visitor

    handler = tab_handler("embedding_map")
    return lambda text: handler(text, "active", Visitor(), None)[0]


def test_the_map_with_the_difference_chosen_draws_the_active_model_and_says_so(tab_handler):
    """ "Difference" on the 2-D map used to raise, and the error wiped the view on the page; a map shows one model."""
    from shopsearch.ui.context import Visitor
    from shopsearch.ui.similarity_tab import MAP_OF_ACTIVE

    handler = tab_handler("embedding_map")
    figure, table, _ = handler("机械键盘\n羽毛球拍", "difference", Visitor(), None)
    assert figure.layout.title.text == MAP_OF_ACTIVE and list(table["name"]) == ["机械键盘", "羽毛球拍"]
    assert not handler("机械键盘", "active", Visitor(), None)[0].layout.title.text


def test_the_map_refuses_a_2_million_character_line_before_the_model_sees_it(run_map):
    """The 2-D map used to send any line straight to the model; it now passes the same gate as the heatmap."""
    import gradio as gr

    line = "键" * 2_000_000
    started = time.thread_time()  # this thread's CPU time: a busy machine cannot fail it
    with pytest.raises(gr.Error) as err:
        run_map(line)
    assert time.thread_time() - started < 1.0
    assert_too_long(err.value.message)


@pytest.mark.parametrize("text", ["\ud800", "寻找一款K7\n\ud800机械键盘", "", "\x00\n \n"])
def test_the_map_draws_a_lone_surrogate_or_an_empty_box_without_an_error(run_map, text):
    """An empty box (or one only of invisible characters) draws the catalog alone; surrogates are dropped."""
    figure = run_map(text)
    stars = [t for t in figure.data if t.name == "输入 input"]
    assert len(stars) == (1 if text.strip("\x00\n \ud800") else 0)


# --- Triplets from small or uniform catalogs ------------------------------------------------------------------------


def tiny_catalog(*names: str):
    """A catalog of products with only these names (ids T0, T1, …; no description, so text == name)."""
    from shopsearch.data.catalog import Catalog, Product

    return Catalog([Product(f"T{i}", name, "", "", None, "", "") for i, name in enumerate(names)])


def assert_well_formed(triplets, catalog) -> None:
    """Some triplets, all distinct, none whose negative is its positive or contains the anchor's keyword."""
    from shopsearch.data.triplets import keyword_of

    names = {p.text: p.name for p in catalog.products}
    rows = list(zip(triplets.anchors, triplets.positives, triplets.negatives))
    assert rows and len(set(rows)) == len(rows), "distinct triplets"
    for anchor, positive, negative in rows:
        assert positive != negative and keyword_of(anchor) not in names[negative]


PHONE_CASES = tiny_catalog(*(f"{colour} 手机壳" for colour in "红橙黄绿青蓝紫黑白"), "快充 充电器")


@pytest.mark.timeout(60)
def test_a_catalog_with_fewer_triplets_than_asked_gives_what_exists_and_stops():
    """9 phone cases + 1 charger hold fewer than 500 distinct triplets: generate() used to loop for ever."""
    from shopsearch.data.triplets import generate

    triplets = generate(PHONE_CASES, n=500)
    assert 0 < len(triplets) < 500
    assert_well_formed(triplets, PHONE_CASES)


@pytest.mark.timeout(60)
def test_a_single_brand_catalog_skips_the_brand_as_a_keyword():
    """Every name contains 小米, so "小米" has no valid negative (it used to raise IndexError); the other words do."""
    from shopsearch.data.triplets import generate

    catalog = tiny_catalog("小米 14 手机", "小米 手环 8", "小米 充电宝", "小米 电视 S", "小米 扫地机器人")
    triplets = generate(catalog, n=15)
    assert len(triplets) == 15 and not any("小米" in anchor for anchor in triplets.anchors)
    assert_well_formed(triplets, catalog)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("names", [("机械师 K7 机械键盘",), ("小米", "小米", "小米")], ids=["one_product", "identical_names"])
def test_a_catalog_with_no_possible_triplet_is_refused_in_both_languages(names):
    """One product has no negative at all; identical names have none without the keyword (was IndexError / a hang)."""
    from shopsearch.common.errors import TripletFileError
    from shopsearch.data.triplets import generate

    with pytest.raises(TripletFileError) as err:
        generate(tiny_catalog(*names), n=30)
    assert "目录" in err.value.zh and "catalog" in err.value.en


# --- Highlighting names whose lower case is longer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "expected"),
    [
        ("İİİİİİ 丝巾", "丝巾", "İİİİİİ <mark>丝巾</mark>"),  # "İ".lower() is 2 characters: positions ran past the end
        ("İK7 键盘", "K7", "İ<mark>K7</mark> 键盘"),  # a smaller shift marked "7 " instead of "K7"
        ("ＡＸ５５ 路由器", "AX55", "<mark>ＡＸ５５</mark> 路由器"),  # query terms are NFKC-folded; so is the name
        ("机械师 K7 <机械键盘>", "k7 键", "机械师 <mark>K7</mark> &lt;机械<mark>键</mark>盘&gt;"),
    ],
)
def test_highlight_marks_exactly_the_matched_characters_of_the_original_name(name, query, expected):
    """Matching runs on a folded copy of the name whose every character maps back to the original one."""
    from shopsearch.text.lexical import query_terms
    from shopsearch.ui.search_tab import highlight

    assert highlight(name, query_terms(query)) == expected


# --- Numbers: NaN and infinity are refused --------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "options",
    [{"alpha": NAN}, {"alpha": INF}, {"alpha": -INF}, {"top": NAN}, {"top": INF}, {"alpha": "0.3; DROP"}],
    ids=["alpha_nan", "alpha_inf", "alpha_minus_inf", "top_nan", "top_inf", "alpha_text"],
)
def test_search_refuses_a_number_that_is_not_finite(engine, options):
    """NaN slips past every range check (it compares false): alpha = NaN gave every hit score NaN (JSON null)."""
    from shopsearch.common.errors import QueryError

    with pytest.raises(QueryError) as err:
        engine.search("寻找一款K7", **options)
    assert "有限的数字" in err.value.zh and "finite number" in err.value.en


@pytest.mark.parametrize("bounds", [{"min_price": NAN}, {"max_price": NAN}, {"min_price": -INF}, {"max_price": INF}])
def test_price_filters_refuse_a_number_that_is_not_finite(bounds):
    """A NaN price bound used to filter out every product without a word."""
    from shopsearch.common.errors import QueryError
    from shopsearch.retrieval.search import Filters

    with pytest.raises(QueryError) as err:
        Filters(**bounds)
    assert "有限的数字" in err.value.zh and "finite number" in err.value.en


def test_alpha_outside_0_to_1_is_clamped_like_top_k(engine):
    """The API can send any number; the hybrid weight stays a weight (top-k was already clamped to 1-50)."""
    result = engine.search("wireless router", alpha=5.0, top=500)
    assert result.alpha == 1.0 and len(result.hits) == 50
    assert all(np.isfinite(h.score) for h in result.hits)


@pytest.mark.parametrize(
    "options",
    [{"alpha": NAN}, {"top_k": NAN}, {"top_k": INF}, {"min_price": NAN}, {"max_price": INF}],
    ids=["alpha_nan", "top_k_nan", "top_k_inf", "min_price_nan", "max_price_inf"],
)
def test_the_search_endpoint_answers_a_non_finite_number_in_both_languages(tab_handler, options):
    """What /search receives from an API call: a bilingual message, never score null nor the generic error."""
    import gradio as gr

    with pytest.raises(gr.Error) as err:
        tab_handler("search")("寻找一款K7", **options)
    zh, sep, en = err.value.message.partition(" · ")
    assert sep and "有限的数字" in zh and "finite number" in en


# --- User text shown as text, never as HTML or Markdown -------------------------------------------------------------

TAGS = ("<b>", "<img", "<span", "<a ")


def test_an_id_in_an_error_message_is_shown_as_text(write):
    """gr.Error renders its message as HTML: a duplicate id <img src=x onerror=…> must arrive escaped."""
    import gradio as gr

    from shopsearch.data.catalog import load_catalog
    from shopsearch.ui.context import user_errors

    path = write("c.csv", "id,name\n<img src=x onerror=alert(1)>,键盘\n<img src=x onerror=alert(1)>,鼠标\n")
    with pytest.raises(gr.Error) as err:
        user_errors(load_catalog)(path)
    assert "&lt;img src=x onerror=alert(1)&gt;" in err.value.message and "<img" not in err.value.message
    assert "Duplicate id" in err.value.message


def test_column_names_in_the_triplet_check_report_are_escaped(write):
    """A column named <b>x</b> (or a Markdown link) shows as typed in the report, not as bold text or a link."""
    from shopsearch.data.triplets import read_triplets
    from shopsearch.ui.finetune_tab import report_markdown

    path = write("t.csv", "<b>x</b>,[click](http://example.com),$$y$$\n寻找一款K7,机械师 K7 机械键盘,峰景 双人登山帐篷\n")
    triplets, report = read_triplets(path, max_mb=5, max_rows=100)
    markdown = report_markdown(report, triplets)
    assert "&lt;b&gt;x&lt;/b&gt;" in markdown and not any(tag in markdown for tag in TAGS)
    assert "](" not in markdown and "$$" not in markdown


def plotly_strings(figure) -> list[str]:
    """Every string in a figure's JSON (labels, legend names, hover texts, titles)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple, np.ndarray)):
            for value in node:
                walk(value)

    walk(figure.to_plotly_json())
    return found


EVIL = '<span style="font-size:200px">巨</span><a href="javascript:alert(1)">点我</a><b>粗</b>'


def test_map_legends_labels_and_hovers_escape_user_text():
    """Plotly renders <span style>, <a href> and <b> in legends and labels: a category or name must not restyle the map."""
    from shopsearch.ui import figures

    points = np.zeros((2, 2))
    maps = figures.embedding_map(points, [EVIL, "键盘"], [EVIL, "键盘"], np.zeros((1, 2)), [EVIL])
    heat = figures.similarity_heatmap([EVIL, "键盘"], np.eye(2))
    bars = figures.score_bars(EVIL, [EVIL, "键盘"], np.array([0.5, 0.2]))
    for name, figure in {"map": maps, "heatmap": heat, "bars": bars}.items():
        strings = plotly_strings(figure)
        assert not any(tag in s for s in strings for tag in TAGS), name
        assert any("&lt;span" in s for s in strings)


@pytest.mark.parametrize(
    ("name", "query", "marked"),
    [
        ("步云 女款缓震跑鞋", "跑步鞋 男", ""),  # 步 of 跑步 and the 鞋 of 跑鞋 are not words of the query
        ("疾风 男款跑步鞋", "跑步鞋 男", "男跑步鞋"),  # bigrams and a character the query has on its own
        ("恒温瓶 1升", "保温杯", ""),
        ("机械师 K7 机械键盘", "寻找一款K7", "K7"),
        ("云朵 棉鞋", "鞋", "鞋"),  # a one-character query still marks its character
    ],
)
def test_highlight_marks_words_and_bigrams_not_lone_characters(name, query, marked):
    import re

    from shopsearch.ui.search_tab import highlight, highlight_terms

    html_out = highlight(name, highlight_terms(query))
    assert "".join(re.findall(r"<mark>(.*?)</mark>", html_out)) == marked


def test_the_map_gives_36_categories_36_looks_and_numbers_its_stars():
    """Colours used to repeat after 10 categories; sentence labels on the map overlapped (now numbers, text on hover)."""
    from shopsearch.ui import figures

    cats = [f"类别{i}" for i in range(36)]
    fig = figures.embedding_map(np.random.default_rng(0).normal(size=(36, 2)), cats, cats, np.zeros((2, 2)), ["第一句", "第二句"])
    looks = {(t.marker.color, t.marker.symbol) for t in fig.data[:36]}
    assert len(looks) == 36
    assert list(fig.data[36].text) == ["1", "2"] and list(fig.data[36].hovertext) == ["第一句", "第二句"]
