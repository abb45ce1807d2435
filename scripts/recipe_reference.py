"""Write tests/data/recipe_reference.json: a few deterministic steps of each recipe from the base model, and the
vectors they give the seed widget sentences. `tests/test_recipe_reference.py` repeats the same steps and compares,
so a change to a recipe (data, vocabulary, initialisation, losses, settings) shows in the default test suite without
rebuilding the shipped models (that is `bash scripts/reproduce_models.sh`).

    python scripts/recipe_reference.py          # after an intended recipe change; commit the JSON with it
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shopsearch.common.config import base_model_path  # noqa: E402
from shopsearch.data.catalog import load_catalog  # noqa: E402
from shopsearch.data.triplets import TripletSet, check_frame  # noqa: E402
from shopsearch.training.params import ChineseParams, TrainParams  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "recipe_reference.json"
SENTENCES = ["我想买一个羽毛球拍", "有什么好的斯伯丁街头篮球推荐吗？", "寻找一款网速", "寻找一款K7", "最近在看童趣派，有什么建议？"]
CHINESE = ChineseParams(steps=4, distill_steps=2, distill_batch=32, threads=2)  # the shipped recipe's stages, shortened
SEED = TrainParams(epochs=1, batch_size=16, threads=2)
SEED_ROWS = 64  # 4 steps


def run_recipes(folder: Path) -> dict:
    """Both recipes' short runs from the base model: per-step losses and the widget sentences' vectors."""
    import pandas as pd

    from shopsearch.training.chinese import train_chinese
    from shopsearch.training.seed import load_model, train

    catalog = load_catalog(ROOT / "catalog.csv")
    triplets, _ = check_frame(pd.read_csv(ROOT / "data" / "triplets.csv", dtype=str, keep_default_na=False))
    chinese = train_chinese(base_model_path(), catalog, triplets, folder / "chinese", CHINESE)
    first = TripletSet(triplets.anchors[:SEED_ROWS], triplets.positives[:SEED_ROWS], triplets.negatives[:SEED_ROWS])
    seed = train(base_model_path(), first, folder / "seed", SEED)
    out = {}
    for name, result in (("chinese", chinese), ("seed", seed)):
        vectors = load_model(result.path).encode(SENTENCES, normalize_embeddings=True)
        out[name] = {"losses": [round(s.loss, 5) for s in result.losses], "vectors": [[round(float(x), 6) for x in v] for v in vectors]}
    return out


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="recipe-reference-") as scratch:
        REFERENCE.write_text(json.dumps(run_recipes(Path(scratch))) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE}")
