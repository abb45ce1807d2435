"""The bad-input corpus (tests/corpus.py): every file and query gets its promised outcome, in both languages."""

from __future__ import annotations

import re

import pytest
from corpus import QUERY_CASES, FileCase, QueryCase, file_cases

from shopsearch.common.errors import UserError
from shopsearch.data.catalog import load_catalog
from shopsearch.data.triplets import read_triplets
from shopsearch.retrieval.search import validate_query

CJK = re.compile(r"[\u4e00-\u9fff]")
CASES = file_cases()


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 30 and len(QUERY_CASES) >= 15
    assert len({c.name for c in CASES}) == len(CASES)


def assert_bilingual(message: str) -> None:
    zh, sep, en = message.partition(" · ")
    assert sep and CJK.search(zh) and re.search(r"[A-Za-z]{3}", en), message
    assert "Traceback" not in message and "Error(" not in message


def read(case: FileCase, path) -> int:
    if case.kind == "triplets":
        triplets, _report = read_triplets(path, max_mb=5, max_rows=5000)
        return len(triplets)
    return len(load_catalog(path, max_mb=5, max_rows=5000))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_file_gets_its_outcome(case: FileCase, tmp_path):
    path = tmp_path / case.name
    path.write_bytes(case.data)
    if case.outcome == "ok":
        assert read(case, path) == case.expect
    else:
        with pytest.raises(UserError) as err:
            read(case, path)
        assert case.expect in err.value.en
        assert_bilingual(str(err.value))
    assert path.read_bytes() == case.data, "reading never changes the upload"


@pytest.mark.parametrize("case", QUERY_CASES, ids=[q.name for q in QUERY_CASES])
def test_each_query_gets_its_outcome(case: QueryCase, engine):
    if case.outcome == "error":
        with pytest.raises(UserError) as err:
            validate_query(case.text, 500)
        assert case.expect in err.value.en
        assert_bilingual(str(err.value))
    else:
        query = validate_query(case.text, 500)
        result = engine.search(query, top=5)
        assert len(result.hits) == 5 and result.total_ms >= 0
    assert engine.search("寻找一款K7", top=1).hits[0].name == "机械师 K7 机械键盘", "the next search still works"


def test_full_width_model_numbers_match_ascii_ones(engine):
    assert engine.search("ＡＸ５５", mode="lexical", top=1).hits[0].name == "网速 AX55 无线路由器"
