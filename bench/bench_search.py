"""Search at scale, in one run: query latency per mode, index build time, memory and embedding throughput
at 300 (the real catalog), 10k, 100k and 1M products, and the nearest-neighbour libraries compared.

    pip install -r bench/requirements.txt        # usearch and hnswlib, to compare with faiss-cpu
    python bench/bench_search.py                 # all sizes, about 30 min on 2 cores
    python bench/bench_search.py --sizes 300,10000 --libs exact,faiss-hnsw
    python bench/bench_search.py --sizes 1000000 --no-ann-study --reuse   # the 1M engine only: memory, build, latency
    python bench/bench_search.py --lexical-study 328,10000,100000          # BM25 alone: compact arrays vs former bm25s

How the large catalogs are made (honest about what is synthetic):
- 10k: synthetic products (a real product's brand and type + a random model code + pieces of two real
  descriptions), embedded for real with the shipped model; this is where embedding throughput is measured.
- 100k and 1M: synthetic texts for BM25; vectors are the 10k real vectors plus Gaussian noise (cosine ≈ 0.95
  to their source), re-normalised, so neighbourhoods look like a real embedding space rather than uniform noise.
  Vectors as large as the app's cache serves as a memmap (embeddings.MEMMAP_ABOVE_BYTES) are written to a .npy
  file and opened the same way, so the engine sees what it would see in the app.
- Queries: the model's embeddings of the real dev and eval queries.

Prints Markdown tables (paste into BENCHMARKS.md) and writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shopsearch.data.catalog import Catalog, Product, load_catalog  # noqa: E402
from shopsearch.retrieval.embeddings import MEMMAP_ABOVE_BYTES, EmbeddingCache, encode, model_fingerprint  # noqa: E402
from shopsearch.retrieval.evaluation import load_queries  # noqa: E402
from shopsearch.retrieval.index import build_index, row_blocks  # noqa: E402
from shopsearch.retrieval.onnx_encoder import OnnxEncoder  # noqa: E402
from shopsearch.retrieval.search import CANDIDATES, MODES, SearchEngine, build_engine  # noqa: E402
from shopsearch.text.lexical import return_freed_heap  # noqa: E402
from shopsearch.training.seed import load_model  # noqa: E402

RECALL_TARGET = 0.99
LATENCY_QUERIES = 200


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def file_backed_mb() -> float:
    """The part of RSS that is mapped file pages (the vectors' memmap, libraries): clean, shared, reclaimable."""
    return psutil.Process().memory_info().shared / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of a list of milliseconds."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------- synthetic data


def synthetic_catalog(real: Catalog, n: int, seed: int = 0) -> Catalog:
    """n products shaped like the real ones: brand + model code + the real product's type, mixed descriptions."""
    rng = random.Random(seed)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    products = []
    for i in range(n):
        p, other = real[i % len(real)], real[rng.randrange(len(real))]
        code = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10, 9999)}"
        kind = p.name.split()[-1]
        description = p.description[: rng.randrange(12, 40)] + "，" + other.description[: rng.randrange(6, 24)]
        price = None if p.price is None else round(p.price * rng.uniform(0.6, 1.6), 0)
        products.append(Product(f"S{i:07d}", f"{p.brand} {code} {kind}", p.brand, p.category, price, description, p.tags))
    return Catalog(products)


def noisy_copies(source: np.ndarray, n: int, sigma: float = 0.015, seed: int = 0, path: Path | None = None) -> np.ndarray:
    """n unit vectors: row i is source[i % len(source)] plus N(0, sigma²) per dimension, re-normalised.

    With `path`, written block by block to that .npy file and returned as a read-only memmap, as the app's cache
    serves a large catalog's vectors.
    """
    from numpy.lib.format import open_memmap

    rng = np.random.default_rng(seed)
    shape = (n, source.shape[1])
    out = np.empty(shape, dtype=np.float32) if path is None else open_memmap(str(path), "w+", np.float32, shape)
    for start in range(0, n, 100_000):
        rows = np.arange(start, min(n, start + 100_000))
        block = source[rows % len(source)] + sigma * rng.standard_normal((len(rows), source.shape[1]), dtype=np.float32)
        out[rows] = unit(block)
    if path is None:
        return out
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


# ---------------------------------------------------------------- nearest-neighbour libraries


