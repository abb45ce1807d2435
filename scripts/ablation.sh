#!/usr/bin/env bash
# The Chinese-aware recipe one piece at a time (README: "Ablation"). Each variant is trained from the base model
# into scratch/ablation/ (never committed), then evaluated semantic-only on the dev and eval queries.
#   bash scripts/ablation.sh            # ~20 min on 2 idle cores
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
PY=${PYTHON:-.venv/bin/python}
OUT=scratch/ablation
mkdir -p "$OUT"
train() {  # train NAME ARGS...: one variant of `python -m shopsearch.training --recipe chinese`
  local name=$1; shift
  [ -f "$OUT/$name/model.safetensors" ] || "$PY" -m shopsearch.training --recipe chinese --fp32 --distill-steps 0 --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1
}
train vocab-mean-no-training --vocab-init mean --steps 0
train vocab-random-no-training --vocab-init random --steps 0
train vocab-gloss-no-training --vocab-init gloss --steps 0
train mnrl-without-vocab --vocab-init none
train vocab-random-mnrl --vocab-init random
train vocab-gloss-mnrl --vocab-init gloss
# the shipped model (model_chinese/) is vocab-gloss-mnrl plus 150 distillation steps first
models="base,seed"
for name in vocab-mean-no-training vocab-random-no-training vocab-gloss-no-training mnrl-without-vocab vocab-random-mnrl vocab-gloss-mnrl; do
  models="$models,$OUT/$name"
done
models="$models,chinese"
for set in dev eval; do
  echo "== $set queries (semantic only)"
  "$PY" -m shopsearch evaluate --queries "data/${set}_queries.csv" --models "$models" --methods semantic
done
