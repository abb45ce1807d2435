"""SearchEngine(model, catalog): semantic, lexical and hybrid search with score breakdowns and timings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from shopsearch.common.errors import QueryError
from shopsearch.data.catalog import Catalog, Product
from shopsearch.retrieval.embeddings import EmbeddingCache, Encoder, Progress, TorchEncoder
from shopsearch.retrieval.index import ExactIndex, IvfIndex, RowReader, build_index, ranks_of, top_k
from shopsearch.retrieval.no_answer import NoAnswerRule, Signals, content_words, word_credits
from shopsearch.retrieval.onnx_encoder import OnnxEncoder
from shopsearch.retrieval.reference import WEIGHT as REFERENCE_WEIGHT
from shopsearch.retrieval.reference import Reference, scaled
from shopsearch.retrieval.reference import for_catalog as reference_for
from shopsearch.text.inputs import clean_text, finite_number
from shopsearch.text.intent import (
    AUDIENCE_HINTS,
    AUDIENCE_NAMES,
    OPPOSITE_AUDIENCE,
    ParsedQuery,
    PriceRange,
    has_audience,
    key_tokens,
    mentions,
    parse_query,
)
from shopsearch.text.lexical import LexicalIndex, return_freed_heap
from shopsearch.text.tokens import AnyTokenizer, PlainTokenizer, view

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODES = ("hybrid", "semantic", "lexical")
# Hybrid: cosine + max-scaled BM25; the cosine's weight is alpha × the share of the query the model can see (its
# non-[UNK] characters), so a query the model reads as mostly [UNK] leans on BM25. Chosen on data/dev_queries.csv
# (436 answered) for the Chinese-aware model, which sees ~100% of a query, with the final lexical index: raw cosine
# gave R@1 0.959 / 0.959 / 0.959 / 0.954 at alpha 0.4 / 0.5 / 0.6 / 0.7; min-max-scaled cosine 0.959 / 0.954 / 0.954
# at 0.4 / 0.5 / 0.6; reciprocal-rank fusion ≤ 0.943 (BM25 alone 0.950, semantic alone 0.920). Raw cosine is flat
# across alpha, and an absolute cosine does not inflate tiny differences the way min-max does when nothing matches.
DEFAULT_ALPHA = 0.5
MAX_TOP = 50
CANDIDATES = 200  # per side, when the vector index is approximate
# A filter keeping at most this many rows of a catalog searched approximately has all of them scored exactly: they are
# read from the vectors' memmap at ~5 µs a row, so ≤ 50 ms. A filter keeping more (a price range over 1M products,
# often half of them) has the vector index pick candidates among them: reading them all took up to seconds a query.
MASKED_ALL_ROWS = 10_000
# From this many products on, BM25 scores a query in another thread while the model encodes it: both release the GIL,
# and at 1M products each takes ~6-8 ms (together 7.4 ms instead of 11.8 in a scratch measurement). Below, BM25 takes
# well under a millisecond and a thread hand-off would cost more than it saves.
PARALLEL_LEXICAL_FROM = 50_000
ROW_READ_COST = 50  # reading one row costs about as much as this many rows of a whole matrix product (see _cosines)
# What the query's intents (shopsearch.text.intent) do to the ranking, as shares of the best candidate's score: small
# enough that relevance decides and they only reorder near-ties. On data/dev_queries.csv the hard price filter and
# negation moved hybrid R@1 0.959 → 0.968 (BM25 0.950 → 0.956); the boosts barely matter there (audience 0–0.2 and
# price 0–0.2 all gave 0.968–0.970). The harder dev set (30 price, 28 audience queries) then chose them: hybrid R@1
# 0.952 / 0.956 / 0.958 / 0.960 at (price, audience) = (0.05, 0.05) / (0.05, 0.1) / (0.1, 0.1) / (0.2, 0.1), and
# 0.960 again at (0.3, 0.1); price slice 0.800 → 0.867, audience 0.857 → 0.929.
AUDIENCE_BOOST = 0.1  # a product whose text names the audience (男款, 儿童, elderly); minus, the opposite one (女款)
PRICE_BOOST = 0.2  # the most in a soft price window (1000左右) or the cheapest of the relevant hits (便宜)
PREFER_AMONG = 20  # 便宜 / 高端 reorder only the best candidates (those within half of the best score)
NEAR_PRICE = 0.5  # a price this far outside a soft window (as a share of its bound) gets no boost


@dataclass(frozen=True)
class SearchHit:
    rank: int
    product_id: str
    name: str
    category: str
    price: float | None
    score: float  # the score of the mode asked for
    semantic: float  # cosine similarity
    lexical: float  # BM25
    rank_semantic: int | None  # rank in semantic-only search (None beyond the candidates looked at)
    rank_lexical: int | None
    boost: float = 0.0  # added to `score` by the query's audience and price preferences
    demoted: tuple[str, ...] = ()  # terms the query negates that this product mentions: it ranks below all others
    reference: float | None = None  # hybrid: e5's cosine of the query to the name (None when e5 was not asked)


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[SearchHit]
    encode_ms: float
    search_ms: float
    nothing_relevant: bool = False  # what `no_answer` says about `signals`
    coverage: float = 1.0  # lexical: see SearchEngine.match_coverage
    semantic_weight: float = 0.0  # hybrid: alpha × model_coverage (semantic mode 1.0, lexical 0.0)
    alpha: float = DEFAULT_ALPHA
    model_coverage: float = 1.0  # share of the query's characters the model does not see as [UNK]
    notes: list[str] = field(default_factory=list)  # inputs that were corrected, said to the user (bilingual)
    best_cosine: float | None = None  # the highest cosine among the products looked at (None in lexical mode)
    parsed: ParsedQuery | None = None  # the query's intents (its chips) and the text that was scored
    signals: Signals | None = None  # what "nothing relevant" was decided on (None without hits)
    content_words: tuple[str, ...] = ()  # the words the top hit was checked for (no_answer.content_words)
    reference_weight: float = 0.0  # hybrid: e5's weight (reference.WEIGHT) when it took part, else 0
    reference_reading: tuple[int, int] | None = None  # (names read, catalog size) while e5 still reads the catalog
    filters: Filters | None = None  # the category and price bounds asked for (before the query's own price range)
    read_together: tuple[str, ...] = ()  # listed words the query ran together ("heynaofficial"): LexicalIndex.read_together

    @property
    def total_ms(self) -> float:
        return self.encode_ms + self.search_ms


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None

    def __post_init__(self) -> None:
        """Refuse a price bound that is NaN or infinite (NaN would silently filter out every product)."""
        if self.min_price is not None:
            finite_number(self.min_price, "最低价", "The minimum price")
        if self.max_price is not None:
            finite_number(self.max_price, "最高价", "The maximum price")

    @classmethod
    def from_inputs(cls, category: str | None, min_price: float | None, max_price: float | None) -> tuple[Filters, list[str]]:
        """Filters from form values, corrected where a person plainly meant something else, with a note for each.

        A price box left at 0 (what an empty number box shows) or below means "no bound"; a reversed range is swapped.
        Example: from_inputs(None, 500, 100) -> (Filters(None, 100, 500), ["…swapped…"])
        """
        notes = []
        low = None if min_price is None or finite_number(min_price, "最低价", "The minimum price") <= 0 else float(min_price)
        high = None if max_price is None or finite_number(max_price, "最高价", "The maximum price") <= 0 else float(max_price)
        if (min_price or 0) < 0 or (max_price or 0) < 0:
            notes.append("负的价格按“不限”处理。 · A negative price is read as no limit.")
        if low is not None and high is not None and low > high:
            low, high = high, low
            notes.append(f"最低价高于最高价，已对调为 ¥{low:g}–¥{high:g}。 · Min price was above max; swapped to ¥{low:g}–¥{high:g}.")
        return cls(category or None, low, high), notes

    def narrowed(self, price: PriceRange) -> Filters:
        """These filters with a query's price bounds as well (the tighter bound wins on each side).

        Example: Filters(max_price=500).narrowed(PriceRange(high=200)) -> Filters(None, None, 200)
        """
        lows = [b for b in (self.min_price, price.low) if b is not None]
        highs = [b for b in (self.max_price, price.high) if b is not None]
        return Filters(self.category, max(lows) if lows else None, min(highs) if highs else None)

    def mask(self, categories: np.ndarray, prices: np.ndarray) -> np.ndarray | None:
        """Boolean mask of products passing the filters (prices: NaN when unknown), or None without filters."""
        if not self.category and self.min_price is None and self.max_price is None:
            return None
        keep = np.ones(len(categories), dtype=bool)
        if self.category:
            keep &= categories == self.category
        if self.min_price is not None or self.max_price is not None:
            lo = -np.inf if self.min_price is None else self.min_price
            hi = np.inf if self.max_price is None else self.max_price
            keep &= (prices >= lo) & (prices <= hi)
        return keep


def validate_query(query: str | None, max_chars: int) -> str:
    """Pass a query through the input gate (`inputs.clean_text`) and refuse an empty one, with a bilingual message.

    Example: validate_query(" 寻找一款K7\x07 ", 500) -> "寻找一款K7"
    """
    query = clean_text(query, max_chars, "查询", "The query")
    if not query:
        raise QueryError("请输入要搜索的内容。", "Please type something to search for.")
    return query


def single_threaded_blas() -> None:
    """Keep OpenBLAS to one thread for the whole process.

    The engine's matrix-vector products are memory-bound, so extra BLAS threads barely speed them up, but
    their busy-waiting steals the cores torch needs to encode the next query: measured on 2 cores with 100k
    products, query encoding p50 went from 12.7 ms to 28–35 ms (p95 110 ms) with OpenBLAS's default threads.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _own_tokenizer(model: SentenceTransformer) -> AnyTokenizer:
    """What `view` reads for a loaded model: a private copy of its fast tokenizer (the slow one as it is)."""
    return PlainTokenizer.of(model.tokenizer) if getattr(model.tokenizer, "is_fast", False) else model.tokenizer