class Lib:
    """One ANN library behind a tiny interface: build(vectors), set(knob), search(q, k) -> ids."""

    name = ""
    knobs: tuple[int, ...] = ()

    def build(self, vectors: np.ndarray) -> None: ...
    def set(self, knob: int) -> None: ...
    def search(self, query: np.ndarray, k: int) -> np.ndarray: ...


class Exact(Lib):
    name, knobs = "exact (numpy)", (0,)

    def build(self, vectors):
        self.v = vectors

    def search(self, query, k):
        scores = self.v @ query
        part = np.argpartition(-scores, k)[:k]
        return part[np.argsort(-scores[part])]


class FaissHnsw(Lib):
    name, knobs = "faiss-cpu HNSW (M=32)", (400, 1600, 3200, 6400)

    def build(self, vectors):
        import faiss

        self.index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 200
        self.index.add(vectors)

    def set(self, knob):
        self.index.hnsw.efSearch = knob

    def search(self, query, k):
        return self.index.search(query[None], k)[1][0]


class FaissIvf(Lib):
    name, knobs = "faiss-cpu IVF-Flat (the engine's)", (64, 256, 512, 1024)

    def build(self, vectors):
        import faiss

        nlist = int(4 * np.sqrt(len(vectors)))
        self.index = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
        self.index.train(vectors[np.sort(sample)])
        self.index.add(vectors)

    def set(self, knob):
        self.index.nprobe = knob

    def search(self, query, k):
        return self.index.search(query[None], k)[1][0]


class Usearch(Lib):
    name, knobs = "usearch HNSW (M=16)", (200, 400, 800, 1600)

    def build(self, vectors):
        from usearch.index import Index

        self.index = Index(ndim=vectors.shape[1], metric="ip", dtype="f32", connectivity=16, expansion_add=128)
        self.index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=os.cpu_count() or 1)

    def set(self, knob):
        self.index.expansion_search = knob

    def search(self, query, k):
        return np.asarray(self.index.search(query, k).keys, dtype=np.int64)


class Hnswlib(Lib):
    name, knobs = "hnswlib (M=16)", (200, 400, 800, 1600)

    def build(self, vectors):
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=vectors.shape[1])
        self.index.init_index(max_elements=len(vectors), ef_construction=128, M=16)
        self.index.add_items(vectors, num_threads=os.cpu_count() or 1)

    def set(self, knob):
        self.index.set_ef(max(knob, 10))

    def search(self, query, k):
        return self.index.knn_query(query, k)[0][0].astype(np.int64)


LIBS: dict[str, Callable[[], Lib]] = {
    "exact": Exact,
    "faiss-hnsw": FaissHnsw,
    "faiss-ivf": FaissIvf,
    "usearch": Usearch,
    "hnswlib": Hnswlib,
}


def ann_study(vectors: np.ndarray, queries: np.ndarray, libs: list[str], k: int = 10, fetch: int = CANDIDATES) -> list[dict]:
    """Per library: build time and memory, then for each knob recall@k against brute force and p50/p95 latency.

    As the engine does, each search fetches `fetch` candidates and re-scores them exactly (a 200×384 product):
    recall@k is the share of the exact top-k found in the re-scored top-k. Reports the cheapest knob reaching
    RECALL_TARGET (or the best one when none does).
    """
    exact = Exact()
    exact.build(vectors)
    truth = [set(exact.search(q, k).tolist()) for q in queries]
    rows = []
    for key in libs:
        try:
            lib = LIBS[key]()
            gc.collect()
            before = rss_mb()
            t = time.perf_counter()
            lib.build(vectors)
            build_s = time.perf_counter() - t
            memory = rss_mb() - before
        except ImportError as err:
            print(f"  {key}: not installed ({err}); pip install -r bench/requirements.txt")
            continue
        chosen = None
        for knob in lib.knobs:
            lib.set(knob)
            lib.search(queries[0], fetch)
            times, hits = [], 0
            for q, want in zip(queries, truth):
                t = time.perf_counter()
                found = lib.search(q, fetch)
                found = found[found >= 0]
                ids = found[np.argsort(-(vectors[found] @ q))[:k]]
                times.append((time.perf_counter() - t) * 1000)
                hits += len(want & set(ids.tolist()))
            p50, p95 = pct(times)
            row = {
                "lib": lib.name,
                "key": key,
                "rows": len(vectors),
                "build_s": build_s,
                "memory_mb": memory,
                "knob": knob,
                "recall": hits / (k * len(queries)),
                "p50_ms": p50,
                "p95_ms": p95,
            }
            print(
                f"  {lib.name:24} knob {knob:4}: recall@{k} {row['recall']:.3f}  p50 {p50:.2f} ms  p95 {p95:.2f} ms"
                f"  (build {build_s:.1f} s, +{memory:.0f} MB)"
            )
            chosen = row
            if row["recall"] >= RECALL_TARGET:
                break
        rows.append(chosen)
        del lib
        gc.collect()
    return rows


