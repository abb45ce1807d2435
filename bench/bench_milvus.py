"""The Milvus backend measured: parity with in-process search, BM25 as sparse vectors vs Milvus's own BM25, and cost at
10k / 100k / 1M products on Milvus Lite beside in-process.

    python bench/bench_milvus.py parity                      # eval + dev queries, Chinese-aware model, per-side sizes
    python bench/bench_milvus.py bm25                        # lexical rankings: our sparse BM25 vs Milvus BM25 (jieba, standard)
    python bench/bench_milvus.py scale --sizes 10000,100000  # load time, hybrid p50/p95, memory, disk; both backends
    python bench/bench_milvus.py memory --size 20000         # where Milvus Lite's memory goes, phase by phase

How the large catalogs are made (as bench_search.py, honest about what is synthetic): products shaped like the real
ones (bench_search.synthetic_catalog); vectors are the real catalog's vectors (Chinese-aware model) of each product's
source product plus Gaussian noise (cosine ≈ 0.95), re-normalised. Queries: the real dev and eval queries.

Prints Markdown tables (for BENCHMARKS.md) and writes bench/results/milvus_*.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shopsearch.common.config import get_settings  # noqa: E402
from shopsearch.data.catalog import load_catalog  # noqa: E402
from shopsearch.retrieval import milvus_backend  # noqa: E402
from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint  # noqa: E402
from shopsearch.retrieval.evaluation import load_queries  # noqa: E402
from shopsearch.retrieval.index import top_k  # noqa: E402
from shopsearch.retrieval.milvus_backend import MilvusEngine, as_milvus_engine, client_for, milvus_engine  # noqa: E402
from shopsearch.retrieval.search import SearchEngine, build_engine, lexical_document  # noqa: E402
from shopsearch.text.lexical import LexicalIndex, return_freed_heap, tokenize  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LATENCY_QUERIES = 200
GB = 2**30


class Watchdog(threading.Thread):
    """Stops the run (exit 3) before it starves the shared host: when less than `min_free_gb` of memory is available
    or less than `min_disk_gb` of disk is free where it writes. Records the peak RSS and the phase it was in."""

    def __init__(self, workdir: Path, min_free_gb: float, min_disk_gb: float) -> None:
        super().__init__(daemon=True, name="watchdog")
        self.workdir, self.min_free, self.min_disk = workdir, min_free_gb * GB, min_disk_gb * GB  # workdir: deleted on a stop
        self.phase, self.peak_rss, self.started = "start", 0, time.perf_counter()
        self.me = psutil.Process()

    def run(self) -> None:
        while True:
            rss, free = self.me.memory_info().rss, psutil.virtual_memory().available
            disk = shutil.disk_usage(self.workdir.parent).free  # the size's own folder comes and goes
            self.peak_rss = max(self.peak_rss, rss)
            if free < self.min_free or disk < self.min_disk:
                print(
                    f"WATCHDOG: stopped in phase '{self.phase}' after {time.perf_counter() - self.started:.0f} s: RSS {rss / GB:.2f} GB "
                    f"(peak {self.peak_rss / GB:.2f}), host memory available {free / GB:.2f} GB (limit {self.min_free / GB:.0f}), "
                    f"disk free {disk / GB:.1f} GB (limit {self.min_disk / GB:.0f}), files {disk_mb(self.workdir) / 1024 if self.workdir.exists() else 0:.2f} GB",
                    flush=True,
                )
                shutil.rmtree(self.workdir, ignore_errors=True)
                os._exit(3)
            time.sleep(0.5)


def chinese_engine(cache_dir: Path) -> tuple[SearchEngine, str]:
    """The in-process engine of the Chinese-aware model over the real catalog (vectors from the embedding cache)."""
    from shopsearch.training.seed import load_model

    path = get_settings().chinese_model_dir
    fp = model_fingerprint(path)
    return build_engine(load_model(path), fp, load_catalog(ROOT / "catalog.csv"), EmbeddingCache(cache_dir), model_dir=path), fp


def queries_of(*names: str) -> list:
    return [q for name in names for q in load_queries(ROOT / "data" / name) if q.relevant]


def metrics(ranked: list[list[str]], queries: list) -> tuple[float, float]:
    """(Recall@1, MRR@10) of ranked ids against the queries' relevant sets."""
    r1 = mrr = 0.0
    for ids, q in zip(ranked, queries):
        r1 += bool(ids) and ids[0] in q.relevant
        mrr += next((1 / (i + 1) for i, pid in enumerate(ids[:10]) if pid in q.relevant), 0.0)
    return r1 / len(queries), mrr / len(queries)


