#!/usr/bin/env bash
# Rebuild both shipped models from the base model and check them against the committed weights (cosine >= 0.99 on
# the seed widget sentences), and run the exhaustive checks (ONNX vs torch rankings of every model on the dev queries). Run it before any change to a recipe; CI runs only the short check
# (tests/test_recipe_reference.py). About 10 minutes on 2 idle cores.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest -m "reproduce or exhaustive" -p no:cacheprovider "$@"
