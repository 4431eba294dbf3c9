"""Reading printed values: target/actual comparisons, amounts, money units, dates, years, 是/否.

Every reader is strict: it returns a normalised reading only when the whole text is a clean
value of that kind, and None (or a qualitative Comparison) otherwise, so that prose such as
'降低60%-90%' or '满意率达90%' is never mistaken for a number. Numbers are Decimals built from the
digits as printed, never via float, so '2.00' and '1514.0223' survive exactly.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from kg.forms.text import fold_width
from kg.model import Comparison

# Operators as printed, mapped to the model's operator names. Matched longest first.
_OPERATORS: dict[str, str] = {
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "≧": ">=",
    "⩾": ">=",
    "≮": ">=",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    "≦": "<=",
    "⩽": "<=",
    "≯": "<=",
    "==": "=",
    "=": "=",
    ">": ">",
    "<": "<",
    "大于等于": ">=",
    "大于或等于": ">=",
    "高于等于": ">=",
    "高于或等于": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "不小于": ">=",
    "不得低于": ">=",
    "不得少于": ">=",
    "至少": ">=",
    "最少": ">=",
    "小于等于": "<=",
    "小于或等于": "<=",
    "低于等于": "<=",
    "低于或等于": "<=",
    "不高于": "<=",
    "不超过": "<=",
    "不多于": "<=",
    "不大于": "<=",
    "不得超过": "<=",
    "不得高于": "<=",
    "至多": "<=",
    "最多": "<=",
    "大于": ">",
    "高于": ">",
    "超过": ">",
    "多于": ">",
    "小于": "<",
    "低于": "<",
    "少于": "<",
    "等于": "=",
}
_OPERATOR_PREFIXES = sorted(_OPERATORS, key=len, reverse=True)

# Bound words printed after the number ('90%以上'); only used when no operator precedes it.
_SUFFIX_OPERATORS = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<="}

# Measure words accepted as an unbracketed unit ('6人', '不少于 800 条'). A whitelist, so that
# '10月完成' or '12月份' stay qualitative instead of getting the unit '月完成'. Bare 月/年/日 are
# left out on purpose: '12月', '3-11月' name months of the year, not durations ('个月' is kept).
_UNIT_WORDS = (
    "%",
    "‰",
    "百分比",
    "百分点",
    "个百分点",
    "人次",
    "人天",
    "人日",
    "人数",
    "万人次",
    "万人",
    "万次",
    "万份",
    "万册",
    "万个",
    "人",
    "次",
    "天",
    "小时",
    "分钟",
    "秒",
    "周",
    "个月",
    "季度",
    "条",
    "个",
    "节",
    "份",
    "册",
    "本",
    "场",
    "家",
    "部",
    "篇",
    "课时",
    "课",
    "班次",
    "班",
    "期",
    "批",
    "层级",
    "名",
    "件",
    "字",
    "处",
    "张",
    "页",
    "块",
    "分",
    "元",
    "万元",
    "亿元",
    "户",
    "项",
    "台",
    "套",
    "所",
    "间",
    "辆",
    "座",
    "棵",
    "株",
    "吨",
    "千克",
    "公斤",
    "米",
    "千米",
    "公里",
    "平方米",
    "平方公里",
    "立方米",
    "亩",
    "公顷",
    "轮",
    "遍",
    "起",
    "宗",
    "组",
    "队",
    "支",
    "种",
    "类",
    "倍",
    "届",
    "架次",
    "车次",
    "人/次",
)
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT_TEXT = "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True))
# A unit is either bracketed after the number (any text without digits: '(人/次/天)') or a
# whitelisted measure word / Latin unit ('km').


def _unit_pattern(bracketed: str, text: str) -> str:
    """Regex for an optional unit with the given group names (bracketed / trailing text)."""
    return rf"(?:\(\s*(?P<{bracketed}>[^()\d]{{1,12}}?)\s*\)|(?P<{text}>{_UNIT_TEXT}|[A-Za-z]{{1,6}}))?"


_SUFFIX = "|".join(sorted(_SUFFIX_OPERATORS, key=len, reverse=True))
_SINGLE = re.compile(rf"(?P<num>{_NUM})\s*{_unit_pattern('ub', 'ut')}\s*(?P<suffix>{_SUFFIX})?")
_RANGE_SEPARATORS = r"-|~|—|–|―|‐|－|～|至|到"
_RANGE = re.compile(
    rf"(?P<low>{_NUM})\s*{_unit_pattern('ub1', 'ut1')}\s*(?:{_RANGE_SEPARATORS})\s*"
    rf"(?P<high>{_NUM})\s*{_unit_pattern('ub2', 'ut2')}"
)

_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_EMPTY_MARKS = frozenset({"", "-", "—", "–", "－", "——", "/", "--"})

_MONEY_UNIT_IN_BRACKETS = re.compile(r"[(\[]\s*(万元|元)\s*[)\]]")
_MONEY_UNIT_DECLARED = re.compile(r"单位\s*[:：]?\s*(万元|元)")

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_YEAR_OF_FORM = re.compile(r"((?:19|20)\d{2})\s*年度")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_BARE_YEAR = re.compile(r"[(\s]*((?:19|20)\d{2})[)\s]*")


def parse_comparison(raw: str | None) -> Comparison | None:
    """Read a target/actual cell as a comparison, or keep it as qualitative text.

    A reading is produced only when the whole cell is one operator (optional), one number or
    range and one unit (optional); anything else (两个数, 80%合格, 3-11月开展) is qualitative,
    because a half-understood number would be worse than none. None/blank cells give None.
    """
    if raw is None or not raw.strip():
        return None
    text = fold_width(raw).strip()
    operator, rest = _split_operator(text)
    reading = _read_single(rest, operator)
    if reading is None and operator is None:
        reading = _read_range(rest)
    if reading is None:
        return Comparison(raw=raw, qualitative=raw.strip())
    op, value, upper, unit = reading
    return Comparison(raw=raw, operator=op, value=value, upper=upper, unit=unit)


_Reading = tuple[str | None, Decimal, Decimal | None, str | None]


def _split_operator(text: str) -> tuple[str | None, str]:
    """Split a leading comparison operator (symbol or Chinese word) from the rest of the text."""
    for prefix in _OPERATOR_PREFIXES:
        if text.startswith(prefix):
            return _OPERATORS[prefix], text[len(prefix) :].lstrip()
    return None, text


def _read_single(text: str, operator: str | None) -> _Reading | None:
    """Read 'number [unit] [以上/以下]' covering the whole text."""
    match = _SINGLE.fullmatch(text)
    if match is None:
        return None
    suffix = match["suffix"]
    if suffix is not None:
        if operator is not None:
            return None
        operator = _SUFFIX_OPERATORS[suffix]
    unit = _unit(match["ub"], match["ut"])
    return operator, _to_decimal(match["num"]), None, unit


def _read_range(text: str) -> _Reading | None:
    """Read 'low [unit] - high [unit]' covering the whole text, with one consistent unit."""
    match = _RANGE.fullmatch(text)
    if match is None:
        return None
    low_unit = _unit(match["ub1"], match["ut1"])
    high_unit = _unit(match["ub2"], match["ut2"])
    if low_unit is not None and high_unit is not None and low_unit != high_unit:
        return None
    low, high = _to_decimal(match["low"]), _to_decimal(match["high"])
    if low > high:  # '2020-12' is a year-month, not a range
        return None
    return "range", low, high, high_unit or low_unit


def _unit(bracketed: str | None, text: str | None) -> str | None:
    """The unit as printed (bracketed or trailing), or None."""
    unit = bracketed if bracketed is not None else text
    return unit.strip() if unit else None


def _to_decimal(digits: str) -> Decimal:
    """Decimal from printed digits, dropping thousands separators only."""
    return Decimal(digits.replace(",", ""))


def parse_decimal(raw: str | None) -> Decimal | None:
    """Read a printed amount or figure ('3,870,000', '1514.0223', '99%') exactly.

    Blank cells and dash placeholders ('—', '-') mean 'not printed' and give None, as does any
    text that is not a plain number, so callers never get a guessed value.
    """
    if raw is None:
        return None
    text = fold_width(raw).strip()
    if text in _EMPTY_MARKS:
        return None
    text = text.removesuffix("%").rstrip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid literals
        return None


def to_yuan(amount: Decimal, unit: str) -> Decimal:
    """An amount in 元, exactly (万元 × 10000). Other units are refused rather than guessed."""
    unit = unit.strip()
    if unit == "万元":
        return amount * 10000
    if unit == "元":
        return amount
    raise ValueError(f"unknown money unit {unit!r} (expected '元' or '万元')")


def money_unit_from_label(label: str) -> str | None:
    """The money unit printed in a label ('项目资金 (万元)', '项目总预算（元）：'), or None.

    Only 元 and 万元 are recognised because those are the units the model can convert.
    """
    text = "".join(fold_width(label).split())
    match = _MONEY_UNIT_IN_BRACKETS.search(text) or _MONEY_UNIT_DECLARED.search(text)
    return match[1] if match else None


def parse_date(raw: str | None) -> date | None:
    """Read '2020-01-01', '2020/1/1', '2020年1月1日' or '2020.2.24'; None when not a real date."""
    if raw is None:
        return None
    match = _DATE.fullmatch(fold_width(raw).strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_year(raw: str | None) -> int | None:
    """The year of a form heading ('(2020年度)', '(2024 年度)', '2020年绩效目标').

    A '年度' year is preferred over any other 'yyyy年' in the text, since headings may also
    mention periods ('(2023年 -2023年)'); a bare '2020' or '(2020)' is accepted too.
    """
    if raw is None:
        return None
    text = fold_width(raw)
    match = _YEAR_OF_FORM.search(text) or _YEAR.search(text) or _BARE_YEAR.fullmatch(text)
    return int(match[1]) if match else None


def parse_bool_cn(raw: str | None) -> bool | None:
    """是 -> True, 否 -> False, anything else (blank, '是/否') -> None."""
    if raw is None:
        return None
    return {"是": True, "否": False}.get(raw.strip())
