"""Training pairs (a shopper's query → a product's text) generated from a catalog, fresh for every round.

Each round gives every product one new query of a randomly chosen kind, so one batch of distinct products is a
set of in-batch negatives for MultipleNegativesRankingLoss. Queries in `exclude` (the evaluation queries, the
golden queries) are never emitted, so the numbers a run reports are measured on queries it did not train on.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from shopsearch.data.catalog import Catalog, Product
from shopsearch.data.triplets import TEMPLATES
from shopsearch.text.glosses import is_cjk

_CLAUSE = re.compile(r"[，。、；！？,.;!?]+")
EXTRA_TEMPLATES = ("{kw}", "{kw}推荐", "买{kw}", "{kw} 哪款好", "想要{kw}", "求推荐{kw}", "{kw}有吗")


@dataclass(frozen=True)
class Pair:
    query: str
    # The product's name + description, without the English tags the index adds: trained this way, then indexed
    # with tags, dev semantic R@1 was 0.922; trained on the tagged text it was 0.901 (the model leans on the tags).
    text: str


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """jieba words of `text` with at least two characters or one CJK character that is not punctuation.

    Example: words("头重型设计的3U进攻型羽毛球拍") -> ("头重", "型", "设计", "3U", "进攻型", "羽毛球拍") (roughly)
    """
    import jieba

    jieba.setLogLevel(60)
    return tuple(w for w in jieba.lcut(text) if w.strip() and (len(w) > 1 or is_cjk(w)) and w not in "的了和与及或在为是")


def _tags(product: Product) -> list[str]:
    return [t.strip() for t in product.tags.split(",") if t.strip()]


def _pieces(product: Product) -> list[str]:
    return product.name.split() or [product.name]


def query_for(product: Product, kind: int, rng: random.Random) -> str:
    """One synthetic query of kind `kind` (0–8) for `product`; falls back to the name when a kind has no material.

    Kinds: full name, name pieces, description words, a description clause, category + attribute, English tags,
    a template with a keyword, brand + category, mixed Chinese and English.
    """
    pieces, tags, desc_words = _pieces(product), _tags(product), list(words(product.description))
    category = product.category or pieces[-1]
    attribute = rng.choice(desc_words) if desc_words else (rng.choice(tags) if tags else "")
    if kind == 1 and len(pieces) > 1:
        k = rng.randint(1, len(pieces) - 1)
        return " ".join(sorted(rng.sample(pieces, k), key=pieces.index))
    if kind == 2 and len(desc_words) >= 2:
        k = min(len(desc_words), rng.randint(2, 4))
        start = rng.randint(0, len(desc_words) - k)
        return rng.choice(("", " ")).join(desc_words[start : start + k])
    if kind == 3 and product.description:
        clauses = [c.strip() for c in _CLAUSE.split(product.description) if len(c.strip()) >= 4]
        if clauses:
            return rng.choice(clauses)
    if kind == 4 and attribute:
        return rng.choice((f"{attribute}{category}", f"{category} {attribute}", f"{attribute}的{category}"))
    if kind == 5 and tags:
        return " ".join(rng.sample(tags, min(len(tags), rng.randint(1, 3))))
    if kind == 6:
        keyword = rng.choice(pieces + [category])
        return rng.choice(TEMPLATES + EXTRA_TEMPLATES).format(kw=keyword)
    if kind == 7 and product.brand:
        return rng.choice((f"{product.brand} {category}", f"{product.brand}{category}", f"{product.brand}的{category}"))
    if kind == 8 and tags:
        return rng.choice((f"{category} {rng.choice(tags)}", f"{rng.choice(tags)} {category}", f"{rng.choice(tags)} {attribute}"))
    return product.name


KINDS = 9


def catalog_pairs(catalog: Catalog, rounds: int, exclude: Iterable[str] = (), seed: int = 42) -> list[list[Pair]]:
    """`rounds` rounds of one fresh query per product, products shuffled within each round.

    Queries equal to one in `exclude` (compared after stripping spaces and case) are replaced by another kind or
    dropped, so an evaluation query is never a training query.
    """
    rng = random.Random(seed)
    banned = {_norm(q) for q in exclude}

    def pick(i: int) -> Pair | None:
        product = catalog[i]
        for _attempt in range(4):
            query = query_for(product, rng.randrange(KINDS), rng).strip()
            if query and _norm(query) not in banned and query != product.text:
                return Pair(query, product.text)
        return None

    return _rounds(len(catalog), rounds, rng, pick)


def _rounds(size: int, rounds: int, rng: random.Random, pick: Callable[[int], Pair | None]) -> list[list[Pair]]:
    """`rounds` lists of `pick(i)` for every product i, in an order shuffled anew each round (None: the product sits
    the round out)."""
    out: list[list[Pair]] = []
    for _ in range(rounds):
        order = list(range(size))
        rng.shuffle(order)
        out.append([pair for i in order if (pair := pick(i)) is not None])
    return out


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


def allowed(texts: Iterable[str], exclude: Iterable[str]) -> list[bool]:
    """For each text, whether it may be trained on (it is not one of `exclude`, ignoring spaces and case)."""
    banned = {_norm(q) for q in exclude}
    return [_norm(t) not in banned for t in texts]


# Pseudo-queries for a catalog of titles only (a shop's own: keyword strings, no description, tags or brand), shaped
# like what shoppers type on such a site: a few of the title's words, mean ~7 characters. On 100 real Taobao queries
# over 2,083 real titles, 200 steps of these from the Chinese-aware model (lr 3e-5 body, 3e-4 embeddings) moved
# semantic MRR@10 0.703 → 0.725 and hybrid 0.844 → 0.847, where the catalog pairs above (made for described products)
# moved it to 0.677, and the same pairs without the BM25 check below, at lr 1e-4, to 0.669 (BENCHMARKS.md).
TITLE_QUERY_TRIES = 4


def title_query(name_words: tuple[str, ...], name: str, weights: list[float], rng: random.Random) -> str:
    """One keyword query cut from a title: 1–3 consecutive words (35%), 1–3 of its rarer words in order (40%), a
    span of 2–8 characters (10%), or two neighbouring words swapped (15%).

    Args:
        name_words: the title's jieba words (`words`); weights: how rare each is in the catalog (idf², one per word).
    """
    chosen = list(name_words) or [name]
    draw = rng.random()
    if draw < 0.35:
        k = min(len(chosen), rng.randint(1, 3))
        start = rng.randint(0, len(chosen) - k)
        return "".join(chosen[start : start + k])
    if draw < 0.75 and name_words:
        k = min(len(chosen), rng.choice((1, 2, 2, 3)))
        picked: set[int] = set()
        while len(picked) < k:
            picked.add(rng.choices(range(len(chosen)), weights=weights)[0])
        return rng.choice(("", "", " ")).join(chosen[j] for j in sorted(picked))
    if draw < 0.85:
        text = "".join(name.split())
        length = min(len(text), rng.randint(2, 8))
        start = rng.randint(0, len(text) - length)
        return text[start : start + length]
    k = min(len(chosen), 2)
    start = rng.randint(0, len(chosen) - k)
    return "".join(reversed(chosen[start : start + k]))


def title_pairs(catalog: Catalog, rounds: int, exclude: Iterable[str] = (), seed: int = 42) -> list[list[Pair]]:
    """`rounds` rounds of one keyword query per product (`title_query`), as `catalog_pairs` gives for described products.

    A query is kept only if BM25 over the catalog's texts ranks its own product first: a query that other products fit
    as well ("2021新款") would teach the model to push those away as in-batch negatives. A product with no such query
    in TITLE_QUERY_TRIES draws sits the round out. Queries in `exclude` are never emitted.
    """
    rng = random.Random(seed)
    return _rounds(len(catalog), rounds, rng, _title_picker(catalog, exclude, rng))


def held_out_title_queries(catalog: Catalog, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """Up to `n` (query, product id): keyword queries cut from `n` random products' titles and checked as `title_pairs`
    checks its own, and
    answered by that product alone. They measure a fine-tune on a catalog that came without queries; the job never trains on them.

    Example: a catalog of 40 titles, n 50 -> about 40 pairs such as ("速干长裤", "4")
    """
    rng = random.Random(seed)
    pick = _title_picker(catalog, (), rng, strict=True)
    found = []
    for row in sorted(rng.sample(range(len(catalog)), min(n, len(catalog)))):
        pair = pick(row)
        if pair is not None:
            found.append((pair.query, catalog[row].id))
    return found


def _title_picker(catalog: Catalog, exclude: Iterable[str], rng: random.Random, strict: bool = False) -> Callable[[int], Pair | None]:
    """A product's row -> one checked keyword query for it (None when TITLE_QUERY_TRIES draws found none): BM25 ranks
    its product first; `strict`: alone, no other product scoring as high (a query that measures must have one answer)."""
    from shopsearch.text.lexical import LexicalIndex

    banned = {_norm(q) for q in exclude}
    texts = catalog.texts
    split = [words(p.name) for p in catalog.products]
    frequency = Counter(w for ws in split for w in set(ws))
    weights = [[math.log(1 + len(catalog) / frequency[w]) ** 2 for w in ws] for ws in split]
    lexical = LexicalIndex(texts)

    def pick(i: int) -> Pair | None:
        for _attempt in range(TITLE_QUERY_TRIES):
            query = title_query(split[i], catalog[i].name, weights[i], rng).strip()
            if not query or _norm(query) in banned or query == texts[i]:
                continue
            scores = lexical.scores(query)
            if scores[i] > 0 and not (scores > scores[i]).any() and not (strict and (scores == scores[i]).sum() > 1):
                return Pair(query, texts[i])
        return None

    return pick
