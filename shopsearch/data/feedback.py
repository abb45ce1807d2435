"""Search feedback → training triplets: 👍 and 👎 on hits become (query, liked product, disliked product) rows.

Rules (each mark is about one query):
- 👍 on a hit: pair it with every product already 👎'd for that query; with none, with the best-ranked hit
  shown above or below it that was not liked (the "skipped" product the user passed over).
- 👎 on a hit: pair it with every product already 👍'd for that query (no 👍 yet: it waits for one).
The latest mark wins: 👍 after 👎 on the same product (or the reverse) withdraws the earlier mark and its triplets.
Duplicates are dropped and a product is never its own negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from shopsearch.data.triplets import TripletSet


@dataclass
class FeedbackLog:
    """One session's marks and the triplets they make."""

    triplets: list[tuple[str, str, str]] = field(default_factory=list)
    liked: dict[str, list[str]] = field(default_factory=dict)  # query -> liked product texts
    disliked: dict[str, list[str]] = field(default_factory=dict)  # query -> disliked product texts

    def __len__(self) -> int:
        return len(self.triplets)

    def like(self, query: str, product: str, shown: list[str]) -> int:
        """Record 👍 on `product` for `query`; `shown` is the result list's product texts in rank order.

        Returns how many new triplets the mark made.
        Example: like("K7", "机械师 K7", ["机械师 K7", "机械师 K8"]) -> 1 (("K7", "机械师 K7", "机械师 K8"))
        """
        _add(self.liked, query, product)
        self._withdraw(self.disliked, query, product, column=2)
        negatives = [t for t in self.disliked.get(query, []) if t != product]
        if not negatives:
            liked = set(self.liked[query])
            negatives = [t for t in shown if t not in liked][:1]
        return self._extend((query, product, negative) for negative in negatives)

    def dislike(self, query: str, product: str) -> int:
        """Record 👎 on `product` for `query`; returns how many new triplets the mark made."""
        _add(self.disliked, query, product)
        self._withdraw(self.liked, query, product, column=1)
        return self._extend((query, positive, product) for positive in self.liked.get(query, []) if positive != product)

    def to_frame(self) -> pd.DataFrame:
        """The triplets as the visitor downloads them, named as the template and the fine-tune preview name them."""
        return pd.DataFrame(self.triplets, columns=["anchor", "positive", "negative"])

    def to_triplets(self) -> TripletSet:
        return TripletSet(*(list(column) for column in zip(*self.triplets))) if self.triplets else TripletSet([], [], [])

    def _withdraw(self, marks: dict[str, list[str]], query: str, product: str, column: int) -> None:
        if product in marks.get(query, []):
            marks[query].remove(product)
        self.triplets = [t for t in self.triplets if not (t[0] == query and t[column] == product)]

    def _extend(self, rows) -> int:
        before = len(self.triplets)
        self.triplets = list(dict.fromkeys([*self.triplets, *rows]))
        return len(self.triplets) - before


def _add(marks: dict[str, list[str]], query: str, product: str) -> None:
    if product not in marks.setdefault(query, []):
        marks[query].append(product)
