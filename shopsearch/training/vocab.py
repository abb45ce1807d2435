"""Teach the tokenizer Chinese characters: add them as whole tokens and give each new embedding row a meaning.

The base model's WordPiece vocabulary holds 244 CJK characters. A new character's row starts as the base
model's own input embeddings of its English dictionary glosses (CC-CEDICT), so `羽` begins near "feather" and
`盔` near "helmet" before any training. Measured on the dev queries with no training (see README): mean-initialised
rows hurt, random rows help, gloss rows help most.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import torch
from sentence_transformers import SentenceTransformer

from shopsearch.text.glosses import frequent_chars, glosses, is_cjk
from shopsearch.training.params import FREQUENT_CHARS  # noqa: F401 — re-exported: the shipped recipe's generic characters

if TYPE_CHECKING:
    from sentence_transformers.sentence_transformer.modules import Transformer

INITS = ("gloss", "random", "mean")
# WordPieces that carry no meaning in a gloss ("to pat", "a kind of shoe").
_STOP = {
    "to",
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "in",
    "on",
    "for",
    "with",
    "by",
    "at",
    "as",
    "from",
    "be",
    "is",
    "it",
    "one",
    "one's",
    "sth",
    "sb",
    "etc",
    "kind",
    "used",
    "something",
    "someone",
    "~",
    "'",
    "s",
    ",",
    ".",
    ";",
    "-",
}


def chinese_vocabulary(texts: Iterable[str], frequent: int = 0) -> list[str]:
    """Every CJK character of `texts` plus the `frequent` most frequent Chinese characters (no repeats, in order).

    Example: chinese_vocabulary(["羽毛球拍"]) -> ["羽", "毛", "球", "拍"]
    """
    seen: dict[str, None] = {}
    for text in texts:
        for ch in text:
            if is_cjk(ch):
                seen.setdefault(ch, None)
    for ch in frequent_chars(frequent) if frequent else []:
        seen.setdefault(ch, None)
    return list(seen)


def missing(model: SentenceTransformer, chars: Iterable[str]) -> list[str]:
    """Of `chars`, those the model's tokenizer does not know."""
    vocab = model.tokenizer.get_vocab()
    return [ch for ch in dict.fromkeys(chars) if ch not in vocab]


def gloss_vector(model: SentenceTransformer, senses: list[str], table: torch.Tensor) -> torch.Tensor | None:
    """Mean input embedding of each sense's meaningful WordPieces, senses weighted 1/rank; None if nothing is left.

    Example: ["helmet"] -> the embedding row of "helmet"
    """
    tokenizer = model.tokenizer
    vectors, weights = [], []
    for rank, sense in enumerate(senses, start=1):
        pieces = [t for t in tokenizer.tokenize(sense) if t.lower() not in _STOP and t != tokenizer.unk_token]
        if not pieces:
            continue
        ids = tokenizer.convert_tokens_to_ids(pieces)
        vectors.append(table[ids].mean(dim=0))
        weights.append(1.0 / rank)
    if not vectors:
        return None
    w = torch.tensor(weights, dtype=table.dtype)
    return (torch.stack(vectors) * w[:, None]).sum(dim=0) / w.sum()


def extend_vocabulary(model: SentenceTransformer, chars: Iterable[str], init: str = "gloss", seed: int = 42) -> int:
    """Add the characters of `chars` the tokenizer lacks as whole tokens and initialise their embedding rows.

    Args:
        init: "gloss" (the base model's embeddings of the character's English glosses; random when it has none),
            "random" (normal noise) or "mean" (the mean row). Rows are rescaled to the median row norm.

    Returns:
        How many tokens were added.
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose from {INITS}")
    new_chars = missing(model, chars)
    if not new_chars:
        return 0
    added = model.tokenizer.add_tokens(new_chars)
    auto_model = cast("Transformer", model[0]).auto_model  # model[0] types as a bare Module
    table = cast(torch.Tensor, auto_model.get_input_embeddings().weight).detach().clone()  # Module.__getattr__ types it Tensor | Module
    old = table.shape[0]
    auto_model.resize_token_embeddings(len(model.tokenizer), mean_resizing=False)
    target = float(table.norm(dim=1).median())
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for ch in new_chars:
        vector = gloss_vector(model, glosses(ch), table) if init == "gloss" else None
        if vector is None and init == "mean":
            vector = table.mean(dim=0)
        if vector is None:
            vector = torch.randn(table.shape[1], generator=generator, dtype=table.dtype)
        rows.append(vector * target / max(float(vector.norm()), 1e-8))
    with torch.no_grad():
        weight = cast(torch.Tensor, auto_model.get_input_embeddings().weight)
        ids = model.tokenizer.convert_tokens_to_ids(new_chars)
        weight[torch.tensor(ids)] = torch.stack(rows).to(weight.dtype)
    assert min(ids) >= old
    return added
