"""When to say "nothing relevant": signals of the top hit, weighed by a line calibrated on the dev queries.

- **cosine**: the model's cosine between the query and the top hit (what it means, whatever the words);
- **word coverage**: the share of the query's content words the top hit's text contains. Content words are the
  jieba words of the query once filler (我想买, 一款), negations, prices and audience words (男, 儿童, 便宜) are taken
  out; a word the catalog never uses still counts, so `电动剃须刀` covered only by `电动牙刷`'s 电动 scores ½, where
  the old lexical coverage dropped 剃须刀 (no product has it) and scored 1;
- **length**: log of the number of content words, since a long description uses words no listing uses;
- **weakest word**: the credit of the least-covered content word (0 when one is missing altogether). `羽毛球线 BG80`
  against a racket covers 羽毛球 but not 线: what the query asks for is absent, though most of its words are there.

A query is flagged when `a × cosine + b × coverage + c × log(words) + d × weakest + bias < 0`: a plane fitted by
logistic regression on data/dev_queries.csv and data/dev_hard_queries.csv (`python -m shopsearch calibrate --save`)
and saved beside the model in
`no_answer.json`. Cosine scales differ between models, so a model without that file (the seed model, a fresh
fine-tune) uses the default rule, fitted without the cosine (coverage and length do not depend on the model).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shopsearch.text.intent import ParsedQuery
from shopsearch.text.lexical import latin_tokens, tokenize
from shopsearch.text.pinyin import PREFIX, pinyin_tokens
from shopsearch.text.query import content_text, word_boundaries

if TYPE_CHECKING:
    from shopsearch.retrieval.search import SearchEngine

NO_ANSWER_FILE = "no_answer.json"  # in a model's folder: its calibrated rule (python -m shopsearch calibrate --save)
PARTIAL = 0.5  # credit for a word of 2+ characters whose characters all appear in the hit, but not together
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A number and the measure after it are one spec word (65寸, 40升, 5号): "65" alone is in many listings.
_MEASURES = "寸升速号人米克瓦码岁层档核件只双片张瓶包袋盒套支把台条斤"
_RUN = re.compile(rf"\d+(?:\.\d+)?[{_MEASURES}]|[{_CJK}]+|[a-z0-9]+(?:[-.][a-z0-9]+)*")
_IS_CJK = re.compile(rf"[{_CJK}]")
# Words of a query that name no thing: covering them says nothing about the hit.
_STOP = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "用",
        "给",
        "在",
        "是",
        "有",
        "很",
        "也",
        "都",
        "要",
        "能",
        "带",
        "买",
        "个",
        "款",
        "把",
        "让",
        "被",
        "就",
        "还",
        "又",
        "等",
        "对",
        "上",
        "下",
    ]
) | frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "for",
        "with",
        "to",
        "in",
        "on",
        "at",
        "by",
        "is",
        "are",
        "my",
        "me",
        "i",
        "you",
        "it",
        "some",
        "any",
        "that",
        "this",
    ]
)


def content_words(parsed: ParsedQuery) -> list[str]:
    """The words of a query that a relevant product should contain, folded (NFKC, lower case), in order, distinct.

    Filler, negated terms, prices and the words of every intent chip (audience, 便宜…) are left out; Chinese runs are
    cut into jieba dictionary words, a latin/digit run is one word; function words (的, 用, for) are dropped. If
    nothing is left (a query of filler or intents only), the content text's words are used.
    Example: parse_query("我想买一个电动剃须刀") -> ["电动", "剃须刀"]; parse_query("跑步鞋 男") -> ["跑步鞋"]
    """
    kept = list(parsed.text)
    for chip in parsed.chips:
        start, end = chip.span
        kept[start:end] = [" "] * (end - start)
    return _words(content_text("".join(kept))) or _words(parsed.content)


def _words(text: str) -> list[str]:
    """Example: "5W-30 机油 for 汽车" -> ["5w-30", "机油", "汽车"]"""
    words: dict[str, None] = {}
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _IS_CJK.match(run[0]):
            bounds = sorted(word_boundaries(run))
            words.update((run[a:b], None) for a, b in zip(bounds, bounds[1:]))
        else:
            words[run] = None
    return [w for w in words if w not in _STOP]


def word_credit(word: str, document: str, tokens: set[str]) -> float:
    """How far `document` contains `word`: 1 whole; PARTIAL if a Chinese word's characters are all there apart;
    0 otherwise. A latin word matches as the lexical index does (its joined form among the document's tokens, so
    "pro2" is in "Pro 2"), or as the pinyin of the document's Chinese ("saodi" in 扫地); an English word also in its
    singular ("earphones" in "earphone") or as a Chinese word CC-CEDICT glosses it by ("mouse" in 无线鼠标).

    Args:
        document: NFKC-folded, lower-cased product text. tokens: its `tokenize` tokens and `pinyin_tokens`.
    Example: ("剃须刀", "电动牙刷 刀头", …) -> 0.0; ("剃须刀", "剃刀 须后水", …) -> 0.5; ("pro2", "清视 pro 2", …) -> 1.0
    """
    if word[0].isdigit() and _IS_CJK.match(word[-1]):  # a spec: 65寸 (or 65 寸)
        return float(word in document or f"{word[:-1]} {word[-1]}" in document)
    if _IS_CJK.match(word):
        if word in document:
            return 1.0
        return PARTIAL if len(word) > 1 and all(ch in document for ch in word) else 0.0
    joined = latin_tokens(word)[0]
    if joined in tokens or PREFIX + joined in tokens:
        return 1.0
    if not joined.isalpha():
        return 0.0
    forms = english_forms(joined)
    if any(form in tokens for form in forms):
        return 1.0
    translations = [chinese for form in forms for chinese in english_to_chinese(form)]
    if any(chinese in document for chinese in translations if len(chinese) > 1):
        return 1.0
    # A one-character translation (shoe → 鞋, bag → 包) is in many words: partial credit, as for a split Chinese word.
    return PARTIAL if any(chinese in document for chinese in translations) else 0.0


def english_forms(word: str) -> tuple[str, ...]:
    """A lower-case English word, its singular guesses (plural endings taken off) and, for an -ing word, its verb
    guesses (gaming → game, running → run), longest first.

    Example: english_forms("earphones") -> ("earphones", "earphone", "earphon"); english_forms("batteries") -> (…, "battery");
    english_forms("gaming") -> ("gaming", "game", "gam")
    """
    forms = [word]
    if len(word) > 5 and word.endswith("ing"):
        stem = word[:-3]
        forms += [stem + "e", stem] + ([stem[:-1]] if stem[-1] == stem[-2] else [])
    if len(word) > 3 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
        if word.endswith("es"):
            forms.append(word[:-2])
    return tuple(dict.fromkeys(forms))


# Senses that start like this still name the word after it: "to charge", "a mouse".
_LEADING = re.compile(r"^(?:to|a|an|the) ")


@lru_cache(maxsize=1)
def _english_index() -> dict[str, frozenset[str]]:
    """English word or two-word phrase → the Chinese words (1–4 characters) of CC-CEDICT with one of their first three
    senses that word or phrase (a character only by its first sense).

    Example: "earphone" -> {"耳机", "听筒", …}; "running shoes" -> {"跑鞋"}; "shoe" -> {"鞋", …}
    """
    from shopsearch.text.glosses import cedict

    index: dict[str, set[str]] = {}
    for chinese, senses in cedict().items():
        if len(chinese) > 4 or not all(_IS_CJK.match(ch) for ch in chinese):
            continue
        for sense in senses[: 1 if len(chinese) == 1 else 3]:
            sense = _LEADING.sub("", sense.lower().strip())
            if sense.replace(" ", "").isalpha() and sense.count(" ") <= 1:
                index.setdefault(sense, set()).add(chinese)
    return {english: frozenset(words) for english, words in index.items()}


def english_to_chinese(word: str) -> frozenset[str]:
    """The Chinese words that CC-CEDICT glosses as `word` (see _english_index); empty for a word it lacks.

    The index is built on the first English query (~1 s, once per process). Example: english_to_chinese("mouse") ->
    {"鼠标", "老鼠", …}
    """
    return _english_index().get(word, frozenset())


def word_coverage(words: Sequence[str], document: str) -> float:
    """Share of `words` (see content_words) that `document` contains, with partial credit (see word_credit).

    Example: (["电动", "剃须刀"], "声浪 电动牙刷") -> 0.5; ([], anything) -> 0.0
    """
    credits = word_credits(words, document)
    return sum(credits) / len(credits) if credits else 0.0


def word_credits(words: Sequence[str], document: str) -> list[float]:
    """How far `document` contains each of `words` (see word_credit), two English words said as one Chinese word
    both whole. Example: (["电动", "剃须刀"], "声浪 电动牙刷") -> [1.0, 0.0]
    """
    if not words:
        return []
    folded = unicodedata.normalize("NFKC", document).lower()
    tokens = set(tokenize(folded))
    if any(w.isascii() for w in words):
        tokens.update(pinyin_tokens(folded))
    credits = [word_credit(w, folded, tokens) for w in words]
    # Two English words the document says as one Chinese word ("running shoes" as 跑鞋) are both there.
    for i, (left, right) in enumerate(zip(words, words[1:])):
        if left.isalpha() and right.isalpha() and left.isascii() and right.isascii() and min(credits[i], credits[i + 1]) < 1:
            # "school bag" as CC-CEDICT's "schoolbag" (书包) too
            phrases = {f"{left}{gap}{form}" for form in english_forms(right) for gap in (" ", "")}
            if any(len(chinese) > 1 and chinese in folded for phrase in phrases for chinese in english_to_chinese(phrase)):
                credits[i] = credits[i + 1] = 1.0
    return credits


@dataclass(frozen=True)
class Signals:
    """What the rule reads about one search: the top hit's cosine (None when no query was encoded), the share of the
    query's content words it covers, how many content words the query has, and the credit of the least-covered one
    (1.0 when every word is whole, 0.0 when one is missing or there are none)."""

    cosine: float | None
    coverage: float
    words: int
    weakest: float = 1.0

    @classmethod
    def of(cls, cosine: float | None, credits: Sequence[float]) -> Signals:
        """The signals of a top hit from its cosine and the credits of the query's words (see word_credits)."""
        return cls(cosine, sum(credits) / len(credits) if credits else 0.0, len(credits), min(credits, default=0.0))

    @property
    def length(self) -> float:
        """log of the number of content words: 0 for one word. A long description (爸爸腿脚不好，走路需要个东西撑着)
        uses many words no listing uses, so the same coverage means more in it than in a two-word query."""
        return math.log(max(self.words, 1))


