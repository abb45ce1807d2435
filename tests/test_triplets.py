"""Generating triplets from the catalog, and reading/checking uploaded triplet files."""

from __future__ import annotations

import pandas as pd
import pytest

from shopsearch.common.config import ROOT
from shopsearch.common.errors import TripletFileError
from shopsearch.data.triplets import TEMPLATES, generate, read_triplets

LIMITS = {"max_mb": 5, "max_rows": 5000}


def test_generator_is_deterministic_and_well_formed(catalog):
    """500 rows, seed templates, no anchor equal to its positive, the same twice, and equal to data/triplets.csv."""
    first, second = generate(catalog), generate(catalog)
    assert first == second
    assert len(first) == 500
    names = {p.name for p in catalog.products}
    prefixes = tuple(t.split("{kw}")[0] for t in TEMPLATES)
    for anchor, positive, negative in zip(first.anchors, first.positives, first.negatives):
        assert anchor != positive and positive != negative
        assert anchor.startswith(prefixes)
    committed = pd.read_csv(ROOT / "data" / "triplets.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(committed, first.to_frame())
    assert len(names) == len(catalog)


def test_negative_never_contains_the_keyword(catalog):
    triplets = generate(catalog, n=200, seed=7)
    text_to_name = {p.text: p.name for p in catalog.products}
    for anchor, negative in zip(triplets.anchors, triplets.negatives):
        for template in TEMPLATES:
            head, tail = template.split("{kw}")
            if anchor.startswith(head) and anchor.endswith(tail):
                keyword = anchor[len(head) : len(anchor) - len(tail)]
                break
        assert keyword not in text_to_name[negative]


@pytest.mark.parametrize("header", ["sentence_0,sentence_1,sentence_2", "anchor,positive,negative", "query,pos,neg", "Anchor, Positive, Negative"])
def test_known_column_names_are_accepted(write, header):
    path = write("t.csv", f"{header}\n寻找一款K7,机械师 K7 机械键盘,峰景 双人登山帐篷\n")
    triplets, report = read_triplets(path, **LIMITS)
    assert triplets.anchors == ["寻找一款K7"] and not report.notices


def test_three_unnamed_columns_are_used_in_order_with_a_notice(write):
    triplets, report = read_triplets(write("t.csv", "a,b,c\n寻找一款K7,机械师 K7 机械键盘,帐篷\n"), **LIMITS)
    assert triplets.negatives == ["帐篷"]
    assert report.notices and "in order" in report.notices[0]


def test_bad_rows_are_dropped_and_counted(write):
    content = (
        "anchor,positive,negative\n"
        "q1,p1,n1\n"
        "q1,p1,n1\n"  # duplicate
        "q2,,n2\n"  # empty cell
        "p3,p3,n3\n"  # anchor = positive
        "q4,p4,p4\n"  # positive = negative
    )
    triplets, report = read_triplets(write("t.csv", content), **LIMITS)
    assert len(triplets) == 1
    assert report.rows_read == 5 and report.rows_kept == 1
    assert dict(report.dropped) == {"duplicate": 1, "empty": 1, "anchor_is_positive": 1, "positive_is_negative": 1}


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("utf-16", "utf-16")])
def test_encodings_are_detected(write, encoding, expected):
    content = "anchor,positive,negative\n我想买一个羽毛球拍,疾光 77 羽毛球拍,恒温瓶 1升\n"
    triplets, report = read_triplets(write("t.csv", content.encode(encoding)), **LIMITS)
    assert report.encoding == expected
    assert triplets.anchors == ["我想买一个羽毛球拍"]


def test_report_counts_unknown_characters(write, shipped_model):
    content = "anchor,positive,negative\n我想买一个羽毛球拍,疾光 77 羽毛球拍,恒温瓶 1升\n"
    _, report = read_triplets(write("t.csv", content), tokenizer=shipped_model.tokenizer, **LIMITS)
    assert 0.5 < report.unknown_rate < 1.0
    assert report.too_long == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"anchor,positive,negative\n", "no data rows"),
        (b"x,y\n1,2\n", "Missing column"),
        (b"anchor,positive,negative\nq,q,n\n", "No usable triplets"),
        (b"\x00\x01\x02binary\x00", "NUL"),
    ],
)
def test_unusable_files_raise_a_bilingual_error(write, content, fragment):
    with pytest.raises(TripletFileError) as err:
        read_triplets(write("t.csv", content), **LIMITS)
    assert fragment in str(err.value) and " · " in str(err.value)


