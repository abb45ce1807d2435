"""ModelStore: runs belong to their session, few stay loaded, and their folders go when the session ends or expires."""

from __future__ import annotations

import shutil
import time

import pytest
from conftest import MODEL_DIR

from shopsearch.common.config import base_model_path
from shopsearch.common.errors import UserError
from shopsearch.retrieval.embeddings import EmbeddingCache
from shopsearch.serving.models import BASE, SHIPPED, ModelStore


@pytest.fixture
def store(tmp_path, shipped_model, base_model):
    return ModelStore(
        MODEL_DIR,
        base_model_path(),
        tmp_path / "runs",
        EmbeddingCache(tmp_path / "cache"),
        max_loaded_runs=1,
        ttl_seconds=60,
        shipped=shipped_model,
        base=base_model,
    )


def add_run(store: ModelStore, session: str):
    run_id, path = store.new_run_dir()
    shutil.copytree(MODEL_DIR, path)
    return store.add_run(session, run_id, path, f"run of {session}", {"recall@1": 0.5})


def test_a_session_sees_and_uses_only_its_own_runs(store):
    mine, theirs = add_run(store, "alice"), add_run(store, "bob")
    assert [r.id for r in store.runs("alice")] == [mine.id]
    assert store.model(mine.id, "alice") is not None
    for session in ("bob", None, ""):
        with pytest.raises(UserError):
            store.info(mine.id, session)
    with pytest.raises(UserError):
        store.model(theirs.id, "alice")
    assert store.info(SHIPPED, "alice").owner is None and store.info(BASE, None).owner is None


def test_run_ids_are_unguessable(store):
    ids = {store.new_run_dir()[0] for _ in range(200)}
    assert len(ids) == 200 and min(len(i) for i in ids) >= 16


def test_only_a_few_runs_stay_loaded(store):
    first, second = add_run(store, "alice"), add_run(store, "alice")
    store.model(first.id, "alice")
    store.model(second.id, "alice")
    assert store.loaded_runs == 1, "the least recently used run is evicted from memory"
    assert first.path.is_dir(), "eviction frees memory, not the files: the run can be activated again"
    assert store.model(first.id, "alice") is not None


def test_ending_a_session_deletes_its_runs_and_only_its_runs(store):
    mine, theirs = add_run(store, "alice"), add_run(store, "bob")
    assert store.drop_session("alice") == 1
    assert not mine.path.exists() and theirs.path.is_dir()
    with pytest.raises(UserError):
        store.info(mine.id, "alice")


def test_runs_unused_past_the_ttl_are_deleted(store):
    old, fresh = add_run(store, "alice"), add_run(store, "bob")
    old.last_used = time.time() - 61
    assert store.expire() == 1
    assert not old.path.exists() and fresh.path.is_dir()
    assert store.expire(now=time.time() + 3600) == 1 and not fresh.path.exists()


def test_parallel_requests_for_one_engine_build_it_once(store, catalog, monkeypatch):
    """Ten visitors asking at once for the same (model, catalog) engine share one build (single-flight)."""
    import threading

    import shopsearch.serving.models as models

    builds = []
    real_build = models.build_engine

    def counting_build(*args, **kwargs):
        if args[2] is catalog:  # only this test's builds: the patch reaches the app's own store too, in this process
            builds.append(1)
            time.sleep(0.3)  # long enough for every thread to arrive while the first build runs
        return real_build(*args, **kwargs)

    monkeypatch.setattr(models, "build_engine", counting_build)
    engines = []
    threads = [threading.Thread(target=lambda: engines.append(store.engine(BASE, None, catalog))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(engines) == 10 and all(e is engines[0] for e in engines)


def test_an_expired_run_falls_back_to_the_default_model(store):
    """After expiry the owner's next request uses the shared default model (the UI adds a one-line notice)."""
    run = add_run(store, "alice")
    assert store.usable(run.id, "alice") == (run.id, False)
    assert store.expire(now=time.time() + 3600) == 1
    assert store.usable(run.id, "alice") == (store.default_id, True)
    assert store.usable(run.id, "bob") == (store.default_id, True)  # never someone else's run


def test_with_vectors_and_export_cached_an_engine_is_built_without_loading_the_model(store, catalog, tmp_path):
    """What a warm start does: the engine comes from the cache files alone, and ranks exactly as the torch-built one.
    needs_build (what the search tab asks before it says "preparing…") is true only before the first build."""
    assert store.needs_build(SHIPPED, None, catalog)
    first = store.engine(SHIPPED, None, catalog)  # a first start: the model in torch embeds the catalog and is exported
    assert first.model is not None and not store.needs_build(SHIPPED, None, catalog)
    restarted = ModelStore(MODEL_DIR, base_model_path(), tmp_path / "runs2", EmbeddingCache(tmp_path / "cache"))
    assert not restarted.needs_build(SHIPPED, None, catalog)  # not built yet, but from cached files in a moment
    assert restarted.needs_build(BASE, None, catalog)  # nothing of the base model's is cached
    assert not restarted.needs_build("gone-run", "alice", catalog)  # a run that is gone: the default model, as usable()
    again = restarted.engine(SHIPPED, None, catalog)
    assert again.model is None and restarted._shared[SHIPPED] is None  # never loaded in torch
    for query in ("寻找一款K7", "我想买一个羽毛球拍", "wireless router", "保温杯 500ml"):
        ours, theirs = again.search(query, top=10), first.search(query, top=10)
        assert [h.product_id for h in ours.hits] == [h.product_id for h in theirs.hits]
        assert ours.model_coverage == theirs.model_coverage  # the same tokenizer, read from tokenizer.json
    assert restarted.encoder(SHIPPED, None) is again.encoder  # the similarity views share the engine's ONNX session
    assert restarted._shared[SHIPPED] is None


def test_without_a_cached_export_the_model_is_loaded_in_torch(tmp_path, catalog):
    """A first start (nothing cached) loads the model on demand, lazily: constructing the store loads nothing."""
    fresh = ModelStore(MODEL_DIR, base_model_path(), tmp_path / "runs", EmbeddingCache(tmp_path / "cache"))
    assert fresh._shared[SHIPPED] is None
    engine = fresh.engine(SHIPPED, None, catalog)
    assert engine.model is not None and fresh._shared[SHIPPED] is engine.model
    # It reads tokens with the store's one private copy of the tokenizer, never the model's shared transformers one.
    assert engine.tokenizer is fresh.tokenizer(SHIPPED, None)
