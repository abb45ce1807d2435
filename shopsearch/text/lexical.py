"""Chinese-aware lexical search: BM25 over character uni/bigrams and latin words, plus the names' pinyin.

The model sees most Chinese characters as [UNK]; characters themselves are what a lexical index reads best.

The index is held as compact arrays, not Python objects: a vocabulary (token -> id) and an inverted CSR matrix
(for each token id, the rows of the products that contain it and the token's precomputed BM25 weight there), so
a query touches only its own tokens' postings. At 1M products the former bm25s index kept every tokenised
document as Python lists while it built (14.6 GB RSS, BENCHMARKS.md); this one tokenises a block of documents at a
time and keeps ~5 bytes per (product, distinct token). Scores are bm25s's "lucene" BM25 (k1 1.5, b 0.75) to the bit.
"""

from __future__ import annotations

import ctypes
import operator
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Container, Iterable, Iterator
from functools import cache, lru_cache
from itertools import chain, islice

import numpy as np

from shopsearch.text.pinyin import PREFIX as PINYIN_PREFIX
from shopsearch.text.pinyin import as_pinyin, pinyin_tokens
from shopsearch.text.query import content_text

# Changed whenever `tokenize` gives other tokens for some text: sparse vectors stored by it (Milvus) are written again.
TOKENS_VERSION = "2"  # 2: an underscore joins a latin run, as a hyphen does

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:[-._][a-z0-9]+)*")
_IS_CJK = re.compile(rf"[{_CJK}]")
# Inside a latin/digit run: segments split at punctuation, pieces at letter/digit boundaries too. A dot between
# digits is a decimal point, not punctuation ("12.4" stays whole; "1.5升" should not match every "5").
_SEGMENT = re.compile(r"(?:[a-z]+|\d+(?:\.\d+)*)+")
_PIECE = re.compile(r"[a-z]+|\d+(?:\.\d+)*")
# A lone letter or digit cut out of a model number ("k" of K7, "7" of K7) matches too widely to index: every
# 4K monitor has a "k". Runs that are one character on their own ("Wi-Fi 6") are still tokens.
MIN_PIECE = 2


_DIGIT = re.compile(r"[0-9]")


def _joins(left: str, right: str) -> bool:
    """Whether two latin runs separated by a space read as one model name ("Pro 2", "Watch 4", "e ink", "usb c").

    Two ordinary words ("bluetooth speaker") are not joined: on dev the phrase token they would give is shared by
    every product listing the phrase, and it cost hybrid Recall@1 (0.924 with it, 0.931 without).
    """
    return min(len(left), len(right)) <= 2 or _DIGIT.search(left) is not None or _DIGIT.search(right) is not None


def latin_tokens(run: str) -> list[str]:
    """The tokens of one lower-cased latin/digit run: its joined form, its segments and their pieces.

    Example: "es-lf50" -> ["eslf50", "es", "lf50", "lf", "50"]; "pro2" -> ["pro2", "pro"]; "12.4" -> ["12.4"]
    """
    return list(_latin_tokens(run))


@lru_cache(maxsize=1 << 16)
def _latin_tokens(run: str) -> tuple[str, ...]:
    """`latin_tokens`, cached: words such as tags, brands and units repeat across a catalog's products."""
    segments = _SEGMENT.findall(run)
    tokens = {"".join(segments): None}
    for segment in segments:
        tokens.setdefault(segment, None)
        for piece in _PIECE.findall(segment):
            if len(piece) >= MIN_PIECE:
                tokens.setdefault(piece, None)
    return tuple(tokens)