def test_files_over_the_row_and_size_limits_are_refused(write):
    rows = "anchor,positive,negative\n" + "".join(f"q{i},p{i},n{i}\n" for i in range(30))
    with pytest.raises(TripletFileError, match="over the limit of 20"):
        read_triplets(write("t.csv", rows), max_mb=5, max_rows=20)
    with pytest.raises(TripletFileError, match="MB limit"):
        read_triplets(write("big.csv", b"a,b,c\n" + b"x" * (2 * 1024 * 1024)), max_mb=1, max_rows=20)


def test_long_unbroken_titles_give_a_few_of_their_words_not_the_whole_title():
    """A shop's titles are keyword strings of ~30 characters without spaces: the whole title as the keyword made
    "最近在看<the entire title>，有什么建议？". A long piece is cut to 1–3 of its words; the negative still lacks them."""
    from shopsearch.data.catalog import Catalog, Product
    from shopsearch.data.triplets import LONG_PIECE, keyword_of

    titles = [
        "专业护膝运动男膝盖女士跑步装备关节夏季超薄款护漆健身篮球护套",
        "户外夏季薄款女士运动登山徒步速干长裤休闲裤弹力裤透气潮流快干",
        "撞色针织开衫外套女春秋复古日系慵懒毛衣高级设计感小众短款上衣",
        "寄居蟹替换宠物壳天然大口径海边壳装饰贝壳螺迷你小活体螃蟹包邮",
    ]
    shop = Catalog([Product(str(i), t, "", "", None, "", "") for i, t in enumerate(titles)])
    triplets = generate(shop, n=40, seed=3)
    assert len(triplets) >= 10
    for anchor, positive, negative in zip(triplets.anchors, triplets.positives, triplets.negatives):
        keyword = keyword_of(anchor)
        assert keyword and len(keyword) <= LONG_PIECE and keyword in positive and keyword not in negative, anchor


def test_keyword_of_recovers_the_template_keyword():
    from shopsearch.data.triplets import keyword_of

    assert keyword_of("寻找一款K7") == "K7"
    assert keyword_of("最近在看童趣派，有什么建议？") == "童趣派"
    assert keyword_of("晚上骑车用的灯") is None


def test_hard_negatives_are_closer_than_random_ones_and_never_right_answers(catalog, shipped_model):
    import numpy as np

    from shopsearch.data.triplets import keyword_of, with_hard_negatives

    triplets = generate(catalog, n=60, seed=7)
    mined, replaced = with_hard_negatives(triplets, catalog, shipped_model)
    assert replaced >= 30 and mined.anchors == triplets.anchors and mined.positives == triplets.positives
    names = {p.text: p.name for p in catalog.products}
    for anchor, positive, negative in zip(mined.anchors, mined.positives, mined.negatives):
        assert negative != positive and keyword_of(anchor) not in names[negative]

    def mean_cosine(negatives):
        a = shipped_model.encode(triplets.anchors, normalize_embeddings=True)
        n = shipped_model.encode(negatives, normalize_embeddings=True)
        return float(np.mean((a * n).sum(axis=1)))

    assert mean_cosine(mined.negatives) > mean_cosine(triplets.negatives) + 0.05


def test_a_one_row_file_whose_row_is_invalid_says_so_in_the_singular(write):
    with pytest.raises(TripletFileError) as err:
        read_triplets(write("one.csv", "anchor,positive,negative\n寻找一款K7,机械师 K7 机械键盘,\n"), max_mb=5, max_rows=20)
    assert "the only row is invalid (empty cell)" in str(err.value) and "所有 1 行都无效" in str(err.value)
