"""Triplets (anchor, positive, negative): generate them from a catalog, or read and check an upload."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shopsearch.common.errors import CsvFileError, TripletFileError
from shopsearch.data.catalog import Catalog
from shopsearch.data.csvio import read_table
from shopsearch.text.query import word_boundaries
from shopsearch.text.tokens import AnyTokenizer, missing_cjk_chars, token_counts, unknown_rate

COLUMNS = ("sentence_0", "sentence_1", "sentence_2")
# The seed model card's four query templates.
TEMPLATES = ("我想买一个{kw}", "有什么好的{kw}推荐吗？", "寻找一款{kw}", "最近在看{kw}，有什么建议？")
ALIASES = {
    "anchor": {"sentence_0", "anchor", "query", "q", "question", "text", "查询", "问题", "锚点", "搜索词"},
    "positive": {"sentence_1", "positive", "pos", "positive_text", "pos_text", "正例", "正样本", "相关"},
    "negative": {"sentence_2", "negative", "neg", "negative_text", "neg_text", "hard_negative", "负例", "负样本", "无关"},
}
MAX_MODEL_TOKENS = 256
# generate(): draws in a row without a new triplet after which a small catalog is taken to have run out of them.
# The shipped catalog never comes close (500 triplets from 328 products take under two passes).
GIVE_UP_AFTER = 1000

DROP_REASONS = {
    "empty": ("有空单元格", "empty cell"),
    "duplicate": ("重复行", "duplicate row"),
    "anchor_is_positive": ("查询与正例相同", "anchor equals positive"),
    "positive_is_negative": ("正例与负例相同", "positive equals negative"),
}


def holdout_size(rows: int, share: float) -> int:
    """Rows `TripletSet.split` holds out: the share, but at least 1 and leaving at least 1 to train on (when rows ≥ 2).

    Example: holdout_size(500, 0.1) -> 50; holdout_size(3, 0.1) -> 1; holdout_size(1, 0.1) -> 0
    """
    return min(max(1, round(rows * share)), rows - 1) if rows >= 2 else 0


@dataclass(frozen=True)
class TripletSet:
    anchors: list[str]
    positives: list[str]
    negatives: list[str]

    def __len__(self) -> int:
        return len(self.anchors)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(dict(zip(COLUMNS, (self.anchors, self.positives, self.negatives))))

    def split(self, holdout: float, seed: int = 42) -> tuple[TripletSet, TripletSet]:
        """Shuffle with `seed` and hold out a share for evaluation (at least 1 row each when len ≥ 2)."""
        order = list(range(len(self)))
        random.Random(seed).shuffle(order)
        n_test = holdout_size(len(self), holdout)
        test, train = order[:n_test], order[n_test:]
        return self._take(train), self._take(test)

    def _take(self, rows: list[int]) -> TripletSet:
        return TripletSet(*([col[i] for i in rows] for col in (self.anchors, self.positives, self.negatives)))


@dataclass
class CheckReport:
    """What reading an upload found, shown to the user before any training."""

    rows_read: int
    encoding: str
    delimiter: str
    columns: dict[str, str]  # role -> column name in the file
    notices: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    too_long: int = 0  # texts over the model's 256-token limit (they are truncated in training)
    unknown_rate: float = 0.0
    unknown_chars: int = 0  # distinct CJK characters the tokenizer lacks (the Chinese-aware recipe adds them)

    @property
    def rows_kept(self) -> int:
        return self.rows_read - sum(self.dropped.values())


LONG_PIECE = 16  # a name piece longer than this (real shop titles run ~30 characters unbroken) is cut into words


def generate(catalog: Catalog, n: int = 500, seed: int = 42) -> TripletSet:
    """Build up to `n` distinct triplets from a catalog with the seed's templates, deterministically.

    Products are visited in a shuffled cycle so every product appears; the keyword is one whitespace-separated
    piece of the product name (brand, model or category); the negative is another product whose name does not
    contain that keyword, so no triplet contradicts itself. A keyword every other name contains gives no triplet.
    A small or uniform catalog holds fewer than `n` distinct triplets: generation stops after GIVE_UP_AFTER draws
    in a row find no new one, and returns those it made.

    Example: product "机械师 K7 机械键盘" -> ("寻找一款K7", "机械师 K7 机械键盘 采用…", "峰景 双人登山帐篷 …")

    Raises:
        TripletFileError: the catalog yields no triplet at all (fewer than two products, or names too alike).
    """
    if len(catalog) < 2:
        raise _too_uniform(len(catalog))
    rng = random.Random(seed)
    visits = _visits(list(range(len(catalog))), rng)
    made: dict[tuple[str, str, str], None] = {}  # an ordered set: triplets in the order they were drawn
    misses = 0  # draws in a row that gave no new triplet
    while len(made) < n and misses < GIVE_UP_AFTER:
        triplet = _draw(catalog, next(visits), rng)
        if triplet is None or triplet in made:
            misses += 1
        else:
            made[triplet] = None
            misses = 0
    if n > 0 and not made:
        raise _too_uniform(len(catalog))
    return TripletSet([a for a, _, _ in made], [p for _, p, _ in made], [neg for _, _, neg in made])


def _visits(order: list[int], rng: random.Random) -> Iterator[int]:
    """Product rows for ever, in passes: each pass shuffles `order` and visits every row once."""
    while True:
        rng.shuffle(order)
        yield from order


def _draw(catalog: Catalog, i: int, rng: random.Random) -> tuple[str, str, str] | None:
    """One random triplet for product `i`, or None when its drawn keyword has no negative or the anchor is its text."""
    product = catalog[i]
    keyword = rng.choice(product.name.split())
    if len(keyword) > LONG_PIECE:  # a shop's keyword-string title: a query names a few of its words, not all of them
        keyword = _few_words(keyword, rng)
    anchor = rng.choice(TEMPLATES).format(kw=keyword)
    candidates = [j for j in range(len(catalog)) if j != i and keyword not in catalog[j].name]
    if not candidates:
        return None
    negative = catalog[rng.choice(candidates)].text
    return None if anchor == product.text else (anchor, product.text, negative)


def _few_words(piece: str, rng: random.Random) -> str:
    """1–3 consecutive jieba words of a long name piece, as a shopper would type them.

    Example: "腕力器套装握力器力量训练器" -> e.g. "握力器" or "套装握力器"
    """
    bounds = sorted(word_boundaries(piece))
    spans = list(zip(bounds, bounds[1:]))
    k = min(len(spans), rng.randint(1, 3))
    start = rng.randint(0, len(spans) - k)
    return piece[spans[start][0] : spans[start + k - 1][1]]


def _too_uniform(products: int) -> TripletFileError:
    return TripletFileError(
        f"目录太小或太单一（{products} 件商品），无法生成三元组：每个商品都需要另一个名称不含其关键词的商品作为负例。",
        f"The catalog is too small or too uniform ({products} products) to generate triplets: each product needs "
        "another product whose name lacks its keyword, to serve as a negative.",
    )


def _find_columns(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    lowered = {c.strip().lower(): c for c in columns}
    found = {role: next((lowered[a] for a in names if a in lowered), None) for role, names in ALIASES.items()}
    if all(found.values()):
        return {role: col for role, col in found.items() if col}, []
    text_columns = [c for c in columns if not c.startswith("Unnamed:")]
    if len(text_columns) == 3:
        mapping = dict(zip(ALIASES, text_columns))
        notice = (
            f"未找到 anchor/positive/negative 列名，按顺序使用三列：{', '.join(text_columns)}。"
            f" · Column names not recognised; using the three columns in order: {', '.join(text_columns)}."
        )
        return mapping, [notice]
    missing = [role for role, col in found.items() if not col]
    raise TripletFileError(
        f"找不到列：{', '.join(missing)}。请使用 anchor,positive,negative（或 sentence_0,sentence_1,sentence_2）三列。",
        f"Missing column(s): {', '.join(missing)}. Use anchor,positive,negative (or sentence_0,sentence_1,sentence_2), or exactly three columns.",
    )


def check_frame(
    frame: pd.DataFrame,
    encoding: str = "utf-8",
    delimiter: str = ",",
    tokenizer: AnyTokenizer | None = None,
    max_rows: int | None = None,
) -> tuple[TripletSet, CheckReport]:
    """Validate a table of strings as triplets, dropping bad rows and counting why.

    Raises:
        TripletFileError: no recognisable columns, too many rows, or no valid row at all.
    """
    if frame.empty:
        raise TripletFileError("文件只有表头，没有数据行。", "The file has a header but no data rows.")
    if max_rows is not None and len(frame) > max_rows:
        raise TripletFileError(
            f"文件有 {len(frame)} 行，超过上限 {max_rows} 行。请拆分后再上传。",
            f"The file has {len(frame)} rows, over the limit of {max_rows}. Split it and upload a part.",
        )
    mapping, notices = _find_columns(list(frame.columns))
    report = CheckReport(rows_read=len(frame), encoding=encoding, delimiter=delimiter, columns=mapping, notices=notices)
    cols = [frame[mapping[role]].astype(str).str.strip().tolist() for role in ALIASES]
    kept: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for row in zip(*cols):
        anchor, positive, negative = row
        if not (anchor and positive and negative):
            report.dropped["empty"] += 1
        elif row in seen:
            report.dropped["duplicate"] += 1
        elif anchor == positive:
            report.dropped["anchor_is_positive"] += 1
        elif positive == negative:
            report.dropped["positive_is_negative"] += 1
        else:
            seen.add(row)
            kept.append(row)
    if not kept:
        reasons = "、".join(DROP_REASONS[r][0] for r in report.dropped) or "—"
        reasons_en = ", ".join(DROP_REASONS[r][1] for r in report.dropped) or "-"
        raise TripletFileError(
            f"没有可用的三元组：所有 {report.rows_read} 行都无效（{reasons}）。",
            f"No usable triplets: {'the only row is' if report.rows_read == 1 else f'all {report.rows_read} rows are'} invalid ({reasons_en}).",
        )
    triplets = TripletSet(*(list(col) for col in zip(*kept)))
    if tokenizer is not None:
        texts = triplets.anchors + triplets.positives + triplets.negatives
        report.too_long = sum(n > MAX_MODEL_TOKENS for n in token_counts(tokenizer, texts))
        report.unknown_rate = unknown_rate(tokenizer, texts)
        report.unknown_chars = len(missing_cjk_chars(tokenizer, texts))
    return triplets, report


def read_triplets(
    path: str | Path,
    max_mb: int,
    max_rows: int,
    tokenizer: AnyTokenizer | None = None,
) -> tuple[TripletSet, CheckReport]:
    """Read an uploaded triplet CSV (any common encoding/delimiter/column names) and check it.

    Raises:
        TripletFileError: the file cannot be used; the message says why, in Chinese and English.
    """
    try:
        table = read_table(path, max_mb=max_mb, max_rows=max_rows)
    except CsvFileError as err:
        raise TripletFileError(err.zh, err.en) from err
    return check_frame(table.frame, table.encoding, table.delimiter, tokenizer, max_rows)


def keyword_of(anchor: str) -> str | None:
    """The keyword a seed template was filled with. Example: "寻找一款K7" -> "K7"; "随便写的" -> None"""
    for template in TEMPLATES:
        prefix, suffix = template.split("{kw}")
        if anchor.startswith(prefix) and anchor.endswith(suffix) and len(anchor) > len(prefix) + len(suffix):
            return anchor[len(prefix) : len(anchor) - len(suffix)]
    return None


def with_hard_negatives(triplets: TripletSet, catalog: Catalog, model, candidates: int = 5) -> tuple[TripletSet, int]:
    """Swap each negative for the catalog product the model ranks closest to the anchor that is not an answer.

    Uses sentence-transformers' `mine_hard_negatives` over the catalog texts (every positive of an anchor counts as
    an answer). A mined product whose name contains the anchor's template keyword is skipped (it would be a
    false negative: "寻找一款K7" vs another K7); when none of the candidates qualifies, the original negative stays.
    Returns the new triplets and how many negatives were replaced.
    """
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    if len(triplets) == 0:
        return triplets, 0
    mined = mine_hard_negatives(
        Dataset.from_dict({"anchor": triplets.anchors, "positive": triplets.positives}),
        model,
        corpus=catalog.texts,
        num_negatives=candidates,
        sampling_strategy="top",
        output_format="n-tuple",
        batch_size=64,
        verbose=False,
    )
    columns = [c for c in mined.column_names[2:] if c != "scores"]
    found = {(row["anchor"], row["positive"]): [row[c] for c in columns] for row in mined}
    names = {p.text: p.name for p in catalog.products}
    negatives, replaced = [], 0
    for anchor, positive, negative in zip(triplets.anchors, triplets.positives, triplets.negatives):
        keyword = keyword_of(anchor)
        pick = next(
            (c for c in found.get((anchor, positive), []) if c != positive and not (keyword and keyword in names.get(c, ""))),
            None,
        )
        replaced += pick is not None and pick != negative
        negatives.append(pick or negative)
    return TripletSet(list(triplets.anchors), list(triplets.positives), negatives), replaced