def overlap(a: list[list[str]], b: list[list[str]], k: int = 10) -> float:
    """Mean share of the top-k ids two rankings share."""
    return statistics.mean(len(set(x[:k]) & set(y[:k])) / max(1, min(k, len(x), len(y))) for x, y in zip(a, b))


def run(engine: SearchEngine, queries: list, mode: str, vectors: np.ndarray | None) -> tuple[list[list[str]], list[float]]:
    ranked, ms = [], []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        result = engine.search(q.query, mode=mode, top=10, query_vector=None if vectors is None or mode == "lexical" else vectors[i])
        ms.append((time.perf_counter() - t) * 1000)
        ranked.append([h.product_id for h in result.hits])
    return ranked, ms


def cmd_parity(args: argparse.Namespace) -> None:
    """Recall@1 / MRR@10 / top-10 overlap of the Milvus backend against in-process, per query set, mode and per-side size."""
    memory, fp = chinese_engine(Path(args.cache))
    workdir = Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
    milvus = as_milvus_engine(memory, str(workdir / "parity.db"), fp)
    rows = []
    for name in ("eval_queries.csv", "dev_queries.csv"):
        queries = queries_of(name)
        vectors = None  # each engine encodes the parsed query itself, as the app does
        for mode in args.modes.split(","):
            base, base_ms = run(memory, queries, mode, vectors)
            for per_side in [int(s) for s in args.per_side.split(",")]:
                milvus.per_side = per_side
                got, got_ms = run(milvus, queries, mode, vectors)
                (r1a, mrra), (r1b, mrrb) = metrics(base, queries), metrics(got, queries)
                rows.append(
                    {
                        "queries": name,
                        "n": len(queries),
                        "mode": mode,
                        "per_side": per_side,
                        "memory_r1": r1a,
                        "milvus_r1": r1b,
                        "memory_mrr10": mrra,
                        "milvus_mrr10": mrrb,
                        "top10_overlap": overlap(base, got),
                        "identical_top10": statistics.mean(x == y for x, y in zip(base, got)),
                        "memory_p50_ms": statistics.median(base_ms),
                        "milvus_p50_ms": statistics.median(got_ms),
                    }
                )
                print(json.dumps(rows[-1]))
    shutil.rmtree(workdir, ignore_errors=True)
    print(
        "\n| queries | mode | per side | R@1 memory / Milvus | MRR@10 memory / Milvus | top-10 overlap | identical top-10 | p50 ms memory / Milvus |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['queries']} ({r['n']}) | {r['mode']} | {r['per_side']} | {r['memory_r1']:.3f} / {r['milvus_r1']:.3f} | "
            f"{r['memory_mrr10']:.3f} / {r['milvus_mrr10']:.3f} | {r['top10_overlap']:.3f} | {r['identical_top10']:.3f} | "
            f"{r['memory_p50_ms']:.1f} / {r['milvus_p50_ms']:.1f} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "milvus_parity.json").write_text(json.dumps(rows, indent=2))


def cmd_bm25(args: argparse.Namespace) -> None:
    """Lexical rankings of the eval + dev queries: in-process BM25 vs our BM25 as sparse vectors in Milvus vs Milvus's own
    BM25 function (jieba analyzer on the raw text; standard analyzer on our tokens spelled as opaque words)."""
    from pymilvus import DataType, Function, FunctionType

    catalog = load_catalog(ROOT / "catalog.csv")
    queries = queries_of("eval_queries.csv", "dev_queries.csv")
    memory, fp = chinese_engine(Path(args.cache))
    workdir = Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
    uri = str(workdir / "bm25.db")
    sparse = as_milvus_engine(memory, uri, fp)
    base, _ = run(memory, queries, "lexical", None)
    ours, _ = run(sparse, queries, "lexical", None)
    client = client_for(uri)
    word = {}

    def opaque(tokens: list[str]) -> str:
        """Our tokens as words the standard analyzer keeps whole (lower-case letters)."""
        return " ".join(word.setdefault(t, "w" + "".join(chr(97 + int(d)) for d in str(len(word)))) for t in tokens)

    variants = {
        "Milvus BM25, jieba analyzer on the raw text": ({"tokenizer": "jieba"}, lambda text: text),
        "Milvus BM25, standard analyzer on our tokens as opaque words": ({"tokenizer": "standard"}, lambda text: opaque(tokenize(text))),
    }
    # Milvus's BM25 has no intents: it is compared with in-process BM25 scores alone too (no negation, price, audience).
    contents = [memory.search(q.query, mode="lexical", top=1).parsed.content for q in queries]
    raw = [[memory.catalog[int(r)].id for r in top_k(memory.lexical.scores(c), 10)] for c in contents]
    rows = {"sparse vectors (ours)": (metrics(ours, queries), overlap(base, ours), None)}
    for label, (analyzer, shape) in variants.items():
        name = f"bm25_{len(rows)}"
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params=analyzer)
        schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["bm25"]))
        index = client.prepare_index_params()
        index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75})
        client.create_collection(name, schema=schema, index_params=index)
        client.insert(name, [{"id": p.id, "text": shape(lexical_document(p))} for p in catalog.products])
        got = []
        for content in contents:
            hits = client.search(name, [shape(content) or "x"], anns_field="bm25", limit=10, search_params={"metric_type": "BM25"})
            got.append([h["id"] for h in hits[0]])
        rows[label] = (metrics(got, queries), overlap(base, got), overlap(raw, got))
    (r1, mrr) = metrics(base, queries)
    print(f"\n{len(queries)} answered eval + dev queries, lexical mode, {len(catalog)} products; in-process BM25: R@1 {r1:.3f}, MRR@10 {mrr:.3f}\n")
    print("| lexical side | R@1 | MRR@10 | top-10 overlap with in-process lexical search | … with in-process BM25 scores alone |")
    print("|---|---:|---:|---:|---:|")
    for label, ((r1, mrr), ov, ov_raw) in rows.items():
        print(f"| {label} | {r1:.3f} | {mrr:.3f} | {ov:.3f} | {'—' if ov_raw is None else f'{ov_raw:.3f}'} |")
    print("\n(Milvus's BM25 rows rank without intents: the query's content text only, no negation demotion, price or audience.)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "milvus_bm25.json").write_text(
        json.dumps({k: {"r1": v[0][0], "mrr10": v[0][1], "overlap": v[1], "overlap_raw_bm25": v[2]} for k, v in rows.items()}, indent=2)
    )
    shutil.rmtree(workdir, ignore_errors=True)


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.is_dir() else path.stat().st_size / 2**20


