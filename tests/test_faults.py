"""Faults: a killed training never leaves a model to serve, leftovers are cleaned, downloads don't pile up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import MODEL_DIR

from shopsearch.common.config import ROOT, base_model_path
from shopsearch.data.triplets import TripletSet
from shopsearch.retrieval.embeddings import EmbeddingCache
from shopsearch.serving.downloads import Downloads
from shopsearch.serving.models import ModelStore
from shopsearch.training.seed import TrainParams, load_model, train


@pytest.mark.slow
def test_killing_a_training_leaves_no_model_and_the_next_training_works(tmp_path):
    out = tmp_path / "run"
    queries = tmp_path / "queries.csv"  # the CLI measures the start model first: on a few queries, not the eval set
    queries.write_text("query,product_ids\n寻找一款K7,P0118\n羽毛球拍,P0001\n", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = ["--start", str(MODEL_DIR), "--out", str(out), "--epochs", "1", "--catalog", str(ROOT / "catalog.csv"), "--queries", str(queries)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopsearch.training", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = iter(proc.stdout.readline, "")
    assert any("seed recipe" in line for line in lines)
    # The CLI measures the start model first, then trains: kill it once it reports training steps.
    assert any("step 10/" in line for line in lines), "the run must report its steps"  # tqdm shares the lines
    assert proc.poll() is None, "the run must still be going when it is killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists(), "a killed run must not leave a model folder where one is expected"

    triplets = TripletSet([f"寻找一款K{i}" for i in range(8)], [f"机械师 K{i} 机械键盘" for i in range(8)], ["峰景 双人登山帐篷"] * 8)
    result = train(MODEL_DIR, triplets, out, TrainParams(epochs=1, batch_size=8))
    assert not result.stopped and load_model(result.path).encode(["K7"]).shape == (1, 384)


def test_a_restart_removes_run_folders_left_by_the_previous_process(tmp_path, shipped_model, base_model):
    runs = tmp_path / "runs"
    (runs / "AbCdEfGhIjKlMnOp.partial").mkdir(parents=True)
    (runs / "QrStUvWxYz012345").mkdir()
    (runs / "notes.txt").write_text("not ours to delete")
    ModelStore(MODEL_DIR, base_model_path(), runs, EmbeddingCache(tmp_path / "cache"), shipped=shipped_model, base=base_model)
    assert sorted(p.name for p in runs.iterdir()) == ["notes.txt"]


def test_download_folders_are_unguessable_and_old_ones_are_pruned(tmp_path):
    downloads = Downloads(tmp_path / "dl", max_age_seconds=60)
    first = downloads.new_path("x.csv")
    first.write_text("a")
    second = downloads.new_path("../../etc/passwd")
    assert second.name == "passwd" and second.parent.parent == downloads.directory, "no path from a name escapes"
    assert first.parent != second.parent and len(first.parent.name) >= 12
    os.utime(first.parent, (time.time() - 120, time.time() - 120))
    assert downloads.prune() == 1 and not first.exists() and second.parent.is_dir()


def test_only_safetensors_weights_are_loaded_never_a_pickle(tmp_path):
    """A model folder whose weights are a pickle (pytorch_model.bin) is refused, and the pickle never runs."""
    import pickle
    import shutil

    folder = tmp_path / "evil-model"
    shutil.copytree(MODEL_DIR, folder)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(Exception):
        load_model(folder)
    assert not marker.exists()


def test_internal_errors_are_logged_not_shown(caplog):
    import gradio as gr

    from shopsearch.common.errors import QueryError
    from shopsearch.ui import text
    from shopsearch.ui.context import user_errors

    @user_errors
    def broken(_: str) -> None:
        raise KeyError("/secret/path/model.safetensors")

    @user_errors
    def refused(_: str) -> None:
        raise QueryError("请输入要搜索的内容。", "Please type something to search for.")

    with pytest.raises(gr.Error) as err:
        broken("x")
    assert err.value.message == text.INTERNAL_ERROR and "secret" not in err.value.message
    assert "secret/path" in caplog.text and "Traceback" in caplog.text, "the server log keeps the details"
    with pytest.raises(gr.Error) as err:
        refused("x")
    assert err.value.message == "请输入要搜索的内容。 · Please type something to search for."


def test_a_model_zip_is_stored_uncompressed_and_holds_every_file(tmp_path):
    """Weights do not deflate: the zip stores them (a copy, not seconds of compression) and unpacks to the same files."""
    import zipfile

    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 1000)
    (folder / "1_Pooling" / "config.json").write_text("{}")
    archive = Downloads(tmp_path / "dl").zip_folder(folder, "finetuned-abc.zip")
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["1_Pooling/config.json", "model.safetensors"]
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        assert zf.read("model.safetensors") == (folder / "model.safetensors").read_bytes()
