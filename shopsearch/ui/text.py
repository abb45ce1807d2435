"""Every user-facing string: Chinese first, English beside it."""

from __future__ import annotations

import html
import re

from shopsearch.common.errors import counted

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(value: str) -> str:
    """User text for a Markdown component, shown as typed: HTML escaped, Markdown punctuation backslashed, and "$$"
    (gradio's LaTeX delimiter, rendered by KaTeX after Markdown, so a backslash would not stop it) split by a zero-width space.

    Example: escape_markdown("<b>x</b> [a](b)") -> "&lt;b&gt;x&lt;/b&gt; \\[a\\]\\(b\\)"
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(value, quote=False))
    return escaped.replace("$", "$\u200b")


TITLE = "中文商品搜索 · Chinese product search"
TITLE_TAIL = "— all-MiniLM-L6-v2, taught to read Chinese"  # hidden on phones (app.py's CSS): the title stays one line
INTRO = (
    "原来的种子模型（用户用 TripletLoss 微调的 all-MiniLM-L6-v2）词表里只有 244 个汉字，大多数中文在它眼里都是 `[UNK]`。"
    "默认的**中文模型**把 4,813 个汉字加入词表，每个新字从它在 CC-CEDICT 里的英文释义初始化，再用批内负例训练——它能读懂查询。"
    "默认搜索把它和按字检索（BM25）结合；“模型看到了什么”显示每个查询在模型眼里的样子，切换到种子模型即可对比。\n\n"
    "The seed model (the user's TripletLoss fine-tune of all-MiniLM-L6-v2) has only 244 Chinese characters in its "
    "vocabulary, so most Chinese is `[UNK]` to it. The default **Chinese-aware model** adds 4,813 characters, each "
    "initialised from its CC-CEDICT English glosses, then trained with in-batch negatives: it reads the query. "
    'Default search fuses it with character-level BM25; "What the model sees" shows each query as the model sees it — '
    "switch to the seed model to compare."
)
ABOUT_LABEL = "关于这个演示：模型为什么能读中文 · About: how the model learned to read Chinese"
SHARED_MODELS = [("中文模型（默认）Chinese-aware (default)", "chinese"), ("种子模型 seed model (TripletLoss)", "shipped")]
SHORT_NAMES = {"chinese": "中文模型 Chinese-aware", "shipped": "种子模型 seed", "base": "基础模型 base"}
MODEL_CHOICE_LABEL = "模型 Model"
MODEL_CHOICE_INFO = (
    "种子模型把大多数汉字看成 [UNK]；中文模型学会了它们。 · The seed model sees most Chinese as [UNK]; the Chinese-aware one learned it."
)
TAB_SEARCH = "搜索 Search"
TAB_SIMILARITY = "相似度 Similarity"
TAB_FINETUNE = "微调 Fine-tune"

INTERNAL_ERROR = "出错了，请重试。 · Something went wrong; please try again."


def active_model(label: str) -> str:
    return f"**当前模型 Active model:** {label}"


def model_choices(shared: list[tuple[str, str]], runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The search tab's model switch: the shared models, then this session's runs (so the active one is always shown)."""
    return [*shared, *runs]


def pending_line(from_file: int, from_feedback: int) -> str:
    """What waits for a fine-tune, by source. Example: pending_line(3, 2) -> "… 3 from your file + 2 from feedback …" """
    if not from_file and not from_feedback:
        return ""
    return (
        f"待训练的三元组：文件 {from_file} 个 + 反馈 {from_feedback} 个。 · "
        f"Triplets ready to train: {from_file} from your file + {from_feedback} from feedback."
    )


MODES = [("混合 hybrid", "hybrid"), ("语义 semantic", "semantic"), ("字词 lexical (BM25)", "lexical")]
ALL_CATEGORIES = "全部类别 all categories"
NO_LIMIT = "不限 no limit"
PRICE_HINT = "0 或留空 = 不限 · 0 or empty = no limit"
ALPHA_LABEL = "语义权重 Semantic weight (hybrid; scaled by how much of the query the model can see)"

