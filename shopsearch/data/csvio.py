"""Read user CSV files the way people actually produce them: Excel's GBK, BOMs, semicolons, tabs.

Files are only ever decoded as text and parsed as CSV; nothing in them is executed or unpickled. Every step takes
time linear in the file's size: the table's shape (columns, record length, rows) is checked in one pass before
pandas sees it, because pandas de-duplicates column names in quadratic time (`bench/bench_abuse.py --phases shapes`).
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shopsearch.common.config import get_settings
from shopsearch.common.errors import CsvFileError

_DELIMITERS = ",;\t|"
# Cells starting with these are run as formulas by Excel/LibreOffice when a CSV is opened.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


NO_ROW_LIMIT = sys.maxsize  # max_rows for the app's own files and the CLI's: their columns and records stay bounded


@dataclass(frozen=True)
class TableLimits:
    """The largest table shape an upload may have; the rows are the caller's (a catalog's or a triplet file's)."""

    max_rows: int  # records after the header; blank lines are skipped, but no more of them than this either
    max_columns: int
    max_header_chars: int
    max_line_chars: int  # one record's cells together (a quoted cell's newlines do not end the record)

    @classmethod
    def from_settings(cls, max_rows: int | None = None) -> TableLimits:
        """The configured limits; `max_rows` None: the largest any upload takes (catalog or triplets).

        Example: TableLimits.from_settings(20) -> TableLimits(max_rows=20, max_columns=64, ...)
        """
        settings = get_settings()
        return cls(
            max_rows=max(settings.max_catalog_rows, settings.max_triplet_rows) if max_rows is None else max_rows,
            max_columns=settings.max_table_columns,
            max_header_chars=settings.max_header_chars,
            max_line_chars=settings.max_line_chars,
        )


@dataclass(frozen=True)
class Table:
    """A decoded CSV: every cell a string, plus how the bytes were read."""

    frame: pd.DataFrame
    encoding: str
    delimiter: str


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a CSV's bytes, trying the encodings Chinese spreadsheets are saved in.

    Returns:
        (text, encoding name). Example: "名称".encode("gbk") -> ("名称", "gb18030")

    Raises:
        CsvFileError: the bytes are binary or in no encoding we can recognise.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise _not_text() from err
    if b"\x00" in data:
        raise CsvFileError(
            "文件包含空字节（NUL），看起来不是文本 CSV。",
            "The file contains NUL bytes; it does not look like a text CSV.",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _not_text()
    return str(best), best.encoding


def _not_text() -> CsvFileError:
    return CsvFileError(
        "无法识别文件编码，请另存为 UTF-8 编码的 CSV。",
        "Could not recognise the file's encoding; please save it as a UTF-8 CSV.",
    )


def _unparseable() -> CsvFileError:
    return CsvFileError(
        "无法按 CSV 解析该文件，请检查分隔符和引号。",
        "The file could not be parsed as CSV; check its delimiters and quotes.",
    )


def _delimiter_counts(text: str, max_rows: int = 50, max_chars: int = 65_536) -> list[dict[str, int]]:
    """Count each candidate delimiter outside quotes, per row, in a bounded sample (one pass, linear time).

    A quote toggles "inside quotes" (an escaped "" toggles twice), so quoted delimiters and newlines do not count.
    A row cut off by the sample's end is left out unless it is the only one.
    Example: 'a;b,c\n"x;y";z\n' -> [{",": 1, ";": 1, "\t": 0, "|": 0}, {",": 0, ";": 1, "\t": 0, "|": 0}]
    """
    rows: list[dict[str, int]] = []
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = started = False
    for ch in text[:max_chars]:
        if ch == "\n" and not quoted:
            rows.append(counts)
            if len(rows) == max_rows:
                return rows
            counts, started = dict.fromkeys(_DELIMITERS, 0), False
            continue
        started = True
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    if started and (len(text) <= max_chars or not rows):
        rows.append(counts)
    return rows or [counts]


def _sniff_delimiter(text: str) -> str:
    """The delimiter the header uses that splits the most sampled rows into as many cells; comma when none does.

    Replaces csv.Sniffer, whose time grows quadratically on some inputs (b'"\\n' × 10,000 took 15 s).
    Ties go to the earlier of , ; tab |. Example: "a;b\n1;2,5\n" -> ";"
    """
    rows = _delimiter_counts(text)
    header = rows[0]

    def agreement(delimiter: str) -> int:
        return sum(row[delimiter] == header[delimiter] for row in rows)

    used = [d for d in _DELIMITERS if header[d]]
    return max(used, key=agreement) if used else ","


def check_shape(text: str, delimiter: str, limits: TableLimits) -> None:
    """Refuse a table too wide, with too long a record or too many rows, in one pass that stops at the first excess.

    Records are read by the csv module with the dialect pandas' python engine uses, so they are the rows pandas
    would make; a record is blank as pandas counts it (no cell, or one of only whitespace).
    Example: check_shape("a,a,a\n1,2,3\n", ",", TableLimits(5000, 2, 4096, 65536)) raises "over the limit of 2 columns"

    Raises:
        CsvFileError: the first limit the table goes over, or a quoting error.
    """
    records = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True, strict=True)
    rows, blank = -1, 0  # the header is not a row
    try:
        for record in records:
            if len(record) <= 1 and not (record and record[0].strip()):
                blank += 1
                if blank > limits.max_rows:
                    raise CsvFileError(f"文件的空行超过 {limits.max_rows} 个。", f"The file has more than {limits.max_rows} blank lines.")
                continue
            rows += 1
            if rows > limits.max_rows:
                raise CsvFileError(
                    f"文件超过 {limits.max_rows} 行的上限。请拆分后再上传。",
                    f"The file goes over the limit of {limits.max_rows} rows. Split it and upload a part.",
                )
            zh, en = ("表头", "The header") if rows == 0 else (f"第 {rows + 1} 行", f"Row {rows + 1}")  # row 1: the header
            if len(record) > limits.max_columns:
                raise CsvFileError(
                    f"{zh}有 {len(record)} 列，超过上限 {limits.max_columns} 列。",
                    f"{en} has {len(record)} columns, over the limit of {limits.max_columns} columns.",
                )
            chars = sum(map(len, record)) + len(record) - 1
            cap = limits.max_line_chars if rows else limits.max_header_chars
            if chars > cap:
                raise CsvFileError(f"{zh}有 {chars} 个字符，超过上限 {cap} 个。", f"{en} is {chars} characters long, over the limit of {cap}.")
    except csv.Error as err:
        raise _unparseable() from err