class SearchEngine:
    """Search one catalog with one model. Build once; `search` is read-only and thread-safe.

    Queries are embedded by `encoder` (default: the model in torch; `build_engine` gives it an OnnxEncoder);
    `tokenizer` (default: a private copy of the model's) shows what the model sees.
    """

    def __init__(
        self,
        model: SentenceTransformer | None,
        catalog: Catalog,
        vectors: np.ndarray,
        ann_threshold: int = 200_000,
        lexical: LexicalIndex | None = None,
        index: ExactIndex | IvfIndex | None = None,
        encoder: Encoder | None = None,
        no_answer: NoAnswerRule = NoAnswerRule(),
        tokenizer: AnyTokenizer | None = None,
        reference: Reference | None = None,
    ) -> None:
        """`model` may be None when `encoder` and `tokenizer` are given (an engine built from cached files, torch-free).
        `reference`: e5's reading of the catalog (retrieval.reference), a third voice in hybrid search; None: none."""
        single_threaded_blas()
        self.model = model
        self.reference = reference
        self.no_answer = no_answer
        # `model` is None only when `encoder` and `tokenizer` are given (see above): the fallbacks read it only then.
        self.encoder: Encoder = encoder or TorchEncoder(cast("SentenceTransformer", model))
        self.tokenizer: AnyTokenizer = tokenizer if tokenizer is not None else _own_tokenizer(cast("SentenceTransformer", model))  # what `view` shows
        self.catalog = catalog
        self.vectors = vectors
        self.index: ExactIndex | IvfIndex = index or build_index(vectors, ann_threshold)
        # No per-product document string is kept (~0.3 GB at 1M products): `_document` rebuilds one when it is read.
        self.lexical = lexical or LexicalIndex(map(lexical_document, catalog.products), names=(p.name for p in catalog.products))
        self._rows = self.index.rows if isinstance(self.index, IvfIndex) else RowReader(vectors)
        self._categories = np.array([p.category for p in catalog.products], dtype=object)
        self._prices = np.array([np.nan if p.price is None else p.price for p in catalog.products], dtype=np.float64)
        self._priced = not np.isnan(self._prices).all()  # a catalog of titles only has none
        self._audiences: dict[str, np.ndarray] = {}  # audience -> which products name it, filled on first use
        return_freed_heap()  # the per-product lists built above (and the vector index's temporaries) are gone

    def encode_query(self, query: str) -> np.ndarray:
        return self.encoder.encode([query])[0]

    def search(
        self,
        query: str,
        mode: str = "hybrid",
        top: int = 10,
        alpha: float = DEFAULT_ALPHA,
        filters: Filters = Filters(),
        query_vector: np.ndarray | None = None,
        ignore: Collection[str] = (),
    ) -> SearchResult:
        """Rank products for `query`, read with its intents (`intent.parse_query`).

        A negated term (不要4G) is left out of the scored text, and products that mention it rank below all others;
        a price range (两百以内) filters like `filters` (if nothing passes, it becomes a preference, said in the
        notes); a soft price (1000左右, 便宜) and an audience (男, 儿童) reorder near-ties.

        Args:
            mode: "hybrid" (default), "semantic" or "lexical".
            top: how many hits to return (clamped to 1–50).
            alpha: hybrid only — the semantic score's weight for a query the model sees in full (clamped to 0–1); it is
                scaled by the share of the query's characters that are not [UNK], and the rest goes to the lexical score.
            filters: category and price range.
            query_vector: a precomputed query embedding (skips encoding).
            ignore: chip ids or kinds not to read (see `intent.parse_query`): the UI passes the chips the user removed.
        """
        if mode not in MODES:
            shown = str(mode)[:20]  # the API accepts any string here
            raise QueryError(f"未知的搜索模式 {shown}。", f"Unknown search mode {shown!r}.")
        notes = []
        asked = finite_number(top, "返回数量", "Top-k")
        top = int(min(max(asked, 1), MAX_TOP))
        if asked > MAX_TOP:
            notes.append(f"最多返回 {MAX_TOP} 条（请求了 {asked:g}）。 · At most {MAX_TOP} results are returned ({asked:g} asked).")
        alpha = min(max(finite_number(alpha, "语义权重", "The semantic weight (alpha)"), 0.0), 1.0)
        started = time.perf_counter()
        # The model reads the query without its negations and price ranges (filler kept); BM25 reads `content`,
        # without filler (我想买, 一款…) too.
        parsed = parse_query(query, ignore)
        t0 = time.perf_counter()
        reference = self.reference if mode == "hybrid" else None
        # e5 reads text, not pinyin: its weight goes with the share of the query that is not pinyin, as the model's
        # goes with the share it sees. It reads in its own thread while our model encodes.
        ref_weight = REFERENCE_WEIGHT * (1 - self.lexical.pinyin_share(parsed.content)) if reference is not None else 0.0
        ref_later = reference.cosines_later(parsed.semantic) if reference is not None and ref_weight > 0 and parsed.semantic.strip() else None
        qvec = query_vector
        lexical: Future[np.ndarray] | None = None
        if qvec is None and mode != "lexical":
            if len(self.catalog) >= PARALLEL_LEXICAL_FROM:  # BM25 scores while the model encodes
                lexical = _lexical_threads().submit(self.lexical.scores, parsed.content)
            qvec = self.encode_query(parsed.semantic)
        model_coverage = view(self.tokenizer, parsed.semantic).coverage
        weight = alpha * model_coverage if mode == "hybrid" else float(mode == "semantic")
        ref_all = ref_later() if ref_later is not None else None
        t1 = time.perf_counter()
        asked_filters = filters
        filters, price = self._apply_price(filters, parsed.price, notes)
        # Not started yet (every thread busy with other searches): scored here instead of waiting in line.
        lex_all = None if lexical is None or lexical.cancel() else lexical.result()
        hits, best_cosine = self._rank(parsed.content, qvec, mode, top, weight, filters, parsed, price, lex_all, ref_all, ref_weight)
        coverage = self.match_coverage(parsed.content, hits[0].product_id) if hits else 0.0
        words = tuple(content_words(parsed))
        signals = self.no_answer_signals(words, hits[0], qvec is not None) if hits else None
        t2 = time.perf_counter()
        return SearchResult(
            query,
            mode,
            hits,
            encode_ms=(t1 - t0) * 1000,
            search_ms=(t2 - t1 + t0 - started) * 1000,
            nothing_relevant=signals is None or self.no_answer.flags(signals),
            coverage=coverage,
            semantic_weight=weight,
            alpha=alpha,
            model_coverage=model_coverage,
            notes=notes,
            best_cosine=best_cosine,
            parsed=parsed,
            signals=signals,
            content_words=words,
            reference_weight=ref_weight if ref_all is not None else 0.0,
            reference_reading=(reference.done, reference.size) if reference is not None and not reference.ready else None,
            filters=asked_filters,
            read_together=self.lexical.read_together(parsed.content),
        )

    def no_answer_signals(self, words: tuple[str, ...], top: SearchHit, encoded: bool) -> Signals:
        """What the "nothing relevant" rule reads: the top hit's cosine (if the query was encoded), the share of the
        query's content words its text covers, their number, and the credit of the least-covered one."""
        document = self._document(self.catalog.index_of(top.product_id))
        return Signals.of(top.semantic if encoded else None, word_credits(words, document))

    def _apply_price(self, filters: Filters, price: PriceRange | None, notes: list[str]) -> tuple[Filters, PriceRange | None]:
        """The filters with the query's hard price range in them, and what of the price is left as a preference.

        A hard range that no product (under the other filters) passes becomes a soft window instead, and a note says so.
        """
        if price is None:
            return filters, price
        if not self._priced:  # a price in the query can neither filter nor order
            words = "、".join(price.words)
            notes.append(f"这个目录没有价格，忽略“{words}”。 · This catalog has no prices; “{words}” is ignored.")
            return filters, None
        if price.soft or not price.bounded:
            return filters, price
        narrowed = filters.narrowed(price)
        mask = narrowed.mask(self._categories, self._prices)
        if mask is not None and mask.any():
            return narrowed, price
        base = filters.mask(self._categories, self._prices)
        if base is not None and not base.any():  # the form's own filters already leave nothing
            return narrowed, price
        words = "、".join(price.words)
        notes.append(f"没有商品符合“{words}”，改为优先显示价格接近的商品。 · No product matches “{words}”; showing the closest prices first instead.")
        return filters, replace(price, soft=True)

    def match_coverage(self, query: str, product_id: str) -> float:
        """How much of the query's indexed text a product contains; see LexicalIndex.coverage."""
        return self.lexical.coverage(query, self._document(self.catalog.index_of(product_id)))

    def _document(self, row: int) -> str:
        """What BM25 indexed for product `row` (see `lexical_document`)."""
        return lexical_document(self.catalog[row])

    def _candidates(
        self, qvec: np.ndarray | None, lex: np.ndarray, mask: np.ndarray | None
    ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
        """Rows worth scoring (ascending): None (all rows) for exact search; the filter's rows; for an approximate index,
        the ANN ∪ lexical top rows, among the filter's rows when it keeps more than MASKED_ALL_ROWS. Then the ANN's
        rows and their exact cosines, which it has read already (None when the index was not asked)."""
        kept = None if mask is None else np.flatnonzero(mask)
        if isinstance(self.index, ExactIndex) or qvec is None:
            return kept, None
        if kept is None:
            ann = self.index.search(qvec, CANDIDATES)
            return np.union1d(ann[0], top_k(lex, CANDIDATES)), ann
        if len(kept) <= MASKED_ALL_ROWS:
            return kept, None
        ann = self.index.search(qvec, CANDIDATES, allowed=mask)
        return np.union1d(ann[0], kept[top_k(lex[kept], CANDIDATES)]), ann

    def _cosines(self, ids: np.ndarray, qvec: np.ndarray, known: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """The query's cosine to each of rows `ids` (ascending). Rows in `known` (rows, cosines) are not read again.

        Reading a row costs ~5 µs (from a memmap's file), a row of the whole matrix product ~0.1 µs: so when exact
        search scores a filter's many rows, the product is taken whole.
        """
        if isinstance(self.index, ExactIndex) and len(ids) * ROW_READ_COST > len(self.vectors):
            return (self.vectors @ qvec)[ids]
        if known is None:
            return self._rows(ids) @ qvec
        cosines = np.empty(len(ids), dtype=np.float32)
        at = np.searchsorted(ids, known[0])
        cosines[at] = known[1]
        unread = np.ones(len(ids), dtype=bool)
        unread[at] = False
        cosines[unread] = self._rows(ids[unread]) @ qvec
        return cosines

    def _rank(
        self,
        query: str,
        qvec: np.ndarray | None,
        mode: str,
        top: int,
        weight: float,
        filters: Filters,
        parsed: ParsedQuery | None = None,
        price: PriceRange | None = None,
        lex_all: np.ndarray | None = None,
        ref_all: np.ndarray | None = None,
        ref_weight: float = REFERENCE_WEIGHT,
    ) -> tuple[list[SearchHit], float | None]:
        """The top hits, and the best cosine among the products looked at (None without a query vector).

        Args:
            query: the text BM25 scores (the query's content).
            parsed: the query's intents: its audience boosts, its negated terms demote.
            price: the price left as a preference (a soft window, or 便宜/高端), after any hard range went to `filters`.
            lex_all: the BM25 scores of `query`, if already computed.
            ref_all: hybrid only: e5's cosines of the query to every product (retrieval.reference), or None.
            ref_weight: their weight (REFERENCE_WEIGHT, less for a query partly in pinyin).
        """
        if lex_all is None:
            lex_all = self.lexical.scores(query)
        ids, known = self._candidates(qvec, lex_all, filters.mask(self._categories, self._prices))
        rows: np.ndarray | slice
        if ids is None:  # every row, by a slice: no gathered copies of million-long arrays
            rows, ids, lex = slice(None), np.arange(len(self.catalog)), lex_all
            sem = self.vectors @ qvec if qvec is not None else None
        else:
            rows, lex = ids, lex_all[ids]
            sem = self._cosines(ids, qvec, known) if qvec is not None else None
        if len(ids) == 0:
            return [], None
        if mode == "semantic":
            assert sem is not None  # `search` encodes the query in every mode but "lexical"
            fused = sem
        elif mode == "lexical":
            fused = lex
        else:
            assert sem is not None  # `search` encodes the query in every mode but "lexical"
            lex_norm = lex / lex.max() if lex.max() > 0 else lex
            fused = weight * sem + (1 - weight) * lex_norm
            if ref_all is not None:  # scaled over the whole catalog: the same for every candidate set (Milvus's too)
                fused = fused + ref_weight * scaled(ref_all)[rows]
        boost = self._boost(rows, fused, parsed, price)
        if boost is not None:
            fused = fused + boost
        demoted = self._mentioning(parsed.excluded, fused, None if isinstance(rows, slice) else ids, top) if parsed else {}
        if demoted:
            at = np.fromiter(demoted, dtype=np.int64)
            # Below every product that does not mention it, in their own order: demoted, not removed.
            fused = fused.astype(np.float64)
            fused[at] -= float(fused.max() - fused.min()) + 1.0
        best = top_k(fused, top)
        rank_semantic = ranks_of(sem, best) if sem is not None else None
        matched = best[lex[best] > 0]
        rank_lexical = dict(zip(matched.tolist(), ranks_of(lex, matched).tolist()))
        hits = []
        for rank, j in enumerate(best.tolist(), start=1):
            row = int(ids[j])
            product = self.catalog[row]
            hits.append(
                SearchHit(
                    rank=rank,
                    product_id=product.id,
                    name=product.name,
                    category=product.category,
                    price=product.price,
                    score=float(fused[j]),
                    semantic=float(sem[j]) if sem is not None else 0.0,
                    lexical=float(lex[j]),
                    rank_semantic=int(rank_semantic[rank - 1]) if rank_semantic is not None else None,  # set exactly when `sem` is
                    rank_lexical=rank_lexical.get(j),
                    boost=float(boost[j]) if boost is not None else 0.0,
                    demoted=demoted.get(j, ()),
                    reference=float(ref_all[row]) if ref_all is not None else None,
                )
            )
        return hits, (float(sem.max()) if sem is not None else None)

    def _boost(self, rows: np.ndarray | slice, fused: np.ndarray, parsed: ParsedQuery | None, price: PriceRange | None) -> np.ndarray | None:
        """What the audience and the soft price add to each candidate's score (shares of the best score), or None
        when the query has neither.

        Args:
            rows: the candidates' rows (`slice(None)` for every product).
        """
        if parsed is None or not len(fused):
            return None
        soft = price is not None and price.soft and price.bounded
        prefer = price is not None and price.prefer
        if not (parsed.audience or soft or prefer):
            return None
        boost = np.zeros(len(fused), dtype=np.float64)
        if parsed.audience:
            boost += AUDIENCE_BOOST * self._audience_rows(parsed.audience)[rows]
        prices = self._prices[rows]
        if soft:
            assert price is not None  # `soft` is False without a price
            boost += PRICE_BOOST * price_closeness(prices, price)
        if prefer:
            assert price is not None and price.prefer is not None  # `prefer` is truthy only when the price prefers an end
            boost += PRICE_BOOST * price_order(prices, fused, price.prefer)
        scale = float(fused.max()) if fused.max() > 0 else 1.0
        return scale * boost

    def _audience_rows(self, audience: str) -> np.ndarray:
        """Per product: 1 if its text names `audience`; -1 if it names only the opposite one (女款 for 跑步鞋 男);
        else 0. Computed once per audience from the lexical index: a product holding one of the audience's words
        names it; one holding only a hint is read (intent.AUDIENCE_NAMES, AUDIENCE_HINTS). Reading all of 1M products'
        texts had made one query take 60 s."""
        if audience not in self._audiences:
            marks = np.zeros(len(self.catalog), dtype=np.float64)
            opposite = OPPOSITE_AUDIENCE.get(audience)
            for who, mark in ((opposite, -1.0), (audience, 1.0)):  # a product naming both is marked 1
                if who is None:
                    continue
                named = self.lexical.holding(AUDIENCE_NAMES[who])
                marks[named] = mark
                hinted = np.setdiff1d(self.lexical.holding(AUDIENCE_HINTS[who]), named, assume_unique=True)
                for row in hinted.tolist():
                    if has_audience(self._document(row), who):
                        marks[row] = mark
            self._audiences[audience] = marks
        return self._audiences[audience]

    def _mentioning(self, terms: tuple[str, ...], fused: np.ndarray, ids: np.ndarray | None, top: int) -> dict[int, tuple[str, ...]]:
        """Positions in `fused` (the scores of rows `ids`; None: of every row) whose product's text mentions a negated
        term (`intent.mentions`), with the terms each mentions; only as many as decide the top `top`.

        The lexical index first finds the products holding every token a mention needs (`intent.key_tokens`): only
        those can mention it. Of them, only the best-scoring are read in full, best first, until `top` positions that
        mention nothing lead (or all are read): demoting those found then gives the same top as reading every one. A
        common term at 1M products is held by ~10^5 of them, and reading all had taken ~27 s a query.
        """
        found: dict[int, tuple[str, ...]] = {}
        holding = {term: self.lexical.holding_all(key_tokens(term)) for term in terms}
        held = [rows for rows in holding.values() if len(rows)]
        if not held:
            return found
        may = np.unique(np.concatenate(held))  # rows
        if ids is not None:
            may = np.flatnonzero(np.isin(ids, may, assume_unique=True))  # positions in ids
        checked: set[int] = set()
        k = top
        while True:
            best = top_k(fused, k)
            for j in best[np.isin(best, may, assume_unique=True)].tolist():
                if j in checked:
                    continue
                checked.add(j)
                row = j if ids is None else int(ids[j])
                document = self._document(row)
                said = tuple(t for t in terms if _holds(holding[t], row) and mentions(document, t))
                if said:
                    found[j] = said
            if len(best) - sum(j in found for j in best.tolist()) >= top or len(best) == len(fused):
                return found
            k = min(4 * k, len(fused))


_LEXICAL_THREADS: list[ThreadPoolExecutor] = []
_LEXICAL_THREADS_LOCK = threading.Lock()


def _lexical_threads() -> ThreadPoolExecutor:
    """The threads that score BM25 beside query encoding (PARALLEL_LEXICAL_FROM), made once, on first use: one per core."""
    with _LEXICAL_THREADS_LOCK:
        if not _LEXICAL_THREADS:
            _LEXICAL_THREADS.append(ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0))), thread_name_prefix="bm25"))
        return _LEXICAL_THREADS[0]


