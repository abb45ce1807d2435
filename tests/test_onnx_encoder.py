"""The ONNX encoder embeds like torch, so search ranks the same; it is exported once and falls back to torch."""

from __future__ import annotations

import copy
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from shopsearch.catalog import load_catalog
from shopsearch.config import ROOT, base_model_path
from shopsearch.embeddings import EmbeddingCache, TorchEncoder, encode, model_fingerprint
from shopsearch.evaluation import load_queries
from shopsearch.models import ModelStore
from shopsearch.onnx_encoder import OnnxEncoder, export_path, mean_pool_normalize
from shopsearch.search import build_engine
from shopsearch.training import load_model

from conftest import MODEL_DIR

MODEL_DIRS = {"shipped": MODEL_DIR, "base": Path(base_model_path())}
MIN_COSINE = 0.9999


def _refuse_export(*args, **kwargs):
    raise RuntimeError("exporter broke")


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    """One cache folder for the module's exports, so each model is exported once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module", params=sorted(MODEL_DIRS))
def engines(request, catalog, export_root, tmp_path_factory):
    """(torch engine, ONNX engine) over catalog.csv for the shipped seed model and the base model."""
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


def test_semantic_rankings_do_not_change(engines):
    """For every query of data/eval_queries.csv, semantic search returns the same top-10 ids in the same order."""
    torch_engine, onnx_engine = engines
    for item in load_queries(ROOT / "data" / "eval_queries.csv"):
        ours, reference = onnx_engine.encode_query(item.query), torch_engine.encode_query(item.query)
        assert float(ours @ reference) >= MIN_COSINE, item.query
        ids = [
            [hit.product_id for hit in engine.search(item.query, mode="semantic", top=10, query_vector=vector).hits]
            for engine, vector in ((onnx_engine, ours), (torch_engine, reference))
        ]
        assert ids[0] == ids[1], item.query


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
    store = ModelStore(MODEL_DIR, base_model_path(), export_root / "runs", EmbeddingCache(export_root),
                       shipped=shipped_model, base=base_model)
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
    with caplog.at_level(logging.WARNING, logger="shopsearch.onnx_encoder"):
        encoder = OnnxEncoder.for_model(shipped_model, fp, tmp_path)
    assert "exporting again" in caplog.text
    assert encoder is not None
    texts = ["寻找一款K7", "wireless router"]
    assert (encoder.encode(texts) * TorchEncoder(shipped_model).encode(texts)).sum(axis=1).min() >= MIN_COSINE


def test_a_broken_export_falls_back_to_torch(shipped_model, tmp_path, monkeypatch, caplog, write):
    """When the exporter raises, the engine searches with torch, says so in the log, and leaves no file behind."""
    monkeypatch.setattr(torch.onnx, "export", _refuse_export)
    fp = model_fingerprint(MODEL_DIR)
    with caplog.at_level(logging.WARNING, logger="shopsearch.onnx_encoder"):
        assert OnnxEncoder.for_model(shipped_model, fp, tmp_path) is None
        engine = build_engine(shipped_model, fp, load_catalog(write("c.csv", "id,name\nA,机械师 K7 机械键盘\n")), EmbeddingCache(tmp_path))
    assert "falling back to torch" in caplog.text and "exporter broke" in caplog.text
    assert isinstance(engine.encoder, TorchEncoder)
    assert engine.search("寻找一款K7", mode="semantic", top=1).hits[0].product_id == "A"
    assert not list((tmp_path / "onnx").glob("*"))