NOTHING_RELEVANT = (
    "**目录里似乎没有相关商品。** 下面的结果只是最接近的，可能并不相关。 · "
    "**Nothing in the catalog seems relevant.** The results below are only the closest, probably not matches."
)


# In "What the model sees" before the first search, so the open panel is never empty.
TOKENS_HINT = (
    "<p class='tokens-hint'>搜索后，这里逐个显示模型读到的 token；它看不到的字标为红色的 [UNK]。 · "
    "After a search: the query token by token, as the model reads it; characters it cannot see are marked [UNK] in red.</p>"
)
CHIPS_LABEL = "从查询中读到的条件（取消勾选即移除）· Read from your query (untick to remove)"


def demoted(terms: tuple[str, ...]) -> str:
    """Under a hit that mentions what the query said not to have. Example: ("4g",) -> "含 4g，已排到后面 · mentions 4g: ranked last" """
    shown = "、".join(terms)
    return f"含 {shown}，已排到后面 · mentions {shown}: ranked last"


def intent_boost(boost: float) -> str:
    return f"偏好调整 preference {boost:+.3f}"


def unk_warning(coverage: float) -> str:
    return (
        f"模型只能看到这个查询中 **{coverage:.0%}** 的字符，其余都是 `[UNK]`——语义分数几乎只靠拉丁字母和少数汉字。 · "
        f"The model sees only **{coverage:.0%}** of this query's characters; the rest are `[UNK]`."
    )


def timing(encode_ms: float, search_ms: float, total_ms: float, products: int) -> str:
    return f"编码 encode {encode_ms:.1f} ms · 检索 search {search_ms:.1f} ms · 合计 total {total_ms:.1f} ms · {products} 件商品 products"


def hybrid_weight(alpha: float, coverage: float, weight: float, reference: float = 0.0, reading: tuple[int, int] | None = None) -> str:
    """How hybrid scored: the model's and BM25's weights, and e5's (retrieval.reference) when it took part or still reads.

    Example: hybrid_weight(0.5, 1.0, 0.5, 0.25) -> "混合：语义权重 … e5 0.25 …"
    """
    zh = f"混合：语义权重 = {alpha:.2f} × 模型可见字符 {coverage:.0%} = **{weight:.2f}**，BM25 权重 {1 - weight:.2f}"
    en = f"Hybrid: semantic weight = {alpha:.2f} × characters the model sees {coverage:.0%} = **{weight:.2f}**; BM25 {1 - weight:.2f}"
    if reference:
        zh += f"，另加 e5（multilingual-e5-small）{reference:.2f}"
        en += f"; plus e5 (multilingual-e5-small) {reference:.2f}"
    elif reading is not None:
        zh += f"；e5 正在读取商品名（{reading[0]}/{reading[1]}），读完后加入"
        en += f"; e5 is still reading the names ({reading[0]}/{reading[1]}) and joins when done"
    return f"{zh}。 · {en}."


CATALOG_FALLBACK = "仍使用默认目录。 · Searching the shipped catalog."


def catalog_loaded(products: int) -> str:
    return f"已载入 {products} 件商品，本会话的搜索和相似度使用它。 · Loaded {counted(products, 'product')}; this session's search and similarity use it."


FEEDBACK_RULES = (
    "相关 (+)：与你在这个查询下标为不相关 (−) 的每个结果各组成一个三元组（查询, 相关, 不相关）；还没有 (−) 时，与你没有标为相关的最靠前"
    "结果配对。不相关 (−)：与这个查询下每个 (+) 结果配对；还没有 (+) 时先记下，等你标出一个相关结果。 · "
    "Relevant (+) pairs the result with every result you marked Not relevant (−) for this query, one triplet (query, "
    "relevant, not relevant) each; with no (−) yet, with the best-ranked result you did not mark relevant. Not relevant (−) "
    "pairs it with every (+) result of this query; with no (+) yet, it waits for one."
)


