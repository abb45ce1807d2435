"""The BM25 tokenizer, and what the model's tokenizer sees."""

from __future__ import annotations

import pytest
from conftest import CHINESE_DIR, MODEL_DIR

from shopsearch.common.config import ROOT, base_model_path
from shopsearch.retrieval.evaluation import load_queries
from shopsearch.text.lexical import LexicalIndex, query_terms, split_compound, tokenize
from shopsearch.text.tokens import PlainTokenizer, missing_cjk_chars, view


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("网速 AX55", ["网", "速", "网速", "ax55", "ax", "55"]),
        ("Wi-Fi 6", ["wifi", "wi", "fi", "6", "wifi6"]),
        ("K7键盘", ["k7", "键", "盘", "键盘"]),  # pieces shorter than 2 ("k", "7") match too widely to index
        ("Pro2", ["pro2", "pro"]),
        ("Pro 2", ["pro", "2", "pro2"]),
        ("ES-LF50", ["eslf50", "es", "lf50", "lf", "50"]),
        ("Pad 12.4", ["pad", "12.4", "pad12.4"]),  # a decimal number stays one piece
        ("HEYNA_Official", ["heynaofficial", "heyna", "official"]),  # an underscore joins as a hyphen does
        ("", []),
        ("😀!!", []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_query_terms_for_highlighting():
    assert query_terms("K7 键盘 k7") == ["k7", "k 7", "k-7", "键", "盘"]


@pytest.mark.parametrize(
    ("name", "query", "marked"),
    [
        ("ES-LF50 电热水壶", "lf-50", "ES-<mark>LF50</mark> 电热水壶"),
        ("清视 Pro 2 会议摄像头", "清视Pro2", "<mark>清视</mark> <mark>Pro 2</mark> 会议摄像头"),
        ("星耀 Watch 4", "星耀Watch4", "<mark>星耀</mark> <mark>Watch 4</mark>"),
        ("经典作家 F-3 型钢笔", "f3", "经典作家 <mark>F-3</mark> 型钢笔"),
        ("HEYNA_Official 外套", "heynaofficial外套", "<mark>HEYNA</mark>_<mark>Official</mark> <mark>外套</mark>"),
    ],
)
def test_highlighting_marks_the_model_number_bm25_matched_however_it_is_spelled(name, query, marked):
    from shopsearch.ui.search_tab import highlight

    assert highlight(name, query_terms(query)) == marked


@pytest.mark.parametrize(
    ("typed", "listed", "shared"),
    [
        ("Pro2", "Pro 2", "pro2"),
        ("LF50", "LF-50", "lf50"),
        ("LF50", "lf 50", "lf50"),
        ("es-lf50", "ES-LF50", "eslf50"),
        ("lf50", "ES-LF50", "lf50"),
        ("ＬＦ５０", "LF50", "lf50"),  # full-width and half-width
        ("Watch4", "Watch 4", "watch4"),
    ],
)
def test_model_numbers_match_however_they_are_spaced_hyphenated_or_cased(typed, listed, shared):
    """A model number typed with or without its space, hyphen or case gives the same joined token as the listing."""
    assert shared in tokenize(typed) and shared in tokenize(listed)


def test_bm25_ranks_the_exact_model_number_above_its_shorter_sibling():
    """ "清视Pro2" is the Pro 2, not the Pro; "lf-50" finds the ES-LF50 kettle."""
    index = LexicalIndex(["清视 Pro 会议摄像头", "清视 Pro 2 会议摄像头", "ES-LF50 电热水壶", "清视 C1 电脑摄像头"])
    pro2 = index.scores("清视Pro2")
    assert pro2.argmax() == 1 and pro2[1] > pro2[0] > pro2[3]
    kettle = index.scores("lf-50")
    assert kettle.argmax() == 2 and kettle[[0, 1, 3]].tolist() == [0.0, 0.0, 0.0]


def test_bm25_ranks_the_document_sharing_the_model_number_first():
    index = LexicalIndex(["机械师 K7 机械键盘", "机械师 K5 机械键盘", "网速 AX55 无线路由器"])
    scores = index.scores("k7")
    assert scores.argmax() == 0 and scores[1] == 0


@pytest.mark.parametrize(
    ("word", "split"),
    [
        ("heynaofficial", ("heyna", "official")),
        ("adidasoriginals", ("adidas", "originals")),  # not "ada" + ...: no split of "sori…" follows
        ("officialheyna", ("official", "heyna")),
        ("heyna", ()),  # shorter than COMPOUND_MIN
        ("heynaoff", ()),  # "off" is not listed
        ("heynaofficialheynaofficial", ()),  # four pieces: more than COMPOUND_PIECES
        ("heyna2official", ()),  # letters only
    ],
)
def test_a_latin_word_no_listing_uses_is_read_as_the_listed_words_it_runs_together(word, split):
    assert split_compound(word, {"heyna", "official", "adidas", "originals", "ada", "of", "ficial"}) == split


def test_a_brand_typed_run_together_finds_the_listing_that_spaces_it():
    """ "heynaofficial" finds "HEYNA Official"'s coat (the words are not joined in the index: two ordinary words), and
    is not also read as pinyin; a word that does not split scores nothing."""
    index = LexicalIndex(["HEYNA Official 中古羊毛呢外套", "国际时装 羊毛呢外套 official store"], names=["a", "b"])
    scores = index.scores("heynaofficial外套")
    assert scores.argmax() == 0 and scores[0] > scores[1] > 0
    assert index.pinyin_share("heynaofficial外套") == 0.0
    assert index.coverage("heynaofficial", "HEYNA Official 中古羊毛呢外套") == 1.0
    assert index.read_together("heynaofficial外套") == ("heyna", "official") and index.read_together("外套 heyna") == ()


def test_a_latin_brand_outweighs_a_common_word_beside_it():
    """A shop's brand in Latin letters counts twice (LATIN_WORD): "zara格子" is Zara's checked bag, not a 格子 shirt. Once,
    "zara" weighed less than 格子's three tokens (格, 子, 格子)."""
    index = LexicalIndex(["zara托特包 方格 大容量", "格子衬衫 男 长袖", "简约 托特包", "格纹 围巾", "小白鞋 男鞋", "子母包"])
    assert index.scores("zara格子").argmax() == 0


def test_unknown_query_tokens_give_zero_scores():
    index = LexicalIndex(["机械师 K7 机械键盘"])
    assert index.scores("zzz").tolist() == [0.0]


def test_seed_query_marks_unknown_characters(shipped_model):
    """The model card's central fact: `我想买一个羽毛球拍` is mostly [UNK]; 我 and 一 are known."""
    seen = view(shipped_model.tokenizer, "我想买一个羽毛球拍")
    assert seen.tokens == ["我", "[UNK]", "[UNK]", "一", "[UNK]", "[UNK]", "[UNK]", "[UNK]", "[UNK]"]
    assert seen.unknown_chars == ["想", "买", "个", "羽", "毛", "球", "拍"]
    assert seen.coverage == pytest.approx(2 / 9)


def test_latin_text_is_fully_visible(shipped_model):
    seen = view(shipped_model.tokenizer, "AX55 Wi-Fi router")
    assert seen.unknown_chars == [] and seen.coverage == 1.0


def test_base_vocabulary_has_244_cjk_characters(base_model):
    vocab = base_model.tokenizer.get_vocab()
    assert sum(len(t) == 1 and "\u4e00" <= t <= "\u9fff" for t in vocab) == 244
    assert missing_cjk_chars(base_model.tokenizer, ["我想买羽毛球拍拍"]) == ["拍", "买", "想", "毛", "球", "羽"]


@pytest.mark.parametrize("model_name", ["shipped", "chinese", "base"])
def test_the_plain_tokenizer_sees_what_the_models_own_tokenizer_sees(model_name, catalog, request):
    """Search reads tokens torch-free (PlainTokenizer, from tokenizer.json): the same tokens, [UNK]s and coverage."""
    model = request.getfixturevalue(f"{model_name}_model")
    plain = PlainTokenizer.from_dir({"shipped": MODEL_DIR, "chinese": CHINESE_DIR, "base": base_model_path()}[model_name])
    texts = catalog.documents + [q.query for q in load_queries(ROOT / "data" / "dev_queries.csv")]
    texts += ["", "   ", "Ｋ７ 全角", "emoji 😀 混合", "想" * 600]  # blank, full-width, emoji, beyond max_seq_length
    expected = [view(model.tokenizer, t) for t in texts]
    assert [view(plain, t) for t in texts] == expected
    assert missing_cjk_chars(plain, texts) == missing_cjk_chars(model.tokenizer, texts)
    # The copy an engine built from a loaded model reads (PlainTokenizer.of) sees the same, even when it is copied
    # while the model's tokenizer is set to truncate and pad (as a padded, truncated call leaves it).
    model.tokenizer(texts[:2], truncation=True, max_length=8, padding="max_length")
    copied = PlainTokenizer.of(model.tokenizer)  # once: a copy serialises the whole tokenizer (~20 ms)
    assert [view(copied, t) for t in texts] == expected


def test_the_plain_tokenizer_counts_tokens_as_the_models_own(shipped_model, catalog):
    """The triplet check flags over-long rows by token count: the torch-free count must be the model's."""
    from shopsearch.text.tokens import token_counts

    texts = catalog.documents + ["", "想" * 600]
    assert token_counts(PlainTokenizer.from_dir(MODEL_DIR), texts) == token_counts(shipped_model.tokenizer, texts)
    assert token_counts(PlainTokenizer.from_dir(MODEL_DIR), ["", "想" * 600]) == [2, 602]
