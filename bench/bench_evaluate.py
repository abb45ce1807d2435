"""CPU-seconds of `python -m shopsearch evaluate` on a synthetic 2,083-title catalog × 250 queries.

    python bench/bench_evaluate.py                       # all methods, models base,chinese,seed; cold cache
    python bench/bench_evaluate.py --warm                # second run on the same cache (vectors, ONNX exports kept)
    python bench/bench_evaluate.py --extra=--cross-check # anything after --extra= goes to the CLI
    python bench/bench_evaluate.py --native --code DIR   # older code: `git archive REV shopsearch | tar -x -C DIR`,
                                                         # with model/, model_chinese/, catalog.csv, data/ linked in DIR

Stands in for the outside Taobao benchmark (2,083 real titles, 250 queries; kept outside the repo): every product of
catalog.csv becomes 6–7 shop-style titles (name + words of its description and tags + the filler shops add, in a
fixed random order), and the first 250 answered queries of data/dev_queries.csv expect every title of their
product. The files are written to `--out` (default scratch/bench_evaluate/, never committed) in an outside
layout (`item_id,title` and `query,expected_id`). The CLI runs as a child process; its CPU time (user + system, from
getrusage of the children) and peak RSS are printed. Timings are noisy on shared machines: compare runs made
back to back.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLES = 2083
QUERIES = 250
SHOP_WORDS = ["正品", "官方旗舰", "2024新款", "包邮", "热卖", "限时特价", "黑色", "白色", "升级款", "加厚", "送礼", "家用", "学生", "男女通用"]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def make_data(out: Path, seed: int = 7, native: bool = False) -> tuple[Path, Path]:
    """Write `titles.csv` (item_id,title) and `queries.csv` (query,expected_id) under `out`; return both paths.

    With `native`, the project's own column names instead (id,name and query,product_ids), which every version of
    the CLI reads: for a before/after comparison with code that predates the outside layouts.

    Example: product P0001 "疾光 88 羽毛球拍" -> titles like "疾光 88 羽毛球拍 后场 进攻型 正品 3U"
    """
    rng = random.Random(seed)
    products = _read(ROOT / "catalog.csv")
    variants: dict[str, list[str]] = {p["id"]: [] for p in products}
    rows = []
    for n in range(TITLES):
        product = products[n % len(products)]
        words = [w for w in re.split(r"[，。、,;；\s]+", product["description"] + " " + product["tags"]) if w]
        picked = rng.sample(words, k=min(len(words), rng.randint(1, 4))) + rng.sample(SHOP_WORDS, k=rng.randint(1, 3))
        rng.shuffle(picked)
        item_id = f"T{n + 1:05d}"
        variants[product["id"]].append(item_id)
        rows.append((item_id, f"{product['name']} {' '.join(picked)}"))
    # The first 250 answered dev queries: rows are only ever appended to that file, so the set stays the same.
    chosen = [q for q in _read(ROOT / "data" / "dev_queries.csv") if q["product_ids"].strip()][:QUERIES]
    out.mkdir(parents=True, exist_ok=True)
    titles, queries = out / "titles.csv", out / "queries.csv"
    with titles.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name"] if native else ["item_id", "title"])
        writer.writerows(rows)
    with queries.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["query", "product_ids"] if native else ["query", "expected_id"])
        for q in chosen:
            ids = [i for pid in q["product_ids"].split("|") if pid.strip() for i in variants[pid.strip()]]
            writer.writerow([q["query"], "|".join(ids)])
    return titles, queries


def run_cli(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> dict[str, float]:
    """Run `python -m shopsearch evaluate ARGS` in `cwd` as a child; its CPU-seconds, wall seconds and peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shopsearch", "evaluate", *args], cwd=cwd, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "wall_s": wall, "max_rss_mb": after.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "scratch" / "bench_evaluate"))
    parser.add_argument("--models", default="base,chinese,seed")
    parser.add_argument("--methods", default="semantic,hybrid,lexical")
    parser.add_argument("--warm", action="store_true", help="keep the cache of an earlier run (default: a fresh one)")
    parser.add_argument("--native", action="store_true", help="id,name / query,product_ids columns (for older code)")
    parser.add_argument("--code", default=str(ROOT), help="folder whose shopsearch/ runs (e.g. an older version, unpacked)")
    parser.add_argument("--extra", default="", help="more CLI arguments, space-separated")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    titles, queries = make_data(out, native=args.native)
    cache = out / "cache"
    if not args.warm and cache.exists():
        import shutil

        shutil.rmtree(cache)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SHOPSEARCH_CACHE_DIR": str(cache)}
    cli = [
        "--catalog",
        str(titles),
        "--queries",
        str(queries),
        "--models",
        args.models,
        "--methods",
        args.methods,
        "--json",
        str(out / "result.json"),
        *args.extra.split(),
    ]
    figures = run_cli(cli, env, Path(args.code))
    print(
        f"\nevaluate on {TITLES} titles × {QUERIES} queries, models {args.models}, methods {args.methods}"
        f" ({'warm' if args.warm else 'cold'} cache): {figures['cpu_s']:.1f} CPU-s, {figures['wall_s']:.1f} s wall,"
        f" peak RSS {figures['max_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