# ---------------------------------------------------------------- the engine


def mode_latency(engine: SearchEngine, queries: list[str]) -> dict[str, dict[str, float]]:
    """p50/p95 of total, encode and search milliseconds per mode, top-10, warm (after 10 warm-up queries)."""
    out = {}
    for mode in MODES:
        for q in queries[:10]:
            engine.search(q, mode=mode, top=10)
        results = [engine.search(q, mode=mode, top=10) for q in queries]
        total = pct([r.total_ms for r in results])
        out[mode] = {
            "p50_ms": total[0],
            "p95_ms": total[1],
            "encode_p50_ms": pct([r.encode_ms for r in results])[0],
            "search_p50_ms": pct([r.search_ms for r in results])[0],
        }
    return out


def exact_top_k(vectors: np.ndarray, qvecs: np.ndarray, k: int = 10) -> list[set[int]]:
    """Each query's exact top-k rows, in one pass over `vectors` read block by block (a memmap stays unmapped)."""
    best_ids = np.zeros((len(qvecs), 0), dtype=np.int64)
    best = np.zeros((len(qvecs), 0), dtype=np.float32)
    for start, block in row_blocks(vectors):
        scores = np.concatenate([best, (block @ qvecs.T).T], axis=1)
        ids = np.concatenate([best_ids, np.broadcast_to(np.arange(start, start + len(block)), (len(qvecs), len(block)))], axis=1)
        keep = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best, best_ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(ids, keep, 1)
    return [set(row.tolist()) for row in best_ids]


INTENTS = ("price", "not", "audience", "cheap", "premium")  # every intent kind (intent.parse_query's `ignore`)


