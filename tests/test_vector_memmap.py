"""Large catalogs' vectors: served as a read-only memmap of the cache file, and searched by an IVF index whose
8-bit codes only pick candidates: the cosines it returns are exact."""

from __future__ import annotations

import numpy as np
import pytest

from shopsearch.retrieval.embeddings import EmbeddingCache, TorchEncoder, encode
from shopsearch.retrieval.index import IvfIndex, RowReader, row_blocks, top_k


def unit_rows(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def mapped(tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """20,000 unit vectors in memory, and the same saved as .npy and opened as a memmap."""
    vectors = unit_rows(20_000, 32)
    np.save(tmp_path / "v.npy", vectors)
    return vectors, np.load(tmp_path / "v.npy", mmap_mode="r")


def test_a_large_catalog_is_encoded_into_the_cache_file_and_served_from_it(tmp_path, shipped_model, catalog):
    """Above the cache's memmap threshold the vectors come back as a read-only memmap equal to an in-memory
    encoding; a second engine reads the same file; a corrupted byte makes the cache rebuild."""
    texts = catalog.documents[:40]
    cache = EmbeddingCache(tmp_path, memmap_above=0)
    vectors = cache.get_or_encode(TorchEncoder(shipped_model), "fp", "cat", texts)
    assert isinstance(vectors, np.memmap) and not vectors.flags.writeable
    np.testing.assert_allclose(vectors, encode(shipped_model, texts, len(texts)), atol=1e-5)
    again = cache.load("fp", "cat", len(texts))
    assert isinstance(again, np.memmap) and np.array_equal(again, vectors)
    path = cache.path("fp", "cat")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert cache.load("fp", "cat", len(texts)) is None


def test_a_small_catalog_is_loaded_into_memory(tmp_path, shipped_model, catalog):
    texts = catalog.documents[:5]
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(TorchEncoder(shipped_model), "fp", "cat", texts)
    loaded = cache.load("fp", "cat", len(texts))
    assert type(loaded) is np.ndarray and loaded.shape == (5, shipped_model.get_embedding_dimension())


def test_row_blocks_read_a_memmap_from_its_file_in_order(mapped):
    vectors, memmap = mapped
    blocks = list(row_blocks(memmap, rows=7_000))
    assert [start for start, _ in blocks] == [0, 7_000, 14_000]
    assert all(type(block) is np.ndarray for _, block in blocks)  # plain arrays, not views of the mapping
    assert np.array_equal(np.concatenate([block for _, block in blocks]), vectors)


def test_ivf_candidates_are_rescored_exactly_and_find_the_exact_top_10(mapped):
    """Probing every list, the 200 candidates picked by 8-bit codes hold the exact top 10, best first, with their
    exact cosines; by default √N lists and about an eighth of them probed."""
    vectors, memmap = mapped
    index = IvfIndex(memmap)
    assert index.nlist == int(np.sqrt(20_000)) and index.nprobe == round(IvfIndex.PROBE_SHARE * index.nlist)
    index.nprobe, index.probe_margin = index.nlist, None
    for query in unit_rows(20, 32, seed=1):
        ids, scores = index.search(query, 200)
        exact = vectors @ query
        assert ids[:10].tolist() == top_k(exact, 10).tolist()
        np.testing.assert_allclose(scores, exact[ids], rtol=1e-6)
        assert (np.diff(scores) <= 0).all()


def test_an_ivf_search_under_a_mask_returns_only_the_rows_it_keeps(mapped):
    """A filter over a large catalog: probing every list, the masked search's top 10 are the exact top 10 among the
    kept rows (one row in three here), with exact cosines."""
    vectors, memmap = mapped
    index = IvfIndex(memmap)
    index.nprobe, index.probe_margin = index.nlist, None
    allowed = np.arange(len(vectors)) % 3 == 1
    for query in unit_rows(10, 32, seed=2):
        ids, scores = index.search(query, 200, allowed=allowed)
        assert len(ids) == 200 and allowed[ids].all()
        exact = np.where(allowed, vectors @ query, -np.inf)
        assert ids[:10].tolist() == top_k(exact, 10).tolist()
        np.testing.assert_allclose(scores, exact[ids], rtol=1e-6)


def test_a_query_searches_the_lists_within_the_margin_of_its_best_centroid(mapped):
    """nprobe caps the lists searched; of those, only lists whose centroid scores within probe_margin of the best one's
    are searched, and never fewer than min_probe, unless a filter's mask is given (faiss counts the lists it visits)."""
    import faiss

    _, memmap = mapped
    index = IvfIndex(memmap)
    stats = faiss.cvar.indexIVF_stats

    def lists_searched(query: np.ndarray) -> int:
        stats.reset()
        index.search(query, 10)
        return int(stats.nlist)

    queries = unit_rows(10, 32, seed=3)
    index.probe_margin = None
    assert {lists_searched(q) for q in queries} == {index.nprobe}
    index.probe_margin = 0.0
    assert {lists_searched(q) for q in queries} == {index.min_probe} and index.min_probe < index.nprobe
    stats.reset()
    index.search(queries[0], 10, allowed=np.arange(20_000) % 7 == 0)  # a filter's rows may lie anywhere: all nprobe
    assert int(stats.nlist) == index.nprobe
    index.probe_margin = 0.1
    centroids = index._index.quantizer.reconstruct_n(0, index.nlist)
    for query in queries:
        scores = np.sort(centroids @ query)[::-1][: index.nprobe]
        assert lists_searched(query) == max(index.min_probe, int((scores >= scores[0] - 0.1).sum()))


def test_the_row_reader_reads_chosen_rows_from_the_file_not_the_mapping(mapped):
    """Rows in any order, repeated or consecutive, come back as float32 equal to the memmap's rows; they are read
    from the file (a plain array, not a view of the mapping); an in-memory matrix is simply indexed."""
    vectors, memmap = mapped
    reader = RowReader(memmap)
    for ids in ([19_999, 0, 5, 6, 7, 5], [], [3], list(range(100, 400))):
        rows = reader(np.array(ids, dtype=np.int64))
        assert type(rows) is np.ndarray and rows.dtype == np.float32 and rows.shape == (len(ids), 32)
        assert np.array_equal(rows, vectors[ids])
    assert np.array_equal(RowReader(vectors)(np.array([4, 2])), vectors[[4, 2]])


def test_an_ivf_build_uses_every_core_and_leaves_faiss_as_it_found_it():
    """A 1M build took 72 s on one thread; faiss's k-means and list assignment now use both cores. Searches, which
    run one query each, keep whatever the thread had before."""
    import os

    import faiss
    from threadpoolctl import threadpool_info

    from shopsearch.retrieval.index import all_cores_for_faiss

    faiss.omp_set_num_threads(1)
    try:
        with all_cores_for_faiss() as cores:
            assert cores == len(os.sched_getaffinity(0)) == faiss.omp_get_max_threads()
            blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
            assert cores == 1 or all(n > 1 for n in blas), blas  # a library may cap below the core count
        assert faiss.omp_get_max_threads() == 1
    finally:
        faiss.omp_set_num_threads(1)
