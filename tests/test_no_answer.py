"""The "nothing relevant" detector: its signals (content words, their coverage), the rule, and what the engine says."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CHINESE_DIR

from shopsearch.data.catalog import without_tags
from shopsearch.retrieval.embeddings import model_fingerprint
from shopsearch.retrieval.no_answer import (
    NO_ANSWER_FILE,
    NoAnswerRule,
    Signals,
    content_words,
    cross_validate,
    english_forms,
    fit_rule,
    flag_report,
    word_coverage,
    word_credits,
)
from shopsearch.retrieval.search import build_engine
from shopsearch.text.intent import parse_query


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("我想买一个电动剃须刀", ["电动", "剃须刀"]),  # filler out, jieba words in, 剃须刀 kept though no product has it
        ("跑步鞋 男", ["跑步", "鞋"]),  # the audience word is a chip, not a word the hit must contain
        ("两百以内的行车记录仪", ["行车", "记录仪"]),  # the price is a chip too
        ("星耀Pad 11 普通版 不要4G", ["星", "耀", "pad", "11", "普通", "版"]),  # and the negated term
        ("65寸电视", ["65寸", "电视"]),  # a number and its measure are one spec word
        ("cat food for kittens", ["cat", "food", "kittens"]),  # function words dropped
    ],
)
def test_content_words_are_what_a_relevant_product_should_contain(query, words):
    assert content_words(parse_query(query)) == words


def test_coverage_counts_words_no_product_uses_with_partial_credit_for_scattered_characters():
    """电动剃须刀 against an electric toothbrush covers 电动 only (½); 剃须刀's characters apart earn PARTIAL; a latin
    word matches as the index does (Pro2 in "Pro 2") or as the pinyin of the text; a spec only whole."""
    assert word_coverage(["电动", "剃须刀"], "声浪 电动牙刷 声波") == 0.5
    assert word_coverage(["剃须刀"], "刀头 须后 剃") == 0.5
    assert word_coverage(["pro2"], "清视 Pro 2 会议摄像头") == 1.0
    assert word_coverage(["yumaoqiupai"], "飞羽 羽毛球拍") == 1.0
    assert word_coverage(["65寸", "电视"], "清视 27寸 显示器 65") == 0.0
    assert word_coverage([], "anything") == 0.0


def test_english_words_are_read_in_the_singular_and_through_the_dictionary():
    """A catalog without English tags still covers English words: by the Chinese words CC-CEDICT glosses them by
    (earphone 耳机, wireless 无线, mouse 鼠标), a two-word phrase by one Chinese word (running shoes 跑鞋), a
    one-character translation for part (shoe 鞋); and a plural finds its singular among English tags."""
    assert english_forms("earphones")[:2] == ("earphones", "earphone") and "battery" in english_forms("batteries")
    assert word_coverage(["earphones"], "悦耳 入门真无线耳机") == 1.0
    assert word_coverage(["earphones"], "悦耳 true wireless, earphone") == 1.0
    assert word_coverage(["wireless", "mouse"], "机械师 M3 无线鼠标") == 1.0
    assert word_coverage(["trail", "running", "shoes"], "野径大师 越野跑鞋") == pytest.approx(2 / 3)
    assert word_coverage(["shoes"], "步云 布鞋") == 0.5
    assert word_coverage(["earphones"], "机械师 M3 无线鼠标") == 0.0
    # An -ing word is read as its verb too (gaming as game → 游戏), and two English words as CC-CEDICT's one (school bag
    # as schoolbag → 书包): both scored 0 against a catalog without English tags.
    assert "game" in english_forms("gaming") and "run" in english_forms("running")
    assert word_coverage(["gaming"], "机械师 T15 游戏本") == 1.0
    assert word_coverage(["school", "bag"], "学霸 中学生双肩书包") == 1.0


def test_the_weakest_word_is_the_least_covered_one():
    """羽毛球线 against a racket: 羽毛球 is there, 线 is not; the signals keep both the share and the missing word."""
    credits = word_credits(["羽毛球", "线", "bg80"], "飞羽 羽毛球拍 碳纤维 bg80")
    assert credits == [1.0, 0.0, 1.0]
    signals = Signals.of(0.4, credits)
    assert signals.coverage == pytest.approx(2 / 3) and signals.words == 3 and signals.weakest == 0.0
    assert Signals.of(0.4, []) == Signals(0.4, 0.0, 0, 0.0)
    rule = NoAnswerRule(4.0, 3.0, 2.5, bias=-7.0, weakest_weight=4.0)
    assert rule.flags(Signals.of(0.4, credits)) and not rule.flags(Signals.of(0.4, [1.0, 1.0, 1.0]))
    assert "weakest word" in rule.describe() and "weakest" not in NoAnswerRule().describe()


def test_the_rule_weighs_cosine_coverage_and_length_and_falls_back_without_a_cosine():
    """Relevance is a plane: more cosine, more coverage or more words (a long description) all count as more relevant.
    Without a cosine (lexical mode) a rule that needs one falls back to the model-independent default."""
    rule = NoAnswerRule(cosine_weight=4.0, coverage_weight=6.0, length_weight=2.5, bias=-6.0)
    assert rule.flags(Signals(0.25, 0.5, 2)) and not rule.flags(Signals(0.5, 1.0, 2))
    assert not rule.flags(Signals(0.3, 0.3, 8)), "a long description covering a third of its words is not flagged"
    assert rule.relevance(Signals(None, 0.5, 2)) == NoAnswerRule().relevance(Signals(None, 0.5, 2))
    assert not NoAnswerRule().uses_cosine and "cosine" in rule.describe()


def test_the_rule_is_saved_beside_the_model_and_read_back(tmp_path):
    """A saved rule reads back equal; an older cosine-only file reads as its cut-off; a broken file gives the default."""
    rule = NoAnswerRule(3.7, 6.4, 2.5, -6.4, weakest_weight=4.2)
    rule.save(tmp_path, {"dev": {"precision": 0.9}})
    assert NoAnswerRule.for_model(tmp_path) == rule
    assert json.loads((tmp_path / NO_ANSWER_FILE).read_text())["dev"]["precision"] == 0.9
    before = {"cosine_weight": 3.7, "coverage_weight": 6.4, "length_weight": 2.5, "bias": -6.4}  # saved before the weakest word
    (tmp_path / NO_ANSWER_FILE).write_text(json.dumps({"rule": before}))
    assert NoAnswerRule.for_model(tmp_path) == NoAnswerRule(3.7, 6.4, 2.5, -6.4)
    (tmp_path / NO_ANSWER_FILE).write_text('{"cosine_below": 0.37}')
    old = NoAnswerRule.for_model(tmp_path)
    assert old.flags(Signals(0.36, 1.0, 1)) and not old.flags(Signals(0.38, 0.0, 1))
    (tmp_path / NO_ANSWER_FILE).write_text("{not json")
    assert NoAnswerRule.for_model(tmp_path) == NoAnswerRule() == NoAnswerRule.for_model(None)


def test_fitting_finds_the_separating_line_within_the_false_alarm_budget():
    """On signals where no-answer queries have low coverage, the fitted rule flags them and (almost) nothing else,
    and cross-validation says so too."""
    rng = np.random.default_rng(0)
    truth = [True] * 30 + [False] * 270
    signals = [
        Signals(
            float(rng.uniform(0.1, 0.4) if t else rng.uniform(0.3, 0.8)),
            float(rng.uniform(0.0, 0.4) if t else rng.uniform(0.6, 1.0)),
            int(rng.integers(1, 4)),
        )
        for t in truth
    ]
    rule = fit_rule(signals, truth, max_false_alarms=0.03)
    report = flag_report([rule.flags(s) for s in signals], truth)
    assert report["recall"] == 1.0 and report["false_alarms_on_answered"] <= 0.03
    assert rule.uses_cosine and rule.coverage_weight > 0
    cv = cross_validate(signals, truth, folds=5, seeds=(0,))
    assert cv["recall"] >= 0.9 and cv["false_alarms_on_answered"] <= 0.03
    assert not fit_rule(signals, truth, use_cosine=False).uses_cosine


def test_fitting_weighs_a_missing_word_when_it_is_what_tells_the_queries_apart():
    """Near misses cover most of their words but miss one (羽毛球线 against a racket); answered queries of the same
    coverage miss none. Only the weakest word separates them, and the fitted rule leans on it."""
    rng = np.random.default_rng(1)
    truth = [True] * 40 + [False] * 260
    signals = [Signals(float(rng.uniform(0.3, 0.6)), float(rng.uniform(0.5, 0.8)), 3, 0.0 if t else 1.0) for t in truth]
    rule = fit_rule(signals, truth)
    assert rule.weakest_weight > 0
    assert flag_report([rule.flags(s) for s in signals], truth)["recall"] == 1.0


@pytest.mark.parametrize(
    ("query", "flagged"),
    [
        ("猫粮", True),
        ("电动剃须刀", True),  # 电动 alone matches 电动牙刷: half the words are missing
        ("乳胶床垫", True),  # a yoga mat of natural rubber is close in meaning (cosine 0.41), but no 床垫 anywhere
        ("耳机收纳盒", True),  # earphones are there, a case for them is not: half covered, the weakest word missing
        ("吹风机 支架", True),  # the same: a stand, not a hair dryer
        ("跑步鞋 男", False),  # 11 running shoes
        ("yumaoqiupai", False),  # pinyin for 羽毛球拍: the model reads it badly (cosine 0.12), the words are there
        ("我想买一个羽毛球拍", False),
    ],
)
def test_the_chinese_model_flags_what_the_catalog_lacks_and_not_what_it_has(chinese_engine, query, flagged):
    result = chinese_engine.search(query)
    assert chinese_engine.no_answer.uses_cosine
    assert result.nothing_relevant is flagged, (query, result.signals, result.content_words, result.hits[0].name)


@pytest.mark.parametrize(("query", "flagged"), [("电动剃须刀", True), ("iphone 充电器", True), ("跑步鞋 男", False), ("寻找一款K7", False)])
def test_an_uncalibrated_model_flags_by_word_coverage(engine, query, flagged):
    """The seed model has no no_answer.json: the default rule (no cosine) decides. The old lexical coverage missed
    电动剃须刀 and iphone 充电器 (words no product uses were dropped) and flagged 跑步鞋 男."""
    assert engine.no_answer == NoAnswerRule()
    result = engine.search(query)
    assert result.nothing_relevant is flagged, (query, result.signals, result.content_words, result.hits[0].name)


@pytest.fixture(scope="module")
def untagged_engine(chinese_model, catalog, session_cache):
    """The Chinese-aware engine on the shipped catalog without its English tags: how a shop's own catalog reads."""
    return build_engine(chinese_model, model_fingerprint(CHINESE_DIR), without_tags(catalog), session_cache, model_dir=CHINESE_DIR)


@pytest.mark.parametrize(
    ("query", "engine_name"),
    [("earphones under 200 yuan", "chinese_engine"), ("earphones under 200 yuan", "untagged_engine"), ("wireless mouse", "untagged_engine")],
)
def test_a_right_english_result_is_not_called_nothing_relevant(query, engine_name, request):
    """The top hit is the right product (a true-wireless earphone, a wireless mouse) though no product says "earphones"
    and, without tags, none says "wireless mouse" in English: its Chinese words cover the query."""
    engine = request.getfixturevalue(engine_name)
    result = engine.search(query)
    assert any(word in result.hits[0].name for word in ("耳机", "鼠标")), result.hits[0].name
    assert not result.nothing_relevant, (query, result.signals, result.content_words, result.hits[0].name)


def test_lexical_mode_decides_without_a_cosine(chinese_engine):
    result = chinese_engine.search("猫粮", mode="lexical")
    assert result.signals is not None and result.signals.cosine is None and result.nothing_relevant