def agreement(engine: SearchEngine, truth: list[set[int]], qvecs: np.ndarray, queries: list[str], k: int = 10) -> float:
    """Share of the exact semantic top-k that the engine's semantic mode returns (end-to-end recall).

    The query's intents are not read: a price range filters, an audience or a negation reorders on purpose, and
    the exact top-k they are compared with is the plain cosine's (with them read, recall at 1M read 0.906 at every
    nprobe from 128 to 512).
    """
    hits = 0
    for q, v, want in zip(queries, qvecs, truth):
        hits_ = engine.search(q, mode="semantic", top=k, query_vector=v, ignore=INTENTS).hits
        got = {engine.catalog.index_of(h.product_id) for h in hits_}
        hits += len(want & got)
    return hits / (k * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,10000,100000,1000000")
    parser.add_argument("--libs", default="exact,faiss-hnsw,faiss-ivf,hnswlib,usearch")
    parser.add_argument("--libs-at-1m", default="exact,faiss-ivf", help="libraries compared above 100k (HNSW builds take 6+ min)")
    parser.add_argument("--reuse", action="store_true", help="reuse the 10k embeddings of an earlier run (no throughput figure)")
    parser.add_argument("--no-ann-study", action="store_true", help="skip the library comparison: the engine's figures only")
    parser.add_argument("--lexical-study", default=None, help="only BM25: sizes to compare, e.g. 328,10000,100000")
    parser.add_argument(
        "--former-up-to", type=int, default=100_000, help="with --lexical-study: build the former bm25s index up to this size (it needs ~15 GB at 1M)"
    )
    parser.add_argument("--source-size", type=int, default=10_000, help="synthetic products embedded for real (noisy copies above)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "search.json"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    libs = args.libs.split(",")
    if args.lexical_study:
        real = load_catalog(ROOT / "catalog.csv")
        queries = [q.query for name in ("dev_queries.csv", "eval_queries.csv") for q in load_queries(ROOT / "data" / name)]
        queries = random.Random(0).sample(queries, min(LATENCY_QUERIES, len(queries)))
        rows = lexical_study(real, [int(s) for s in args.lexical_study.split(",")], queries, former_up_to=args.former_up_to)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name("lexical.json").write_text(json.dumps(rows, indent=2))
        return
    report: dict = {"machine": f"{os.cpu_count()} cores", "sizes": {}, "ann": {}}

    t = time.perf_counter()
    model = load_model(str(ROOT / "model"))
    report["model_load_s"] = time.perf_counter() - t
    real = load_catalog(ROOT / "catalog.csv")
    queries = [q.query for name in ("dev_queries.csv", "eval_queries.csv") for q in load_queries(ROOT / "data" / name)]
    queries = random.Random(0).sample(queries, min(LATENCY_QUERIES, len(queries)))
    qvecs = model.encode(queries, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    print(f"model loaded in {report['model_load_s']:.1f} s; {len(queries)} queries")

    # 300: the real catalog — embedding from scratch, then cold start from the on-disk cache

    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(tmp)
        fp = model_fingerprint(ROOT / "model")
        t = time.perf_counter()
        engine = build_engine(model, fp, real, cache)
        first = time.perf_counter() - t
        starts = []
        for _ in range(5):
            t = time.perf_counter()
            engine = build_engine(model, fp, load_catalog(ROOT / "catalog.csv"), cache)
            starts.append(time.perf_counter() - t)
    report["cold_start_from_cache_s"] = statistics.median(starts)
    report["sizes"][len(real)] = {"embed_texts_per_s": len(real) / first, "index": engine.index.kind, "modes": mode_latency(engine, queries)}
    print(
        f"real catalog: first build {first:.1f} s ({len(real) / first:.0f} texts/s); engine from cache "
        f"(catalog read + vectors + BM25 + index) median {report['cold_start_from_cache_s'] * 1000:.0f} ms of 5"
    )

    # The source vectors: args.source_size synthetic products embedded for real (kept in bench/results/ for reruns).
    saved = ROOT / "bench" / "results" / f"synthetic-{args.source_size}-{model_fingerprint(ROOT / 'model')}.npy"
    source_throughput = None
    if args.reuse and saved.is_file():
        source = np.load(saved)
    else:
        t = time.perf_counter()
        source_catalog = synthetic_catalog(real, args.source_size)
        source = encode(model, (p.text for p in source_catalog.products), args.source_size, batch_size=64)
        source_throughput = args.source_size / (time.perf_counter() - t)
        saved.parent.mkdir(parents=True, exist_ok=True)
        np.save(saved, source)
        del source_catalog
        print(f"embedded {args.source_size:,} synthetic texts at {source_throughput:.0f} texts/s")
    scratch = tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR"))
    onnx = OnnxEncoder.for_model(model, model_fingerprint(ROOT / "model"), ROOT / "bench" / "results")
    print(f"query encoder: {'ONNX' if onnx else 'torch (the ONNX export failed)'}")
    for n in [s for s in sizes if s > len(real)]:
        gc.collect()
        before = rss_mb()
        catalog = synthetic_catalog(real, n)
        if n == len(source):
            vectors, throughput = source, source_throughput
        else:
            big = n * source.shape[1] * 4 >= MEMMAP_ABOVE_BYTES
            vectors = noisy_copies(source, n, path=Path(scratch.name) / f"vectors-{n}.npy" if big else None)
            throughput = None
        exact_agree = None
        print(f"{n:,}: nearest-neighbour libraries")
        study = libs if n <= 100_000 else [lib for lib in libs if lib in args.libs_at_1m.split(",")]
        if not args.no_ann_study:
            report["ann"][n] = ann_study(vectors, qvecs, study if n >= 100_000 else ["exact"])
        gc.collect()
        steps = {"catalog": rss_mb() - before}
        t, cpu = time.perf_counter(), time.process_time()
        index = build_index(vectors, get_threshold())
        index_s, index_cpu = time.perf_counter() - t, time.process_time() - cpu
        steps["index"] = rss_mb() - before - sum(steps.values())
        t, cpu = time.perf_counter(), time.process_time()
        # Queries are encoded as the app encodes them (build_engine): by the model's ONNX export, torch if that fails.
        engine = SearchEngine(model, catalog, vectors, index=index, encoder=onnx)
        build_s, build_cpu = time.perf_counter() - t, time.process_time() - cpu
        steps["bm25 + engine"] = rss_mb() - before - sum(steps.values())
        print("  RSS growth by step (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in steps.items()), flush=True)
        sweep = []
        if engine.index.kind != "exact":  # the engine's own index: the smallest nprobe with recall ≥ target
            default = engine.index.nprobe
            truth = exact_top_k(vectors, qvecs[:100])
            for nprobe in (default // 2, default, default * 2):
                engine.index.nprobe = nprobe
                t = time.perf_counter()
                exact_agree = agreement(engine, truth, qvecs[:100], queries[:100])
                sweep.append({"nprobe": nprobe, "recall_at_10": exact_agree, "ms_per_query": (time.perf_counter() - t) * 10})
                print(f"  engine nprobe {nprobe}: semantic recall@10 {exact_agree:.3f}, {sweep[-1]['ms_per_query']:.1f} ms/query", flush=True)
                if exact_agree >= RECALL_TARGET:
                    break
        report["sizes"][n] = {
            "embed_texts_per_s": throughput,
            "index": engine.index.kind,
            "index_build_s": index_s,
            "engine_build_s": build_s,
            "index_build_cpu_s": index_cpu,
            "engine_build_cpu_s": build_cpu,
            "semantic_recall_at_10": exact_agree,
            "nprobe_sweep": sweep,
            "nprobe": getattr(engine.index, "nprobe", None),
            "nlist": getattr(engine.index, "nlist", None),
            "bm25_postings": engine.lexical._text.postings + (engine.lexical._pinyin.postings if engine.lexical._pinyin else 0),
            "bm25_mb": (engine.lexical._text.nbytes + (engine.lexical._pinyin.nbytes if engine.lexical._pinyin else 0)) / 2**20,
            "modes": mode_latency(engine, queries),
        }
        gc.collect()
        report["sizes"][n].update(
            {
                "rss_growth_steps_mb": steps,
                "rss_mb": rss_mb(),
                "rss_file_mb": file_backed_mb(),
                "rss_growth_mb": rss_mb() - before,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
        # What the app's janitor does after each sweep (gc + malloc_trim): the queries' freed arrays leave the heap.
        return_freed_heap()
        report["sizes"][n].update({"rss_trimmed_mb": rss_mb(), "rss_trimmed_file_mb": file_backed_mb()})
        row = report["sizes"][n]
        print(
            f"{n:,}: nprobe {getattr(engine.index, 'nprobe', '-')}; {engine.index.kind} index built in {index_s:.1f} s ({index_cpu:.1f} CPU s), BM25 + engine in {build_s:.1f} s ({build_cpu:.1f} CPU s); "
            f"RSS {row['rss_mb']:.0f} MB ({row['rss_file_mb']:.0f} MB of it file-backed; {row['rss_trimmed_mb']:.0f} MB after malloc_trim), peak {row['peak_rss_mb']:.0f} MB; "
            f"BM25 {row['bm25_postings']:,} postings in {row['bm25_mb']:.0f} MB; semantic recall@10 vs exact {exact_agree}",
            flush=True,
        )
        del engine, catalog, vectors, index
        gc.collect()
    scratch.cleanup()

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=float))
    print_tables(report)


class FormerLexical:
    """The lexical index before the compact arrays, rebuilt for comparison: bm25s over every document's token list
    (the lists held until bm25s has built), scored exactly like LexicalIndex (text, plus name pinyin)."""

    def __init__(self, documents: list[str], names: list[str]) -> None:
        import bm25s

        from shopsearch.text.lexical import tokenize
        from shopsearch.text.pinyin import pinyin_tokens

        self.size = len(documents)
        self.parts = []
        for corpus in ([tokenize(d) for d in documents], [pinyin_tokens(n) for n in names]):
            bm25 = bm25s.BM25()
            bm25.index([tokens or ["\x00"] for tokens in corpus], show_progress=False)
            self.parts.append(bm25)

    def scores(self, query: str) -> np.ndarray:
        from shopsearch.text.lexical import tokenize
        from shopsearch.text.pinyin import as_pinyin

        text_bm25, pinyin_bm25 = self.parts
        tokens = tokenize(query)
        text = [text_bm25.vocab_dict[t] for t in tokens if t in text_bm25.vocab_dict]
        pinyin = [pinyin_bm25.vocab_dict[t] for t in as_pinyin(tokens, text_bm25.vocab_dict) if t in pinyin_bm25.vocab_dict]
        scores = np.asarray(text_bm25.get_scores(text), dtype=np.float32) if text else np.zeros(self.size, dtype=np.float32)
        return scores + pinyin_bm25.get_scores(pinyin) if pinyin else scores


def lexical_study(real: Catalog, sizes: list[int], queries: list[str], former_up_to: int) -> list[dict]:
    """BM25 alone, the current LexicalIndex against the former bm25s one (up to `former_up_to` products), per catalog size: build seconds,
    RSS growth, and p50/p95 of scoring every product for a query (the content of each of `queries`)."""
    from shopsearch.retrieval.search import lexical_documents
    from shopsearch.text.lexical import LexicalIndex
    from shopsearch.text.query import content_text

    rows = []
    contents = [content_text(q) for q in queries]
    warm = lexical_documents(real), [p.name for p in real.products]
    LexicalIndex(*warm), FormerLexical(*warm)  # imports and dictionaries (pypinyin's) load outside the timings
    for n in sizes:
        catalog = real if n <= len(real) else synthetic_catalog(real, n)
        documents, names = lexical_documents(catalog), [p.name for p in catalog.products]
        for label, make in [("compact arrays", LexicalIndex), ("former bm25s", FormerLexical)][: 2 if n <= former_up_to else 1]:
            gc.collect()
            before = rss_mb()
            t, cpu = time.perf_counter(), time.process_time()
            index = make(documents, names=names) if make is LexicalIndex else make(documents, names)
            build_s, build_cpu = time.perf_counter() - t, time.process_time() - cpu
            gc.collect()
            growth = rss_mb() - before
            for q in contents[:10]:
                index.scores(q)
            times = []
            for q in contents:
                t = time.perf_counter()
                index.scores(q)
                times.append((time.perf_counter() - t) * 1000)
            p50, p95 = pct(times)
            rows.append(
                {
                    "products": len(catalog),
                    "index": label,
                    "build_s": build_s,
                    "build_cpu_s": build_cpu,
                    "rss_growth_mb": growth,
                    "p50_ms": p50,
                    "p95_ms": p95,
                }
            )
            print(
                f"  BM25 {label:15} {len(catalog):>9,}: build {build_s:6.1f} s ({build_cpu:.1f} CPU s), RSS +{growth:6.0f} MB, scoring p50 {p50:.2f} ms p95 {p95:.2f} ms",
                flush=True,
            )
            del index
        del catalog, documents, names
    print("\n| products | BM25 index | build s (CPU s) | RSS growth MB | scoring p50 / p95 ms |")
    print("|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['products']:,} | {r['index']} | {r['build_s']:.1f} ({r['build_cpu_s']:.1f}) | {r['rss_growth_mb']:.0f} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} |"
        )
    return rows


def get_threshold() -> int:
    from shopsearch.common.config import get_settings

    return get_settings().ann_threshold


def print_tables(report: dict) -> None:
    print(
        "\n| products | index | hybrid p50 / p95 ms | semantic p50 / p95 ms | lexical p50 / p95 ms | encode p50 ms | index build s | BM25 + engine s | semantic recall@10 | RSS MB (file-backed) | peak RSS MB |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, row in report["sizes"].items():
        m = row["modes"]
        cells = " | ".join(f"{m[mode]['p50_ms']:.1f} / {m[mode]['p95_ms']:.1f}" for mode in MODES)
        index_s = f"{row['index_build_s']:.1f}" if "index_build_s" in row else "—"
        build = f"{row['engine_build_s']:.1f}" if "engine_build_s" in row else f"{report['cold_start_from_cache_s']:.2f} (from cache)"
        recall = f"{row['semantic_recall_at_10']:.3f}" if row.get("semantic_recall_at_10") is not None else "1 (exact)"
        rss = f"{row['rss_mb']:.0f} ({row['rss_file_mb']:.0f})" if "rss_mb" in row else "—"
        peak = f"{row['peak_rss_mb']:.0f}" if "peak_rss_mb" in row else "—"
        print(f"| {int(n):,} | {row['index']} | {cells} | {m['hybrid']['encode_p50_ms']:.1f} | {index_s} | {build} | {recall} | {rss} | {peak} |")
    print("\n| vectors | library | build s | memory MB | knob (ef / nprobe) | recall@10 | p50 ms | p95 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n, rows in report["ann"].items():
        for r in rows:
            print(
                f"| {int(n):,} | {r['lib']} | {r['build_s']:.1f} | {r['memory_mb']:.0f} | {r['knob']} | {r['recall']:.3f} | "
                f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} |"
            )
    throughputs = [f"{r['embed_texts_per_s']:.0f} texts/s at {int(n):,}" for n, r in report["sizes"].items() if r.get("embed_texts_per_s")]
    print(f"\nembedding throughput: {', '.join(throughputs)}; model load {report['model_load_s']:.1f} s")


if __name__ == "__main__":
    main()