def tokenize(text: str) -> list[str]:
    """Split text into the tokens the BM25 index uses.

    CJK runs give every character and every adjacent pair. Latin/digit runs give `latin_tokens` (joined form,
    segments at punctuation, pieces at letter/digit boundaries), and two runs separated only by spaces that read as
    one model name (see `_joins`) also give their joined form, so "Pro2" ≡ "Pro 2" and "LF50" ≡ "LF-50" ≡ "lf 50"
    share a token.

    Text is NFKC-normalised and lower-cased first, so full-width "ＡＸ５５" matches "AX55".
    Example: "网速 AX55 Wi-Fi 6" -> ["网", "速", "网速", "ax55", "ax", "55", "wifi", "wi", "fi", "ax55wifi", "6", "wifi6"]
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    previous: re.Match[str] | None = None  # the last latin run, while only spaces follow it
    for match in _RUN.finditer(folded):
        run = match.group()
        if not run.isascii():  # a CJK run (a latin run is ASCII by _RUN): characters, then adjacent pairs
            tokens.extend(run)
            tokens.extend(map(operator.add, run, run[1:]))
            previous = None
            continue
        own = _latin_tokens(run)
        tokens.extend(own)
        if previous is not None and folded[previous.end() : match.start()].isspace():
            left = _latin_tokens(previous.group())[0]
            if _joins(left, own[0]):
                tokens.append(left + own[0])
        previous = match
    return tokens


def query_terms(text: str) -> list[str]:
    """The distinct words and characters of a query worth highlighting: CJK characters and the latin tokens of its
    content (filler such as 寻找一款 dropped, as the engine scores it), plus each model number spelled with a space
    or a hyphen between its pieces, so "Pro2" marks the "Pro 2" it matched.

    Example: "键盘" -> ["键", "盘"]; "lf-50" -> ["lf50", "lf", "50"]; "Pro2" -> ["pro2", "pro", "pro 2", "pro-2"]
    """
    seen: dict[str, None] = {}
    for run in _RUN.findall(unicodedata.normalize("NFKC", content_text(text)).lower()):
        if _IS_CJK.match(run):
            seen.update(dict.fromkeys(run))
            continue
        seen.update(dict.fromkeys(latin_tokens(run)))
        for pieces in (_PIECE.findall(segment) for segment in _SEGMENT.findall(run)):
            if len(pieces) > 1:
                seen.update(dict.fromkeys((" ".join(pieces), "-".join(pieces))))
    return list(seen)


# A latin word no listing uses may be listed words typed together ("heynaofficial" for "HEYNA_Official", "adidasoriginals"
# for "adidas originals"): a word this long or longer is read as up to COMPOUND_PIECES listed words of COMPOUND_PIECE
# letters or more, when it splits so.
COMPOUND_MIN = 6
COMPOUND_PIECE = 3
COMPOUND_PIECES = 3
COMPOUND_MAX = 40  # longer words are not tried


# A query's latin word of LATIN_WORD letters or more counts twice in its BM25 score. A Chinese word of two characters
# scores three tokens (each character and the pair), a latin word one: a shop's brand in Latin letters ("missas",
# "zara") weighed less than two common characters beside it. On 100 real Taobao queries, BM25 MRR@10 0.823 → 0.838
# over 2,083 titles; both dev sets within 0.002 (BENCHMARKS.md); three times gained nothing more.
LATIN_WORD = 3


def _is_word(token: str) -> bool:
    """A latin word that counts twice in a query (LATIN_WORD). Example: "zara" -> True; "z6", "pro2", "键" -> False"""
    return len(token) >= LATIN_WORD and token.isascii() and token.isalpha()


def split_compound(word: str, listed: Container[str]) -> tuple[str, ...]:
    """`word` (letters only) as the fewest listed words it runs together (longest first word among equals), or () if it
    does not split into 2–COMPOUND_PIECES listed words of COMPOUND_PIECE letters or more.

    Example: split_compound("heynaofficial", {"heyna", "official"}) -> ("heyna", "official");
    split_compound("homichef", {"chef"}) -> ()
    """
    if not (COMPOUND_MIN <= len(word) <= COMPOUND_MAX and word.isascii() and word.isalpha()):
        return ()
    best: tuple[str, ...] = ()

    def walk(start: int, pieces: tuple[str, ...]) -> None:
        nonlocal best
        if start == len(word):
            if len(pieces) > 1 and (not best or len(pieces) < len(best)):
                best = pieces
            return
        if len(pieces) == COMPOUND_PIECES or (best and len(pieces) + 1 >= len(best)):
            return
        for end in range(len(word), start + COMPOUND_PIECE - 1, -1):  # the longest piece first
            if 0 < len(word) - end < COMPOUND_PIECE:
                continue
            if word[start:end] in listed:
                walk(end, (*pieces, word[start:end]))

    walk(0, ())
    return best


# bm25s's defaults, which this index reproduces: "lucene" BM25.
K1 = 1.5
B = 0.75
EMPTY = "\x00"  # the one token of a document with none, as bm25s was given: it still counts as length 1
BLOCK = 4096  # documents tokenised, counted and appended at a time
VOCAB_MEMO = 8_192  # query tokens whose ids (or absence) a vocabulary remembers
# The weights of a token with this many postings or more are kept once a query computed them, up to WEIGHT_CACHE_BYTES
# per index, least recently used dropped first. Only large catalogs have such tokens: at 1M products a common
# character's ~10^5 postings cost ~1 ms to weigh, every query that has it, and were most of a lexical query's time.
CACHED_FROM = 4096
WEIGHT_CACHE_BYTES = 64 * 2**20


class _Bm25:
    """One BM25 index as an inverted CSR matrix; scored by tokens, tokens it never saw skipped.

    For token id t, `rows[indptr[t]:indptr[t + 1]]` are the documents containing it (ascending) and `tfs[...]` the
    token's count in each (uint8 unless a count exceeds 255). Its BM25 weight there, idf(t) · tf / (tf + norm(d)) with
    norm(d) = k1 · (1 − b + b · length / mean length), is computed when a query asks for the token, exactly as bm25s
    computes it at indexing (float64, rounded to float32), and summed in the query's token order, so the scores match
    bm25s's to the bit. Keeping 1-byte counts instead of 4-byte weights saves ~0.3 GB at 1M products (100M postings)
    for a few milliseconds a query; the longest lists' weights, which cost most of those, are kept once computed
    (CACHED_FROM, at most WEIGHT_CACHE_BYTES).
    """

    def __init__(self, builder: _Builder) -> None:
        self.vocab, self.indptr, self.rows, self.tfs, self.idf, self.norm = builder.finish()
        self.size = len(self.norm)
        self._kept: OrderedDict[int, np.ndarray] = OrderedDict()  # token id -> its weights (see CACHED_FROM)
        self._kept_bytes = 0
        self._lock = threading.Lock()  # searches run in several threads at once

    @classmethod
    def from_tokens(cls, corpus: Iterable[list[str]]) -> _Bm25:
        """Index documents given as token lists, a block at a time (a generator keeps only a block in memory)."""
        builder = _Builder()
        for block in _blocks(corpus):
            builder.add_token_lists(block)
        return cls(builder)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> _Bm25:
        """Index texts by the tokens `tokenize` gives, counted a block at a time without a token list per text."""
        builder = _Builder()
        for block in _blocks(texts):
            builder.add_texts(block)
        return cls(builder)

    @property
    def postings(self) -> int:
        """How many (document, distinct token) pairs the index holds."""
        return len(self.rows)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (the vocabulary comes on top)."""
        return self.indptr.nbytes + self.rows.nbytes + self.tfs.nbytes + self.idf.nbytes + self.norm.nbytes

    def documents_with(self, token: str) -> np.ndarray | None:
        """The rows (ascending) of the documents holding `token`; None when no document does."""
        t = self.vocab.get(token)
        return None if t is None else self.rows[self.indptr[t] : self.indptr[t + 1]]

    def weights(self, t: int) -> np.ndarray:
        """Token t's BM25 weight (float32) in each document of its postings, as bm25s stores it. Read-only when kept."""
        start, end = int(self.indptr[t]), int(self.indptr[t + 1])
        if end - start < CACHED_FROM:
            return self._weigh(t, start, end)
        with self._lock:
            kept = self._kept.get(t)
            if kept is not None:
                self._kept.move_to_end(t)
                return kept
        weights = self._weigh(t, start, end)
        weights.flags.writeable = False
        with self._lock:
            if t not in self._kept and weights.nbytes <= WEIGHT_CACHE_BYTES:
                self._kept[t] = weights
                self._kept_bytes += weights.nbytes
                while self._kept_bytes > WEIGHT_CACHE_BYTES:
                    self._kept_bytes -= self._kept.popitem(last=False)[1].nbytes
        return weights

    def _weigh(self, t: int, start: int, end: int) -> np.ndarray:
        tf = self.tfs[start:end].astype(np.float64)
        return (self.idf[t] * (tf / (self.norm[self.rows[start:end]] + tf))).astype(np.float32)

    def scores(self, tokens: Iterable[str]) -> np.ndarray:
        """BM25 score of every document for `tokens`; a token listed twice counts twice, as in bm25s."""
        scores = np.zeros(self.size, dtype=np.float32)
        for token in tokens:
            t = self.vocab.get(token)
            if t is not None:
                rows = self.rows[self.indptr[t] : self.indptr[t + 1]]
                np.add.at(scores, rows, self.weights(t))  # numpy 2: faster than scores[rows] +=
        return scores


