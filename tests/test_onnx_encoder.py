"""The ONNX encoder embeds like torch, so search ranks the same; it is exported once (fused, float32) and falls back to torch."""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from conftest import CHINESE_DIR, MODEL_DIR
from onnxruntime.transformers import optimizer

from shopsearch.common.config import ROOT, base_model_path
from shopsearch.data.catalog import Catalog, Product, load_catalog
from shopsearch.data.triplets import TripletSet
from shopsearch.retrieval.embeddings import EmbeddingCache, TorchEncoder, encode, model_fingerprint
from shopsearch.retrieval.evaluation import load_queries
from shopsearch.retrieval.onnx_encoder import (
    EXPORT_FORMAT,
    META_PROBES,
    OnnxEncoder,
    _session,
    export_path,
    mean_pool_normalize,
    remove_stale_exports,
)
from shopsearch.retrieval.search import build_engine
from shopsearch.serving.models import ModelStore
from shopsearch.training.chinese import ChineseParams, train_chinese
from shopsearch.training.seed import TrainParams, load_model, train

MODEL_DIRS = {"chinese": CHINESE_DIR, "shipped": MODEL_DIR, "base": Path(base_model_path())}
MIN_COSINE = 0.9999
QUERY_FILES = ("eval_queries.csv", "dev_queries.csv")


def _refuse_export(*args, **kwargs):
    raise RuntimeError("exporter broke")


def _refuse_fusion(*args, **kwargs):
    raise RuntimeError("fusion broke")


def _graph_ops(path: Path) -> list[str]:
    return [node.op_type for node in onnx.load(str(path)).graph.node]


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    """One cache folder for the module's exports, so each model is exported once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module", params=sorted(MODEL_DIRS))
def engines(request, catalog, export_root, tmp_path_factory):
    """(torch engine, ONNX engine) over catalog.csv for the Chinese-aware, the shipped seed and the base model."""
    model = request.getfixturevalue(f"{request.param}_model")
    fp = model_fingerprint(MODEL_DIRS[request.param])
    torch_engine = build_engine(model, fp, catalog, EmbeddingCache(tmp_path_factory.mktemp("torch")), onnx=False)
    onnx_engine = build_engine(model, fp, catalog, EmbeddingCache(export_root))
    return torch_engine, onnx_engine


@pytest.fixture(scope="module")
def extended_dir(base_model, tmp_path_factory) -> Path:
    """The base model with 猫 and 狗 added to its vocabulary (new random rows), saved like a run."""
    torch.manual_seed(0)
    model = copy.deepcopy(base_model)
    model.tokenizer.add_tokens(["猫", "狗"])
    model[0].auto_model.resize_token_embeddings(len(model.tokenizer), mean_resizing=False)
    path = tmp_path_factory.mktemp("extended")
    model.save(str(path))
    return path


def test_pooling_averages_only_real_tokens_then_normalises():
    """Tokens (3, 4) and padding (9, 9): the padding is ignored, and (3, 4) becomes (0.6, 0.8)."""
    pooled = mean_pool_normalize(np.array([[[3.0, 4.0], [9.0, 9.0]]], dtype=np.float32), np.array([[1, 0]]))
    assert pooled.dtype == np.float32
    assert np.allclose(pooled, [[0.6, 0.8]])


def test_a_bare_model_still_encodes_in_torch(shipped_model):
    """Callers that hand `encode` a SentenceTransformer (training, scripts) get exactly the model's own vectors."""
    texts = ["寻找一款K7", "wireless router", "保温杯 500ml"]
    reference = shipped_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.array_equal(encode(shipped_model, texts, len(texts)), reference)