def _holds(rows: np.ndarray, row: int) -> bool:
    """Whether ascending `rows` holds `row`."""
    at = int(np.searchsorted(rows, row))
    return at < len(rows) and int(rows[at]) == row


def price_closeness(prices: np.ndarray, window: PriceRange) -> np.ndarray:
    """1 inside the window, falling linearly to 0 at NEAR_PRICE (a share of the bound) outside it; 0 if unknown.

    Example: window ¥800–¥1200 -> 1000: 1.0, 1500: 0.5, 2000: 0.0
    """
    low = -np.inf if window.low is None else window.low
    high = np.inf if window.high is None else window.high
    with np.errstate(invalid="ignore", divide="ignore"):
        below = np.where(prices < low, (low - prices) / low, 0.0)
        above = np.where(prices > high, (prices - high) / high, 0.0)
    closeness = np.clip(1.0 - (below + above) / NEAR_PRICE, 0.0, 1.0)
    return np.nan_to_num(closeness, nan=0.0)


def price_order(prices: np.ndarray, scores: np.ndarray, prefer: str) -> np.ndarray:
    """For 便宜 (prefer "low") or 高端 ("high"): among the PREFER_AMONG best candidates within half of the best score
    that have a price, 1 for the cheapest (or priciest) down to 0 for the other end; 0 for everyone else.

    Example: prices [300, 100, 200], scores [1, 1, 1], "low" -> [0.0, 1.0, 0.5]
    """
    out = np.zeros(len(prices), dtype=np.float64)
    best = float(scores.max()) if len(scores) else 0.0
    if best <= 0:
        return out
    strong = [j for j in top_k(scores, PREFER_AMONG) if scores[j] >= 0.5 * best and not np.isnan(prices[j])]
    if len(strong) < 2:
        return out
    order = sorted(strong, key=lambda j: prices[j], reverse=prefer == "high")
    for position, j in enumerate(order):
        out[j] = 1.0 - position / (len(order) - 1)
    return out


