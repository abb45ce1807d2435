"""The compact BM25 index: the same scores as a plain BM25 written from the formula, and as bm25s (the index it
replaced), held in arrays rather than per-document Python objects."""

from __future__ import annotations

import math
from collections import Counter

import bm25s
import numpy as np
import pytest

from shopsearch.common.config import ROOT
from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.evaluation import load_queries
from shopsearch.retrieval.index import top_k
from shopsearch.retrieval.search import lexical_documents
from shopsearch.text import lexical
from shopsearch.text.lexical import LexicalIndex, split_compound, tokenize
from shopsearch.text.pinyin import as_pinyin, pinyin_tokens
from shopsearch.text.query import content_text


def reference_bm25(corpus: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 ("lucene" variant, bm25s's default) straight from the formula, in float64, one document at a time.

    score(d) = Σ over the query's tokens (repeats counted) present in d of idf · tf / (tf + k1 · (1 − b + b · |d| / avg)),
    idf = ln(1 + (N − df + 0.5) / (df + 0.5)); a document with no tokens has length 1, as bm25s was given it.
    """
    counts = [Counter(tokens) for tokens in corpus]
    lengths = [len(tokens) or 1 for tokens in corpus]
    average = sum(lengths) / len(lengths)
    df = Counter(token for doc in counts for token in doc)
    n = len(corpus)
    scores = np.zeros(n)
    for i, (doc, length) in enumerate(zip(counts, lengths)):
        for token in query:
            tf = doc.get(token, 0)
            if tf:
                idf = math.log(1 + (n - df[token] + 0.5) / (df[token] + 0.5))
                scores[i] += idf * tf / (tf + k1 * (1 - b + b * length / average))
    return scores


def scored_tokens(tokens: list[str], listed: set[str]) -> tuple[list[str], list[str]]:
    """What a query is scored by, spelled out: (text tokens, words read as pinyin). The text tokens are its listed
    tokens, then the listed words each unlisted latin word runs together, then every latin word of 3+ letters again."""
    split = {t: split_compound(t, listed) for t in dict.fromkeys(tokens) if t not in listed}
    text = [t for t in tokens if t in listed] + [piece for pieces in split.values() for piece in pieces]
    text += [t for t in text if len(t) >= 3 and t.isascii() and t.isalpha()]
    return text, as_pinyin([t for t in tokens if not split.get(t)], listed)


@pytest.fixture(scope="module")
def dev_queries() -> list[str]:
    return [content_text(q.query) for q in load_queries(ROOT / "data" / "dev_queries.csv")]


@pytest.fixture(scope="module")
def corpus(catalog: Catalog) -> tuple[list[list[str]], list[list[str]]]:
    """The real catalog as the engine indexes it: text tokens per product, and the pinyin tokens of its name."""
    return [tokenize(d) for d in lexical_documents(catalog)], [pinyin_tokens(p.name) for p in catalog.products]


@pytest.mark.parametrize("block", [lexical.BLOCK, 37])  # 37: the real catalog in 9 blocks, the last one short
def test_scores_and_top_10_equal_a_plain_bm25_on_every_dev_query(catalog, corpus, dev_queries, block, monkeypatch):
    """For every dev query, text BM25 plus name-pinyin BM25 per product equals the formula's to float32 precision,
    and the top 10 are the same products in the same order, whether the index was built in one block or many."""
    monkeypatch.setattr(lexical, "BLOCK", block)
    index = LexicalIndex(lexical_documents(catalog), names=[p.name for p in catalog.products])
    texts, names = corpus
    vocabulary = {token for tokens in texts for token in tokens}
    for query in dev_queries:
        text, pinyin = scored_tokens(tokenize(query), vocabulary)
        expected = reference_bm25(texts, text) + reference_bm25(names, pinyin)
        got = index.scores(query)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=query)
        assert top_k(got, 10).tolist() == top_k(expected.astype(np.float32), 10).tolist(), query


def test_scores_are_bm25s_scores_to_the_bit(catalog, corpus, dev_queries):
    """The index it replaced was bm25s over the same tokens: every dev query scores every product identically."""
    texts, names = corpus
    former = {}
    for key, docs in (("text", texts), ("pinyin", names)):
        former[key] = bm25s.BM25()
        former[key].index([tokens or ["\x00"] for tokens in docs], show_progress=False)
    index = LexicalIndex(lexical_documents(catalog), names=[p.name for p in catalog.products])
    for query in dev_queries:
        text, read = scored_tokens(tokenize(query), set(former["text"].vocab_dict))
        text_ids = [former["text"].vocab_dict[t] for t in text]
        pinyin = [t for t in read if t in former["pinyin"].vocab_dict]
        expected = former["text"].get_scores(text_ids) if text_ids else np.zeros(len(catalog), dtype=np.float32)
        if pinyin:
            expected = expected + former["pinyin"].get_scores([former["pinyin"].vocab_dict[t] for t in pinyin])
        assert index.scores(query).tolist() == expected.tolist(), query


def test_long_posting_lists_keep_their_weights_within_a_budget_and_score_the_same(catalog, dev_queries, monkeypatch):
    """A token with CACHED_FROM postings or more keeps its weights after the first query (a large catalog's common
    characters); the least recently used go once WEIGHT_CACHE_BYTES is passed; scores stay those of an index that
    keeps none, to the bit."""
    documents = lexical_documents(catalog)
    plain = LexicalIndex(documents)
    monkeypatch.setattr(lexical, "CACHED_FROM", 20)
    budget = 2_000
    monkeypatch.setattr(lexical, "WEIGHT_CACHE_BYTES", budget)
    keeping = LexicalIndex(documents)
    bm25 = keeping._text
    lengths = np.diff(bm25.indptr)
    long_ids = np.flatnonzero(lengths >= 20)
    assert len(long_ids) > 5 and lengths[long_ids].sum() * 4 > budget  # more than the budget holds
    first = bm25.weights(int(long_ids[0]))
    assert bm25.weights(int(long_ids[0])) is first and not first.flags.writeable
    short = int(np.flatnonzero(lengths < 20)[0])
    assert bm25.weights(short) is not bm25.weights(short)  # short lists are weighed again
    for t in long_ids.tolist():
        bm25.weights(t)
        assert 0 < bm25._kept_bytes <= budget
    assert int(long_ids[0]) not in bm25._kept and int(long_ids[-1]) in bm25._kept
    for query in dev_queries:
        assert keeping.scores(query).tolist() == plain.scores(query).tolist(), query


def test_the_index_holds_arrays_not_per_document_objects(catalog):
    """Built from a generator, the index keeps a vocabulary and arrays per BM25 part: int64 offsets and a float32 idf
    per token, int32 rows and uint8 counts per (product, distinct token) pair — 5 bytes a pair — and one float64 length
    norm per product; no Python object per document."""
    index = LexicalIndex((d for d in lexical_documents(catalog)), names=(p.name for p in catalog.products))
    assert index.size == len(catalog)
    for part in (index._text, index._pinyin):
        assert (part.indptr.dtype, part.rows.dtype, part.tfs.dtype) == (np.int64, np.int32, np.uint8)
        assert len(part.indptr) == len(part.vocab) + 1 and part.indptr[-1] == part.postings
        assert part.nbytes == 12 * len(part.vocab) + 8 + 5 * part.postings + 8 * len(catalog)
        assert not [name for name, value in vars(part).items() if isinstance(value, (list, tuple))]
        for t in range(len(part.vocab)):  # rows ascend within each token: each row appears once per token
            rows = part.rows[part.indptr[t] : part.indptr[t + 1]]
            assert (np.diff(rows) > 0).all()


def test_an_empty_document_counts_as_length_one_and_a_repeated_query_token_counts_twice():
    """bm25s's conventions, kept: a document without tokens has length 1 (it shifts the mean length), and a
    token typed twice adds its weight twice."""
    docs = ["机械师 K7 机械键盘", "😀", "", "机械键盘 K5"]
    index = LexicalIndex(docs)
    corpus = [tokenize(d) for d in docs]
    np.testing.assert_allclose(index.scores("键盘"), reference_bm25(corpus, tokenize("键盘")), rtol=1e-6)
    np.testing.assert_allclose(index.scores("k7 k7"), reference_bm25(corpus, ["k7", "k7"]), rtol=1e-6)
    assert index.scores("k7 k7")[0] == pytest.approx(2 * index.scores("k7")[0], rel=1e-6)
    assert index.scores("k7").tolist()[1:] == [0.0, 0.0, 0.0]


def test_names_must_match_documents_one_to_one():
    with pytest.raises(ValueError, match="2 names for 3 documents"):
        LexicalIndex(["a", "b", "c"], names=["甲", "乙"])


TRICKY = [
    "网速 AX55 Wi-Fi 6",
    "HEYNA_Official 中古 a_b _x_ 1_",
    "K7键盘 Pro 2",
    "Pro 键盘 2",
    "ＡＸ５５ lf 50 12.4",
    "",
    "😀!!",
    "羽毛球拍，一对 e ink usb c",
    "豈 更 (compatibility ideographs)",
    "a\x00b 键\x00盘",
    "x" * 3 + " 重" * 70_000,
    "ΟΔΟΣ ΑΣ",
    "café cafe\u0301 ｶﾞ ﬁ ①②",
    "（全角）：Ｐｒｏ　２",
]


def postings_by_token(part) -> dict[str, tuple[list[int], list[float]]]:
    return {token: (part.rows[part.indptr[t] : part.indptr[t + 1]].tolist(), part.weights(t).tolist()) for token, t in part.vocab.items()}


@pytest.mark.parametrize("block", [lexical.BLOCK, 3])
def test_texts_are_indexed_by_exactly_the_tokens_tokenize_gives(catalog, block, monkeypatch):
    """Texts are tokenised a block at a time (CJK characters and pairs read from code points with numpy); the index
    must hold the same tokens with the same weights as one built from `tokenize`'s token lists: the catalog, plus
    full-width latin, compatibility ideographs (NFKC maps 豈 to 豈), NUL characters, an empty text, a
    character repeated more often than a uint16 counts, a final sigma, combining marks and half-width kana that NFKC
    composes (ｶﾞ -> ガ), ligatures and circled digits."""
    monkeypatch.setattr(lexical, "BLOCK", block)
    texts = TRICKY + lexical_documents(catalog)
    from_texts = lexical._Bm25.from_texts(texts)
    from_tokens = lexical._Bm25.from_tokens(map(tokenize, texts))
    assert postings_by_token(from_texts) == postings_by_token(from_tokens)


@pytest.mark.parametrize("texts", [TRICKY, ["ΑΣ", "Σ", "aΣ b"], ["ｶ", "ﾞ"], ["e", "\u0301x"], ["", ""], ["键\x00"]])
def test_a_block_folds_exactly_as_its_texts_fold_one_by_one(texts):
    """NFKC and lower-casing run once over a block joined by NUL (full-width characters replaced first, for speed):
    the same result as folding each text, even where a neighbour could compose (a dakuten, a combining accent) or
    change case (final sigma) across the join."""
    folded = [lexical.unicodedata.normalize("NFKC", text.replace("\x00", "\x01")).lower() for text in texts]
    assert lexical._fold_block(texts) == "\x00".join(folded)


def test_the_vocabulary_finds_cjk_tokens_by_integer_key_and_others_by_string(catalog):
    """CJK characters and pairs live in a sorted integer array, latin tokens in a dict: both are found, unknown
    tokens are not, and the items are every token once."""
    index = LexicalIndex(lexical_documents(catalog))
    vocab = index._text.vocab
    tokens = {token for document in lexical_documents(catalog) for token in tokenize(document)}
    assert dict(vocab.items()).keys() == tokens and len(vocab) == len(tokens)
    assert {vocab.get(token) for token in tokens} == set(range(len(tokens)))
    assert "键盘" in vocab and "k7" in vocab and "猫粮" not in vocab and "猫" not in vocab and vocab.get("zzzz") is None


def test_the_vocabulary_remembers_lookups_within_a_bound_and_answers_the_same(catalog, monkeypatch):
    """Looked-up tokens (present or not) are remembered for the next query, but never more than VOCAB_MEMO of them,
    so a stream of random queries cannot grow an engine's memory."""
    monkeypatch.setattr(lexical, "VOCAB_MEMO", 50)
    vocab = LexicalIndex(lexical_documents(catalog))._text.vocab
    tokens = sorted({token for document in lexical_documents(catalog) for token in tokenize(document)})[:40]
    junk = [f"zz{i}" for i in range(500)]
    first = [vocab.get(t) for t in tokens + junk]
    assert len(vocab._memo) <= 50
    assert [vocab.get(t) for t in tokens + junk] == first == [vocab._lookup(t) for t in tokens + junk]
    assert all(found is not None for found in first[:40]) and not any(found is not None for found in first[40:])
    looked_up, lookup = [], vocab._lookup
    monkeypatch.setattr(vocab, "_lookup", lambda token: looked_up.append(token) or lookup(token))
    vocab._memo.clear()  # 30 tokens then fit without the memo being emptied in between
    assert [vocab.get(t) for t in tokens[:30]] == first[:30]
    assert looked_up == tokens[:30]  # not remembered yet: read from the arrays, once each
    assert [vocab.get(t) for t in tokens[:30]] == first[:30] and looked_up == tokens[:30]  # remembered
