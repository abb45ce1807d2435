"""Every uploaded table is read in time linear in its size: its shape is bounded before pandas sees it.

A header of one letter repeated 20,000 times (40 KB) took `load_catalog` 4.5 s, 80,000 columns about 63 s: pandas
de-duplicates column names in quadratic time. Columns, the header's and every record's length and the rows are now
checked in one pass first; the growth test below times the reader on each adversarial shape from 100 KB to 5 MB.
"""

from __future__ import annotations

import sys
import time

import pytest

from shopsearch.common.config import ROOT, get_settings
from shopsearch.common.errors import CatalogError, CsvFileError, UserError
from shopsearch.data.csvio import NO_ROW_LIMIT, TableLimits, check_shape, parse_table

sys.path.insert(0, str(ROOT / "bench"))
from bench_abuse import MB, SHAPES, growth_ratio, shape_growth, wide_csv  # noqa: E402

LIMITS = TableLimits(max_rows=5, max_columns=4, max_header_chars=40, max_line_chars=100)


def refusal(text: str, limits: TableLimits = LIMITS) -> str:
    with pytest.raises(CsvFileError) as err:
        check_shape(text, ",", limits)
    zh, sep, en = str(err.value).partition(" · ")
    assert sep and any("\u4e00" <= ch <= "\u9fff" for ch in zh), "the message is in Chinese and English"
    return en


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c,d,e\n1,2,3,4,5\n", "The header has 5 columns, over the limit of 4 columns."),
        ("a,a,a,a,a\n1\n", "The header has 5 columns, over the limit of 4 columns."),
        ("a,b\n1,2\n1,2,3,4,5\n", "Row 3 has 5 columns, over the limit of 4 columns."),
        ("x" * 41 + "\n1\n", "The header is 41 characters long, over the limit of 40."),
        ("a,b\n1," + "y" * 99 + "\n", "Row 2 is 101 characters long, over the limit of 100."),
        ('a,b\n1,"' + "line\n" * 20 + '"\n', "Row 2 is 102 characters long, over the limit of 100."),  # one record
        ("a,b\n" + "1,2\n" * 6, "The file goes over the limit of 5 rows. Split it and upload a part."),
        ("a,b\n" + "1,2\n" * 5 + "\n" * 6, "The file has more than 5 blank lines."),
        ('a,b\n"1"x,2\n', "The file could not be parsed as CSV; check its delimiters and quotes."),
    ],
    ids=["wide", "duplicate_names", "wide_row", "long_header", "long_row", "quoted_multiline", "rows", "blank", "quote"],
)
def test_a_table_over_a_limit_is_refused_naming_the_limit(text, message):
    assert refusal(text) == message


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c,d\n" + "1,2,3,4\n" * 5,  # at every limit
        "a,b\n" + "1,2\n\n" * 5,  # a blank line after each row: five rows, five blank lines
        "a,b\n" + '1,"x\ny"\n' * 5,  # a quoted newline does not start a row
        "  \n\na,b\n1,2\n \n",  # whitespace-only lines are blank, as pandas skips them
    ],
)
def test_a_table_within_the_limits_passes(text):
    check_shape(text, ",", LIMITS)


def test_the_shipped_tables_pass_with_a_wide_margin():
    """catalog.csv and data/*.csv fit an eighth of the column limit, a tenth of the header's and a thousandth of a record's."""
    settings = get_settings()
    tight = TableLimits(NO_ROW_LIMIT, settings.max_table_columns // 8, settings.max_header_chars // 10, settings.max_line_chars // 1000)
    paths = [ROOT / "catalog.csv", *sorted((ROOT / "data").glob("*.csv"))]
    assert len(paths) >= 5
    for path in paths:
        assert len(parse_table(path.read_bytes(), tight).frame) > 10, path


def test_the_limits_are_the_settings_and_the_environment_overrides_them(monkeypatch):
    defaults = TableLimits.from_settings()
    assert (defaults.max_columns, defaults.max_header_chars, defaults.max_line_chars) == (64, 4096, 256 * 1024)
    assert defaults.max_rows == 5000, "the largest upload: catalogs and triplets both take 5,000 rows"
    monkeypatch.setenv("SHOPSEARCH_MAX_TABLE_COLUMNS", "3")
    get_settings.cache_clear()
    try:
        assert TableLimits.from_settings(7) == TableLimits(7, 3, 4096, 256 * 1024)
        with pytest.raises(CsvFileError, match="over the limit of 3 columns"):
            parse_table(b"a,b,c,d\n1,2,3,4\n")
    finally:
        get_settings.cache_clear()


def test_the_issues_40000_column_file_is_refused_by_every_table_reader_in_a_fraction_of_a_second(tmp_path):
    """Catalog upload, triplet upload (and the fine-tune API's own read), evaluation queries: one reader, one refusal."""
    from shopsearch.data.catalog import load_catalog
    from shopsearch.data.triplets import read_triplets
    from shopsearch.retrieval.evaluation import QueryFileError, load_queries

    wide = wide_csv(tmp_path / "wide.csv", 40_000)
    assert 75_000 < wide.stat().st_size < 85_000
    readers = [
        (lambda: load_catalog(wide, max_mb=5, max_rows=5000), CatalogError),
        (lambda: read_triplets(wide, max_mb=5, max_rows=5000), UserError),
        (lambda: load_queries(wide), QueryFileError),
    ]
    for read, error in readers:
        started = time.thread_time()  # this thread's CPU time: a busy machine cannot fail it
        with pytest.raises(error, match="The header has 40000 columns, over the limit of 64 columns"):
            read()
        assert time.thread_time() - started < 0.5


def test_the_reader_takes_time_linear_in_the_files_size_on_every_adversarial_shape():
    """For each shape, CPU seconds per MB at 5 MB are within 3x of those at 100 KB (median of 3 runs each).

    A quadratic path makes the ratio about 50 (or runs past the worker's timeout, recorded as infinite); fixed costs
    and early refusals make it fall below 1. Runs in a worker process, so a hang fails here instead of in CI's limit.
    """
    rows = shape_growth(sizes=(100 * 1024, 5 * MB), repeats=3, timeout=10)
    ratios = {shape: growth_ratio(rows, shape) for shape in SHAPES}
    slow = {shape: round(ratio, 2) for shape, ratio in ratios.items() if not ratio <= 3}
    assert not slow, f"seconds per MB grew more than 3x from 100 KB to 5 MB: {slow}; {rows}"
    assert len(ratios) >= 10