@dataclass(frozen=True)
class NoAnswerRule:
    """Flag "nothing relevant" when `cosine_weight × cosine + coverage_weight × coverage + length_weight × length +
    weakest_weight × weakest + bias` is below 0 (see Signals). The default is the uncalibrated, model-independent rule
    (no cosine).
    A rule that needs a cosine falls back to the default when there is none (lexical mode encodes no query).
    """

    # The default: `python -m shopsearch calibrate --model seed --no-cosine --dev data/dev_queries.csv`, fitted before
    # the weakest word counted (dev, 5-fold CV: precision 0.816, recall 0.940, false alarms 2.6% of answered queries).
    # Re-fitted on both dev files and both views it flags almost nothing (recall 0.27): words alone cannot tell an
    # untagged catalog's answered English queries from its no-answer ones (BENCHMARKS, 2026-12-07 afternoon).
    cosine_weight: float = 0.0
    coverage_weight: float = 7.22
    length_weight: float = 2.7
    bias: float = -5.67
    weakest_weight: float = 0.0

    @property
    def uses_cosine(self) -> bool:
        return self.cosine_weight != 0.0

    def relevance(self, signals: Signals) -> float:
        """The rule's score: below 0 means "nothing relevant". Example: NoAnswerRule().relevance(Signals(None, 0.5, 2))
        -> 7.22 × 0.5 + 2.7 × log 2 − 5.67 = −0.18"""
        if self.uses_cosine and signals.cosine is None:
            return NoAnswerRule().relevance(signals)
        return (
            self.cosine_weight * (signals.cosine or 0.0)
            + self.coverage_weight * signals.coverage
            + self.length_weight * signals.length
            + self.weakest_weight * signals.weakest
            + self.bias
        )

    def flags(self, signals: Signals) -> bool:
        return self.relevance(signals) < 0

    def describe(self) -> str:
        """The rule in words. Example: "nothing relevant when 3.8×cosine + 5.7×coverage + 2.1×log(words) < 5.8" """
        terms = [f"{self.cosine_weight:.3g}×cosine"] if self.uses_cosine else []
        terms += [f"{self.coverage_weight:.3g}×coverage", f"{self.length_weight:.3g}×log(words)"]
        terms += [f"{self.weakest_weight:.3g}×weakest word"] if self.weakest_weight else []
        return f"nothing relevant when {' + '.join(terms)} < {-self.bias:.3g}"

    @classmethod
    def for_model(cls, model_dir: str | Path | None) -> NoAnswerRule:
        """The rule saved beside a model's weights, or the default when there is none or it is unreadable.

        An older file holding only a cosine cut-off ({"cosine_below": 0.37}) is read as that cut-off.
        """
        path = Path(model_dir) / NO_ANSWER_FILE if model_dir else None
        if path is None or not path.is_file():
            return cls()
        try:
            saved = json.loads(path.read_text())
            if "rule" in saved:  # a rule saved before the weakest word counted has no weight for it
                rule = saved["rule"]
                weights = {k: float(rule[k]) for k in ("cosine_weight", "coverage_weight", "length_weight", "bias")}
                return cls(**weights, weakest_weight=float(rule.get("weakest_weight", 0.0)))
            return cls(1.0, 0.0, 0.0, -float(saved["cosine_below"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def save(self, model_dir: str | Path, report: dict) -> Path:
        """Write the rule and how it was calibrated (`report`) to the model folder's no_answer.json."""
        path = Path(model_dir) / NO_ANSWER_FILE
        body = {"rule": asdict(self), "explained": self.describe(), **report}
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return path


def inherit(start_dir: str | Path, run_dir: str | Path) -> bool:
    """Give a Chinese-aware fine-tune the calibrated rule of the model it started from (if that one has a rule and the
    run has none), marked as inherited. Such a run trains with MNRL at the start model's scale, so its cosines keep
    their scale; without the rule it would fall back to the default, fitted without the cosine: after adapting to 2,083
    real Taobao titles, 27 of 100 answered real queries were flagged "nothing relevant" by the default rule, 8 by the
    inherited one (10 for the start model with its own).
    """
    source, target = Path(start_dir) / NO_ANSWER_FILE, Path(run_dir) / NO_ANSWER_FILE
    if not source.is_file() or target.exists():
        return False
    try:
        body = json.loads(source.read_text())
    except (OSError, ValueError):
        return False
    body = {"rule": body.get("rule"), "explained": body.get("explained"), "inherited_from": Path(start_dir).name} if "rule" in body else body
    target.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return True


def flag_report(flagged: Sequence[bool] | np.ndarray, truth: Sequence[bool] | np.ndarray) -> dict[str, float]:
    """Precision and recall of flags on the no-answer queries (truth True), false alarms on the answered ones.

    Example: ([True, True, False], [True, False, False]) -> precision 0.5, recall 1.0, false alarms 0.5
    """
    tp = sum(bool(f and t) for f, t in zip(flagged, truth))
    fp = sum(bool(f and not t) for f, t in zip(flagged, truth))
    positives = int(sum(bool(t) for t in truth))
    negatives = len(truth) - positives
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / positives if positives else 0.0,
        "false_alarms_on_answered": fp / negatives if negatives else 0.0,
        "no_answer_queries": positives,
        "answered_queries": negatives,
    }


def _matrix(signals: Sequence[Signals], use_cosine: bool) -> np.ndarray:
    """One row per search: (cosine, coverage, length, weakest), cosine 0 when it is not used."""
    return np.array([[(s.cosine or 0.0) if use_cosine else 0.0, s.coverage, s.length, s.weakest] for s in signals], dtype=np.float64)


def fit_rule(signals: Sequence[Signals], truth: Sequence[bool], use_cosine: bool = True, max_false_alarms: float = 0.03) -> NoAnswerRule:
    """Fit the rule's weights and place its cut-off.

    Logistic regression (scikit-learn, L2 with C=1, classes balanced since no-answer queries are few) gives the
    weights; the cut-off is then moved to the best F1 among those flagging at most `max_false_alarms` of the answered
    queries (a false "nothing relevant" over the right product costs more trust than a miss; ties: fewer flags).

    Args:
        use_cosine: False fits on coverage and length only: a rule any model can use.
    """
    from sklearn.linear_model import LogisticRegression

    x = _matrix(signals, use_cosine)[:, (0 if use_cosine else 1) :]
    truth_arr = np.asarray(truth, dtype=bool)
    # Predict "answered", so weights come out positive: more cosine, more coverage = more relevant.
    weights = LogisticRegression(C=1.0, class_weight="balanced").fit(x, ~truth_arr).coef_[0]
    scores = x @ weights
    levels = np.unique(scores)
    cuts = np.concatenate([[levels[0] - 1.0], (levels[1:] + levels[:-1]) / 2])

    def quality(cut: float) -> tuple[float, float]:
        report = flag_report(scores < cut, truth_arr)
        if report["false_alarms_on_answered"] > max_false_alarms:
            return (-1.0, 0.0)
        p, r = report["precision"], report["recall"]
        return (2 * p * r / (p + r) if p + r else 0.0, -cut)

    cut = float(max(cuts, key=quality))
    cosine, coverage, length, weakest = (round(float(w), 3) for w in ([0.0, *weights] if not use_cosine else weights))
    return NoAnswerRule(cosine, coverage, length, bias=round(-cut, 3), weakest_weight=weakest)


def cross_validate(
    signals: Sequence[Signals],
    truth: Sequence[bool],
    use_cosine: bool = True,
    folds: int = 5,
    max_false_alarms: float = 0.03,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
) -> dict[str, float]:
    """Out-of-fold precision, recall and false alarms: a rule fitted on k−1 folds flags the held-out fold.

    Folds are stratified (each holds its share of no-answer queries); each shuffle seed pools its folds' flags into one
    report, and the reports of the seeds are averaged (one split of 67 positives moves recall by a few points).
    """
    from sklearn.model_selection import StratifiedKFold

    truth_arr = np.asarray(truth, dtype=bool)
    reports = []
    for seed in seeds:
        flagged = np.zeros(len(truth_arr), dtype=bool)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(truth_arr)), truth_arr):
            rule = fit_rule([signals[i] for i in train], truth_arr[train], use_cosine, max_false_alarms)
            flagged[test] = [rule.flags(signals[i]) for i in test]
        reports.append(flag_report(flagged, truth_arr))
    mean = {k: float(np.mean([r[k] for r in reports])) for k in ("precision", "recall", "false_alarms_on_answered")}
    return {
        **mean,
        "no_answer_queries": reports[0]["no_answer_queries"],
        "answered_queries": reports[0]["answered_queries"],
        "folds": folds,
        "shuffles": len(seeds),
    }


def query_signals(engine: SearchEngine, queries: Sequence[str]) -> list[Signals]:
    """The signals of each query's default (hybrid) search, as the engine computes them for its rule.

    A query with no hit at all (none can pass no filter here, but a catalog may be empty) reads as covering nothing.
    Like evaluation, it waits until e5 has read the catalog (retrieval.reference): a fit on top hits found two ways
    (a catalog over 400 products is read in the background) would fit neither.
    """
    reference = getattr(engine, "reference", None)
    if reference is not None:
        reference.wait()
    results = [engine.search(q, top=1) for q in queries]
    return [r.signals or Signals(None, 0.0, len(r.content_words), 0.0) for r in results]