def _blocks(items: Iterable) -> Iterator[list]:
    """Consecutive lists of BLOCK items, the last one shorter."""
    iterator = iter(items)
    while block := list(islice(iterator, BLOCK)):
        yield block


_SPACE = np.array([chr(c).isspace() for c in range(0x3002)])  # code point -> str.isspace(); 0x3001 stands for above
_CJK_BLOCK = (0x3400, 0x9FFF)  # CJK ideographs (and the Yijing symbols between them): all of them NFKC leaves alone


def _is_cjk(codes: np.ndarray) -> np.ndarray:
    """Which code points fall in _CJK's ranges."""
    return ((codes >= 0x3400) & (codes <= 0x4DBF)) | ((codes >= 0x4E00) & (codes <= 0x9FFF)) | ((codes >= 0xF900) & (codes <= 0xFAFF))


def _codes(text: str) -> np.ndarray:
    """The code points of `text` as int64 (lone surrogates kept). Example: "a键" -> [97, 38190]"""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


@cache
def _nfkc_char(code: int) -> str | None:
    """NFKC of one character if NFKC changes it, else None. Example: 0xFF0C ("，") -> ","; 0x952E ("键") -> None"""
    folded = unicodedata.normalize("NFKC", chr(code))
    return None if folded == chr(code) else folded


