"""Search served from Milvus: Milvus Lite (a local file) in tests and on one machine, Milvus Standalone / Distributed
or Zilliz Cloud (`http://host:19530`) past one machine, through the same `pymilvus` API.

One collection per (model, catalog) holds, per product: its id, its dense vector (our encoder's, the same vectors as
in-process), its BM25 as a SPARSE vector, its category and price as scalar fields, and a content hash. The sparse
vectors carry the project's own BM25 (`text.lexical`): a document keeps tf / (tf + norm(d)) per token and a query
idf × count, so their inner product is `LexicalIndex.scores` (text and name-pinyin tokens in one vector, under
separate keys). Milvus's own BM25 function cannot tokenise as lexical.py does (Milvus Lite offers the `standard` and
`jieba` tokenizers only; lexical.py reads CJK characters and bigrams, joined model numbers and pinyin): measured in
bench/bench_milvus.py --compare-bm25 and BENCHMARKS.md.

A search asks Milvus's hybrid search for the dense top-N and the sparse top-N under the filters (RRF only to merge the
two lists into one answer); the candidates come back with their vectors, so their cosine and BM25 are exact, and the
engine's own fusion, intents, score breakdown and "nothing relevant" run on them exactly as in-process
(`MilvusEngine` is a `SearchEngine` whose candidates come from Milvus).

Loading: new products are inserted in batches, with progress; a changed catalog upserts the products whose content
hash changed and deletes those that left (`MilvusCatalog.sync`); the dense index is FLAT below FLAT_BELOW products,
HNSW from there on (`choose_index`).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shopsearch.data.catalog import Catalog, Product
from shopsearch.retrieval.index import top_k
from shopsearch.retrieval.search import Filters, SearchEngine, lexical_document
from shopsearch.text.lexical import EMPTY, TOKENS_VERSION, LexicalIndex, tokenize
from shopsearch.text.pinyin import pinyin_tokens

if TYPE_CHECKING:
    from pymilvus import MilvusClient

log = logging.getLogger(__name__)

BACKENDS = ("memory", "milvus")
SPARSE_KEYS = 2**32 - 1  # Milvus sparse vector indices are uint32 below 2**32 - 1
INSERT_BATCH = 2_000  # products per insert/upsert request (≈ 2000 × (1.5 kB dense + ~1 kB sparse) < gRPC's 64 MB)
# Dense index by size: below this many products FLAT (exact; at 100k a query scans 150 MB, a few ms), from it on HNSW.
# HNSW is what Milvus recommends for in-memory serving at high recall; IVF_FLAT is accepted too (index_type=...).
FLAT_BELOW = 100_000
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
HNSW_EF = 400  # ef ≥ limit: 4× the candidates an HNSW collection is asked for per side (PER_SIDE)
# Candidates Milvus returns per side, by dense index. Milvus Lite's cost grows with it (its search runs in Python: 20 vs
# 200 hits of one dense search took 3.5 vs 24 ms at 328 products). FLAT: on the eval (411) and dev (546) queries 50 and
# 200 gave the same hybrid top 10 for every query. HNSW at 100k (bench_milvus.py scale): top-10 overlap with in-process
# exact search 0.950 at 50 (ef 200), 0.980 at 100 (ef 400), p50 221 → 268 ms. (In-process IVF asks CANDIDATES, 200.)
PER_SIDE = {"FLAT": 50, "HNSW": 100, "IVF_FLAT": 100}
RRF_K = 60  # only merges the two candidate lists into one answer: the engine re-scores every candidate itself


def token_key(kind: str, token: str) -> int:
    """The sparse-vector index of a BM25 token: a stable 32-bit hash, the same for every catalog version (vocabulary
    ids are not: they follow first sight). `kind` keeps the text and name-pinyin indexes apart.

    Example: token_key("t", "键盘") -> 3 123 456 789 (some fixed number below 2**32 - 1)
    """
    digest = hashlib.blake2b(f"{kind}\x00{token}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") % SPARSE_KEYS


def content_hash(product: Product) -> str:
    """What decides whether a stored product must be written again: its embedded text, its BM25 text, category, price,
    and how BM25 tokenises (`TOKENS_VERSION`: a collection written before a change of tokens is rewritten whole).

    Example: content_hash(p) -> "9f2c1a0b77e4d3c1"
    """
    parts = (product.document, lexical_document(product), product.category, repr(product.price), TOKENS_VERSION)
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


def choose_index(size: int, index_type: str | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(index type, build params, search params) for a dense index over `size` vectors.

    Example: choose_index(10_000) -> ("FLAT", {}, {}); choose_index(1_000_000)[0] -> "HNSW"
    """
    kind = (index_type or ("FLAT" if size < FLAT_BELOW else "HNSW")).upper()
    if kind == "FLAT":
        return kind, {}, {}
    if kind == "HNSW":
        return kind, dict(HNSW_PARAMS), {"ef": HNSW_EF}
    if kind == "IVF_FLAT":
        nlist = max(1, int(np.sqrt(size)))
        return kind, {"nlist": nlist}, {"nprobe": max(1, nlist // 8)}
    raise ValueError(f"unknown dense index type {index_type!r} (FLAT, HNSW or IVF_FLAT)")


class SparseBm25:
    """The project's BM25 (`LexicalIndex`) as sparse vectors whose inner product is `LexicalIndex.scores`.

    A document's vector holds tf / (tf + norm(d)) for each of its text tokens and name-pinyin tokens; a query's holds
    idf(t) × its count. The norms and idfs are this catalog's. After an incremental update the products that did not
    change keep, in Milvus, the weights of the catalog they were written with (its mean document length): they pick the
    candidates. The candidates' scores are exact for the current catalog: `score` reads each matched token's tf back
    from its stored weight and the norm it was written with (stored beside it), and weighs it with today's norm and idf.
    """

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical
        # The index's arrays are private to text.lexical, read here without copying: its per-document length norms
        # and per-token idfs are exactly what the sparse vectors must carry.
        self._text = lexical._text
        self._pinyin = lexical._pinyin

    def document(self, row: int, product: Product) -> dict[int, float]:
        """The sparse vector of product `row` (its position in the catalog the index was built over)."""
        vector: dict[int, float] = {}
        self._add_document(vector, "t", tokenize(lexical_document(product)) or [EMPTY], float(self._text.norm[row]))
        if self._pinyin is not None:
            self._add_document(vector, "p", pinyin_tokens(product.name) or [EMPTY], float(self._pinyin.norm[row]))
        return vector

    @staticmethod
    def _add_document(vector: dict[int, float], kind: str, tokens: list[str], norm: float) -> None:
        for token, tf in Counter(tokens).items():
            key = token_key(kind, token)
            # Two tokens sharing a hash (rare: see `collisions`) add up, as one merged token would.
            vector[key] = vector.get(key, 0.0) + tf / (tf + norm)

    def norms(self, row: int) -> tuple[float, float]:
        """Product `row`'s length norms (text, name pinyin; 0.0 without a pinyin index): what its weights were divided by."""
        return float(self._text.norm[row]), float(self._pinyin.norm[row]) if self._pinyin is not None else 0.0

    def query_parts(self, text: str) -> tuple[dict[int, float], dict[int, float]]:
        """The sparse vectors of a query's text tokens and of its pinyin tokens (empty when none is indexed)."""
        tokens, pinyin = self.lexical._query_tokens(text)
        parts: tuple[dict[int, float], dict[int, float]] = ({}, {})
        for vector, kind, index, listed in ((parts[0], "t", self._text, tokens), (parts[1], "p", self._pinyin, pinyin)):
            if index is None:  # no pinyin index: `_query_tokens` found no pinyin either
                continue
            for token in listed:  # a token listed twice counts twice, as in LexicalIndex.scores
                t = index.vocab.get(token)
                if t is not None:
                    key = token_key(kind, token)
                    vector[key] = vector.get(key, 0.0) + float(index.idf[t])
        return parts

    def query(self, text: str) -> dict[int, float]:
        """The sparse vector of a query's content (empty when none of its tokens is indexed)."""
        text_part, pinyin_part = self.query_parts(text)
        return {**text_part, **{k: text_part.get(k, 0.0) + w for k, w in pinyin_part.items()}}

    def score(self, parts: tuple[dict[int, float], dict[int, float]], stored: dict[int, float], written: tuple[float, float], row: int) -> float:
        """The BM25 of product `row` of this catalog for a query (`query_parts`), from its vector as stored (`stored`,
        written with the norms `written`): each matched token's tf = w × norm / (1 − w), weighed with today's norm.

        Example: score(bm25.query_parts("键盘"), hit["sparse"], (hit["norm_text"], hit["norm_pinyin"]), row) ≈ scores[row]
        """
        total = 0.0
        for vector, old, new in zip(parts, written, self.norms(row)):
            for key, idf in vector.items():
                w = stored.get(key)
                if w:
                    tf = round(w * old / (1.0 - w))
                    total += idf * tf / (tf + new)
        return total

    def collisions(self) -> int:
        """How many indexed tokens share their sparse key with another one (counted once per extra token)."""
        keys = [token_key("t", token) for token, _ in self._text.vocab.items()]
        if self._pinyin is not None:
            keys += [token_key("p", token) for token, _ in self._pinyin.vocab.items()]
        return len(keys) - len(set(keys))


def filter_expression(filters: Filters) -> str:
    """The Milvus boolean expression of the category and price filters ("" for none). A product without a price passes
    no price bound, as in `Filters.mask` (NaN) — a null field fails every comparison.

    Example: Filters("键盘", None, 500) -> 'category == "键盘" and price <= 500.0'
    """
    parts = []
    if filters.category:
        parts.append(f"category == {_string_literal(filters.category)}")
    if filters.min_price is not None:
        parts.append(f"price >= {float(filters.min_price)!r}")
    if filters.max_price is not None:
        parts.append(f"price <= {float(filters.max_price)!r}")
    return " and ".join(parts)


def _string_literal(value: str) -> str:
    """A Milvus string literal (Milvus Lite takes no expression templates). Example: 'a"b' -> '"a\\"b"'"""
    return '"' + re.sub(r'(["\\])', r"\\\1", value) + '"'


@dataclass
class SyncReport:
    collection: str
    products: int
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    index_type: str
    seconds: float
    index_reason: str = ""  # why this dense index: "by size (< 100,000 products)", "asked for"

    def describe(self) -> str:
        """Example: "shop: 328 products — 0 inserted, 33 updated, 16 deleted, 279 unchanged; dense index FLAT (by size …); 1.2 s" """
        return (
            f"{self.collection}: {self.products} products — {self.inserted} inserted, {self.updated} updated, "
            f"{self.deleted} deleted, {self.unchanged} unchanged; dense index {self.index_type} ({self.index_reason}); "
            f"{self.seconds:.1f} s"
        )


Progress = Callable[[int, int], None]

_CLIENTS: dict[str, MilvusClient] = {}
_CLIENTS_LOCK = threading.Lock()


def is_lite(uri: str) -> bool:
    """Whether `uri` is a Milvus Lite file (embedded in this process) rather than a server's address.

    Example: is_lite("/data/shop.db") -> True; is_lite("http://milvus:19530") -> False
    """
    return not re.match(r"^(https?|tcp|unix)://", uri)


def client_for(uri: str) -> MilvusClient:
    """One client per URI for the whole process (a Milvus Lite file may be opened only once)."""
    from pymilvus import MilvusClient

    with _CLIENTS_LOCK:
        if uri not in _CLIENTS:
            if is_lite(uri):
                _use_system_arrow_pool()
            _CLIENTS[uri] = MilvusClient(uri)
        return _CLIENTS[uri]


def _use_system_arrow_pool() -> None:
    """Milvus Lite runs in this process and keeps rows in Arrow buffers (its memtable, the segments it flushes). Arrow's
    default pool (mimalloc) keeps the pages it freed: a 20k-product load left RSS 20.7 kB a product above where it
    started after the flush, of which 2.5 kB live Arrow data; with the system allocator 7.7 kB (bench_milvus.py
    memory). Set once, before the embedded server allocates anything."""
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def collection_name(model_fp: str, catalog_key: str) -> str:
    """A valid collection name for (model, catalog). Example: ("ab12…", "shop") -> "shopsearch_ab12cd34ef56_shop" """
    return re.sub(r"[^0-9A-Za-z_]", "_", f"shopsearch_{model_fp[:12]}_{catalog_key}")[:255]


class MilvusCatalog:
    """One catalog's collection: created, synced with a catalog, searched for candidates."""

    def __init__(self, uri: str, name: str, dim: int) -> None:
        self.uri = uri
        self.name = name
        self.dim = dim
        self.client = client_for(uri)
        self.index_type = self._stored_index_type()

    @property
    def kind(self) -> str:
        """What the engine reports as its vector index. Example: "milvus-hnsw" """
        return f"milvus-{(self.index_type or 'none').lower()}"

    def _stored_index_type(self, field: str = "dense") -> str | None:
        """The type of the stored index on `field` (None: no collection, or no index on it)."""
        from pymilvus import MilvusException

        if not self.client.has_collection(self.name):
            return None
        try:
            described = self.client.describe_index(self.name, field)
        except MilvusException:  # a server answers "index not found"; Milvus Lite an empty description
            return None
        return described.get("index_type") if described else None

    def _current_schema(self) -> bool:
        """Whether the stored collection has every field this backend writes and reads."""
        fields = {f["name"] for f in self.client.describe_collection(self.name)["fields"]}
        return {"id", "dense", "sparse", "category", "price", "hash", "norm_text", "norm_pinyin"} <= fields

    def count(self) -> int:
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def stored_hashes(self) -> dict[str, str]:
        """Every stored product id and its content hash (a scan, in batches)."""
        if is_lite(self.uri):
            # Milvus Lite serves each page of a query_iterator by filtering and sorting the whole collection again (id >
            # the last page's), so a scan in pages costs (products / page) full passes: one query reads it all at once.
            rows = self.client.query(self.name, filter="", output_fields=["hash"], limit=max(1, self.count()))
            return {row["id"]: row["hash"] for row in rows}
        found: dict[str, str] = {}
        iterator = self.client.query_iterator(self.name, batch_size=10_000, output_fields=["hash"])
        try:
            while batch := iterator.next():
                found.update((row["id"], row["hash"]) for row in batch)
        finally:
            iterator.close()
        return found

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, description="shopsearch products: dense + BM25 sparse")
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("category", DataType.VARCHAR, max_length=1024)
        schema.add_field("price", DataType.DOUBLE, nullable=True)
        schema.add_field("hash", DataType.VARCHAR, max_length=32)
        schema.add_field("norm_text", DataType.FLOAT)  # the length norms its sparse weights were divided by (SparseBm25.score)
        schema.add_field("norm_pinyin", DataType.FLOAT)
        self.client.create_collection(self.name, schema=schema)

    def _build_index(self, kind: str, size: int) -> None:
        """Index the dense field as `kind` (replacing another dense index type) and the sparse field, then load.

        Each index is made only if missing, and a failed request is checked before it counts: at 1M products Milvus Lite
        spent 427 s in create_index, the embedded server dropped the connection meanwhile (GOAWAY "too_many_pings"),
        and pymilvus re-sent the request, which then failed on the index the first one had made."""
        from pymilvus import MilvusException

        _, params, _ = choose_index(size, kind)
        if self.index_type is not None and self.index_type != kind:  # the catalog crossed FLAT_BELOW: rebuilt as the other
            self.client.release_collection(self.name)
            self.client.drop_index(self.name, "dense")
        for field, index_type, index_params in (("sparse", "SPARSE_INVERTED_INDEX", {}), ("dense", kind, params)):
            if self._stored_index_type(field) == index_type:
                continue
            request = self.client.prepare_index_params()
            request.add_index(field, index_type=index_type, metric_type="IP", params=index_params)
            try:
                self.client.create_index(self.name, request)
            except MilvusException:
                if self._stored_index_type(field) != index_type:
                    raise
                log.warning("milvus: %s's %s index was made by a request pymilvus re-sent", self.name, field)
        self.client.load_collection(self.name)
        self.index_type = kind

    def sync(
        self,
        catalog: Catalog,
        vectors: np.ndarray,
        bm25: SparseBm25,
        on_progress: Progress | None = None,
        index_type: str | None = None,
        batch: int = INSERT_BATCH,
    ) -> SyncReport:
        """Make the collection hold exactly `catalog`: insert what is new, upsert what changed (by content hash),
        delete what left. A new collection is filled first and indexed after (FLAT or HNSW by size: `choose_index`).

        Args:
            vectors: the catalog's dense vectors, row for row.
            bm25: the catalog's BM25 (its norms and idfs weight the sparse vectors written).
            on_progress: called with (products written, products to write) after each batch.
            index_type: force a dense index type (FLAT, HNSW, IVF_FLAT); None: by size (`choose_index`), re-chosen at
                each sync, so a catalog that grew past FLAT_BELOW gets HNSW.
        """
        started = time.perf_counter()
        if self.client.has_collection(self.name) and not self._current_schema():
            log.warning("milvus: %s was written by an older version of this backend: made again", self.name)
            self.client.drop_collection(self.name)
            self.index_type = None
        new = not self.client.has_collection(self.name)
        if new:
            self._create()
            stored: dict[str, str] = {}
        else:
            self.client.load_collection(self.name)
            stored = self.stored_hashes()
        hashes = [content_hash(p) for p in catalog.products]
        write = [row for row, (p, h) in enumerate(zip(catalog.products, hashes)) if stored.get(p.id) != h]
        gone = list(set(stored) - {p.id for p in catalog.products})
        updated = sum(catalog[row].id in stored for row in write)
        for start in range(0, len(write), batch):
            rows = write[start : start + batch]
            block = np.asarray(vectors[np.asarray(rows)], dtype=np.float32)
            data = [
                {
                    "id": catalog[row].id,
                    "dense": block[i].tolist(),
                    "sparse": bm25.document(row, catalog[row]),
                    "category": catalog[row].category,
                    "price": catalog[row].price,
                    "hash": hashes[row],
                    **dict(zip(("norm_text", "norm_pinyin"), bm25.norms(row))),
                }
                for i, row in enumerate(rows)
            ]
            (self.client.insert if new else self.client.upsert)(self.name, data)
            if on_progress is not None:
                on_progress(start + len(rows), len(write))
        for start in range(0, len(gone), batch):
            self.client.delete(self.name, ids=gone[start : start + batch])
        if write or gone:
            # Sealed segments are searched through their indexes; Milvus Lite searches unflushed rows by rebuilding a
            # sparse index over them for every query (a 10k-product load left unflushed: 6.4 s a hybrid query).
            self.client.flush(self.name)
        if updated or gone:
            # A server drops the replaced and deleted rows' old versions from its segments (Milvus Lite compacts after
            # each flush by itself and answers this at once).
            self.client.compact(self.name)
        kind = choose_index(len(catalog), index_type)[0]
        if kind != self.index_type or self._stored_index_type("sparse") is None:  # new, re-chosen, or cut short
            self._build_index(kind, len(catalog))
        report = SyncReport(
            self.name,
            len(catalog),
            inserted=len(write) - updated,
            updated=updated,
            deleted=len(gone),
            unchanged=len(catalog) - len(write),
            index_type=self.index_type or "?",
            seconds=time.perf_counter() - started,
            index_reason="asked for" if index_type else f"by size: {'<' if kind == 'FLAT' else '≥'} {FLAT_BELOW:,} products",
        )
        log.info("milvus sync %s", report.describe())
        return report

    def candidates(self, dense: np.ndarray | None, sparse: dict[int, float], expression: str, per_side: int) -> list[dict[str, Any]]:
        """The dense top `per_side` ∪ the sparse top `per_side` under `expression`, each with its id, dense vector and
        sparse vector (one hybrid search; a single search when one side has nothing to ask)."""
        from pymilvus import AnnSearchRequest, RRFRanker

        _, _, dense_params = choose_index(0, self.index_type)
        dense_search = {"metric_type": "IP", "params": dense_params}
        sparse_search = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}
        fields = ["dense", "sparse", "norm_text", "norm_pinyin"]
        if dense is not None and sparse:
            requests = [
                AnnSearchRequest([dense.tolist()], "dense", dense_search, limit=per_side, expr=expression or None),
                AnnSearchRequest([sparse], "sparse", sparse_search, limit=per_side, expr=expression or None),
            ]
            found = self.client.hybrid_search(self.name, requests, RRFRanker(RRF_K), limit=2 * per_side, output_fields=fields)
        elif dense is not None:
            found = self.client.search(
                self.name, [dense.tolist()], anns_field="dense", search_params=dense_search, limit=per_side, filter=expression, output_fields=fields
            )
        elif sparse:
            found = self.client.search(
                self.name, [sparse], anns_field="sparse", search_params=sparse_search, limit=per_side, filter=expression, output_fields=fields
            )
        else:
            return []
        return [{"id": hit["id"], **hit["entity"]} for hit in found[0]]