def test_every_product_embeds_as_in_torch(engines, catalog):
    """Cosine ≥ 0.9999 between the ONNX and torch vectors of every product document; rows are unit float32."""
    torch_engine, onnx_engine = engines
    assert isinstance(onnx_engine.encoder, OnnxEncoder) and isinstance(torch_engine.encoder, TorchEncoder)
    ours, reference = np.asarray(onnx_engine.vectors), np.asarray(torch_engine.vectors)
    assert ours.dtype == np.float32 and ours.shape == (len(catalog.documents), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= MIN_COSINE, catalog.documents[int(cosine.argmin())]


@pytest.mark.parametrize("queries_file", QUERY_FILES)
def test_rankings_do_not_change(engines, queries_file, request):
    """For every eval and dev query, semantic and hybrid search return the same top-10 ids in the same order.

    CI runs the default model on the eval queries; the other five pairs (~6 min together) are exhaustive checks
    (scripts/reproduce_models.sh runs them)."""
    if (request.node.callspec.params.get("engines"), queries_file) != ("chinese", "eval_queries.csv"):
        request.applymarker(pytest.mark.exhaustive)
        if "exhaustive" not in (request.config.getoption("-m") or ""):
            pytest.skip("exhaustive: run by scripts/reproduce_models.sh")
    torch_engine, onnx_engine = engines
    for item in load_queries(ROOT / "data" / queries_file):
        ours, reference = onnx_engine.encode_query(item.query), torch_engine.encode_query(item.query)
        assert float(ours @ reference) >= MIN_COSINE, item.query
        for mode in ("semantic", "hybrid"):
            ids = [
                [hit.product_id for hit in engine.search(item.query, mode=mode, top=10, query_vector=vector).hits]
                for engine, vector in ((onnx_engine, ours), (torch_engine, reference))
            ]
            assert ids[0] == ids[1], (mode, item.query)


def test_the_export_is_fused_and_float32(engines):
    """One Attention op per layer (the fused graph), and no float16 anywhere, even for the float16-stored model."""
    _, onnx_engine = engines
    graph = onnx.load(str(onnx_engine.encoder.path)).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("Attention") == onnx_engine.model[0].auto_model.config.num_hidden_layers
    assert "EmbedLayerNormalization" in ops and "Softmax" not in ops
    assert {t.data_type for t in graph.initializer} <= {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.INT32}


def test_residual_adds_and_gelu_stay_unfused_in_the_file_and_in_the_session(engines, tmp_path):
    """SkipLayerNorm and BiasGelu run slower than the ops they replace, so neither the export nor the session has them."""
    _, onnx_engine = engines
    layers = onnx_engine.model[0].auto_model.config.num_hidden_layers
    optimized = tmp_path / "as_run.onnx"
    _session(onnx_engine.encoder.path, save_optimized_to=optimized)
    for path in (onnx_engine.encoder.path, optimized):
        ops = [node.op_type for node in onnx.load(str(path)).graph.node]
        assert "SkipLayerNormalization" not in ops and "BiasGelu" not in ops, path.name
        assert ops.count("LayerNormalization") == 2 * layers and ops.count("Gelu") == layers, path.name


def test_exporting_leaves_the_models_own_attention_alone(engines):
    """The export traces a copy switched to eager attention; the model torch keeps using is unchanged."""
    _, onnx_engine = engines
    assert onnx_engine.model[0].auto_model.config._attn_implementation == "sdpa"


def test_the_private_tokenizer_gives_the_models_own_inputs(engines, catalog):
    """Ids, mask and token types equal the model's tokenizer's, padded to the longest and cut at max_seq_length."""
    _, onnx_engine = engines
    texts = catalog.documents + ["K7 机械键盘 " * 300, "", "猫"]
    expected = onnx_engine.model.tokenizer(
        texts, padding=True, truncation="longest_first", max_length=onnx_engine.model.max_seq_length, return_tensors="np"
    )
    ours = onnx_engine.encoder.tokenize(texts)
    assert ours["input_ids"].shape[1] == onnx_engine.model.max_seq_length
    for name, array in ours.items():
        assert array.dtype == np.int64 and np.array_equal(array, expected[name]), name


def test_long_texts_are_truncated_as_in_torch(engines):
    """Beyond max_seq_length (256 tokens) both paths cut the text the same way."""
    torch_engine, onnx_engine = engines
    texts = ["K7 机械键盘 " * 300, "wireless router " * 200, "短"]
    cosine = (onnx_engine.encoder.encode(texts) * torch_engine.encoder.encode(texts)).sum(axis=1)
    assert cosine.min() >= MIN_COSINE


def test_an_extended_vocabulary_is_exported_with_its_new_rows(extended_dir, base_model, export_root):
    """Added tokens (猫, 狗) get ids beyond the base vocabulary; the export embeds them as torch does."""
    model = load_model(extended_dir)
    assert len(model.tokenizer) == len(base_model.tokenizer) + 2
    encoder = OnnxEncoder.for_model(model, model_fingerprint(extended_dir), export_root)
    assert encoder is not None
    texts = ["猫", "狗粮 猫砂", "寻找一款K7", "我想买一个羽毛球拍"]
    ours = encoder.encode(texts, batch_size=3)
    cosine = (ours * TorchEncoder(model).encode(texts)).sum(axis=1)
    assert cosine.min() >= MIN_COSINE
    assert float(ours[0] @ TorchEncoder(base_model).encode(["猫"])[0]) < 0.99, "猫 reads its new row, not [UNK]"


def test_a_runs_export_is_deleted_with_the_run(extended_dir, shipped_model, base_model, export_root, write):
    """A fine-tuned run is searched through ONNX too; ending its session deletes its export."""
    store = ModelStore(MODEL_DIR, base_model_path(), export_root / "runs", EmbeddingCache(export_root), shipped=shipped_model, base=base_model)
    run_id, path = store.new_run_dir()
    shutil.copytree(extended_dir, path)
    info = store.add_run("alice", run_id, path, "run", {})
    engine = store.engine(run_id, "alice", load_catalog(write("c.csv", "id,name\nA,猫粮 2kg\nB,狗绳 1.5m\n")))
    assert isinstance(engine.encoder, OnnxEncoder)
    assert engine.search("猫粮 2kg", mode="semantic", top=1).hits[0].product_id == "A"
    exported = export_path(export_root, info.fingerprint)
    assert exported.is_file()
    store.drop_session("alice")
    assert not exported.exists()


def test_a_second_call_reuses_the_cached_export(shipped_model, export_root, monkeypatch):
    """Exported once: a later call loads the file (same mtime) and never runs the exporter."""
    fp = model_fingerprint(MODEL_DIR)
    first = OnnxEncoder.for_model(shipped_model, fp, export_root)  # exports unless an earlier test did
    assert first is not None and first.path == export_path(export_root, fp)
    stamp = first.path.stat().st_mtime_ns
    monkeypatch.setattr(torch.onnx, "export", _refuse_export)
    second = OnnxEncoder.for_model(shipped_model, fp, export_root)
    assert second is not None and second.path == first.path
    assert first.path.stat().st_mtime_ns == stamp
    assert np.array_equal(first.encode(["寻找一款K7"]), second.encode(["寻找一款K7"]))


def test_a_cached_export_of_another_model_is_replaced(shipped_model, base_model, export_root, tmp_path, caplog):
    """A file under the wrong key (here the base model's export named as the shipped model's) is re-exported."""
    base = OnnxEncoder.for_model(base_model, model_fingerprint(base_model_path()), export_root)
    assert base is not None
    fp = model_fingerprint(MODEL_DIR)
    export_path(tmp_path, fp).parent.mkdir(parents=True)
    shutil.copy(base.path, export_path(tmp_path, fp))
    with caplog.at_level(logging.WARNING, logger="shopsearch.retrieval.onnx_encoder"):
        encoder = OnnxEncoder.for_model(shipped_model, fp, tmp_path)
    assert "exporting again" in caplog.text
    assert encoder is not None
    texts = ["寻找一款K7", "wireless router"]
    assert (encoder.encode(texts) * TorchEncoder(shipped_model).encode(texts)).sum(axis=1).min() >= MIN_COSINE


def test_a_broken_export_falls_back_to_torch(shipped_model, tmp_path, monkeypatch, caplog, write):
    """When the exporter raises, the engine searches with torch, says so in the log, and leaves no file behind."""
    monkeypatch.setattr(torch.onnx, "export", _refuse_export)
    fp = model_fingerprint(MODEL_DIR)
    with caplog.at_level(logging.WARNING, logger="shopsearch.retrieval.onnx_encoder"):
        assert OnnxEncoder.for_model(shipped_model, fp, tmp_path) is None
        engine = build_engine(shipped_model, fp, load_catalog(write("c.csv", "id,name\nA,机械师 K7 机械键盘\n")), EmbeddingCache(tmp_path))
    assert "falling back to torch" in caplog.text and "exporter broke" in caplog.text
    assert isinstance(engine.encoder, TorchEncoder)
    assert engine.search("寻找一款K7", mode="semantic", top=1).hits[0].product_id == "A"
    assert not list((tmp_path / "onnx").glob("*"))


def test_a_failed_fusion_keeps_the_plain_export(shipped_model, tmp_path, monkeypatch, caplog):
    """If onnxruntime cannot fuse the graph, the plain export is used (still like torch) and the log says so."""
    monkeypatch.setattr(optimizer, "optimize_model", _refuse_fusion)
    with caplog.at_level(logging.WARNING, logger="shopsearch.retrieval.onnx_encoder"):
        encoder = OnnxEncoder.for_model(shipped_model, model_fingerprint(MODEL_DIR), tmp_path)
    assert "could not fuse" in caplog.text and "fusion broke" in caplog.text
    assert encoder is not None and "Attention" not in _graph_ops(encoder.path)
    texts = ["寻找一款K7", "wireless router"]
    assert (encoder.encode(texts) * TorchEncoder(shipped_model).encode(texts)).sum(axis=1).min() >= MIN_COSINE
    assert [p.name for p in (tmp_path / "onnx").iterdir()] == [encoder.path.name]


def test_an_export_in_an_older_format_is_deleted_when_the_model_is_exported_again(shipped_model, tmp_path):
    """`<fp>.onnx` (the unfused format) goes; another model's export and another process's temp file stay."""
    fp = model_fingerprint(MODEL_DIR)
    folder = tmp_path / "onnx"
    folder.mkdir()
    names = (f"{fp}.onnx", "0123456789abcdef.onnx", f"{fp}.fused1.99.7.tmp.onnx")
    for name in names:
        (folder / name).write_bytes(b"old")
    encoder = OnnxEncoder.for_model(shipped_model, fp, tmp_path)
    assert encoder is not None
    assert sorted(p.name for p in folder.iterdir()) == sorted([encoder.path.name, *names[1:]])


def test_start_up_deletes_every_models_exports_in_an_older_format_and_nothing_else(tmp_path):
    """A model not exported again would keep its old files for good; the app's start-up sweeps them (any model)."""
    folder = tmp_path / "onnx"
    folder.mkdir()
    current = (f"0123456789abcdef.{EXPORT_FORMAT}.onnx", f"0123456789abcdef.{EXPORT_FORMAT}.99.7.tmp.onnx", "notes.onnx")
    stale = ("0123456789abcdef.onnx", "fedcba9876543210.fused1.onnx", "fedcba9876543210.fused2.onnx")
    for name in current + stale:
        (folder / name).write_bytes(b"x")
    assert remove_stale_exports(tmp_path) == sorted(stale)
    assert sorted(p.name for p in folder.iterdir()) == sorted(current)
    assert remove_stale_exports(tmp_path / "nothing here") == []


def _train_seed(out: Path, cache: Path) -> None:
    triplets = TripletSet(["寻找一款K7", "wireless router"] * 2, ["机械师 K7 机械键盘", "AX3000 路由器"] * 2, ["保温杯 500ml"] * 4)
    train(MODEL_DIR, triplets, out, TrainParams(epochs=1, batch_size=4), onnx_cache_dir=cache)


def _train_chinese_half(out: Path, cache: Path) -> None:
    products = [
        Product(f"T{i}", f"云朵 {n}", "云朵", "宠物", 99.0, f"适合猫狗的{n}。", "pet") for i, n in enumerate(["猫爬架", "狗窝", "猫砂盆", "逗猫棒"])
    ]
    params = ChineseParams(steps=1, batch_size=4, frequent_chars=0, vocab_init="none")
    train_chinese(MODEL_DIR, Catalog(products), None, out, params, half=True, onnx_cache_dir=cache)


@pytest.mark.slow
@pytest.mark.parametrize("trainer", [_train_seed, _train_chinese_half], ids=["seed recipe", "chinese recipe, float16"])
def test_a_fine_tuned_run_is_exported_when_it_is_saved(trainer, tmp_path, monkeypatch):
    """The trainer exports the saved model under its folder's fingerprint; the run, loaded back from disk (float16
    weights widened), then gets its encoder from that file without exporting, and it embeds like the loaded run."""
    out, cache = tmp_path / "run", tmp_path / "cache"
    trainer(out, cache)
    fp = model_fingerprint(out)
    assert export_path(cache, fp).is_file()
    monkeypatch.setattr(torch.onnx, "export", _refuse_export)
    run = load_model(out)
    encoder = OnnxEncoder.for_model(run, fp, cache)
    assert encoder is not None
    texts = ["寻找一款K7", "猫砂盆 除臭", "wireless router"]
    assert (encoder.encode(texts) * TorchEncoder(run).encode(texts)).sum(axis=1).min() >= MIN_COSINE


# --- torch-free loading: what lets the app serve its first page and search before torch is imported -------------------

HEAVY = ("torch", "transformers", "sentence_transformers", "datasets", "sklearn")


def _run_python(code: str) -> str:
    """Run `code` in a fresh interpreter (so sys.modules starts empty) and return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_cached_export_encodes_as_torch_without_importing_torch(engines, export_root, catalog):
    """The export carries its tokenizer and torch's probe vectors: loading it needs neither torch nor the model."""
    torch_engine, onnx_engine = engines
    fp = model_fingerprint(_dir_of(onnx_engine))
    texts = catalog.documents[:40] + ["寻找一款K7", ""]
    code = (
        "import json, sys\n"
        "from shopsearch.retrieval.onnx_encoder import OnnxEncoder\n"
        f"encoder = OnnxEncoder.cached({str(export_root)!r}, {fp!r})\n"
        f"vectors = encoder.encode({texts!r})\n"
        f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules], 'vectors': vectors.tolist()}}))\n"
    )
    out = json.loads(_run_python(code))
    assert out["heavy"] == []
    cosines = (np.asarray(out["vectors"], dtype=np.float32) * torch_engine.encoder.encode(texts)).sum(axis=1)
    assert cosines.min() >= MIN_COSINE


