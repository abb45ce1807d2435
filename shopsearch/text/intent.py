"""What a query asks for beyond its words: terms it does not want, a price, an audience — each one a chip.

`parse_query("星耀Pad 11 普通版 不要4G")` reads `不要4G` as "not 4G": the engine demotes products that mention 4G
and scores the query without it. Price phrases (`两百以内`, `under 300`, `1000左右`, `便宜`) and audience words
(`男`, `女士`, `儿童`, `elderly`) become a filter or a soft preference. Every intent is a `Chip` the UI shows and the
user can remove: `parse_query(text, ignore=("price",))` reads the same query as if that intent had not been seen,
its words back in the text that is scored.

Only explicit negations count (不要, 不含, 不带, 非, 别, without, no, not): 无 is not one, since 无线 (wireless) and
无糖 (sugar-free) name what a product is. A number is a price only beside a price word (以内, 左右, under, 元…)
and never when a unit follows it (不到80克 is a weight, 3-5岁 an age).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from shopsearch.text.lexical import latin_tokens
from shopsearch.text.query import content_text, word_boundaries

AUDIENCES = {"男": "men", "女": "women", "儿童": "kids", "老人": "elderly", "成人": "adults"}
# Words of a query naming who the product is for, folded (NFKC, lower case). Chinese ones count only as whole
# jieba words, so 男 of 男女 or 老 of 老师 is not an audience. Spouses (老公, 老婆) are left out: "带老婆孩子去露营"
# names the buyer's family, not who a product is for.
AUDIENCE_WORDS = {
    "男": ("男", "男士", "男款", "男生", "男式", "男性", "男装", "男子", "男人", "men", "men's", "mens", "male"),
    "女": ("女", "女士", "女款", "女生", "女式", "女性", "女装", "女子", "女人", "women", "women's", "womens", "female", "ladies"),
    "儿童": ("儿童", "孩子", "小孩", "宝宝", "小朋友", "幼儿", "童", "男孩", "女孩", "男童", "女童", "kids", "kid", "child", "children", "toddler"),
    "老人": (
        "老人",
        "老年人",
        "老年",
        "长辈",
        "爸妈",
        "父母",
        "老人家",
        "爷爷",
        "奶奶",
        "外公",
        "外婆",
        "elderly",
        "senior",
        "seniors",
        "grandparents",
    ),
    "成人": ("成人", "成年人", "大人", "adult", "adults", "grown-up", "grown-ups"),
}
# What in a product's text says it is for that audience (a product is boosted, never removed, for it).
AUDIENCE_MARKS = {
    "男": re.compile(r"男|\bmen\b|\bmen's|\bmale\b"),
    "女": re.compile(r"女|\bwomen\b|\bwomen's|\bfemale\b|\bladies\b"),
    "儿童": re.compile(r"儿童|孩子|小孩|宝宝|小朋友|幼儿|童|\bkids?\b|\bchild(?:ren)?\b|\btoddlers?\b"),
    "老人": re.compile(r"老人|老年|长辈|父母|爸妈|\belderly\b|\bseniors?\b"),
    "成人": re.compile(r"成人|成年|\badults?\b"),  # not 大人: a product text has it inside 加大人体工学
}
# Per audience, tokens (lexical.tokenize's: a CJK character or pair, a latin word) of which any text AUDIENCE_MARKS finds
# holds at least one, so that a large catalog looks only at the products its index finds holding one
# (SearchEngine._audience_rows). AUDIENCE_NAMES are whole alternatives of the mark: holding one is naming the audience.
# A text may hold one of AUDIENCE_HINTS without the mark matching (the token men of "men2", where no word boundary
# follows; 小朋 without 友): a product holding only hints is read.
AUDIENCE_NAMES = {
    "男": ("男",),
    "女": ("女",),
    "儿童": ("儿童", "孩子", "小孩", "宝宝", "幼儿", "童"),
    "老人": ("老人", "老年", "长辈", "父母", "爸妈"),
    "成人": ("成人", "成年"),
}
AUDIENCE_HINTS = {
    "男": ("men", "male"),
    "女": ("women", "female", "ladies"),
    "儿童": ("小朋", "kid", "kids", "child", "children", "toddler", "toddlers"),
    "老人": ("elderly", "senior", "seniors"),
    "成人": ("adult", "adults"),
}
# An audience whose opposite a product may name (女款 for 跑步鞋 男: demoted). A query naming both names neither
# ("男生女生都适合", "大人小孩都能用").
OPPOSITE_AUDIENCE = {"男": "女", "女": "男", "成人": "儿童", "儿童": "成人"}
AROUND_WINDOW = 0.2  # "1000左右" prefers ¥800–¥1200
MIN_BARE_PRICE = 10  # a number below this is a price only with a money word (5元, ¥5)

# A number: digits, Chinese numerals, or both (2千5, 1.5万). Every repetition is bounded and a digit run may only
# follow a numeral, so no input makes the patterns backtrack for long (a 500-digit query is parsed in a millisecond).
_CN_NUMERALS = "零〇一二两三四五六七八九十百千万"
_NUM = rf"(?:\d{{1,9}}(?:,\d{{3}}){{0,3}}(?:\.\d{{1,2}})?|[{_CN_NUMERALS}])(?:[{_CN_NUMERALS}]|(?<=[{_CN_NUMERALS}])\d{{1,4}}(?:\.\d{{1,2}})?){{0,8}}"
_CN_ROUND = r"[一二两三四五六七八九十]{0,3}[十百千万]"  # 一百, 两千, 十 — what 多 can follow (一百多 = ¥100–¥200)
_PRE = r"(?<![a-z0-9.\-])(?:[¥￥]\s*)?"
_UNIT = r"(?:\s*(?:块钱|块|元|人民币|rmb|yuan|cny|kuai)(?![a-z]))?"
_CN_UPPER = r"不超过|不到|不高于|低于|少于|最多|最高|预算"
_EN_UPPER = r"under|below|less than|cheaper than|within|up to|max|at most|no more than|budget(?: of)?"
_EN_LOWER = r"over|above|more than|at least|min"
_EN_AROUND = r"around|about|approximately|approx\.?|roughly"
_MONEY_WORD = re.compile(r"[¥￥元块]|rmb|yuan|cny|kuai|以内|以下|左右|预算")
# "kids under 12", "ages 3 to 5": an age, not a price.
_AGE_BEFORE = re.compile(r"(?:kids?|children|child|toddlers?|bab(?:y|ies)|ages?|aged)\s*(?:under|below|over|above|around|about|from)?\s*$")
# (kind of range, pattern): group "a" is the number (and "b" the upper end of a range).
_PRICE_PATTERNS = [
    ("range", re.compile(rf"{_PRE}(?P<a>{_NUM}){_UNIT}\s*(?:到|至|-|~|～|—|–|to)\s*[¥￥]?\s*(?P<b>{_NUM}){_UNIT}")),
    ("range", re.compile(rf"between\s+{_PRE}(?P<a>{_NUM}){_UNIT}\s+and\s+[¥￥]?\s*(?P<b>{_NUM}){_UNIT}")),
    ("upper", re.compile(rf"(?:(?:{_CN_UPPER})\s*)?{_PRE}(?P<a>{_NUM}){_UNIT}\s*(?:以内|以下|之内|之下)")),
    ("lower", re.compile(rf"{_PRE}(?P<a>{_NUM}){_UNIT}\s*(?:以上|起)")),
    ("around", re.compile(rf"{_PRE}(?P<a>{_NUM}){_UNIT}\s*(?:左右|上下)")),
    ("more", re.compile(rf"(?<![零〇一二两三四五六七八九十百千万\d])(?P<a>{_CN_ROUND})多{_UNIT}")),
    ("upper", re.compile(rf"(?:{_CN_UPPER})\s*{_PRE}(?P<a>{_NUM}){_UNIT}")),
    ("upper", re.compile(rf"\b(?:{_EN_UPPER})\s*{_PRE}(?P<a>{_NUM}){_UNIT}")),
    ("lower", re.compile(rf"\b(?:{_EN_LOWER})\s*{_PRE}(?P<a>{_NUM}){_UNIT}")),
    ("around", re.compile(rf"\b(?:{_EN_AROUND})\s*{_PRE}(?P<a>{_NUM}){_UNIT}")),
]
# After a number, these make it a quantity, not a price: 80克, 3-5岁, 2-3人, under 300 g, about 6 people.
_CN_MEASURES = set("克斤升瓦寸岁人米码号层档核倍次页片张瓶包度匹代年月周天位色键口杯袋盒套支把台部条根粒颗节本段级挡个件只双℃%")
_CN_MEASURE_WORDS = ("小时", "分钟", "公里", "公斤", "千克", "毫升", "毫米", "厘米", "英寸", "毫安", "赫兹")
_EN_MEASURES = re.compile(
    r"(?:g|kg|grams?|mg|ml|l|liters?|litres?|w|watts?|mah|hz|inch(?:es)?|in|cm|mm|m|meters?|km|hours?|h|hrs?|minutes?|"
    r"mins?|days?|gb|tb|mb|people|persons?|players?|years?|yrs?|months?|kids?|pieces?|pcs|pack|percent|k|x|p|mp)\b"
)
_PREFER_LOW = re.compile(
    r"不要太贵|别太贵|不太贵|不贵|便宜|实惠|平价|低价|not too expensive|not expensive|inexpensive|cheap(?:er|est)?|"
    r"affordable|low[- ]cost|budget"
)
_PREFER_HIGH = re.compile(r"贵一点|贵点|高端|高档|premium|high[- ]end|expensive|luxury")
# Explicit negations only. Chinese ones must start a word (要不要 is not 不要); 非 and 别 must be words of their own
# (非常 is "very", 特别 "especially"). English "not" after an auxiliary negates a verb ("does not leak"), not a feature.
_CN_NEGATIONS = ("不要", "不含", "不带", "非", "别")
_EN_NEGATION = re.compile(
    r"(?<![a-z])(?P<aux>(?:do|does|did|is|are|was|will|can|should|would|could|must)\s+)?(?:without|no|not)\s+(?:(?:a|an|the|any)\s+)?(?=\S)"
)
_EN_NOT_A_TERM = {"more", "longer", "need", "matter", "problem", "less", "too", "very", "so", "way"}
_LATIN_TERM = re.compile(r"[a-z0-9](?:[a-z0-9.+\-]*[a-z0-9+])?")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
_NEGATED_VERBS = set("要买选用带含")
# A negated "word" that is no product term: 别买 ("don't buy"), 不要太大 is 太 + 大.
_NOT_A_TERM = set("买要用是的了太会能想给让被把也都很")
# How a product's own text says it lacks something: 内胆不含涂层 must not count as "has 涂层".
_DOC_NEGATIONS = ("不含", "不带", "无需", "没有", "免", "无", "非", "without ", "no ", "free of ")


@dataclass(frozen=True)
class PriceRange:
    """A price the query asks for.

    `low`/`high` bound it (either may be None); `soft` means prefer, don't filter; `prefer` is "low" (便宜: cheaper
    first among the relevant hits) or "high" (高端), or None; `words` are the query's words it came from.
    """

    low: float | None = None
    high: float | None = None
    soft: bool = False
    prefer: str | None = None
    words: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        """Whether it has a bound at all (便宜 alone has none: it only orders)."""
        return self.low is not None or self.high is not None


@dataclass(frozen=True)
class Chip:
    """One intent read from the query, as the UI shows it.

    `id` is unique within a query ("not:4g", "price:两百以内", "audience:男"); `kind` is "not", "price", "cheap",
    "premium" or "audience"; `label` is bilingual, Chinese first; `span` is (start, end) in the query as typed.
    """

    id: str
    kind: str
    label: str
    span: tuple[int, int]


@dataclass(frozen=True)
class ParsedQuery:
    """One query, understood.

    `semantic` is what the model reads (the query minus its negations and price ranges, filler kept; the query as
    typed if nothing else is left); `content` is what BM25 and the "nothing relevant" coverage read (`semantic` minus
    filler). `chips` are the intents in force, `ignored` the ones the caller asked to ignore (the UI shows them
    unticked so they can be put back).
    """

    text: str
    semantic: str
    content: str
    excluded: tuple[str, ...] = ()
    price: PriceRange | None = None
    audience: str | None = None
    chips: tuple[Chip, ...] = ()
    ignored: tuple[Chip, ...] = ()


@dataclass(frozen=True)
class _Intent:
    """A chip and what it means, before the chips are split into active and ignored."""

    chip: Chip
    scored: bool  # whether its words stay in the text that is scored (audience words, 便宜) or leave it
    term: str | None = None  # a negated term
    price: PriceRange | None = None
    audience: str | None = None


def fold(text: str) -> str:
    """NFKC and lower-case `text` one character at a time, keeping its length (a character whose fold is longer,
    like ㎏ → kg, stays as it was), so offsets in the folded text are offsets in `text`.

    Example: fold("ＡＢ４Ｇ") -> "ab4g"
    """
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ATOM = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]")


def parse_number(text: str) -> float | None:
    """A number written in digits, Chinese numerals or both; None if it is not one.

    A lone digit after 百/千/万 is the next lower unit, as it is said: 一千五 is 1500, 两千五 2500, 2千5 2500.
    Example: "两百" -> 200; "一千五" -> 1500; "1.5万" -> 15000; "1,200" -> 1200; "一百零五" -> 105; "两三百" -> None
    """
    atoms = _ATOM.findall(text)
    if "".join(atoms) != text or not atoms:
        return None
    total = section = 0.0
    number: float | None = None
    last_unit, after_zero = 1, False
    for atom in atoms:
        if atom in _CN_UNITS:
            unit = _CN_UNITS[atom]
            if unit == 10000:
                total += ((section + (number or 0)) or 1) * unit
                section = 0.0
            else:
                section += (1 if number is None else number) * unit
            number, last_unit, after_zero = None, unit, False
        elif atom in ("零", "〇"):
            number, after_zero = None, True
        elif number is not None:  # two numbers in a row: 两三百 is a range, not a number
            return None
        else:
            number = float(atom.replace(",", "")) if atom[0].isdigit() else float(_CN_DIGITS[atom])
    if number is not None:
        implied = last_unit // 10 if last_unit >= 100 and not after_zero and number < 10 else 1
        section += number * implied
    return total + section


def _quantity_follows(folded: str, end: int) -> bool:
    """Whether a unit of measure follows position `end` (after spaces): then the number before it is no price."""
    rest = folded[end:].lstrip()
    if not rest:
        return False
    if rest[0] in _CN_MEASURES or rest.startswith(_CN_MEASURE_WORDS):
        return True
    if folded[end : end + 1].isalnum() and folded[end].isascii():  # 300g, 5g, 120hz: a letter glued to the number
        return True
    return bool(_EN_MEASURES.match(rest))


def _money(value: float) -> str:
    """Example: 200.0 -> "¥200"; 1499.5 -> "¥1499.5"; 2e6 -> "¥2000000" """
    return f"¥{value:.10g}"


def _price_intent(kind: str, match: re.Match[str], span: tuple[int, int], words: str) -> _Intent | None:
    """The price one pattern match means, or None if its numbers are not a sensible price."""
    a = parse_number(match.group("a"))
    b = parse_number(match.group("b")) if "b" in match.groupdict() else None
    if a is None or a <= 0 or (kind == "range" and (b is None or b <= a)):
        return None
    if a < MIN_BARE_PRICE and not _MONEY_WORD.search(words):  # usb 3.0-3.1, under 5: versions and ages, not yuan
        return None
    if kind == "upper":
        price, label = PriceRange(high=a, words=(words,)), f"价格 ≤ {_money(a)} · price ≤ {a:.10g}"
    elif kind == "lower":
        price, label = PriceRange(low=a, words=(words,)), f"价格 ≥ {_money(a)} · price ≥ {a:.10g}"
    elif kind == "range":
        assert b is not None  # a range without `b` returned None above
        price, label = PriceRange(low=a, high=b, words=(words,)), f"价格 {_money(a)}–{_money(b)} · price {a:.10g}–{b:.10g}"
    elif kind == "around":
        low, high = round(a * (1 - AROUND_WINDOW), 2), round(a * (1 + AROUND_WINDOW), 2)
        price = PriceRange(low=low, high=high, soft=True, words=(words,))
        label = f"价格约 {_money(a)}（{_money(low)}–{_money(high)}）· price around {a:.10g}"
    else:  # "more": 一百多 is ¥100 up to the next hundred
        step = float(_CN_UNITS[match.group("a")[-1]])
        price = PriceRange(low=a, high=a + step, soft=True, words=(words,))
        label = f"价格约 {_money(a)}–{_money(a + step)} · price about {a:.10g}–{a + step:.10g}"
    return _Intent(Chip(f"price:{words}", "price", label, span), scored=False, price=price)


def _price_intents(folded: str, taken: list[bool]) -> list[_Intent]:
    intents = []
    for kind, pattern in _PRICE_PATTERNS:
        for match in pattern.finditer(folded):
            start = match.start() + len(match.group()) - len(match.group().lstrip())  # not the spaces _PRE allowed
            end = match.end()
            while end > start and folded[end - 1].isspace():
                end -= 1
            if any(taken[start:end]) or _quantity_follows(folded, end) or _AGE_BEFORE.search(folded, 0, start):
                continue
            intent = _price_intent(kind, match, (start, end), folded[start:end])
            if intent:
                intents.append(intent)
                taken[start:end] = [True] * (end - start)
    return intents


def _preference_intents(folded: str, taken: list[bool]) -> list[_Intent]:
    """便宜 / cheap (cheaper first) and 高端 / premium (pricier first): soft, and their words stay in the text scored."""
    intents = []
    for prefer, pattern, kind, label in (
        ("low", _PREFER_LOW, "cheap", "偏好便宜 · cheaper first"),
        ("high", _PREFER_HIGH, "premium", "偏好高端 · pricier first"),
    ):
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(taken[start:end]) or _glued_latin(folded, start, end):
                continue
            words = match.group()
            price = PriceRange(soft=True, prefer=prefer, words=(words,))
            intents.append(_Intent(Chip(f"{kind}:{words}", kind, label, (start, end)), scored=True, price=price))
            taken[start:end] = [True] * (end - start)
    return intents


def _glued_latin(folded: str, start: int, end: int) -> bool:
    """Whether a latin match is part of a longer latin word ("budgetary", "xcheap")."""
    if not folded[start].isascii():
        return False
    before = folded[start - 1 : start]
    after = folded[end : end + 1]
    return (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum())


def _term_after(folded: str, at: int, bounds: set[int]) -> tuple[int, int] | None:
    """The span of the word a negation applies to, starting at `at` (after spaces): a latin/model-number run, or
    Chinese up to the next jieba word boundary. Example: "不要4G版" at 2 -> (2, 4); "不含糖的" at 2 -> (2, 3)"""
    while at < len(folded) and folded[at].isspace():
        at += 1
    latin = _LATIN_TERM.match(folded, at)
    if latin:
        return latin.span()
    if at < len(folded) and _CJK.match(folded[at]):
        end = next((b for b in sorted(bounds) if b > at), len(folded))
        end = min(end, len(folded))
        return (at, end) if folded[at:end] not in _NOT_A_TERM else None
    return None


def _negation_intents(text: str, folded: str, taken: list[bool]) -> list[_Intent]:
    intents = []
    candidates: list[tuple[int, int]] = []  # (start of the negation, end of the negation word)
    if any(marker in folded for marker in _CN_NEGATIONS):
        bounds = word_boundaries(folded)
        for marker in _CN_NEGATIONS:
            for match in re.finditer(marker, folded):
                start, end = match.span()
                if start not in bounds or (len(marker) == 1 and end not in bounds):
                    continue
                if marker == "非" and folded[end : end + 1] in _NEGATED_VERBS:  # 非要4G insists on 4G
                    continue
                if len(marker) == 2 and folded[start - 1 : start] == marker[1]:  # 要不要, 带不带: a question
                    continue
                candidates.append((start, end))
    else:
        bounds = set()
    for match in _EN_NEGATION.finditer(folded):
        if not match.group("aux"):
            candidates.append((match.start(), match.end()))
    for start, end in sorted(candidates):
        if any(taken[start:end]):
            continue
        if folded[end : end + 1] in _NEGATED_VERBS and end + 1 < len(folded):  # 别买4G, 不要选4G: the verb is not the term
            end += 1
        if not bounds and _CJK.match(folded[end : end + 1] or " "):
            bounds = word_boundaries(folded)
        term_span = _term_after(folded, end, bounds)
        if term_span is None or any(taken[term_span[0] : term_span[1]]):
            continue
        term = folded[term_span[0] : term_span[1]]
        if term in _EN_NOT_A_TERM:
            continue
        shown = text[term_span[0] : term_span[1]]
        label = f"不要 {shown} · not {shown}"
        span = (start, term_span[1])
        intents.append(_Intent(Chip(f"not:{term}", "not", label, span), scored=False, term=term))
        taken[start : term_span[1]] = [True] * (term_span[1] - start)
    return intents


_AUDIENCE_BY_WORD = {word: audience for audience, words in AUDIENCE_WORDS.items() for word in words}
# A query holding none of these first characters of the Chinese audience words names no audience in Chinese.
_AUDIENCE_FIRST_CHARS = frozenset(word[0] for word in _AUDIENCE_BY_WORD if not word.isascii())
_EN_AUDIENCE = re.compile(
    r"(?<![a-z'])(" + "|".join(re.escape(w) for w in sorted(_AUDIENCE_BY_WORD, key=len, reverse=True) if w.isascii()) + r")(?![a-z'])"
)


def _audience_intents(folded: str, taken: list[bool]) -> list[_Intent]:
    """The first word naming an audience: a whole jieba word in Chinese, a whole word in English."""
    found: list[tuple[int, int, str]] = []
    if any(ch in _AUDIENCE_FIRST_CHARS for ch in folded):
        bounds = sorted(word_boundaries(folded))
        for start, end in zip(bounds, bounds[1:]):
            if folded[start:end] in _AUDIENCE_BY_WORD and not folded[start:end].isascii():
                found.append((start, end, _AUDIENCE_BY_WORD[folded[start:end]]))
    found += [(m.start(), m.end(), _AUDIENCE_BY_WORD[m.group()]) for m in _EN_AUDIENCE.finditer(folded)]
    named = {audience for start, end, audience in found if not any(taken[start:end])}  # not of a negation (不要女款)
    if any(OPPOSITE_AUDIENCE.get(audience) in named for audience in named):
        return []
    for start, end, audience in sorted(found):
        if any(taken[start:end]):
            continue
        label = f"人群：{audience} · for {AUDIENCES[audience]}"
        taken[start:end] = [True] * (end - start)
        return [_Intent(Chip(f"audience:{audience}", "audience", label, (start, end)), scored=True, audience=audience)]
    return []


def _merge_prices(intents: list[_Intent]) -> PriceRange | None:
    """One price from every price chip in force: hard bounds intersected; else the first soft window; plus a preference."""
    prices = [i.price for i in intents if i.price is not None]
    if not prices:
        return None
    hard = [p for p in prices if p.bounded and not p.soft]
    window = next((p for p in prices if p.bounded and p.soft), None)
    prefer = next((p.prefer for p in prices if p.prefer), None)
    words = tuple(w for p in prices for w in p.words)
    if hard:
        lows = [p.low for p in hard if p.low is not None]
        highs = [p.high for p in hard if p.high is not None]
        return PriceRange(max(lows) if lows else None, min(highs) if highs else None, False, prefer, words)
    if window:
        return PriceRange(window.low, window.high, True, prefer, words)
    return PriceRange(soft=True, prefer=prefer, words=words)


def parse_query(text: str, ignore: Collection[str] = ()) -> ParsedQuery:
    """Read the intents of a query: negated terms, a price, an audience; and the text left to score.

    Args:
        text: the query as typed (already through the input gate).
        ignore: chip ids ("not:4g") or kinds ("price", "not", "audience", "cheap", "premium") to leave unread:
            their words stay in the scored text, as if no intent had been seen.

    Returns:
        A ParsedQuery. Example: parse_query("两百以内的行车记录仪").price -> PriceRange(high=200.0, ...);
        parse_query("星耀Pad 11 不要4G") -> excluded ("4g",), content "星耀Pad 11"
    """
    folded = fold(text)
    taken = [False] * len(folded)
    found = _price_intents(folded, taken)
    found += _preference_intents(folded, taken)
    found += _negation_intents(text, folded, taken)
    found += _audience_intents(folded, taken)
    found.sort(key=lambda i: i.chip.span)
    unique: dict[str, _Intent] = {}
    for intent in found:
        unique.setdefault(intent.chip.id, intent)
    active = [i for i in unique.values() if i.chip.id not in ignore and i.chip.kind not in ignore]
    ignored = [i.chip for i in unique.values() if i not in active]
    kept = list(text)
    for intent in active:
        if not intent.scored:
            start, end = intent.chip.span
            end += text[end : end + 1] == "的"  # 两百以内的行车记录仪: the 的 goes with the price
            kept[start:end] = [" "] * (end - start)
    semantic = " ".join("".join(kept).split())
    audience = next((i.audience for i in active if i.audience), None)
    return ParsedQuery(
        text=text,
        semantic=semantic or text,
        content=content_text(semantic),
        excluded=tuple(dict.fromkeys(i.term for i in active if i.term)),
        price=_merge_prices(active),
        audience=audience,
        chips=tuple(i.chip for i in active),
        ignored=tuple(ignored),
    )


def key_tokens(term: str) -> list[str]:
    """The lexical tokens a text must hold to mention `term`: each latin run's joined form, each Chinese run's
    bigrams (or its character). Example: "4G" -> ["4g"]; "涂层" -> ["涂层"]; "wi-fi" -> ["wifi"]"""
    folded = unicodedata.normalize("NFKC", term).lower()
    keys = [latin_tokens(run)[0] for run in _LATIN_RUN.findall(folded)]
    for run in _CJK_RUN.findall(folded):
        keys += [run[i : i + 2] for i in range(len(run) - 1)] or [run]
    return keys


def mentions(document: str, term: str) -> bool:
    """Whether a product's text mentions `term` as something it has, matched as the lexical index matches (NFKC,
    case-folded, model numbers as whole tokens: "4G" is in "4g lte" and "4G版", not in "14GB"). A mention the text
    itself negates (内胆不含涂层, 无需 Wi-Fi, coating-free) does not count.

    Example: mentions("星耀 Pad 11 4G版", "4G") -> True; mentions("内胆不含涂层", "涂层") -> False
    """
    from shopsearch.text.lexical import tokenize

    keys = key_tokens(term)
    if not keys:
        return False
    folded = unicodedata.normalize("NFKC", document).lower()
    needle = unicodedata.normalize("NFKC", term).lower()
    # Cut out with "\x01", not a space: tokenize joins latin words across a space ("pro" + "2"), which would let a
    # cut make a token the text does not hold ("pro no pro22 2" mentioning "pro2").
    for marker in _DOC_NEGATIONS:
        folded = folded.replace(marker + needle, "\x01")
    for suffix in ("-free", " free"):
        folded = folded.replace(needle + suffix, "\x01")
    present = set(tokenize(folded))
    return all(key in present for key in keys)


def has_audience(document: str, audience: str) -> bool:
    """Whether a product's text says it is for `audience` (one of AUDIENCES). Example: ("疾风 儿童跑鞋", "儿童") -> True"""
    return bool(AUDIENCE_MARKS[audience].search(unicodedata.normalize("NFKC", document).lower()))
