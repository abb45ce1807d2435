"""What the model's tokenizer sees: its tokens, the characters it maps to [UNK], and the coverage.

all-MiniLM-L6-v2's WordPiece vocabulary holds only 244 CJK characters: most Chinese becomes [UNK].
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class TokenView:
    """One text as the tokenizer sees it."""

    tokens: list[str]
    unknown_chars: list[str]  # characters (in order, repeats kept) that became [UNK]
    chars: int  # non-space characters in the text
    unknown_count: int  # of `chars`, how many became [UNK]

    @property
    def coverage(self) -> float:
        """Share of non-space characters the model can see (1.0 for an empty text)."""
        return 1.0 - self.unknown_count / self.chars if self.chars else 1.0


def view(tokenizer: PreTrainedTokenizerBase, text: str) -> TokenView:
    """Tokenize `text` and find which characters the model cannot see.

    Example: "我想买K7" -> tokens ["我", "[UNK]", "[UNK]", "k", "##7"], unknown_chars ["想", "买"], coverage 0.6
    """
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
    # Characters added to the vocabulary come back padded with spaces (" 想 ") in transformers 5; the ids are right.
    tokens = [t.strip() for t in tokenizer.convert_ids_to_tokens(encoding["input_ids"])]
    unk = tokenizer.unk_token
    unknown: list[str] = []
    for token, (start, end) in zip(tokens, encoding["offset_mapping"]):
        if token == unk:
            unknown.extend(ch for ch in text[start:end] if not ch.isspace())
    chars = sum(not ch.isspace() for ch in text)
    return TokenView(tokens=tokens, unknown_chars=unknown, chars=chars, unknown_count=len(unknown))


def unknown_rate(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> float:
    """Share of all non-space characters in `texts` that the tokenizer maps to [UNK]."""
    views = [view(tokenizer, t) for t in texts]
    total = sum(v.chars for v in views)
    return sum(v.unknown_count for v in views) / total if total else 0.0


def missing_cjk_chars(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[str]:
    """CJK characters in `texts` that are not in the tokenizer's vocabulary, most frequent first."""
    vocab = tokenizer.get_vocab()
    counts: dict[str, int] = {}
    for text in texts:
        for ch in text:
            if "\u3400" <= ch <= "\u9fff" and ch not in vocab:
                counts[ch] = counts.get(ch, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))
