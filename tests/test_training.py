"""The shipped model: loads offline, matches its training data, and training reproduces it; runs can be stopped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import MODEL_DIR, SEED_WIDGET_QUERIES

from shopsearch.common.config import ROOT, base_model_path
from shopsearch.data.triplets import TripletSet, check_frame
from shopsearch.training.seed import TrainParams, bf16_is_fast, load_model, train


def test_shipped_model_loads_offline_and_encodes_384_dimensions(shipped_model):
    vectors = shipped_model.encode(SEED_WIDGET_QUERIES)
    assert vectors.shape == (5, 384)
    card = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    for expected in ("dataset_size:500", "loss:TripletLoss", "base_model: sentence-transformers/all-MiniLM-L6-v2", "widget:"):
        assert expected in card


def test_shipped_model_was_trained_on_the_committed_triplets(shipped_model, base_model):
    """Fine-tuning moved the model: on its own training triplets it separates positives better than the base."""
    frame = pd.read_csv(ROOT / "data" / "triplets.csv", dtype=str, keep_default_na=False).head(200)

    def margin(model) -> float:
        a, p, n = (model.encode(frame[c].tolist(), normalize_embeddings=True) for c in frame.columns)
        return float(np.mean((a * p).sum(1) - (a * n).sum(1)))

    assert margin(shipped_model) > margin(base_model) + 0.05


@pytest.mark.reproduce
def test_retraining_reproduces_the_committed_model(tmp_path, shipped_model):
    """The training CLI's recipe rebuilds model/: cosine ≥ 0.99 on the seed widget sentences."""
    frame = pd.read_csv(ROOT / "data" / "triplets.csv", dtype=str, keep_default_na=False)
    triplets, _ = check_frame(frame)
    result = train(base_model_path(), triplets, tmp_path / "rebuilt", TrainParams())
    assert result.steps_done == 64 and not result.stopped
    rebuilt = load_model(result.path)
    ours = shipped_model.encode(SEED_WIDGET_QUERIES, normalize_embeddings=True)
    theirs = rebuilt.encode(SEED_WIDGET_QUERIES, normalize_embeddings=True)
    assert (ours * theirs).sum(axis=1).min() >= 0.99


@pytest.mark.slow
def test_stop_flag_stops_training_within_two_steps(tmp_path):
    triplets = TripletSet([f"查询{i} K{i}" for i in range(64)], [f"商品 K{i}" for i in range(64)], ["帐篷"] * 64)
    seen = []
    result = train(
        MODEL_DIR,
        triplets,
        tmp_path / "run",
        TrainParams(epochs=1, batch_size=8),
        on_step=lambda s: seen.append(s.step),
        should_stop=lambda: len(seen) >= 2,
    )
    assert result.stopped and result.steps_done <= 4 and result.max_steps == 8
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert not (tmp_path / "run.partial").exists()


@pytest.mark.slow
def test_extending_the_vocabulary_adds_the_missing_characters(tmp_path):
    triplets = TripletSet(["我想买羽毛球拍"] * 4, ["疾光 77 羽毛球拍"] * 4, ["恒温瓶 1升"] * 4)
    result = train(MODEL_DIR, triplets, tmp_path / "run", TrainParams(epochs=1, batch_size=4, extend_vocab=True))
    assert result.added_tokens > 5
    model = load_model(result.path)
    assert "[UNK]" not in model.tokenizer.tokenize("我想买羽毛球拍")


@pytest.mark.slow
@pytest.mark.skipif(not bf16_is_fast(), reason="bfloat16 training is used only on CPUs with AMX")
def test_bfloat16_training_learns_what_float32_training_learns(tmp_path):
    """The fine-tune tab trains in bfloat16 autocast where the CPU has AMX (about half the CPU time per step): from the
    same start and data, its model embeds like the float32 one, and is saved in float32."""
    frame = pd.read_csv(ROOT / "data" / "triplets.csv", dtype=str, keep_default_na=False).head(96)
    triplets, _ = check_frame(frame)
    runs = {
        bf16: load_model(train(base_model_path(), triplets, tmp_path / str(bf16), TrainParams(epochs=1, bf16=bf16)).path) for bf16 in (False, True)
    }
    texts = SEED_WIDGET_QUERIES + list(triplets.positives[:20])
    ours, theirs = (runs[b].encode(texts, normalize_embeddings=True) for b in (True, False))
    start = load_model(base_model_path()).encode(texts, normalize_embeddings=True)
    assert (ours * theirs).sum(axis=1).min() >= 0.99
    assert (theirs * start).sum(axis=1).min() < 0.99  # the runs did move away from the start, the same way
    assert next(runs[True].parameters()).dtype == torch.float32