def lexical_document(p: Product) -> str:
    """What BM25 indexes for a product: the name twice (names matter most), brand, category, description, tags."""
    return f"{p.name} {p.name} {p.brand} {p.category} {p.description} {p.tags}"


def lexical_documents(catalog: Catalog) -> list[str]:
    """`lexical_document` of every product, in order."""
    return list(map(lexical_document, catalog.products))


def build_engine(
    model: SentenceTransformer,
    model_fp: str,
    catalog: Catalog,
    cache: EmbeddingCache,
    ann_threshold: int = 200_000,
    on_progress: Progress | None = None,
    onnx: bool = True,
    model_dir: str | Path | None = None,
    encoder: Encoder | None = None,
    tokenizer: AnyTokenizer | None = None,
    reference: bool = True,
) -> SearchEngine:
    """Embed `catalog` with `model` (or take the vectors from the on-disk cache) and build the engine.

    Args:
        model_fp: `model_fingerprint` of the model's folder: keys the cached vectors and the ONNX export.
        model_dir: the model's folder, for its calibrated "nothing relevant" rule (NoAnswerRule.for_model).
        onnx: encode the catalog and queries with the model's ONNX export (made once, kept in `cache`'s folder),
            2–3× faster per short query on one core (bench/bench_encoder.py); torch when False or when the export fails.
        encoder: the query encoder to use, already open (ModelStore passes the model's, so no second ONNX session is
            opened and checked); None: as `onnx` says.
        tokenizer: what the engine's `view` reads (ModelStore passes the model's one copy); None: a copy of the model's.
        reference: give hybrid search e5's reading of the catalog as a third voice where it is used (retrieval.reference).
    """
    if encoder is None:
        encoder = (OnnxEncoder.for_model(model, model_fp, cache.directory) if onnx else None) or TorchEncoder(model)
    # Catalogs are embedded by torch: in batches of 64 it uses both cores, where the one-thread ONNX session (made for
    # single queries, leaving the other core to the next search) was slower (bench_encoder.py). The vectors agree to a
    # cosine of 0.9999999, so torch's catalog vectors and ONNX query vectors rank exactly as either alone.
    vectors = cache.get_or_encode(TorchEncoder(model), model_fp, catalog.documents_fingerprint, catalog.documents, on_progress=on_progress)
    return SearchEngine(
        model,
        catalog,
        vectors,
        ann_threshold=ann_threshold,
        encoder=encoder,
        no_answer=NoAnswerRule.for_model(model_dir),
        tokenizer=tokenizer,
        reference=reference_for(catalog, cache) if reference else None,
    )
