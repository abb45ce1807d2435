"""The bad-input corpus: files and queries people really send, each with the outcome we promise.

Files are built as bytes here and written to disk by the tests (the big ones — 100,000 rows, a 10 MB line,
an over-size file — would bloat the repository). `python tests/corpus.py DIR` writes them all out to try in the UI.

An outcome is either ("ok", rows kept) or ("error", a fragment of the English half of the message).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

HEADER = "anchor,positive,negative\n"
ROW = "寻找一款K7,机械师 K7 机械键盘 青轴,峰景 双人登山帐篷\n"
ROWS = "".join(f"寻找一款K{i},机械师 K{i} 机械键盘 青轴,峰景 双人登山帐篷 {i}\n" for i in range(20))


@dataclass(frozen=True)
class FileCase:
    name: str
    data: bytes
    kind: str  # "triplets" or "catalog"
    outcome: str  # "ok" or "error"
    expect: int | str  # rows kept, or a fragment of the English message


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def file_cases() -> list[FileCase]:
    big_rows = HEADER + "".join(f"查询{i},商品{i} 描述,另一个商品{i}\n" for i in range(100_000))
    return [
        FileCase("empty.csv", b"", "triplets", "error", "empty"),
        FileCase("whitespace_only.csv", b"  \n\n \t\n", "triplets", "error", "empty"),
        FileCase("header_only.csv", _utf8(HEADER), "triplets", "error", "no data rows"),
        FileCase("one_row.csv", _utf8(HEADER + ROW), "triplets", "ok", 1),
        FileCase("missing_column.csv", _utf8("anchor,positive\n寻找一款K7,机械师 K7 机械键盘\n"), "triplets", "error", "Missing column"),
        FileCase(
            "extra_columns.csv",
            _utf8("id,anchor,positive,negative,note\n" + "".join(f"{i},{r.strip()},备注\n" for i, r in enumerate(ROWS.splitlines()))),
            "triplets",
            "ok",
            20,
        ),
        FileCase(
            "duplicate_headers.csv", _utf8("anchor,anchor,negative\n" + ROWS), "triplets", "ok", 20
        ),  # read as three columns in order, with a notice
        FileCase("reordered_headers.csv", _utf8("negative,anchor,positive\n峰景 双人登山帐篷,寻找一款K7,机械师 K7 机械键盘\n"), "triplets", "ok", 1),
        FileCase("seed_columns.csv", _utf8("sentence_0,sentence_1,sentence_2\n" + ROWS), "triplets", "ok", 20),
        FileCase("semicolon.csv", _utf8((HEADER + ROWS).replace(",", ";")), "triplets", "ok", 20),
        FileCase("tab.tsv.csv", _utf8((HEADER + ROWS).replace(",", "\t")), "triplets", "ok", 20),
        FileCase(
            "quoted_newlines_commas.csv",
            _utf8(HEADER + '"寻找一款K7","机械师 K7, 机械键盘\n第二行描述","峰景 ""双人"" 帐篷"\n' + ROWS),
            "triplets",
            "ok",
            21,
        ),
        FileCase("gbk.csv", (HEADER + ROWS).encode("gbk"), "triplets", "ok", 20),
        FileCase("gb18030.csv", (HEADER + ROWS + "寻找一款𠀀,商品 𠀀 描述,另一个\n").encode("gb18030"), "triplets", "ok", 21),
        FileCase("utf8_bom.csv", b"\xef\xbb\xbf" + _utf8(HEADER + ROWS), "triplets", "ok", 20),
        FileCase("utf16.csv", (HEADER + ROWS).encode("utf-16"), "triplets", "ok", 20),
        FileCase("latin1.csv", (HEADER + "café racer,Café Racer helmet ü,tent ñ\n" * 3).encode("latin-1"), "triplets", "ok", 1),
        FileCase("binary_renamed.csv", bytes(range(256)) * 40, "triplets", "error", "NUL"),
        FileCase("png_renamed.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "triplets", "error", "NUL"),
        FileCase("nul_bytes.csv", _utf8(HEADER) + b"abc\x00def,x,y\n", "triplets", "error", "NUL"),
        FileCase("cell_100k_chars.csv", _utf8(HEADER + "寻找一款K7," + "长" * 100_000 + ",峰景 双人登山帐篷\n" + ROWS), "triplets", "ok", 21),
        FileCase("line_10mb.csv", _utf8(HEADER + "x" * (10 * 1024 * 1024) + ",b,c\n"), "triplets", "error", "over the 5 MB limit"),
        FileCase("rows_100k.csv", _utf8(big_rows), "triplets", "error", "over the limit of 5000"),
        FileCase("over_size_limit.csv", _utf8(HEADER + ROW * 140_000), "triplets", "error", "over the 5 MB limit"),
        FileCase("html_script.csv", _utf8(HEADER + "<script>alert(1)</script>,<img src=x onerror=alert(1)> 键盘,<b>帐篷</b>\n"), "triplets", "ok", 1),
        FileCase(
            "formula_injection.csv", _utf8(HEADER + "=1+1,+cmd|' /C calc'!A0,-2+3\n@SUM(A1),=HYPERLINK(\"http://x\"),商品\n"), "triplets", "ok", 2
        ),
        FileCase("only_numbers.csv", _utf8("1,2,3\n4,5,6\n7,8,9\n"), "triplets", "ok", 2),
        FileCase("all_rows_invalid.csv", _utf8(HEADER + "a,a,b\n,x,y\nq,p,p\n"), "triplets", "error", "No usable triplets"),
        FileCase("anchor_equals_positive.csv", _utf8(HEADER + "同一句话,同一句话,别的\n" + ROW), "triplets", "ok", 1),
        FileCase("unbalanced_quotes.csv", _utf8(HEADER + '"寻找一款K7,机械师 K7 机械键盘,峰景\n' + ROW), "triplets", "error", ""),
        FileCase("catalog_ok_minimal.csv", _utf8("id,name\nA1,机械师 K7 机械键盘\nA2,网速 AX55 无线路由器\n"), "catalog", "ok", 2),
        FileCase(
            "catalog_gbk_with_price.csv",
            "id,name,price,category\nA1,机械师 K7 机械键盘,299,键盘\nA2,网速 AX55,199,路由器\n".encode("gbk"),
            "catalog",
            "ok",
            2,
        ),
        FileCase("catalog_missing_name.csv", _utf8("id,product\nA1,机械师 K7\n"), "catalog", "error", "name"),
        FileCase("catalog_titles_only.csv", _utf8("标题\n机械师K7机械键盘红轴办公游戏\n"), "catalog", "ok", 1),
        FileCase("catalog_duplicate_ids.csv", _utf8("id,name\nA1,机械师 K7\nA1,网速 AX55\n"), "catalog", "error", "Duplicate id"),
        FileCase("catalog_bad_price.csv", _utf8("id,name,price\nA1,机械师 K7,about ten\n"), "catalog", "error", "price"),
        FileCase("catalog_too_many_rows.csv", _utf8("id,name\n" + "".join(f"S{i},商品{i}\n" for i in range(6000))), "catalog", "error", "rows"),
    ]


@dataclass(frozen=True)
class QueryCase:
    name: str
    text: str
    outcome: str  # "ok": results come back; "error": a bilingual message
    expect: str = ""  # a fragment of the English message


QUERY_CASES = [
    QueryCase("empty", "", "error", "type something"),
    QueryCase("whitespace", "   \t  ", "error", "type something"),
    QueryCase("newlines_only", "\n\n", "error", "type something"),
    QueryCase("control_chars_only", "\x00\x07\x1b", "error", "type something"),
    QueryCase("ten_thousand_chars", "键" * 10_000, "error", "too long"),
    QueryCase("just_over_limit", "x" * 501, "error", "too long"),
    QueryCase("at_limit", "键盘" * 250, "ok"),
    QueryCase("emoji", "🏸 羽毛球拍 👍", "ok"),
    QueryCase("emoji_only", "🏸🏀⌨️", "ok"),
    QueryCase("control_inside", "寻找\x07一款\x1bK7", "ok"),
    QueryCase("script_tag", "<script>alert(1)</script>", "ok"),
    QueryCase("img_onerror", '<img src=x onerror="alert(1)"> 键盘', "ok"),
    QueryCase("sql_like", "'; DROP TABLE products; --", "ok"),
    QueryCase("rtl_and_zero_width", "\u202e键盘\u200b\u200d", "ok"),
    QueryCase("fullwidth", "ＡＸ５５ 路由器", "ok"),
    QueryCase("only_punctuation", "？！。，、", "ok"),
    QueryCase("traditional", "機械鍵盤", "ok"),
]


def main(out: str) -> None:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for case in file_cases():
        (target / case.name).write_bytes(case.data)
    print(f"wrote {len(file_cases())} files to {target}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bad-input-corpus")