def _dir_of(engine) -> Path:
    """The model folder an engine of `engines` was built from (matched by its export's fingerprint)."""
    for path in MODEL_DIRS.values():
        if Path(engine.encoder.path).name.startswith(model_fingerprint(path)):
            return path
    raise AssertionError(engine.encoder.path)


def test_an_export_without_its_metadata_is_not_loaded_torch_free(shipped_model, tmp_path, caplog):
    """An export from before the metadata (or one stripped of it) is refused by `cached`, so the caller re-exports."""
    fp = model_fingerprint(MODEL_DIR)
    assert OnnxEncoder.for_model(shipped_model, fp, tmp_path) is not None
    path = export_path(tmp_path, fp)
    graph = onnx.load(str(path))
    del graph.metadata_props[:]
    onnx.save(graph, str(path))
    with caplog.at_level(logging.WARNING):
        assert OnnxEncoder.cached(tmp_path, fp) is None
    assert "metadata missing" in caplog.text
    assert OnnxEncoder.for_model(shipped_model, fp, tmp_path) is not None  # exported again, with its metadata
    assert OnnxEncoder.cached(tmp_path, fp) is not None


def test_an_export_whose_probe_vectors_disagree_is_refused(shipped_model, tmp_path, caplog):
    """The stored torch vectors are a real check: an export that no longer reproduces them is not used."""
    fp = model_fingerprint(MODEL_DIR)
    assert OnnxEncoder.for_model(shipped_model, fp, tmp_path) is not None
    path = export_path(tmp_path, fp)
    graph = onnx.load(str(path))
    for prop in graph.metadata_props:
        if prop.key == META_PROBES:
            vectors = np.asarray(json.loads(prop.value))
            prop.value = json.dumps(np.roll(vectors, 1, axis=0).tolist())  # each probe now claims another's vector
    onnx.save(graph, str(path))
    with caplog.at_level(logging.WARNING):
        assert OnnxEncoder.cached(tmp_path, fp) is None
    assert "cosine to torch" in caplog.text