def liked_note(hit: str, marked: list[str], skipped: list[str], total: int) -> str:
    """What a (+) made: pairs with the (−) results, or (with none) with the result passed over; `hit` and the names are
    Markdown-escaped by the caller. Example: liked_note("#1 K7", [], ["#2 K8"], 1) -> "(+) #1 K7: … #2 K8 …" """
    if marked:
        made = f"(+) {hit}：与你标为 (−) 的 {'、'.join(marked)} 配对。 · (+) {hit}: paired with your (−) {', '.join(marked)}."
    elif skipped:
        made = (
            f"(+) {hit}：还没有 (−)，按规则与你没有标为相关的最靠前结果 {skipped[0]} 配对（它作负例；对另一个结果标 (−) 即可换掉）。 · "
            f"(+) {hit}: with no (−) yet, the best-ranked result you did not mark relevant, {skipped[0]}, is its negative "
            "(mark another result (−) to choose it instead)."
        )
    else:
        made = f"(+) {hit}：已记下，但没有可配对的其他结果。 · (+) {hit}: noted; there is no other result to pair it with."
    return f"{made}\n\n{collected(total)}"


def disliked_note(hit: str, positives: list[str], total: int) -> str:
    """What a (−) made: the negative of every (+) result of the query, or nothing yet (it waits for a (+))."""
    if positives:
        made = f"(−) {hit}：作为负例与你的 (+) {'、'.join(positives)} 配对。 · (−) {hit}: the negative for your (+) {', '.join(positives)}."
    else:
        made = (
            f"(−) {hit}：已记下。这个查询还没有 (+) 结果；标出一个相关结果后，它就成为负例。 · "
            f"(−) {hit}: noted. It becomes a negative once you mark a result of this query relevant (+)."
        )
    return f"{made}\n\n{collected(total)}"


def sent_feedback(total: int) -> str:
    """What Send to Fine-tune did. Example: sent_feedback(2) -> "已把 2 个反馈三元组发送到微调页… · Sent 2 feedback triplets…" """
    return (
        f"已把 {total} 个反馈三元组发送到“微调”页：下一次微调会用它们训练。 · "
        f"Sent {counted(total, 'feedback triplet')} to the Fine-tune tab: your next fine-tune trains on them."
    )


def collected(total: int) -> str:
    return f"已收集 {total} 个三元组。 · {counted(total, 'triplet')} collected."


