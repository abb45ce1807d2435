"""Domain errors whose text is meant for the user: Chinese first, English beside it.

The UI turns any `UserError` into `gr.Error(str(err))`; anything else is an internal error that is
logged on the server and shown to the visitor only as a generic message.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input, with a bilingual message.

    Example: str(UserError("缺少列 name", "column 'name' is missing")) -> "缺少列 name · column 'name' is missing"
    """

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} · {en}")
        self.zh = zh
        self.en = en


class CsvFileError(UserError):
    """An uploaded file could not be read as a CSV table."""


class CatalogError(UserError):
    """A catalog file is missing, unreadable or invalid."""


class TripletFileError(UserError):
    """A triplet file has no usable triplets."""


class QueryError(UserError):
    """A query or a list of sentences cannot be searched or compared."""


def counted(n: int, noun: str) -> str:
    """An English count with its noun in the right number (messages are bilingual; the Chinese needs no plural).

    Example: counted(1, "triplet") -> "1 triplet"; counted(3, "query") -> "3 queries"
    """
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{n} {noun}s"