def _fold_block(texts: list[str]) -> str:
    """The texts NFKC-normalised and lower-cased (as `tokenize` folds them), joined by "\\x00".

    A "\\x00" inside a text becomes "\\x01", which tokenises the same (neither is a space, a letter or CJK). NFKC runs
    once over the block, after every character it would change has been replaced by that character's own NFKC:
    NFKC composes the NFKD form, which such a replacement leaves as it was, so the result is the same; but CPython's
    quick check then finds the block already normalised and skips the slow path that full-width punctuation
    (，：（）) would otherwise send almost every Chinese text through (~15 s of a 1M-product build). "\\x00" neither
    composes with its neighbours nor changes how they are lower-cased (final sigma), so folding the block equals
    folding each text.

    Example: ["ＡＸ５５，键盘", "Pro"] -> "ax55,键盘\\x00pro"
    """
    block = "\x00".join(texts)
    if block.count("\x00") != len(texts) - 1:
        block = "\x00".join(text.replace("\x00", "\x01") for text in texts)
    codes = _codes(block)
    high = codes[(codes >= 0x80) & ((codes < _CJK_BLOCK[0]) | (codes > _CJK_BLOCK[1]))]
    for code in np.unique(high).tolist():
        folded = _nfkc_char(code)
        if folded is not None:
            block = block.replace(chr(code), folded)
    return unicodedata.normalize("NFKC", block).lower()


class _Vocabulary:
    """Token -> id, held compactly: CJK characters and pairs as integer keys in a sorted array (a pair is
    (first << 20) | second), short ASCII tokens (1–8 characters: words, units, model numbers) as their bytes read as
    one integer in another sorted array, and only the rest in a dict. At 1M products a dict of the 1.1M tokens as
    strings took ~0.14 GB; these arrays take 16 bytes a token.
    """

    def __init__(self, strings: dict[str, int], cjk_keys: np.ndarray, cjk_ids: np.ndarray) -> None:
        """Args:
        strings: every non-CJK token -> id (short ASCII ones move to the packed array).
        cjk_keys, cjk_ids: the CJK tokens' keys (sorted) and ids.
        """
        tokens = list(strings)
        short = np.fromiter(map(_packable, tokens), dtype=bool, count=len(tokens))
        ids = np.fromiter(strings.values(), dtype=np.int64, count=len(tokens))
        packed = np.array([t for t, s in zip(tokens, short) if s], dtype="S8").view("<u8") if short.any() else np.zeros(0, "<u8")
        order = np.argsort(packed)
        self._packed, self._packed_ids = packed[order], ids[short][order]
        self._strings = {t: i for t, i, s in zip(tokens, ids.tolist(), short.tolist()) if not s}
        self._cjk_keys, self._cjk_ids = cjk_keys, cjk_ids
        # Queries look up the same few thousand tokens again and again (~25 lookups a search, ~4 µs each through
        # searchsorted): answers, including "absent", are kept here, up to VOCAB_MEMO tokens, then forgotten at once.
        self._memo: dict[str, int | None] = {}

    @staticmethod
    def cjk_key(token: str) -> int | None:
        """The integer key of a CJK character or pair, None for any other token. Example: "键盘" -> (0x952E << 20) | 0x76D8"""
        if 1 <= len(token) <= 2 and all(_CJK_CHAR.match(ch) for ch in token):
            return ord(token) if len(token) == 1 else (ord(token[0]) << 20) | ord(token[1])
        return None

    def get(self, token: str) -> int | None:
        """The token's id, None if no document holds it; remembered for the next query (see `_memo`)."""
        try:
            return self._memo[token]
        except KeyError:
            pass
        if len(self._memo) >= VOCAB_MEMO:
            self._memo = {}
        found = self._memo[token] = self._lookup(token)
        return found

    def _lookup(self, token: str) -> int | None:
        """The token's id from the arrays (or the dict), None if absent. Example: "键盘" -> its id; "猫粮" -> None"""
        if _packable(token):
            return _find(self._packed, self._packed_ids, int.from_bytes(token.encode("ascii"), "little"))
        key = self.cjk_key(token)
        if key is not None:
            found = _find(self._cjk_keys, self._cjk_ids, key)
            if found is not None:
                return found
        return self._strings.get(token)  # also CJK tokens given as token lists (`_Bm25.from_tokens`)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and self.get(token) is not None

    def __len__(self) -> int:
        return len(self._strings) + len(self._packed) + len(self._cjk_keys)

    def items(self) -> Iterator[tuple[str, int]]:
        """Every (token, id), every token as a string again."""
        yield from self._strings.items()
        for key, token_id in zip(self._packed.view("S8").tolist(), self._packed_ids.tolist()):
            yield key.decode("ascii"), token_id
        for key, token_id in zip(self._cjk_keys.tolist(), self._cjk_ids.tolist()):
            yield (chr(key) if key < 1 << 20 else chr(key >> 20) + chr(key & 0xFFFFF)), token_id