def cmd_scale(args: argparse.Namespace) -> None:
    """Per size: in-process engine build and Milvus Lite load (insert + index), hybrid p50/p95, memory, disk."""
    from bench_search import noisy_copies, synthetic_catalog

    if args.hnsw_ef:
        milvus_backend.HNSW_EF = args.hnsw_ef
    memory, fp = chinese_engine(Path(args.cache))
    real, source = memory.catalog, np.asarray(memory.vectors)
    queries = [q.query for q in queries_of("dev_queries.csv", "eval_queries.csv")]
    queries = random.Random(0).sample(queries, min(args.queries, len(queries)))
    qvecs = memory.encoder.encode([memory.search(q, top=1).parsed.semantic for q in queries])
    me = psutil.Process()
    report = []
    watchdog = None
    for n in [int(s) for s in args.sizes.split(",")]:
        gc.collect()
        workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
        workdir.mkdir(parents=True, exist_ok=True)
        if watchdog is None:
            watchdog = Watchdog(workdir, args.min_free_gb, args.min_disk_gb)
            watchdog.start()
        watchdog.workdir, watchdog.phase, watchdog.peak_rss = workdir, f"{n:,}: catalog", 0
        catalog = synthetic_catalog(real, n)
        made = workdir / "vectors.npy"
        vectors = np.load(made, mmap_mode="r") if made.is_file() else noisy_copies(source, n, path=made)
        row: dict = {"products": n}
        t = time.perf_counter()
        lexical = LexicalIndex(map(lexical_document, catalog.products), names=(p.name for p in catalog.products))
        row["bm25_build_s"] = time.perf_counter() - t
        if not args.milvus_only:
            watchdog.phase = f"{n:,}: in-process engine"
            before = me.memory_info().rss / 2**20
            t = time.perf_counter()
            engine = SearchEngine(None, catalog, vectors, lexical=lexical, encoder=memory.encoder, tokenizer=memory.tokenizer)
            row["memory_build_s"] = time.perf_counter() - t + row["bm25_build_s"]
            row["memory_index"] = engine.index.kind
            ms = [_timed(engine, q, v) for q, v in zip(queries, qvecs)]
            row["memory_p50_ms"], row["memory_p95_ms"] = _pct(ms)
            exact = [_top10(engine, q, v) for q, v in zip(queries, qvecs)]
            row["memory_engine_rss_mb"] = me.memory_info().rss / 2**20 - before
            print(json.dumps(row), flush=True)
            del engine
            gc.collect()
        uri = workdir / "milvus.db"
        watchdog.phase = f"{n:,}: Milvus Lite load"
        return_freed_heap()
        t = time.perf_counter()
        progress = _progress(n, t)

        before = me.memory_info().rss / 2**20  # Milvus Lite 3 runs inside this process: its memory is our RSS's growth
        engine = milvus_engine(
            catalog,
            vectors,
            str(uri),
            fp,
            catalog_key="bench",
            lexical=lexical,
            on_progress=progress,
            encoder=memory.encoder,
            tokenizer=memory.tokenizer,
        )
        row["milvus_load_s"] = time.perf_counter() - t
        return_freed_heap()
        row["milvus_loaded_rss_mb"] = me.memory_info().rss / 2**20 - before
        row["milvus_disk_mb"] = disk_mb(uri)
        print(
            f"  {n:,}: loaded in {row['milvus_load_s']:.0f} s, RSS +{row['milvus_loaded_rss_mb']:.0f} MB, disk {row['milvus_disk_mb']:.0f} MB",
            flush=True,
        )
        if args.per_side:
            engine.per_side = row["per_side"] = args.per_side
        row["milvus_index"] = engine.collection.index_type
        watchdog.phase = f"{n:,}: Milvus Lite first query (builds each segment's sparse index)"
        row["milvus_first_query_s"] = _timed(engine, queries[0], qvecs[0]) / 1000
        print(f"  {n:,}: first query {row['milvus_first_query_s']:.1f} s, RSS +{me.memory_info().rss / 2**20 - before:.0f} MB", flush=True)
        watchdog.phase = f"{n:,}: Milvus Lite queries"
        ms = []
        for i, (q, v) in enumerate(zip(queries, qvecs)):
            ms.append(_timed(engine, q, v))
            if i % 10 == 9:
                print(f"  {n:,}: {i + 1} queries, median {statistics.median(ms):.0f} ms", flush=True)
        row["milvus_p50_ms"], row["milvus_p95_ms"] = _pct(ms)
        if not args.milvus_only:  # the dense index's recall, as the fused top 10 sees it
            row["top10_overlap_with_in_process"] = overlap(exact, [_top10(engine, q, v) for q, v in zip(queries, qvecs)])
        return_freed_heap()
        row["milvus_rss_mb"] = me.memory_info().rss / 2**20 - before
        row["milvus_peak_rss_mb"] = watchdog.peak_rss / 2**20
        if not args.no_resync:  # a restart with the same catalog: one scan of ids and hashes, nothing written
            watchdog.phase = f"{n:,}: Milvus Lite re-sync"
            t = time.perf_counter()
            again = engine.collection.sync(catalog, vectors, engine.bm25)
            row["milvus_resync_s"] = time.perf_counter() - t
            assert again.unchanged == n, again.describe()
        row["vectors_mb"] = n * source.shape[1] * 4 / 2**20
        row["bm25_postings"] = lexical._text.postings
        row["sparse_nonzeros"] = lexical._text.postings + (lexical._pinyin.postings if lexical._pinyin is not None else 0)
        print(json.dumps(row), flush=True)
        report.append(row)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "milvus_scale.json").write_text(json.dumps(report, indent=2))
        del engine
        client_for(str(uri)).close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        "\n| products | in-process build s | Milvus Lite load s (index) | hybrid p50 / p95 ms in-process | hybrid p50 / p95 ms Milvus Lite "
        "| in-process engine RSS MB | Milvus Lite + engine RSS MB | Milvus Lite disk MB | top-10 overlap |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in report:
        mem = f"{r['memory_build_s']:.1f} ({r['memory_index']})" if "memory_build_s" in r else "—"
        lat = f"{r['memory_p50_ms']:.1f} / {r['memory_p95_ms']:.1f}" if "memory_p50_ms" in r else "—"
        rss = f"{r['memory_engine_rss_mb']:.0f}" if "memory_engine_rss_mb" in r else "—"
        print(
            f"| {r['products']:,} | {mem} | {r['milvus_load_s']:.0f} ({r['milvus_index']}) | {lat} | {r['milvus_p50_ms']:.1f} / {r['milvus_p95_ms']:.1f} "
            f"| {rss} | {r['milvus_rss_mb']:.0f} | {r['milvus_disk_mb']:.0f} | {r.get('top10_overlap_with_in_process', float('nan')):.3f} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "milvus_scale.json").write_text(json.dumps(report, indent=2))


def cmd_memory(args: argparse.Namespace) -> None:
    """Where Milvus Lite's memory goes, phase by phase, for one synthetic catalog: RSS above the start (heap trimmed)
    after the insert, the flush, the dense index, a dense search and the first sparse search (which builds each
    segment's sparse index), per product and per sparse non-zero. Random unit vectors (memory does not depend on them)."""
    import pyarrow as pa
    from bench_search import synthetic_catalog

    if args.arrow_pool == "default":  # measure what Arrow's default pool (mimalloc) keeps: the backend's choice undone
        milvus_backend._use_system_arrow_pool = lambda: None
    n, me = args.size, psutil.Process()
    catalog = synthetic_catalog(load_catalog(ROOT / "catalog.csv"), n)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bm25 = milvus_backend.SparseBm25(LexicalIndex(map(lexical_document, catalog.products), names=(p.name for p in catalog.products)))
    nonzeros = sum(len(bm25.document(row, catalog[row])) for row in range(n))
    workdir = Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
    collection = milvus_backend.MilvusCatalog(str(workdir / "m.db"), "m", 384)
    client = collection.client
    rows = []

    def phase(label: str, seconds: float) -> None:
        gc.collect()
        return_freed_heap()
        rss = me.memory_info().rss / 2**20
        rows.append((label, seconds, rss))
        print(f"{label}: {seconds:.1f} s, RSS {rss:.0f} MB, Arrow live {pa.total_allocated_bytes() / n:.0f} B/product", flush=True)

    phase("start (catalog, BM25, vectors, client)", 0.0)
    collection._create()
    client_flush, client.flush = client.flush, lambda name: None  # the sync's own flush and index come next, timed apart
    build, collection._build_index = collection._build_index, lambda kind, size: None
    t = time.perf_counter()
    collection.sync(catalog, vectors, bm25)
    phase("insert (memtable)", time.perf_counter() - t)
    t = time.perf_counter()
    client_flush("m")
    phase("flush (Parquet segments)", time.perf_counter() - t)
    t = time.perf_counter()
    build(milvus_backend.choose_index(n)[0], n)
    phase(f"dense index ({collection.index_type}) + load", time.perf_counter() - t)
    t = time.perf_counter()
    collection.candidates(vectors[0], {}, "", 50)
    phase("a dense search", time.perf_counter() - t)
    t = time.perf_counter()
    collection.candidates(None, bm25.query("键盘"), "", 50)
    phase("first sparse search (sparse index built)", time.perf_counter() - t)
    disk = disk_mb(workdir / "m.db")
    print(f"\n{n:,} products, {nonzeros / n:.1f} sparse non-zeros a product, Arrow pool {pa.default_memory_pool().backend_name}\n")
    print("| phase | s | RSS MB | added per product | added per sparse non-zero |")
    print("|---|---:|---:|---:|---:|")
    for (label, seconds, rss), (_, _, previous) in zip(rows[1:], rows):
        added = (rss - previous) * 2**20
        print(f"| {label} | {seconds:.1f} | {rss:.0f} | {added / n:,.0f} B | {added / nonzeros:,.0f} B |")
    total = (rows[-1][2] - rows[0][2]) * 2**20
    print(f"| total | | | {total / n:,.0f} B | |\n\ndisk {disk:.0f} MB ({disk * 2**20 / n:,.0f} B a product)")
    client.close()
    shutil.rmtree(workdir, ignore_errors=True)


def _progress(n: int, started: float):
    """An on_progress(done, total) printing about every fifth of the load."""
    shown = [0]

    def report(done: int, total: int) -> None:
        if done == total or done - shown[0] >= total // 5:
            shown[0] = done
            print(f"  {n:,}: written {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)", flush=True)

    return report


def _top10(engine: SearchEngine, query: str, vector: np.ndarray) -> list[str]:
    return [h.product_id for h in engine.search(query, mode="hybrid", top=10, query_vector=vector).hits]


def _timed(engine: SearchEngine | MilvusEngine, query: str, vector: np.ndarray) -> float:
    t = time.perf_counter()
    engine.search(query, mode="hybrid", top=10, query_vector=vector)
    return (time.perf_counter() - t) * 1000


def _pct(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(0.95 * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=str(get_settings().cache_dir), help="the embedding cache (the real catalog's vectors)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parity")
    p.add_argument("--modes", default="hybrid,lexical,semantic")
    p.add_argument("--per-side", default="50,200", help="candidates Milvus returns per side, comma-separated")
    p.set_defaults(func=cmd_parity)
    p = sub.add_parser("bm25")
    p.set_defaults(func=cmd_bm25)
    p = sub.add_parser("memory")
    p.add_argument("--size", type=int, default=20_000)
    p.add_argument("--arrow-pool", choices=("system", "default"), default="system", help="system: as the backend sets it")
    p.set_defaults(func=cmd_memory)
    p = sub.add_parser("scale")
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--queries", type=int, default=LATENCY_QUERIES, help="hybrid queries timed per size and backend")
    p.add_argument("--per-side", type=int, default=None, help="candidates per side (default: milvus_backend.PER_SIDE)")
    p.add_argument("--hnsw-ef", type=int, default=None, help="HNSW ef at search (default: milvus_backend.HNSW_EF)")
    p.add_argument("--milvus-only", action="store_true", help="skip the in-process engine (its figures are in bench_search.py)")
    p.add_argument("--no-resync", action="store_true", help="skip timing a second sync of the unchanged catalog")
    p.add_argument(
        "--workdir",
        default=None,
        help="one size's folder (vectors.npy, milvus.db) to resume: a collection already loaded there is synced (a scan of "
        "ids and hashes) instead of written; deleted at the end",
    )
    p.add_argument("--min-free-gb", type=float, default=3.0, help="stop (exit 3) when the host has less memory available")
    p.add_argument("--min-disk-gb", type=float, default=20.0, help="stop (exit 3) when less disk is free under TMPDIR")
    p.set_defaults(func=cmd_scale)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