TEACHER_PLAN = (
    "你的目录只有标题：先由多语言教师模型 multilingual-e5-small 读标题和从中截取的关键词查询（约 {seconds:.0f} 秒，已计入预计时间），"
    "每一步再学它的排序；80 步以上效果明显。 · Your catalog is titles only: first a multilingual teacher, multilingual-e5-small, "
    "reads the titles and keyword queries cut from them (about {seconds:.0f} s, in the estimate); each step then learns how it "
    "ranks them. It pays from about 80 steps."
)
ESTIMATE = (
    "预计 {n} 步，约 {seconds:.0f} 秒（按实测 {per_step:.2f} 秒/步）· Estimated {steps}, about {seconds:.0f} s ({per_step:.2f} s/step measured)"
)
QUEUED = "另一个微调正在进行，你在队列中——轮到你时会自动开始。 · Another fine-tune is running; yours starts automatically when its turn comes."
HARD_NEGATIVES_HELP = (
    "用当前模型在目录中挖掘最相近的错误商品作为负例（sentence-transformers 的 mine_hard_negatives），"
    "跳过名称含查询关键词的商品以免误伤。 · Negatives mined from the catalog with the active model "
    "(sentence-transformers' mine_hard_negatives): the wrong products it ranks closest; names containing the "
    "query's keyword are skipped so a right answer never becomes a negative."
)
EXTEND_VOCAB_HELP = (
    "种子配方也可以把数据中模型不认识的汉字加入词表，新字从 CC-CEDICT 英文释义初始化（与中文配方相同）。"
    "但 TripletLoss 本身仍只学模板词；要让模型读懂中文，请用中文配方。 · "
    "The seed recipe can also add the data's unknown Chinese characters, their rows starting from their CC-CEDICT "
    "English glosses (as in the Chinese-aware recipe). TripletLoss itself still learns template words; to teach the "
    "model Chinese, use the Chinese-aware recipe."
)
LIMITS = (
    "上限 Limits: 文件 file ≤ {mb} MB · 行 rows ≤ {rows} · 轮 epochs ≤ {epochs} · 步数 steps ≤ {steps} · "
    "训练时间 training time ≤ {minutes:.0f} min（到时停止并保留模型 then it stops and keeps the model）· "
    "一次只训练一个微调，每个会话最多排队一个，最多 {waiting} 个排队 · one fine-tune trains at a time; one per session "
    "in line, at most {waiting} waiting"
)
WAITING = "排队中：前面还有 {ahead} 个微调。 · Waiting: {ahead} fine-tune(s) ahead of yours."
LEFT_QUEUE = "已离开队列，没有训练。 · Left the queue; nothing was trained."
UNMEASURED = (
    "目录不到 5 件商品，也没有留出的三元组：除非上传评估文件，没有查询能衡量新模型，它会保留但不会自动启用。 · Under 5 "
    "products and no held-out triplets: unless you upload an evaluation file, nothing can measure the new model, so it "
    "will be kept, not switched on."
)
NOTHING_TRAINED = "已在第一步之前停止：没有训练，也没有保留模型。 · Stopped before the first step: nothing was trained, so no model is kept."
TIME_CAP = "已到 {minutes:.0f} 分钟的训练时间上限，正在保存已训练的模型。 · Reached the {minutes:.0f}-minute cap; saving what was trained."
CAPPED = (
    "已到 {minutes:.0f} 分钟的训练时间上限：训练了 {done}/{total} 步，{seconds:.0f} 秒，已保存训练到的模型。 · "
    "Reached the {minutes:.0f}-minute training cap after {done}/{total} steps ({seconds:.0f} s); what was trained is saved."
)
STOPPED = "已停止：{done}/{total} 步，{seconds:.0f} 秒。 · Stopped by you: {done}/{total} steps, {seconds:.0f} s."
DONE = "完成：{done} 步，{seconds:.0f} 秒。 · Done: {steps}, {seconds:.0f} s."  # steps: counted(done, "step")
OVER_CAP = (
    "⚠ 按最近的实测速度，训练约需 {training:.0f} 秒，超过 {cap} 秒的上限：到时会停止并保留已训练的部分。{fit} · "
    "At the latest measured pace the training needs about {training:.0f} s, over the {cap} s cap: it would stop there and "
    "keep what it trained.{fit_en}"
)
ZIP_READY = (
    "模型已打包（{mb:.0f} MB），点击“下载模型”。它会随这个模型一起删除。 · "
    "Zipped ({mb:.0f} MB): click “Download model”. It is deleted together with the model."
)
CATALOG_LIMITS = "自定义目录 Your catalog: CSV，只需商品名称列 name / title / 标题，id 可选 (only a name or title column required; id optional) · ≤ {mb} MB · ≤ {rows} 件商品 products"

EVAL_FILE_HELP = (
    "用你自己的查询衡量微调：CSV 两列 `query,product_ids`（多个 id 用 | 分隔，与 `python -m shopsearch evaluate` 相同），"
    "id 必须在当前目录中。没有这个文件时：内置目录用内置评测集；你上传的目录用留出的三元组中正例在目录里的那些，"
    "没有的话用从部分商品标题截取的关键词查询（这些商品不参与训练）。 · "
    "Measure the fine-tune with your own queries: a CSV `query,product_ids` (ids separated by |, as `python -m shopsearch "
    "evaluate` reads), ids from the active catalog. Without it: the built-in catalog uses the built-in eval set; your "
    "own catalog uses the held-out triplets whose positive is one of its products, else keyword queries cut from the titles "
    "of products left out of training."
)
RECIPE_NAMES = {"chinese": "中文配方 Chinese-aware", "seed": "种子配方 seed"}
RECIPE_HELP = (
    "中文配方：把数据中的汉字加入词表（新字从 CC-CEDICT 英文释义初始化），再用批内负例（MultipleNegativesRankingLoss）训练你的三元组"
    "和从当前目录生成的查询–商品对。种子配方：原模型卡的 TripletLoss（实测会让模型变差，保留用于复现）。 · "
    "Chinese-aware: add the data's Chinese characters to the vocabulary (new rows start from their CC-CEDICT English "
    "glosses), then train with in-batch negatives (MNRL) on your triplets plus query–product pairs generated from the "
    "active catalog. Seed: the original model card's TripletLoss (measured to make the model worse; kept to reproduce it)."
)