def read_table(path: str | Path, max_mb: int, max_rows: int | None = None) -> Table:
    """Read a user's CSV file into a DataFrame of strings, in time linear in its size.

    Args:
        path: the uploaded file.
        max_mb: refuse files larger than this before reading them.
        max_rows: refuse more rows than this before parsing (None: the largest upload limit in the settings;
            NO_ROW_LIMIT for the app's own files). Columns and record length: the settings' limits.

    Raises:
        CsvFileError: too large, empty, binary, too wide, too long a record, too many rows, or not parseable as CSV.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise CsvFileError(
            f"文件 {size / 1048576:.1f} MB，超过上限 {max_mb} MB。",
            f"The file is {size / 1048576:.1f} MB, over the {max_mb} MB limit.",
        )
    data = path.read_bytes()
    return parse_table(data, TableLimits.from_settings(max_rows))


def parse_table(data: bytes, limits: TableLimits | None = None) -> Table:
    """Parse CSV bytes (see `read_table`); `limits` None: the settings', with the largest upload's rows."""
    if not data.strip():
        raise CsvFileError("文件是空的。", "The file is empty.")
    text, encoding = decode_bytes(data)
    if sum(ch < " " and ch not in "\t\r\n" for ch in text[:10_000]) > 20:
        raise _not_text()
    delimiter = _sniff_delimiter(text)
    csv.field_size_limit(64 * 1024 * 1024)
    check_shape(text, delimiter, limits or TableLimits.from_settings())
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            engine="python",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as err:
        raise _unparseable() from err
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return Table(frame=frame.fillna(""), encoding=encoding, delimiter=delimiter)


def safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in a cell of a CSV we let people download.

    Example: "=HYPERLINK(...)" -> "'=HYPERLINK(...)"; "键盘" -> "键盘"
    """
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def to_safe_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as UTF-8 CSV (with BOM so Excel shows Chinese) with formula cells neutralised."""
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(lambda v: safe_cell(v) if isinstance(v, str) else v)
    safe.to_csv(path, index=False, encoding="utf-8-sig")
    return Path(path)
