"""Shared fixtures: the real models load once per test session; files are isolated per test."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Under pytest-xdist each worker launches its own app: give it its own runs folder, so a test that counts the runs it
# made never sees another worker's (the sessions folder follows the runs folder).
# Tests also import this module by name, which runs it a second time: set the folder once.
# Each xdist worker gets one thread for torch, BLAS and OpenMP: two workers on two cores. Left at torch's default (a
# thread per core in each worker) the threads of both spin against each other: one worker encoding the 446 eval
# queries one at a time took 182 s beside the other's work, 11 s with one thread.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
if (worker := os.environ.get("PYTEST_XDIST_WORKER")) and not os.environ.get("SHOPSEARCH_RUNS_DIR", "").endswith(f"/{worker}"):
    runs = Path(os.environ.get("SHOPSEARCH_RUNS_DIR") or Path(__file__).resolve().parent.parent / ".cache" / "runs")
    os.environ["SHOPSEARCH_RUNS_DIR"] = str(runs / worker)

from shopsearch.common.config import ROOT, base_model_path  # noqa: E402
from shopsearch.data.catalog import Catalog, load_catalog  # noqa: E402
from shopsearch.retrieval.embeddings import EmbeddingCache, model_fingerprint  # noqa: E402
from shopsearch.retrieval.search import SearchEngine, build_engine  # noqa: E402
from shopsearch.training.seed import load_model  # noqa: E402

MODEL_DIR = ROOT / "model"
CHINESE_DIR = ROOT / "model_chinese"
SEED_WIDGET_QUERIES = ["我想买一个羽毛球拍", "有什么好的斯伯丁街头篮球推荐吗？", "寻找一款网速", "寻找一款K7", "最近在看童趣派，有什么建议？"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog.csv")


@pytest.fixture(scope="session")
def shipped_model():
    """The committed fine-tuned model (read-only: copy it before mutating)."""
    return load_model(MODEL_DIR)


@pytest.fixture(scope="session")
def chinese_model():
    """The committed Chinese-aware model (read-only)."""
    return load_model(CHINESE_DIR)


@pytest.fixture(scope="session")
def base_model():
    return load_model(base_model_path())


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> EmbeddingCache:
    return EmbeddingCache(tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="session")
def engine(shipped_model, catalog, session_cache) -> SearchEngine:
    return build_engine(shipped_model, model_fingerprint(MODEL_DIR), catalog, session_cache)


@pytest.fixture(scope="session")
def chinese_engine(chinese_model, catalog, session_cache) -> SearchEngine:
    """The app's default engine: the Chinese-aware model with its calibrated "nothing relevant" rule."""
    return build_engine(chinese_model, model_fingerprint(CHINESE_DIR), catalog, session_cache, model_dir=CHINESE_DIR)


@pytest.fixture(scope="session")
def base_engine(base_model, catalog, session_cache) -> SearchEngine:
    return build_engine(base_model, model_fingerprint(base_model_path()), catalog, session_cache)


@pytest.fixture
def write(tmp_path: Path):
    """write(name, content) -> path: a real file for upload/validation tests (str → UTF-8, bytes as given)."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return _write


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped model folder, for tests that train or mutate."""
    target = tmp_path / "model"
    shutil.copytree(MODEL_DIR, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    import app

    app.with_queue(app.demo)
    port = free_port()
    app.demo.launch(prevent_thread_lock=True, server_port=port, quiet=True, **app.launch_kwargs(app.get_settings()))
    app.PAGE_SERVED.set()  # as app.py's __main__ does: the warm-up goes on to import the training stack
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the item (the browser fixture screenshots failed tests)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