BEFORE_AFTER_LABEL = (
    "训练前后（语义搜索；before = 本会话正在使用的模型）· Before / after (semantic search; before = the model this session was using)"
)
STOPPING = "正在停止：当前这一步结束后停止，模型会保留。 · Stopping after the current step; the model is kept."
NOTHING_RUNNING = "没有正在进行的微调。 · No fine-tune is running."
EVALUATING = "评估新模型… · Evaluating the new model…"


def started_line(train: int, held_out: int, steps: int, seconds: float, teacher_seconds: float) -> str:
    """What a run does first, before its first step shows. Example: started_line(0, 0, 40, 90, 12) -> "训练目录的标题… ·
    Training on the catalog's titles, 40 steps, about 90 s. First your current model is measured, then the teacher reads
    the titles (about 12 s)…" """
    if train:
        what = f"训练 {train} 个三元组（留出 {held_out} 个评估）", f"Training on {counted(train, 'triplet')} ({held_out} held out)"
    else:
        what = "没有三元组：训练目录里的商品", "No triplets: training on the catalog's products"
    first = "先衡量当前模型"
    first_en = "First your current model is measured"
    if teacher_seconds:
        first += f"，再由教师模型读标题（约 {teacher_seconds:.0f} 秒）"
        first_en += f", then the teacher reads the titles (about {teacher_seconds:.0f} s)"
    return (
        f"{what[0]}，{steps} 步，预计 {seconds:.0f} 秒。{first}，然后显示第一步。 · "
        f"{what[1]}, {counted(steps, 'step')}, about {seconds:.0f} s. {first_en}; the first step shows after that."
    )


def file_problem(message: str) -> str:
    """An upload that cannot be used, said in the report area (escaped: the message may quote the file)."""
    return f"**无法使用这个文件 · This file cannot be used:** {escape_markdown(message)}"


WEAK_HITS = "以下结果与查询关系较弱 · Weaker matches below"
RUN_EXPIRED = "你微调的模型已过期并被删除，现在使用默认的中文模型。 · Your fine-tuned model expired and was deleted; searching with the default Chinese-aware model."
RUN_EVICTED = (
    "磁盘空间不足：你微调的模型被删除以腾出空间（先删除占用最多的访客的最旧文件），现在使用默认的中文模型。 · "
    "The disk was full: your fine-tuned model was deleted to make room (the oldest files of whoever holds the most go "
    "first); searching with the default Chinese-aware model."
)
CATALOG_EXPIRED = "你上传的目录长时间未使用，已被删除，现在搜索默认目录。 · Your uploaded catalog was unused for too long and was deleted; searching the shipped catalog."
CATALOG_EVICTED = (
    "磁盘空间不足：你上传的目录被删除以腾出空间（先删除占用最多的访客的最旧文件），现在搜索默认目录。 · "
    "The disk was full: your uploaded catalog was deleted to make room (the oldest files of whoever holds the most go "
    "first); searching the shipped catalog."
)
# Shown where the results will appear while a search waits for its model's first engine (~15 s on a first start).
PREVIOUS_RESULTS = "下面仍是上一次搜索「{query}」的结果。 · The results below are still those of your previous search, “{query}”."
PREPARING_SEARCH = (
    '<p class="preparing">正在准备这个模型的搜索：首次使用时要导出模型并为目录生成向量，约需 15 秒，之后每次搜索只需几毫秒。<br>'
    "Preparing this model for search: on first use it is exported and the catalog is embedded (about 15 s); "
    "after that a search takes milliseconds.</p>"
)
WARMING = (
    "后台正在准备模型（搜索、比较和相似度使用）和训练组件（微调使用）… · "
    "Preparing the models (for Search, Compare and Similarity) and the trainer (for Fine-tune) in the background…"
)
