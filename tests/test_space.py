"""The Space configuration and a start with no network."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from huggingface_hub import SpaceCard

from shopsearch.common.config import ROOT


def test_readme_front_matter_is_a_valid_space_card():
    card = SpaceCard.load(ROOT / "README.md")
    data = card.data.to_dict()
    assert data["sdk"] == "gradio"
    assert (ROOT / data["app_file"]).is_file()
    pinned = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("gradio=="))
    assert data["sdk_version"] == pinned.split("==")[1]
    assert data["python_version"] == "3.11"


@pytest.mark.slow
def test_app_starts_offline_and_serves_the_page(tmp_path):
    """`python app.py` with HF_HUB_OFFLINE=1 and proxies pointing nowhere serves the page."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "GRADIO_SERVER_PORT": str(port),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        "SHOPSEARCH_RUNS_DIR": str(tmp_path / "runs"),
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
    }  # its own: a starting app clears its downloads folder
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    return
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
                time.sleep(0.5)
        pytest.fail("the app did not serve its page within 180 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_missing_model_stops_with_one_clear_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SHOPSEARCH_MODEL_DIR": str(tmp_path / "nowhere")}
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2
    assert "cannot start" in proc.stderr and "model" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_missing_catalog_stops_with_one_clear_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SHOPSEARCH_CATALOG": str(tmp_path / "none.csv")}
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2 and "Catalog file not found" in proc.stderr and "Traceback" not in proc.stderr