class _Candidates:
    """What Milvus returned for one query, standing in for the engine's every-row BM25 scores: `SearchEngine._rank`
    reads `lex_all[ids]` for the candidate rows, and those are exactly `rows`."""

    def __init__(self, rows: np.ndarray, cosines: np.ndarray | None, lexical: np.ndarray) -> None:
        self.rows, self.cosines, self.lexical = rows, cosines, lexical

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        if ids is not self.rows:
            raise IndexError("Milvus candidates are read only for their own rows")
        return self.lexical


class _DeferredLexical:
    """The engine's lexical index for the helpers that read it (coverage, intents' holding/holding_all); its `scores`
    does not score every product: the BM25 of the candidates comes from Milvus."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self._lexical = lexical
        self.size = lexical.size

    def scores(self, query: str) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lexical, name)


_RANK_SIGNATURE = inspect.signature(SearchEngine._rank)


class MilvusEngine(SearchEngine):
    """A SearchEngine whose candidates come from Milvus: the dense and sparse top `per_side` under the filters, with
    exact cosines and BM25 scores, then fused, boosted, demoted and checked for "nothing relevant" by SearchEngine.

    In-process it still holds the catalog's records (names, prices, texts read by the intents and shown) and the BM25
    vocabulary with its postings (query idfs, coverage, the intents' token look-ups); no vector index.
    """

    def __init__(
        self,
        model: Any,
        catalog: Catalog,
        vectors: np.ndarray,
        collection: MilvusCatalog,
        lexical: LexicalIndex,
        per_side: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.collection = collection
        self.bm25 = SparseBm25(lexical)
        self.per_side = per_side or PER_SIDE.get(collection.index_type or "", max(PER_SIDE.values()))
        super().__init__(model, catalog, vectors, lexical=_DeferredLexical(lexical), index=collection, **kwargs)  # type: ignore[arg-type]

    def _rank(self, *args: Any, **kwargs: Any) -> tuple[list[Any], float | None]:
        """SearchEngine._rank on the candidates Milvus returns: its `lex_all` (every row's BM25, computed in-process)
        becomes them. The arguments are read by name, so parameters the engine adds or reorders pass through."""
        bound = _RANK_SIGNATURE.bind(self, *args, **kwargs)
        given = bound.arguments
        given["lex_all"] = self.fetch(given["query"], given["qvec"], given["filters"], given.get("ref_all"))
        return super()._rank(*bound.args[1:], **bound.kwargs)

    def fetch(self, query: str, qvec: np.ndarray | None, filters: Filters, reference: np.ndarray | None = None) -> _Candidates:
        """The candidates Milvus returns for `query` (BM25 text) and `qvec` under `filters`: catalog rows ascending,
        their cosines (None without a vector) and BM25 scores, computed here from the returned vectors (`SparseBm25.score`:
        exact for this catalog even where the stored weights are an earlier version's).

        With `reference` (hybrid: e5's cosine to every product, retrieval.reference) e5's own top `per_side` under the
        filters join them, scored here: e5 adds up to its weight to a product that neither Milvus list holds, which can
        then rank first, as it does in-process."""
        parts = self.bm25.query_parts(query)
        sparse = self.bm25.query(query)
        hits = self.collection.candidates(qvec, sparse, filter_expression(filters), self.per_side)
        hits = [h for h in hits if h["id"] in self.catalog]  # a product the store has but this catalog lacks: not shown
        rows = np.fromiter((self.catalog.index_of(h["id"]) for h in hits), dtype=np.int64, count=len(hits))
        order = np.argsort(rows, kind="stable")
        rows, hits = rows[order], [hits[i] for i in order.tolist()]
        lexical = np.fromiter(
            (self.bm25.score(parts, h["sparse"], (h["norm_text"], h["norm_pinyin"]), row) for h, row in zip(hits, rows.tolist())),
            dtype=np.float32,
            count=len(hits),
        )
        if qvec is None and len(rows) < self.per_side:
            rows, lexical = self._pad_with_unmatched(rows, lexical, filters)
        cosines = None
        if qvec is not None:
            # No hit under the filters: an empty (0, dim) matrix (reshape(0, -1) cannot infer the width).
            dense = np.asarray([h["dense"] for h in hits], dtype=np.float32).reshape(len(hits), len(qvec))
            cosines = dense @ np.asarray(qvec, dtype=np.float32)
        if reference is not None and qvec is not None and cosines is not None:
            rows, cosines, lexical = self._with_reference_rows(query, qvec, filters, reference, rows, cosines, lexical)
        return _Candidates(rows, cosines, lexical)

    def _allowed(self, filters: Filters) -> np.ndarray:
        """The catalog rows `filters` keep (every row without filters), ascending."""
        mask = filters.mask(self._categories, self._prices)
        return np.arange(len(self.catalog)) if mask is None else np.flatnonzero(mask)

    def _with_reference_rows(
        self, query: str, qvec: np.ndarray, filters: Filters, reference: np.ndarray, rows: np.ndarray, cosines: np.ndarray, lexical: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`rows` (ascending, with their cosines and BM25) and e5's top `per_side` rows under `filters` that Milvus did not
        return, scored in-process (e5 reads catalogs of up to reference.MAX_PRODUCTS, whose vectors are here)."""
        allowed = self._allowed(filters)
        best = allowed[top_k(reference[allowed], self.per_side)] if len(allowed) else allowed
        extra = np.setdiff1d(best, rows)
        if not len(extra):
            return rows, cosines, lexical
        extra_cosines = np.asarray(self.vectors[extra], dtype=np.float32) @ np.asarray(qvec, dtype=np.float32)
        extra_lexical = np.asarray(self.bm25.lexical.scores(query), dtype=np.float32)[extra]
        merged = np.concatenate([rows, extra])
        order = np.argsort(merged, kind="stable")
        return merged[order], np.concatenate([cosines, extra_cosines])[order], np.concatenate([lexical, extra_lexical])[order]

    def _pad_with_unmatched(self, rows: np.ndarray, lexical: np.ndarray, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """Lexical mode ranks every product in-process, those BM25 scores 0 after the rest, in catalog order; Milvus returns
        only products that match. The first unmatched products under the filters fill the candidates up to `per_side`."""
        allowed = self._allowed(filters)
        extra = np.setdiff1d(allowed[: self.per_side + len(rows)], rows, assume_unique=True)[: self.per_side - len(rows)]
        merged = np.concatenate([rows, extra])
        order = np.argsort(merged, kind="stable")
        return merged[order], np.concatenate([lexical, np.zeros(len(extra), dtype=np.float32)])[order]

    def _candidates(self, qvec: np.ndarray | None, lex: Any, mask: np.ndarray | None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """The rows Milvus returned (it applied the filters), and their cosines, already computed."""
        return lex.rows, ((lex.rows, lex.cosines) if qvec is not None else None)


def milvus_engine(
    catalog: Catalog,
    vectors: np.ndarray,
    uri: str,
    model_fp: str,
    catalog_key: str | None = None,
    lexical: LexicalIndex | None = None,
    on_progress: Progress | None = None,
    index_type: str | None = None,
    **engine_kwargs: Any,
) -> MilvusEngine:
    """An engine over `catalog` searched through Milvus at `uri`, its collection synced first (a no-op when it already
    holds this catalog: one scan of ids and hashes).

    Args:
        catalog_key: names the catalog's collection (with the model): a stable key (say "shop") lets the next version of
            the catalog update it in place; None: the catalog's fingerprint (every distinct catalog its own collection).
        engine_kwargs: passed to SearchEngine (model, encoder, tokenizer, no_answer, …); `model` defaults to None.
    """
    lexical = lexical or LexicalIndex(map(lexical_document, catalog.products), names=(p.name for p in catalog.products))
    collection = MilvusCatalog(uri, collection_name(model_fp, catalog_key or catalog.fingerprint[:16]), int(vectors.shape[1]))
    collection.sync(catalog, vectors, SparseBm25(lexical), on_progress=on_progress, index_type=index_type)
    model = engine_kwargs.pop("model", None)
    return MilvusEngine(model, catalog, vectors, collection, lexical, **engine_kwargs)


def as_milvus_engine(
    engine: SearchEngine,
    uri: str,
    model_fp: str,
    catalog_key: str | None = None,
    on_progress: Progress | None = None,
    index_type: str | None = None,
) -> MilvusEngine:
    """The same search as an in-process `engine` (its model, encoder, tokenizer, "nothing relevant" rule, vectors, BM25
    index and e5's reading of the names), served from Milvus at `uri`. See `milvus_engine`."""
    lexical = engine.lexical._lexical if isinstance(engine.lexical, _DeferredLexical) else engine.lexical
    return milvus_engine(
        engine.catalog,
        engine.vectors,
        uri,
        model_fp,
        catalog_key=catalog_key,
        lexical=lexical,
        on_progress=on_progress,
        index_type=index_type,
        model=engine.model,
        encoder=engine.encoder,
        tokenizer=engine.tokenizer,
        no_answer=engine.no_answer,
        reference=engine.reference,
    )


def sparse_scores(bm25: SparseBm25, query: str, documents: Iterable[tuple[int, Product]]) -> np.ndarray:
    """The sparse inner products of a query with documents (row, product): what Milvus computes, for tests.

    Example: sparse_scores(bm25, "键盘", enumerate(catalog.products)) ≈ LexicalIndex.scores("键盘")
    """
    q = bm25.query(query)
    return np.array([sum(bm25.document(row, p).get(k, 0.0) * w for k, w in q.items()) for row, p in documents], dtype=np.float32)