def _packable(token: str) -> bool:
    """Whether a token is held as its bytes in one integer: 1–8 ASCII characters, none of them NUL."""
    return 0 < len(token) <= 8 and token.isascii() and "\x00" not in token


def _find(keys: np.ndarray, ids: np.ndarray, key: int) -> int | None:
    """The id stored beside `key` in the sorted `keys`, or None."""
    at = int(np.searchsorted(keys, keys.dtype.type(key)))  # as the keys' type: a bare int would compare as a float
    return int(ids[at]) if at < len(keys) and int(keys[at]) == key else None


_CJK_CHAR = re.compile(rf"[{_CJK}]")


class _Builder:
    """Collects blocks of documents as (token id, document, term frequency) per distinct token of each document,
    sorted by token, then places them in the inverted CSR.

    Where a token's postings start depends on every token's document frequency, known only at the end, so the blocks
    keep 8 bytes per (document, distinct token) until `finish` copies them, block by block, into the term-ordered
    arrays (each block is freed once placed).

    Texts are tokenised as a block: CJK characters and pairs are read from the block's code points with numpy (as
    integers: the char's code point, or (first << 20) | second for a pair), and each distinct latin run of a block
    becomes Python strings once.
    """

    def __init__(self) -> None:
        self._vocab: dict[str, int] = {}
        self._cjk_keys = np.zeros(0, dtype=np.int64)  # sorted CJK token keys (see above)
        self._cjk_ids = np.zeros(0, dtype=np.int64)  # their token ids
        self._runs: dict[str, tuple[tuple[int, ...], str, bool]] = {}  # latin run -> (token ids, first token, joins)
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (token ids, documents, tfs) by token
        self._lengths: list[np.ndarray] = []  # tokens per document, repeats counted

    def _next_id(self) -> int:
        return len(self._vocab) + len(self._cjk_keys)

    def _string_ids(self, tokens: list[str]) -> np.ndarray:
        vocab = self._vocab
        for token in dict.fromkeys(tokens):  # first-seen order: ids are the same from run to run
            if token not in vocab:
                vocab[token] = self._next_id()
        return np.fromiter(map(vocab.__getitem__, tokens), dtype=np.int64, count=len(tokens))

    def _cjk_ids_of(self, keys: np.ndarray) -> np.ndarray:
        """Token ids of CJK keys; keys not seen before get the next ids, in ascending key order."""
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        distinct, inverse = np.unique(keys, return_inverse=True)
        at = np.searchsorted(self._cjk_keys, distinct)
        known = at < len(self._cjk_keys)
        known[known] = self._cjk_keys[at[known]] == distinct[known]
        new = distinct[~known]
        if len(new):
            new_ids = self._next_id() + np.arange(len(new), dtype=np.int64)
            self._cjk_keys = np.insert(self._cjk_keys, at[~known], new)
            self._cjk_ids = np.insert(self._cjk_ids, at[~known], new_ids)
        ids = self._cjk_ids[np.searchsorted(self._cjk_keys, distinct)]
        return ids[inverse.reshape(-1)]

    def add_token_lists(self, documents: list[list[str]]) -> None:
        documents = [tokens or [EMPTY] for tokens in documents]
        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        ids = self._string_ids(list(chain.from_iterable(documents)))
        self._append(np.repeat(np.arange(len(documents)), lengths), ids, lengths)

    def add_texts(self, texts: list[str]) -> None:
        """Count a block of texts' tokens, as `tokenize` gives them, from the block's code points.

        The block is one string with "\\x00" between texts (`_fold_block`), so no CJK pair and no latin run spans two
        texts. CJK characters and pairs stay integers; latin runs are found with numpy and only they are sliced out
        as strings.
        """
        block = _fold_block(texts)
        codes = _codes(block)
        doc_of = np.cumsum(codes == 0)  # a separator counts for the next text; it is never part of a token
        latin_ids, latin_docs = self._latin(block, codes, doc_of)
        cjk = _is_cjk(codes)
        pairs = cjk[:-1] & cjk[1:]
        keys = np.concatenate([codes[cjk], (codes[:-1][pairs] << 20) | codes[1:][pairs]])
        docs = np.concatenate([latin_docs, doc_of[cjk], doc_of[:-1][pairs]])
        ids = np.concatenate([latin_ids, self._cjk_ids_of(keys)])
        lengths = np.bincount(docs, minlength=len(texts))
        empty = np.flatnonzero(lengths == 0)
        if len(empty):  # as bm25s was given them: one EMPTY token
            docs = np.concatenate([docs, empty])
            ids = np.concatenate([ids, self._string_ids([EMPTY] * len(empty))])
            lengths[empty] = 1
        self._append(docs, ids, lengths)

    def _run(self, run: str) -> tuple[tuple[int, ...], str, bool]:
        """A latin run's token ids (`latin_tokens`), its first (joined) token, and whether `_joins` accepts that token
        with any neighbour (it is at most 2 characters long or holds a digit). Cached; cleared at 2**16 runs."""
        known = self._runs.get(run)
        if known is None:
            tokens = _latin_tokens(run)
            vocab, ids = self._vocab, []
            for token in tokens:
                token_id = vocab.get(token)
                if token_id is None:
                    token_id = vocab[token] = self._next_id()
                ids.append(token_id)
            first = tokens[0]
            if len(self._runs) >= 1 << 16:
                self._runs.clear()
            known = self._runs[run] = (tuple(ids), first, len(first) <= 2 or _DIGIT.search(first) is not None)
        return known

    def _latin(self, block: str, codes: np.ndarray, doc_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and documents of the latin tokens in `block`: each run's `latin_tokens`, plus the joined form of
        two runs with only spaces between them that `_joins` accepts (as in `tokenize`).

        A run is `_RUN`'s latin alternative, [a-z0-9]+(?:[-._][a-z0-9]+)*: letters and digits, and a hyphen, dot or
        underscore standing between two of them.
        """
        alnum = ((codes >= 0x61) & (codes <= 0x7A)) | ((codes >= 0x30) & (codes <= 0x39))
        inside = alnum.copy()
        inside[1:-1] |= ((codes[1:-1] == 0x2D) | (codes[1:-1] == 0x2E) | (codes[1:-1] == 0x5F)) & alnum[:-2] & alnum[2:]
        edges = np.diff(inside.astype(np.int8), prepend=0, append=0)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if not len(starts):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        runs = list(map(block.__getitem__, map(slice, starts.tolist(), ends.tolist())))
        position = {run: i for i, run in enumerate(dict.fromkeys(runs))}  # distinct runs, first-seen order
        which = np.fromiter(map(position.__getitem__, runs), dtype=np.int64, count=len(runs))
        info = list(map(self._run, position))
        counts = np.fromiter((len(ids) for ids, _, _ in info), dtype=np.int64, count=len(info))
        flat = np.fromiter(chain.from_iterable(ids for ids, _, _ in info), dtype=np.int64, count=int(counts.sum()))
        per_run = counts[which]  # tokens of each run in the block
        offsets = (np.cumsum(counts) - counts)[which] - (np.cumsum(per_run) - per_run)  # flat index − output index
        ids = flat[np.repeat(offsets, per_run) + np.arange(int(per_run.sum()))]
        docs = np.repeat(doc_of[starts], per_run)
        # Runs i, i + 1 with a gap of spaces only ("\x00" between texts is not a space).
        not_space = np.concatenate([[0], np.cumsum(~_SPACE[np.minimum(codes, len(_SPACE) - 1)])])
        gaps = np.flatnonzero(not_space[starts[1:]] == not_space[ends[:-1]])
        joins = np.fromiter((flag for _, _, flag in info), dtype=bool, count=len(info))
        gaps = gaps[joins[which[gaps]] | joins[which[gaps + 1]]]
        joined = [info[left][1] + info[right][1] for left, right in zip(which[gaps].tolist(), which[gaps + 1].tolist())]
        return np.concatenate([ids, self._string_ids(joined)]), np.concatenate([docs, doc_of[starts[gaps]]])

    def _append(self, docs: np.ndarray, ids: np.ndarray, lengths: np.ndarray) -> None:
        """Count a block: (token id, document) pairs made unique, with their multiplicity, in token order."""
        shift = max(len(lengths), 1).bit_length()
        keys, tfs = np.unique((ids.astype(np.int64) << shift) | docs, return_counts=True)  # by token, then document
        tf_type = np.uint16 if tfs.max(initial=0) <= np.iinfo(np.uint16).max else np.uint32
        doc_type = np.uint16 if shift <= 16 else np.int32
        self._blocks.append(((keys >> shift).astype(np.int32), (keys & ((1 << shift) - 1)).astype(doc_type), tfs.astype(tf_type)))
        self._lengths.append(lengths.astype(np.int32))

    def vocabulary(self) -> _Vocabulary:
        """Every token -> its id."""
        return _Vocabulary(self._vocab, self._cjk_keys, self._cjk_ids)

    def finish(self) -> tuple[_Vocabulary, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(vocab, indptr, rows, tfs, idf, norm): the inverted index, with bm25s's idf per token and length norm per
        document."""
        vocab = self.vocabulary()
        n_vocab = len(vocab)
        self._runs = {}
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int32)
        size = len(lengths)
        df = np.zeros(n_vocab, dtype=np.int64)
        for ids, _, _ in self._blocks:
            df += np.bincount(ids, minlength=n_vocab)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        # bm25s: idf = log(1 + (N − df + 0.5) / (df + 0.5)) in float64, kept as float32; the length part in float64.
        idf = np.log(1 + (size - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * ((1 - B) + B * lengths / lengths.mean()) if size else np.zeros(0)
        rows = np.empty(int(indptr[-1]), dtype=np.int32)
        most = max((int(tfs.max(initial=0)) for _, _, tfs in self._blocks), default=0)
        counts_out = np.empty(int(indptr[-1]), dtype=np.min_scalar_type(most))  # uint8 unless a count exceeds 255
        heads = indptr[:-1].copy()  # the next free slot of each token's postings
        first_doc = 0
        self._blocks.reverse()
        for block_lengths in self._lengths:  # blocks in order, each placed after the previous one's documents
            ids, docs, tfs = self._blocks.pop()
            docs = docs.astype(np.int32) + first_doc
            first_doc += len(block_lengths)
            starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
            counts = np.diff(np.r_[starts, len(ids)])
            slots = heads[ids] + (np.arange(len(ids)) - np.repeat(starts, counts))
            rows[slots] = docs
            counts_out[slots] = tfs
            heads[ids[starts]] += counts
        self._lengths = []
        return vocab, indptr, rows, counts_out, idf, norm


_CJK_RUN = re.compile(rf"[{_CJK}]+")
_PINYIN_BY_RUNS: dict[tuple[str, ...], list[str]] = {}


def _name_pinyin(name: str) -> list[str]:
    """`pinyin_tokens(name)`, shared between names with the same Chinese runs (all that it reads): names repeat
    their brands and kinds, and assembling the tokens costs ~20 µs a name even when pypinyin's part is cached.
    The cache is cleared at 2**16 entries, so a catalog of unique names cannot grow it without bound.
    """
    key = tuple(_CJK_RUN.findall(unicodedata.normalize("NFKC", name)))
    tokens = _PINYIN_BY_RUNS.get(key)
    if tokens is None:
        if len(_PINYIN_BY_RUNS) >= 1 << 16:
            _PINYIN_BY_RUNS.clear()
        tokens = _PINYIN_BY_RUNS[key] = pinyin_tokens(name)
    return tokens


def return_freed_heap() -> None:
    """Give the heap pages the build freed back to the OS. glibc keeps them otherwise (its threshold for giving a
    block its own mapping rises as such blocks are freed, so the build's temporary arrays land on the heap):
    at 300k products this returned 135 MB of the 204 MB the build left beyond its arrays. A no-op without glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class LexicalIndex:
    """BM25 over product texts, plus the pinyin of their names; `scores(query)` gives a score for every document.

    The pinyin tokens (`pinyin.pinyin_tokens`) have their own BM25 index, so they neither lengthen the documents the
    text index normalises by nor weigh in a query that has no pinyin: such a query scores exactly as without them.
    """

    def __init__(self, documents: Iterable[str], names: Iterable[str] | None = None) -> None:
        """Args:
        documents: the text indexed per product (tokenised one at a time; no token list is kept).
        names: the products' names (same order), whose pinyin is indexed; None indexes no pinyin.
        """
        self._text = _Bm25.from_texts(documents)
        self.size = self._text.size
        self._pinyin = _Bm25.from_tokens(map(_name_pinyin, names)) if names is not None else None
        if self._pinyin is not None and self._pinyin.size != self.size:
            raise ValueError(f"{self._pinyin.size} names for {self.size} documents")
        # A search reads its query's tokens several times (scores, its top hit's coverage, the words read together):
        # after the first, from here. One (query, `_read`) tuple, replaced whole, so threads can share it.
        self._last_query: tuple[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] | None = None
        return_freed_heap()

    def _query_tokens(self, query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The query's tokens in the text index (a latin word it lacks also as the listed words it runs together:
        `split_compound`; latin words twice: LATIN_WORD), and its other latin words the text index lacks read as pinyin
        (if indexed)."""
        text, pinyin, _ = self._read(query)
        return text, pinyin

    def read_together(self, query: str) -> tuple[str, ...]:
        """The listed words the query's unlisted latin words run together, which its search also scored (the cards mark
        them). Example: "heynaofficial外套" over a catalog listing "HEYNA Official" -> ("heyna", "official")"""
        return self._read(query)[2]

    def _read(self, query: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(`_query_tokens`'s text and pinyin tokens, `read_together`'s words) of `query`; the last query's are kept."""
        last = self._last_query
        if last is not None and last[0] == query:
            return last[1]
        tokens = tokenize(query)
        vocab = self._text.vocab
        split = {t: pieces for t in dict.fromkeys(tokens) if t not in vocab and (pieces := split_compound(t, vocab))}
        together = tuple(chain.from_iterable(split.values()))
        text = tuple(t for t in tokens if t in vocab) + together
        text += tuple(t for t in text if _is_word(t))  # counted twice: see LATIN_WORD
        unread = [t for t in tokens if t not in split]
        pinyin = tuple(t for t in as_pinyin(unread, vocab) if t in self._pinyin.vocab) if self._pinyin else ()
        self._last_query = (query, (text, pinyin, together))
        return text, pinyin, together

    def pinyin_share(self, query: str) -> float:
        """The share of the query's characters in words read as pinyin (`as_pinyin`): what a model reading text, not
        pinyin, cannot understand. 0 without a pinyin index. Example: "cixi chongdianbao" -> 1.0; "磁吸 充电宝" -> 0.0"""
        _, pinyin = self._query_tokens(query)
        if not pinyin:
            return 0.0
        read = {t[len(PINYIN_PREFIX) :] for t in pinyin}
        letters = len("".join(query.split()))
        return min(1.0, sum(len(t) for t in set(tokenize(query)) if t in read) / max(letters, 1))

    def holding(self, tokens: Iterable[str]) -> np.ndarray:
        """The rows (ascending) of the documents whose text holds any of `tokens` (`tokenize`'s tokens; pinyin not read).

        Example: holding(["男", "men"]) -> the rows of every product that says 男 or "men"
        """
        postings = [rows for rows in map(self._text.documents_with, tokens) if rows is not None]
        return np.unique(np.concatenate(postings)).astype(np.int64) if postings else np.empty(0, dtype=np.int64)

    def holding_all(self, tokens: Iterable[str]) -> np.ndarray:
        """The rows (ascending) of the documents whose text holds every one of `tokens`; none for no tokens.

        Example: holding_all(["涂层", "陶瓷"]) -> the rows of the products that say both
        """
        rows: np.ndarray | None = None
        for token in dict.fromkeys(tokens):
            postings = self._text.documents_with(token)
            if postings is None:
                return np.empty(0, dtype=np.int64)
            rows = postings if rows is None else np.intersect1d(rows, postings, assume_unique=True)
        return np.empty(0, dtype=np.int64) if rows is None else rows.astype(np.int64)

    def coverage(self, query: str, document: str) -> float:
        """Share of the query's indexed bigrams and words (its characters if it has none) found in `document`.

        Tokens no product uses (filler like 寻找, or a thing the catalog lacks like 猫粮) are not in the index:
        they count in neither direction, and a query with no indexed token at all scores 0. Pinyin tokens count
        too, matched against the pinyin of `document`.
        Example: "寻找一款K7" vs "机械师 K7 机械键盘" -> 1.0; "猫粮" vs anything -> 0.0; "ymqp" vs a 羽毛球拍 -> 1.0
        """
        text, pinyin = self._query_tokens(query)
        indexed = list(dict.fromkeys(text + pinyin))
        tokens = [t for t in indexed if len(t) > 1] or indexed
        if not tokens:
            return 0.0
        present = set(tokenize(document))
        if pinyin:
            present.update(pinyin_tokens(document))
        return sum(t in present for t in tokens) / len(tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query`: text plus name pinyin (zeros when no query token is indexed)."""
        text, pinyin = self._query_tokens(query)
        scores = self._text.scores(text)
        if pinyin:
            assert self._pinyin is not None  # `_query_tokens` finds pinyin only in an index built with names
            scores = scores + self._pinyin.scores(pinyin)
        return scores
