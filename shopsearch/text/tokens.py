"""What the model's tokenizer sees: its tokens, the characters it maps to [UNK], and the coverage.

all-MiniLM-L6-v2's WordPiece vocabulary holds only 244 CJK characters: most Chinese becomes [UNK].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union, cast

from tokenizers import Tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class PlainTokenizer:
    """A model's Rust tokenizer, read from its folder without transformers or torch (or copied from a loaded model's):
    what `view` needs.

    Built with no truncation and no padding, and never reconfigured, so threads share it safely (a model's own
    transformers tokenizer is reconfigured by each call that pads or truncates).
    """

    backend: Tokenizer
    unk_token: str

    @classmethod
    def of(cls, tokenizer: PreTrainedTokenizerBase) -> PlainTokenizer:
        """A private copy of a loaded model's fast tokenizer: the same tokens as `from_dir` on its folder, and ~0.05 ms
        less per `view` than calling the transformers tokenizer, which also other threads reconfigure.

        Example: PlainTokenizer.of(model.tokenizer).backend.encode("猫", add_special_tokens=False).tokens -> ["猫"]
        """
        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        backend.no_truncation()
        backend.no_padding()
        return cls(backend, str(tokenizer.unk_token))

    @classmethod
    def from_dir(cls, model_dir: str | Path) -> PlainTokenizer:
        """Example: PlainTokenizer.from_dir("model_chinese").backend.encode("猫", add_special_tokens=False).tokens -> ["猫"]"""
        model_dir = Path(model_dir)
        backend = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        backend.no_truncation()
        backend.no_padding()
        config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        unk = config.get("unk_token", "[UNK]")
        return cls(backend, unk["content"] if isinstance(unk, dict) else str(unk))

    def get_vocab(self) -> dict[str, int]:
        return self.backend.get_vocab(with_added_tokens=True)


AnyTokenizer = Union["PreTrainedTokenizerBase", PlainTokenizer]


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


def view(tokenizer: AnyTokenizer, text: str) -> TokenView:
    """Tokenize `text` and find which characters the model cannot see.

    `tokenizer` is a model's transformers tokenizer or its PlainTokenizer; both see the same tokens.

    Example: "我想买K7" -> tokens ["我", "[UNK]", "[UNK]", "k", "##7"], unknown_chars ["想", "买"], coverage 0.6
    """
    if isinstance(tokenizer, PlainTokenizer):
        encoding = tokenizer.backend.encode(text, add_special_tokens=False)
        raw_tokens, offsets = encoding.tokens, encoding.offsets
    else:
        hf = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
        # A list of ids gives a list of tokens (transformers' `str | list[str]` covers a single id too).
        raw_tokens, offsets = cast("list[str]", tokenizer.convert_ids_to_tokens(hf["input_ids"])), hf["offset_mapping"]
    # Characters added to the vocabulary come back padded with spaces (" 想 ") in transformers 5; the ids are right.
    tokens = [t.strip() for t in raw_tokens]
    unk = tokenizer.unk_token
    unknown: list[str] = []
    for token, (start, end) in zip(tokens, offsets):
        if token == unk:
            unknown.extend(ch for ch in text[start:end] if not ch.isspace())
    chars = sum(not ch.isspace() for ch in text)
    return TokenView(tokens=tokens, unknown_chars=unknown, chars=chars, unknown_count=len(unknown))


def token_counts(tokenizer: AnyTokenizer, texts: list[str]) -> list[int]:
    """Tokens per text as the model receives it (special tokens included), before truncation.

    Example: token_counts(tokenizer, ["猫"]) -> [3] ([CLS] 猫 [SEP]) for the Chinese-aware model
    """
    if isinstance(tokenizer, PlainTokenizer):
        return [len(e.ids) for e in tokenizer.backend.encode_batch(texts, add_special_tokens=True)]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]


def unknown_rate(tokenizer: AnyTokenizer, texts: list[str]) -> float:
    """Share of all non-space characters in `texts` that the tokenizer maps to [UNK]."""
    views = [view(tokenizer, t) for t in texts]
    total = sum(v.chars for v in views)
    return sum(v.unknown_count for v in views) / total if total else 0.0


def missing_cjk_chars(tokenizer: AnyTokenizer, texts: list[str]) -> list[str]:
    """CJK characters in `texts` that are not in the tokenizer's vocabulary, most frequent first."""
    vocab = tokenizer.get_vocab()
    counts: dict[str, int] = {}
    for text in texts:
        for ch in text:
            if "\u3400" <= ch <= "\u9fff" and ch not in vocab:
                counts[ch] = counts.get(ch, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))
