"""The gate a visitor's text and numbers pass before the core uses them.

Text: the raw length is checked before anything walks the text, so a 20-million-character paste is refused in
microseconds instead of being cleaned first. Cleaning drops what nothing downstream should see — control and format
characters, and lone surrogates (which a JSON body can carry and which raise when encoded as UTF-8, e.g. in the
tokenizer). Numbers: NaN and infinity are refused; NaN compares false with everything, so it slips past range checks.
"""

from __future__ import annotations

import math

from shopsearch.common.errors import QueryError

# Raw text may be this many times the limit before cleaning: invisible characters and spaces that cleaning drops.
RAW_SLACK = 2


def too_long(zh: str, en: str, length: int, limit: int) -> QueryError:
    """The bilingual "too long" message. Example: too_long("查询", "The query", 600, 500) -> "查询过长（600 …）· The query is too long (600 …)" """
    return QueryError(f"{zh}过长（{length:,} 个字符，上限 {limit:,}）。", f"{en} is too long ({length:,} characters; limit {limit:,}).")


def check_raw_length(raw: str, limit: int, zh: str, en: str) -> None:
    """Refuse text longer than RAW_SLACK × `limit` without reading it (len() of a str is O(1)).

    Raises:
        QueryError: the raw text is too long.
    """
    if len(raw) > RAW_SLACK * limit:
        raise too_long(zh, en, len(raw), limit)


def clean_text(raw: str | None, max_chars: int, zh: str = "输入", en: str = "The input") -> str:
    """Check a raw text's length, then drop unprintable characters, turn any whitespace into a space and strip.

    Args:
        raw: one line or one field as the visitor sent it (None counts as empty).
        max_chars: the limit on the cleaned text.
        zh, en: how the message names the text, e.g. "查询", "The query".

    Returns:
        The cleaned text, possibly empty. Example: clean_text(" 寻找\\x07一款\\u3000K7\\ud800 ", 500) -> "寻找一款 K7"

    Raises:
        QueryError: the raw text, or the cleaned one, is longer than allowed.
    """
    raw = raw or ""
    check_raw_length(raw, max_chars, zh, en)
    # isprintable() is False for control, format, separator and surrogate characters (and True for " ").
    text = "".join(" " if ch.isspace() else ch for ch in raw if ch.isspace() or ch.isprintable()).strip()
    if len(text) > max_chars:
        raise too_long(zh, en, len(text), max_chars)
    return text


def finite_number(value: object, zh: str, en: str) -> float:
    """A number from a form or an API call, as a finite float.

    Example: finite_number(0.3, "语义权重", "The semantic weight") -> 0.3; finite_number(float("nan"), ...) raises

    Raises:
        QueryError: the value is not a number, or is NaN or infinite.
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise QueryError(f"{zh}必须是有限的数字。", f"{en} must be a finite number.")
    return number
