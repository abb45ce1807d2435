"""Every user-facing string: Chinese first, English beside it."""

from __future__ import annotations

import html
import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(value: str) -> str:
    """User text for a Markdown component, shown as typed: HTML escaped, Markdown punctuation backslashed, and "$$"
    (gradio's LaTeX delimiter, rendered by KaTeX after Markdown, so a backslash would not stop it) split by a zero-width space.

    Example: escape_markdown("<b>x</b> [a](b)") -> "&lt;b&gt;x&lt;/b&gt; \\[a\\]\\(b\\)"
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(value, quote=False))
    return escaped.replace("$", "$\u200b")


TITLE = "中文商品搜索 · Chinese product search — all-MiniLM-L6-v2 + TripletLoss"
INTRO = (
    "用微调后的 all-MiniLM-L6-v2 搜索商品、比较句子相似度、并用你自己的三元组重新训练。"
    "注意：这个英文模型的词表只有 244 个汉字，大多数中文字符在它眼里都是 `[UNK]`——所以默认搜索把模型和按字检索（BM25）结合起来。\n\n"
    "Search products with the fine-tuned all-MiniLM-L6-v2, compare sentence similarities, and retrain on your own "
    "triplets. Note: this English model's vocabulary holds only 244 Chinese characters, so most Chinese is `[UNK]` "
    "to it — the default search therefore fuses the model with character-level BM25."
)
TAB_SEARCH = "搜索 Search"
TAB_SIMILARITY = "相似度 Similarity"
TAB_FINETUNE = "微调 Fine-tune"

INTERNAL_ERROR = "出错了，请重试。 · Something went wrong; please try again."


def active_model(label: str) -> str:
    return f"**当前模型 Active model:** {label}"


MODES = [("混合 hybrid", "hybrid"), ("语义 semantic", "semantic"), ("字词 lexical (BM25)", "lexical")]
ALL_CATEGORIES = "全部类别 all categories"
ALPHA_LABEL = "语义权重 Semantic weight (hybrid; scaled by how much of the query the model can see)"

NOTHING_RELEVANT = (
    "⚠️ **目录里似乎没有相关商品。** 下面的结果只是最接近的，可能并不相关。 · "
    "**Nothing in the catalog seems relevant.** The results below are only the closest, probably not matches."
)


def unk_warning(coverage: float) -> str:
    return (
        f"⚠️ 模型只能看到这个查询中 **{coverage:.0%}** 的字符，其余都是 `[UNK]`——语义分数几乎只靠拉丁字母和少数汉字。 · "
        f"The model sees only **{coverage:.0%}** of this query's characters; the rest are `[UNK]`."
    )


def timing(encode_ms: float, search_ms: float, total_ms: float, products: int) -> str:
    return (
        f"⏱ 编码 encode {encode_ms:.1f} ms · 检索 search {search_ms:.1f} ms · 合计 total {total_ms:.1f} ms · "
        f"{products} 件商品 products"
    )


def hybrid_weight(alpha: float, coverage: float, weight: float) -> str:
    return (
        f"⚖️ 混合：语义权重 = {alpha:.2f} × 模型可见字符 {coverage:.0%} = **{weight:.2f}**，BM25 权重 {1 - weight:.2f}。 · "
        f"Hybrid: semantic weight = {alpha:.2f} × characters the model sees {coverage:.0%} = **{weight:.2f}**; BM25 {1 - weight:.2f}."
    )


ESTIMATE = "预计 {steps} 步，约 {seconds:.0f} 秒（按实测 {per_step:.2f} 秒/步）· Estimated {steps} steps, about {seconds:.0f} s ({per_step:.2f} s/step measured)"
QUEUED = "⏳ 另一个微调正在进行，你在队列中——轮到你时会自动开始。 · Another fine-tune is running; yours starts automatically when its turn comes."
HARD_NEGATIVES_HELP = (
    "用当前模型在目录中挖掘最相近的错误商品作为负例（sentence-transformers 的 mine_hard_negatives），"
    "跳过名称含查询关键词的商品以免误伤。 · Negatives mined from the catalog with the active model "
    "(sentence-transformers' mine_hard_negatives): the wrong products it ranks closest; names containing the "
    "query's keyword are skipped so a right answer never becomes a negative."
)
EXTEND_VOCAB_HELP = (
    "把数据中模型不认识的汉字加入词表（新增词向量，从平均值开始训练）。实测（种子配方，500 个三元组）：新增 930 个字，"
    "开发集语义 Recall@1 仅从 0.309 升到 0.318，留出三元组准确率从 0.88 降到 0.86，训练时间约 2 倍——基本无帮助。 · "
    "Add the data's unknown Chinese characters as new tokens (embeddings start at the mean). Measured on the seed "
    "recipe: 930 characters added, dev semantic Recall@1 0.309 → 0.318, held-out triplet accuracy 0.88 → 0.86, "
    "about 2× the training time — it barely helps."
)
LIMITS = "上限 Limits: 文件 file ≤ {mb} MB · 行 rows ≤ {rows} · 轮 epochs ≤ {epochs} · 一次只运行一个微调 one fine-tune at a time"
CATALOG_LIMITS = "自定义目录 Your catalog: CSV，至少需要 id 和 name 列 (only id and name required) · ≤ {mb} MB · ≤ {rows} 件商品 products"
