"""The truth of a synthetic corpus: projects followed across years, and each form they file.

A lineage is one project of one unit, followed over consecutive fiscal years 2019–2024: its name drifts a
little (words swapped, added or dropped, as the seeds' 依法行政辅助服务工作 / 依法行政辅助工作服务 do), its
money grows or shrinks, its indicators are mostly kept from year to year with drifting targets. Each year a
Shanghai lineage files a target form (the 2020-style 绩效目标表 up to 2020, the 绩效目标申报表 from 2021)
and usually a self-evaluation of that year's targets; a Beijing Chaoyang lineage files its vertical
self-evaluation. Arithmetic of every self-evaluation is consistent (execution rate, funds score, weights
summing to 100, 总分, 评分等级, scores against results) except for the forms that get one deliberate error,
recorded by the id of the rule it breaks (`/work/shared/RULES.md`: SE-01 … TG-04, DN-05).

Nothing here knows about text layouts: `kg.synth.render` prints a `FormSpec`, and the expected extraction
is built from the spec plus what the renderer reports it damaged.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from kg.synth.pools import CY, NATIONAL_TREE, RESULT_BANDS, SE, TD, TT, Citation, Pools, Template

FIRST_YEAR, LAST_YEAR = 2019, 2024
CENT = Decimal("0.01")
# District names used to make more organizations than the seeds' two bureaus, in the seeds' own naming
# patterns (上海市城市管理行政执法局 -> 上海市<d>区城市管理行政执法局, 朝阳区城管执法局 -> <d>区城管执法局).
SH_DISTRICTS = (
    "黄浦",
    "徐汇",
    "长宁",
    "静安",
    "普陀",
    "虹口",
    "杨浦",
    "闵行",
    "宝山",
    "嘉定",
    "金山",
    "松江",
)
BJ_DISTRICTS = ("朝阳", "海淀", "东城", "西城", "丰台", "石景山", "通州", "顺义", "昌平", "大兴", "房山")
# Rules whose breach can be injected, per layout (ids of /work/shared/RULES.md).
INJECTABLE = {
    SE: ("SE-01", "SE-02", "SE-04", "SE-05", "SE-06", "SE-09", "SE-10", "SE-12", "SE-15"),
    CY: ("SE-01", "SE-04", "SE-05", "SE-06", "SE-10", "SE-12"),
    TD: ("TG-03", "TG-04"),
    TT: ("TG-03", "TG-04", "DN-05"),
}
INJECTED_SHARE = 0.08
GRADES = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))
_QUANT = re.compile(r"^(?P<op>[^\d\s]{0,4}\s?)(?P<num>\d+(?:\.\d+)?)(?P<unit>[^\d]{0,8})$")
_OPERATOR_MEANING = {
    "=": "=",
    "==": "=",
    "≥": ">=",
    ">=": ">=",
    "不少于": ">=",
    "不低于": ">=",
    ">": ">",
    "大于": ">",
    "≤": "<=",
    "<=": "<=",
    "不超过": "<=",
    "<": "<",
    "小于": "<",
}
_COUNT_UNITS = (
    "人",
    "个",
    "次",
    "份",
    "件",
    "场",
    "篇",
    "条",
    "张",
    "册",
    "部",
    "家",
    "期",
    "页",
    "块",
    "项",
)


# ----------------------------------------------------------------------------- the truth model


@dataclass(frozen=True)
class Quant:
    """A quantitative target as printed: operator text, number (with its decimals) and unit text."""

    op: str
    value: Decimal
    decimals: int
    unit: str

    @property
    def meaning(self) -> str:
        return _OPERATOR_MEANING.get(self.op.strip(), "=")

    @property
    def percent(self) -> bool:
        return "%" in self.unit or "百分比" in self.unit

    @property
    def bracketed(self) -> bool:
        return self.unit.startswith("(") and self.unit.endswith(")")

    def text(self, value: Decimal | None = None) -> str:
        return f"{self.op}{_fixed(self.value if value is None else value, self.decimals)}{self.unit}"

    def holds(self, actual: Decimal) -> bool:
        target = self.value
        return {
            "=": actual == target,
            ">=": actual >= target,
            ">": actual > target,
            "<=": actual <= target,
            "<": actual < target,
        }[self.meaning]


@dataclass
class Row:
    """One indicator as it should be extracted (values as printed)."""

    l1: str
    l2: str
    l3: str
    target: str
    quant: Quant | None = None
    actual: str | None = None
    weight: Decimal | None = None
    score: Decimal | None = None
    reason: str | None = None
    weight_text: str | None = None
    score_text: str | None = None


@dataclass
class FormSpec:
    """One form to print: everything the renderer needs and the expected extraction reads."""

    layout: str
    year: int
    lineage: str
    name: str
    reporting_unit: str | None = None
    department: str | None = None
    unit: str | None = None
    category: str | None = None
    nature: str | None = None
    performance_type: str | None = None
    purchase: bool | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    money_unit: str = "元"
    funds: dict[str, Decimal] = field(default_factory=dict)  # expected kinds (total row / figures)
    funds_text: dict[str, str] = field(default_factory=dict)  # as printed
    narratives: dict[str, str] = field(default_factory=dict)
    legal_text: str | None = None
    doc_numbers: list[str] = field(default_factory=list)
    doc_titles: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    total_weight: Decimal | None = None
    total_score: Decimal | None = None
    total_weight_text: str | None = None
    total_score_text: str | None = None
    grade: str | None = None
    injected: list[str] = field(default_factory=list)
    people: str | None = None
    phone: str | None = None
    filler: str | None = None
    fill_date: str | None = None

    @property
    def form_type(self) -> str:
        return {TT: "target_table", TD: "target_declaration", SE: "self_evaluation", CY: "self_evaluation"}[
            self.layout
        ]


# ----------------------------------------------------------------------------- numbers


def _fixed(value: Decimal, decimals: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP):f}" if decimals else f"{value:.0f}"


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def floor2(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_DOWN)


def money_text(value: Decimal, decimals: int, commas: bool) -> str:
    text = f"{value:,.{decimals}f}" if commas else f"{value:.{decimals}f}"
    return text


def trimmed(value: Decimal) -> str:
    """'1142.8000' -> '1142.8', '10.00' -> '10' (the Chaoyang form prints figures this way)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def grade_of(total: Decimal) -> str:
    return next(name for bound, name in GRADES if total >= bound)


def parse_quant(target: str) -> Quant | None:
    """A target that is one operator, one number and one unit (no digits in the unit), else None."""
    match = _QUANT.match(target.strip())
    if match is None or (match["op"].strip() not in _OPERATOR_MEANING and match["op"].strip()):
        return None
    digits = match["num"]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return Quant(match["op"], Decimal(digits), decimals, match["unit"])


# ----------------------------------------------------------------------------- lineages


@dataclass
class Lineage:
    """A project followed across years (the ground truth that linking should recover)."""

    key: str
    region: str  # "sh" or "cy"
    base_name: str
    reporting_unit: str | None
    department: str
    unit: str
    years: list[int]
    rng: random.Random
    templates: list[Template] = field(default_factory=list)
    amount: Decimal = Decimal(0)
    names: dict[int, str] = field(default_factory=dict)


class Planner:
    """Draws lineages and their forms from the pools; every draw comes from a generator seeded with a
    string naming the seed and what is drawn (lineage, year, form), so output never depends on order of
    evaluation elsewhere."""

    def __init__(self, pools: Pools, seed: int) -> None:
        self.pools = pools
        self.seed = seed
        self.used_names: dict[tuple[str, str], int] = {}
        self.national = _flatten(pools.templates.get("national", {}))
        self.tt_tree = pools.templates.get(TT, {})
        self.chaoyang = _flatten(pools.templates.get(CY, {}))

    # -- lineages

    def lineage(self, index: int) -> Lineage:
        rng = random.Random(f"kg-synth:{self.seed}:lineage:{index}")
        region = "cy" if rng.random() < 0.2 else "sh"
        if region == "cy":
            district = rng.choice(BJ_DISTRICTS)
            unit = f"{district}区城管执法局"
            department = unit
            reporting = None
        else:
            city = rng.random() < 0.5
            unit = self.pools.sh_units[0] if city else f"上海市{rng.choice(SH_DISTRICTS)}区城市管理行政执法局"
            department = rng.choice(self.pools.sh_departments)
            reporting = unit
        length = rng.choice((2, 3, 3, 4, 4, 5, 6))
        start = rng.randint(FIRST_YEAR, LAST_YEAR - 1)
        years = list(range(start, min(LAST_YEAR, start + length - 1) + 1))
        lineage = Lineage(
            key=f"L{index:05d}",
            region=region,
            base_name=self._project_name(rng, unit),
            reporting_unit=reporting,
            department=department,
            unit=unit,
            years=years,
            rng=rng,
        )
        lineage.templates = self._base_templates(rng, region)
        lineage.amount = Decimal(str(math.exp(rng.uniform(math.log(15), math.log(450))))).quantize(CENT)
        return lineage

    def _project_name(self, rng: random.Random, unit: str) -> str:
        pools = self.pools
        for _ in range(20):
            if rng.random() < 0.35 or not pools.name_heads:
                name = rng.choice(pools.names)
            else:
                name = rng.choice(pools.name_heads) + rng.choice([t for t in pools.name_tails if len(t) >= 4])
            count = self.used_names.get((name, unit), 0)
            if count == 0:
                self.used_names[(name, unit)] = 1
                return name
        # Same name already used by this unit: tell the projects apart as real units do, by a qualifier.
        count = self.used_names.get((name, unit), 0) + 1
        self.used_names[(name, unit)] = count
        return f"{name}（{_chinese_number(count)}期）"

    def _base_templates(self, rng: random.Random, region: str) -> list[Template]:
        if region == "cy":
            return self._cy_templates(rng)
        counts = self.pools.indicator_counts.get(SE, []) + self.pools.indicator_counts.get(TD, [])
        count = max(4, min(60, rng.choice(counts) + rng.randint(-3, 3)))
        return _sample_tree(rng, self.national, count)

    def _cy_templates(self, rng: random.Random) -> list[Template]:
        count = rng.choice((6, 8, 9, 9, 9, 10, 12))
        own = list(self.chaoyang)
        borrowed = [_cy_style(t) for t in self.national if _usable(t)]
        chosen: list[Template] = []
        seen: set[str] = set()
        for template in rng.sample(own, min(len(own), rng.randint(3, 6))) + rng.sample(
            borrowed, min(40, len(borrowed))
        ):
            if template.l3 in seen:
                continue
            group = [t for t in chosen if t.l2 == template.l2]
            if len(group) >= 2:  # the Chaoyang template prints two slots per second level
                continue
            seen.add(template.l3)
            chosen.append(template)
            if len(chosen) >= count:
                break
        order = [l2 for _, l2s in NATIONAL_TREE for l2 in l2s]
        return sorted(chosen, key=lambda t: order.index(t.l2))

    # -- years

    def name_in(self, lineage: Lineage, year: int) -> str:
        if year not in lineage.names:
            previous = lineage.names.get(year - 1, lineage.base_name)
            lineage.names[year] = (
                drift_name(lineage.rng, previous) if lineage.rng.random() < 0.2 else previous
            )
        return lineage.names[year]

    def templates_in(self, lineage: Lineage, year: int) -> list[Template]:
        """The lineage's indicators in a year: the base set with a few dropped, added or re-targeted."""
        rng = random.Random(f"kg-synth:{self.seed}:{lineage.key}:{year}")
        kept = [t for t in lineage.templates if rng.random() > 0.08 or len(lineage.templates) < 5]
        if lineage.region == "sh" and rng.random() < 0.3:
            extra = _sample_tree(rng, self.national, rng.randint(1, 3))
            names = {t.l3 for t in kept}
            kept = _tree_order(kept + [t for t in extra if t.l3 not in names])
        return [drift_target(rng, t) for t in kept]


def _flatten(tree: dict[str, dict[str, list[Template]]]) -> list[Template]:
    return [t for groups in tree.values() for templates in groups.values() for t in templates]


def _tree_order(templates: Sequence[Template]) -> list[Template]:
    order = [l2 for _, l2s in NATIONAL_TREE for l2 in l2s]
    return sorted(templates, key=lambda t: order.index(t.l2) if t.l2 in order else 99)


def _usable(template: Template) -> bool:
    quant = parse_quant(template.target)
    return not (quant is not None and not quant.op.strip())  # bare numbers: only as TD print damage


def _sample_tree(rng: random.Random, pool: Sequence[Template], count: int) -> list[Template]:
    """`count` distinct indicators, spread over the second levels in the seeds' proportions, with at
    least one 产出, one 效益 and one 满意度 indicator."""
    usable = [t for t in pool if _usable(t)]
    by_l2: dict[str, list[Template]] = {}
    for template in usable:
        by_l2.setdefault(template.l2, []).append(template)
    chosen: list[Template] = []
    for l1 in ("产出指标", "效益指标", "满意度指标"):
        candidates = [t for t in usable if t.l1 == l1]
        if candidates:
            chosen.append(rng.choice(candidates))
    names = {t.l3 for t in chosen}
    weights = [len(by_l2[l2]) for l2 in by_l2]
    attempts = 0
    while len(chosen) < count and attempts < count * 20:
        attempts += 1
        l2 = rng.choices(list(by_l2), weights=weights)[0]
        template = rng.choice(by_l2[l2])
        if template.l3 not in names:
            names.add(template.l3)
            chosen.append(template)
    return _tree_order(chosen)


def _cy_style(template: Template) -> Template:
    """A national indicator as the Chaoyang form words its target: '≥85(%)' -> '85%', '=2(人)' -> '2人'."""
    quant = parse_quant(template.target)
    if quant is None:
        return template
    unit = quant.unit[1:-1] if quant.bracketed else quant.unit
    return Template(template.l1, template.l2, template.l3, f"{_fixed(quant.value, 0)}{unit}")


def tt_style(template: Template) -> Template:
    """A national indicator as the 2020 target table words it: '≥85(%)' -> '>=85%'."""
    quant = parse_quant(template.target)
    l2 = template.l2.removesuffix("指标")
    l1 = {"产出指标": "产出目标", "效益指标": "效果目标", "满意度指标": "效果目标"}[template.l1]
    if template.l2 == "可持续影响指标":
        l1, l2 = "影响力目标", "长效管理"
    if template.l2 == "服务对象满意度指标":
        l2 = "满意度"
    if quant is None:
        return Template(l1, l2, template.l3, template.target)
    op = {"≥": ">=", "≤": "<=", "＞": ">", "＜": "<"}.get(quant.op.strip(), quant.op.strip())
    unit = quant.unit[1:-1] if quant.bracketed else quant.unit
    return Template(l1, l2, template.l3, f"{op}{_fixed(quant.value, quant.decimals)}{unit}")


def drift_target(rng: random.Random, template: Template) -> Template:
    """The same indicator another year: numbers move a little, rates and qualitative targets stay."""
    quant = parse_quant(template.target)
    if quant is None or quant.percent or "分" in quant.unit or rng.random() < 0.6:
        return template
    factor = Decimal(str(rng.uniform(0.8, 1.25)))
    value = max((quant.value * factor).quantize(Decimal(1)), Decimal(1))
    return Template(template.l1, template.l2, template.l3, quant.text(value), template.actual)


def drift_name(rng: random.Random, name: str) -> str:
    """A project name as another year's form prints it (seed examples: 依法行政辅助服务工作 /
    依法行政辅助工作服务, 城管执法人员教育培训 / 城管执法教育培训, 城管执法监督考核 / …辅助工作)."""
    choice = rng.random()
    if choice < 0.3 and len(name) >= 6 and re.fullmatch(r"[\u4e00-\u9fff]+", name[-4:]):
        return name[:-4] + name[-2:] + name[-4:-2]  # swap the last two words
    if choice < 0.55:
        for word in ("人员", "辅助", "综合", "专项"):
            if word in name[2:]:
                return name.replace(word, "", 1)
    if choice < 0.8 and not name.endswith(("工作", "经费", "项目")):
        return name + rng.choice(("工作", "项目", "经费"))
    return name[:-2] if name.endswith(("工作", "项目")) and len(name) > 6 else name + "工作"


def _chinese_number(count: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[count] if count <= 10 else str(count)


# ----------------------------------------------------------------------------- forms of one year


def plan_forms(planner: Planner, lineage: Lineage) -> list[FormSpec]:
    """The forms a lineage files over its years, in year order (target form before evaluation)."""
    forms: list[FormSpec] = []
    previous: dict[str, Decimal] = {}
    for year in lineage.years:
        rng = random.Random(f"kg-synth:{planner.seed}:{lineage.key}:{year}:forms")
        templates = planner.templates_in(lineage, year)
        amount = lineage.amount * Decimal(str(rng.uniform(0.85, 1.2))) ** (year - lineage.years[0])
        if lineage.region == "cy":
            forms.append(_chaoyang(planner, lineage, year, rng, templates, amount))
            continue
        if rng.random() < 0.92:
            if year <= 2020:
                forms.append(_target_table(planner, lineage, year, rng, templates, amount, previous))
            else:
                forms.append(_declaration(planner, lineage, year, rng, templates, amount))
        if rng.random() < 0.85:
            forms.append(_evaluation(planner, lineage, year, rng, templates, amount))
    return forms


def _base(planner: Planner, lineage: Lineage, layout: str, year: int) -> FormSpec:
    return FormSpec(
        layout=layout,
        year=year,
        lineage=lineage.key,
        name=planner.name_in(lineage, year),
        department=lineage.department,
        unit=lineage.unit,
    )


def _sentences(rng: random.Random, pools: Pools, key: str, low: int, high: int) -> str:
    sentences = pools.sentences.get(key) or [
        s for k, v in pools.sentences.items() for s in v if k.endswith(key[3:])
    ]
    if not sentences:
        sentences = [s for values in pools.sentences.values() for s in values]
    chosen = rng.sample(sentences, min(len(sentences), rng.randint(low, high)))
    text = "".join(s if s[-1] in "。；;！!" else s + "。" for s in chosen)
    return text.replace("\t", " ")


def _target_table(
    planner: Planner,
    lineage: Lineage,
    year: int,
    rng: random.Random,
    templates: list[Template],
    amount: Decimal,
    previous: dict[str, Decimal],
) -> FormSpec:
    pools = planner.pools
    spec = _base(planner, lineage, TT, year)
    spec.department = None
    spec.unit = None
    spec.reporting_unit = lineage.reporting_unit or lineage.unit
    spec.category = rng.choice(pools.tt_categories)
    spec.performance_type = rng.choice(pools.tt_performance_types)
    spec.purchase = rng.random() < 0.5
    spec.planned_start, spec.planned_end = date(year, 1, 1), date(year, 12, 31)
    for label in (
        "项目概况",
        "项目设立的必要性",
        "保证项目实施的制度、措施",
        "项目实施计划",
        "总目标及阶段性目标",
    ):
        spec.narratives[label] = _sentences(rng, pools, f"tt.{label}", 1, 4)
    _legal_basis(rng, pools, spec)
    budget = (
        (amount * 10000).quantize(Decimal(1000))
        if rng.random() < 0.6
        else (amount * 10000).quantize(Decimal(1))
    )
    budget = max(budget, Decimal(10000))
    current = (
        budget if rng.random() < 0.8 else (budget * Decimal(str(rng.uniform(0.5, 1)))).quantize(Decimal(1))
    )
    last_budget = previous.get("budget") or (budget * Decimal(str(rng.uniform(0.8, 1.2)))).quantize(
        Decimal(1)
    )
    last_executed = previous.get("executed") or last_budget
    spec.funds = {
        "project_total_budget": budget,
        "current_year_budget": current,
        "prev_year_same_name_budget": last_budget,
        "prev_year_same_name_executed": last_executed,
    }
    previous["budget"] = current
    previous["executed"] = (current * Decimal(str(rng.uniform(0.85, 1)))).quantize(Decimal(1))
    spec.funds_text = {kind: money_text(value, 0, True) for kind, value in spec.funds.items()}
    standard = [t for l2s in planner.tt_tree.get("投入与管理", {}).values() for t in l2s]
    own = [
        t
        for l1, groups in planner.tt_tree.items()
        if l1 != "投入与管理"
        for ts in groups.values()
        for t in ts
    ]
    borrowed = [tt_style(t) for t in templates]
    rows = list(standard)
    names = {t.l3 for t in rows}
    for template in rng.sample(own, rng.randint(2, min(6, len(own)))) + borrowed[: rng.randint(3, 9)]:
        if template.l3 not in names:
            names.add(template.l3)
            rows.append(template)
    level1 = ("投入与管理", "产出目标", "效果目标", "影响力目标")
    rows.sort(key=lambda t: level1.index(t.l1))
    spec.rows = _group_rows(rows)
    _maybe_inject(rng, spec)
    return spec


def _group_rows(templates: Sequence[Template]) -> list[Row]:
    """Rows in print order: second levels kept together in their first appearance order."""
    order: list[tuple[str, str]] = []
    for template in templates:
        if (template.l1, template.l2) not in order:
            order.append((template.l1, template.l2))
    ordered = sorted(templates, key=lambda t: order.index((t.l1, t.l2)))
    return [Row(t.l1, t.l2, t.l3, t.target, parse_quant(t.target)) for t in ordered]


def _legal_basis(rng: random.Random, pools: Pools, spec: FormSpec) -> None:
    """立项依据: un-bracketed works, then 《title》（文号） citations drawn from the seeds' citations."""
    if not pools.citations:
        spec.narratives["立项依据"] = _sentences(rng, pools, "tt.项目概况", 1, 1)
        return
    issuers = [c.issuer for c in pools.citations]
    chosen: list[Citation] = []
    for _ in range(rng.randint(1, 5)):
        seed = rng.choice(pools.citations)
        if rng.random() < 0.5:
            seed = Citation(
                seed.title, rng.choice(issuers), rng.randint(2012, spec.year - 1), rng.randint(1, 200)
            )
        if all(
            c.title != seed.title and (c.issuer, c.year, c.seq) != (seed.issuer, seed.year, seed.seq)
            for c in chosen
        ):
            chosen.append(seed)
    parts: list[str] = []
    lead = rng.choice(pools.legal_leads) if pools.legal_leads and rng.random() < 0.4 else ""
    separator = rng.choice(("、", "；", ""))
    for position, citation in enumerate(chosen):
        open_, close = ("[", "]") if rng.random() < 0.5 else ("〔", "〕")
        number = f"{citation.issuer}{open_}{citation.year}{close}{citation.seq}号"
        lost_open = position > 0 and separator != "；" and rng.random() < 0.15
        title = f"{'' if lost_open else '《'}{citation.title}》"
        parts.append(f"{title}（{number}）")
        spec.doc_numbers.append(f"{citation.issuer}〔{citation.year}〕{citation.seq}号")
        spec.doc_titles.append(citation.title)
    spec.legal_text = lead + separator.join(parts) + ("。" if rng.random() < 0.5 else "")
    spec.narratives["立项依据"] = spec.legal_text


def _declaration(
    planner: Planner,
    lineage: Lineage,
    year: int,
    rng: random.Random,
    templates: list[Template],
    amount: Decimal,
) -> FormSpec:
    pools = planner.pools
    spec = _base(planner, lineage, TD, year)
    spec.nature = rng.choice(pools.td_natures)
    spec.category = rng.choice(pools.td_categories)
    spec.planned_start, spec.planned_end = date(year, 1, 1), date(year, 12, 31)
    goal = _sentences(rng, pools, "td.项目总目标", 1, 3)
    spec.narratives["项目总目标"] = goal
    spec.narratives["年度总体目标"] = (
        goal if rng.random() < 0.6 else _sentences(rng, pools, "td.年度总体目标", 1, 3)
    )
    annual = (amount * 10000).quantize(Decimal(100))
    total = (
        annual if rng.random() < 0.4 else (annual * Decimal(str(rng.uniform(1, 1.8)))).quantize(Decimal(1000))
    )
    other = Decimal(0) if rng.random() < 0.85 else (total * Decimal("0.1")).quantize(Decimal(1000))
    carry = Decimal(0) if rng.random() < 0.85 else (annual * Decimal("0.2")).quantize(Decimal(100))
    spec.funds = {
        "project_total": total,
        "annual_request_total": annual,
        "project_total_fiscal": total - other,
        "annual_current_year_appropriation": annual - carry,
        "annual_carryover": carry,
        "project_other_funds": other,
        "other_funds": Decimal(0),
    }
    spec.funds_text = {kind: money_text(value, 2, True) for kind, value in spec.funds.items()}
    spec.rows = [Row(t.l1, t.l2, t.l3, t.target, parse_quant(t.target)) for t in templates]
    _maybe_inject(rng, spec)
    return spec


# ----------------------------------------------------------------------------- self-evaluations


def _evaluation(
    planner: Planner,
    lineage: Lineage,
    year: int,
    rng: random.Random,
    templates: list[Template],
    amount: Decimal,
) -> FormSpec:
    pools = planner.pools
    spec = _base(planner, lineage, SE, year)
    spec.money_unit = "万元"
    spec.narratives["预期目标"] = _sentences(rng, pools, "se.预期目标", 1, 4)
    spec.narratives["实际完成情况"] = _sentences(rng, pools, "se.实际完成情况", 1, 4)
    initial = q2(amount)
    full = initial if rng.random() < 0.8 else q2(initial * Decimal(str(rng.uniform(0.9, 1.3))))
    if rng.random() < 0.05:
        initial = Decimal("0.00")  # added during the year (seed: 徐家汇路579号外墙排险维修)
    executed = full if rng.random() < 0.3 else q2(full * Decimal(str(rng.uniform(0.7, 1))))
    spec.rows = [Row(t.l1, t.l2, t.l3, t.target, parse_quant(t.target)) for t in templates]
    _score_rows(rng, pools, spec.rows, Decimal(90), decimals=2)
    _funds_and_totals(rng, spec, initial, full, executed, decimals=2)
    return spec


def _chaoyang(
    planner: Planner,
    lineage: Lineage,
    year: int,
    rng: random.Random,
    templates: list[Template],
    amount: Decimal,
) -> FormSpec:
    pools = planner.pools
    spec = _base(planner, lineage, CY, year)
    spec.money_unit = "万元"
    if rng.random() < 0.3:  # the seeds print the same bureau as 朝阳城管执法局 and 朝阳区城管执法局
        spec.department = spec.department.replace("区城管", "城管") if spec.department else None
    spec.narratives["预期目标"] = _sentences(rng, pools, "cy.预期目标", 1, 2)
    spec.narratives["实际完成情况"] = _sentences(rng, pools, "cy.实际完成情况", 1, 2)
    spec.people = rng.choice(pools.cy_people) if pools.cy_people else "张三"
    spec.phone = rng.choice(pools.cy_phones) if pools.cy_phones else "87710550"
    spec.filler = rng.choice(pools.cy_fillers) if pools.cy_fillers else "王童"
    spec.fill_date = f"{year + 1}.{rng.randint(1, 3)}.{rng.randint(1, 28)}"
    scale = Decimal(str(rng.uniform(3, 20)))
    digits = Decimal(1).scaleb(-rng.choice((2, 4)))
    initial = (amount * scale).quantize(digits)
    full = initial if rng.random() < 0.6 else (initial * Decimal(str(rng.uniform(0.7, 1.1)))).quantize(digits)
    executed = (full * Decimal(str(rng.uniform(0.55, 1)))).quantize(digits)
    spec.rows = [Row(t.l1, t.l2, t.l3, t.target, parse_quant(t.target)) for t in templates]
    _score_rows(rng, pools, spec.rows, Decimal(90), decimals=0)
    _funds_and_totals(rng, spec, initial, full, executed, decimals=0)
    return spec


def _split_weights(rng: random.Random, rows: Sequence[Row], total: int) -> list[int]:
    """Integer weights (each ≥ 1) summing to `total`, by first level 产出 50 / 效益 30 / 满意度 10 when the
    rows allow it (the default of 财预〔2021〕101号), else in proportion to the rows."""
    blocks: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        blocks.setdefault(row.l1, []).append(index)
    defaults = {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    budget = {l1: defaults.get(l1, 10) for l1 in blocks}
    if (
        sum(budget.values()) != total
        or any(len(blocks[l1]) > budget[l1] for l1 in blocks)
        or rng.random() < 0.2
    ):
        sizes = {l1: len(idx) for l1, idx in blocks.items()}
        count = sum(sizes.values())
        budget = {l1: max(sizes[l1], round(total * sizes[l1] / count)) for l1 in blocks}
        largest = max(budget, key=lambda l1: budget[l1])
        budget[largest] += total - sum(budget.values())
    weights = [0] * len(rows)
    for l1, indexes in blocks.items():
        share = budget[l1]
        cuts = sorted(rng.sample(range(1, share), len(indexes) - 1)) if len(indexes) > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, share], strict=True)]
        for index, part in zip(indexes, parts, strict=True):
            weights[index] = part
    return weights


def _score_rows(rng: random.Random, pools: Pools, rows: list[Row], total: Decimal, decimals: int) -> None:
    """Weights, actual values, scores and deviation reasons, consistent with SE-06/07/09–12."""
    if decimals:
        weights = _split_weights(rng, rows, int(total))
    else:  # the Chaoyang forms weigh their indicators evenly (seed 003: 9 × 10)
        base, rest = divmod(int(total), len(rows))
        weights = [base + (1 if index < rest else 0) for index in range(len(rows))]
    reasons = pools.reasons or ["未按计划完成，下一步加强管理。"]
    for row, weight in zip(rows, weights, strict=True):
        row.weight = Decimal(weight)
        missed = rng.random() < 0.12
        if decimals == 0:
            _chaoyang_result(rng, pools, row, missed)
        else:
            _shanghai_result(rng, row, missed)
        if row.score is None:
            row.score = row.weight
        if row.score < row.weight and not row.reason:
            row.reason = rng.choice(reasons)
        elif row.score == row.weight and rng.random() < 0.04:
            row.reason = rng.choice([r for r in reasons if len(r) <= 20] or reasons)
        row.weight_text = _figure(row.weight, decimals)
        row.score_text = _figure(row.score, decimals)


def _figure(value: Decimal, decimals: int) -> str:
    return f"{value:.2f}" if decimals else trimmed(value)


def _shanghai_result(rng: random.Random, row: Row, missed: bool) -> None:
    quant, weight = row.quant, row.weight
    assert weight is not None
    if quant is None or not quant.bracketed:
        band = RESULT_BANDS[0]
        if missed:
            band = RESULT_BANDS[1] if rng.random() < 0.7 else RESULT_BANDS[2]
        row.actual = band
        if band == RESULT_BANDS[0]:
            row.score = weight if rng.random() < 0.9 else floor2(weight * Decimal("0.8"))
        elif band == RESULT_BANDS[1]:
            row.score = floor2(weight * Decimal(rng.choice(("0.6", "0.65", "0.7", "0.75"))))
        else:
            row.score = floor2(weight * Decimal(rng.choice(("0", "0.3", "0.5"))))
        return
    actual = _actual_value(rng, quant, missed)
    row.actual = f"{actual:.2f}{quant.unit}"
    if quant.holds(actual):
        row.score = weight
        return
    ratio = actual / quant.value if quant.meaning in ("=", ">=", ">") else quant.value / actual
    row.score = min(floor2(weight * max(Decimal(0), min(ratio, Decimal(1)))), weight - CENT)


def _actual_value(rng: random.Random, quant: Quant, missed: bool) -> Decimal:
    """An actual value (2 decimals) that meets or misses the target as asked."""
    target = quant.value
    whole = any(u in quant.unit for u in _COUNT_UNITS)
    for _ in range(20):
        meaning = quant.meaning
        if meaning == "=":
            value = target if not missed else target * Decimal(str(rng.uniform(0.5, 0.95)))
        elif meaning in (">=", ">"):
            value = target * Decimal(str(rng.uniform(1.0, 1.4) if not missed else rng.uniform(0.4, 0.95)))
            if not missed and meaning == ">":
                value += 1
        else:
            value = target * Decimal(str(rng.uniform(0.3, 1.0) if not missed else rng.uniform(1.1, 1.6)))
            if not missed and meaning == "<":
                value = min(value, target - 1)
        value = value.quantize(Decimal(1)) if whole else q2(value)
        if quant.percent or ("分" in quant.unit and target <= 100):
            value = min(value, Decimal(100))
        value = max(value, Decimal(0))
        if quant.holds(value) != missed and (not missed or value > 0 or meaning in ("<=", "<")):
            return q2(value)
    return q2(target)


def _chaoyang_result(rng: random.Random, pools: Pools, row: Row, missed: bool) -> None:
    quant, weight = row.quant, row.weight
    assert weight is not None
    if quant is None or quant.op.strip():
        qualitative = [a for a in pools.cy_actuals if not re.search(r"\d", a)]
        row.actual = row.target if rng.random() < 0.5 or not qualitative else rng.choice(qualitative)
        row.score = (
            weight
            if not missed
            else (weight * Decimal(rng.choice(("0.5", "0.6", "0.7")))).quantize(Decimal(1), ROUND_DOWN)
        )
        return
    # Met: exactly the target (the form prints no operator, so '=' and '≥' readings agree).
    value = (
        quant.value
        if not missed
        else (quant.value * Decimal(str(rng.uniform(0.4, 0.9)))).quantize(Decimal(1))
    )
    row.actual = f"{value}{quant.unit}"
    row.score = (
        weight
        if value >= quant.value
        else min(weight - 1, (weight * value / quant.value).quantize(Decimal(1), ROUND_DOWN))
    )


def _funds_and_totals(
    rng: random.Random, spec: FormSpec, initial: Decimal, full: Decimal, executed: Decimal, decimals: int
) -> None:
    funds_weight = Decimal(10)
    rate_exact = executed / full * 100 if full else Decimal(0)
    rate = q2(rate_exact) if decimals else rate_exact.quantize(Decimal(1), ROUND_HALF_UP)
    spec.funds = {
        "initial_budget": initial,
        "full_year_budget": full,
        "executed": executed,
        "funds_weight": funds_weight,
        "execution_rate_percent": rate,
        "funds_score": _funds_score(rate, funds_weight, decimals),
    }
    rule = rng.choice(INJECTABLE[spec.layout]) if rng.random() < INJECTED_SHARE else None
    if rule is not None and rule not in AFTER_TOTALS and _inject_row_rule(rng, spec, rule, decimals):
        spec.injected.append(rule)
    _totals(spec, decimals)
    if rule in AFTER_TOTALS:
        _inject_total_rule(rng, spec, rule, decimals)
    if decimals:
        spec.funds_text = {k: f"{v:.2f}" for k, v in spec.funds.items()}
    else:
        spec.funds_text = {k: trimmed(v) for k, v in spec.funds.items()}
        spec.funds_text["execution_rate_percent"] = trimmed(spec.funds["execution_rate_percent"]) + "%"


def _funds_score(rate: Decimal, weight: Decimal, decimals: int) -> Decimal:
    """SE-02: min(10, 执行率 ÷ 10) × (weight ÷ 10); two decimals, or one on whole-number forms."""
    score = min(Decimal(10), rate / 10) * weight / 10
    if decimals:
        return q2(score)
    value = score.quantize(Decimal("0.1"), ROUND_HALF_UP)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def _totals(spec: FormSpec, decimals: int) -> None:
    weights = sum((r.weight or Decimal(0) for r in spec.rows), Decimal(0)) + spec.funds["funds_weight"]
    scores = sum((r.score or Decimal(0) for r in spec.rows), Decimal(0)) + spec.funds["funds_score"]
    spec.total_weight = Decimal(100) if "SE-04" in spec.injected else weights
    spec.total_score = q2(scores)
    spec.grade = grade_of(spec.total_score) if spec.layout == SE else None
    spec.total_weight_text = _figure(spec.total_weight, decimals)
    spec.total_score_text = _figure(spec.total_score, decimals)


# ----------------------------------------------------------------------------- injected errors

AFTER_TOTALS = ("SE-05", "SE-15")


def _maybe_inject(rng: random.Random, spec: FormSpec) -> None:
    """Target forms: break one rule (TG-03 dates, TG-04 funds, DN-05 a later document) on a small share."""
    if rng.random() >= INJECTED_SHARE:
        return
    rule = rng.choice(INJECTABLE[spec.layout])
    if rule == "TG-03" and spec.planned_start and spec.planned_end:
        spec.planned_start, spec.planned_end = spec.planned_end, spec.planned_start
    elif rule == "TG-04" and spec.layout == TD:
        spec.funds["annual_request_total"] = spec.funds["project_total"] + Decimal(rng.randint(1, 50) * 1000)
        spec.funds["annual_current_year_appropriation"] = spec.funds["annual_request_total"]
        spec.funds["annual_carryover"] = Decimal(0)
        spec.funds_text = {kind: money_text(value, 2, True) for kind, value in spec.funds.items()}
    elif rule == "TG-04":
        spec.funds["current_year_budget"] = spec.funds["project_total_budget"] + Decimal(
            rng.randint(1, 90) * 1000
        )
        spec.funds_text = {kind: money_text(value, 0, True) for kind, value in spec.funds.items()}
    elif rule == "DN-05" and spec.doc_numbers and spec.legal_text:
        old = spec.doc_numbers[-1]
        year = re.search(r"〔(\d{4})〕", old)
        assert year is not None
        later = str(spec.year + 1)
        spec.doc_numbers[-1] = old.replace(f"〔{year[1]}〕", f"〔{later}〕", 1)
        spec.legal_text = _replace_last_year(spec.legal_text, year[1], later)
        spec.narratives["立项依据"] = spec.legal_text
    else:
        return
    spec.injected.append(rule)


def _replace_last_year(text: str, old: str, new: str) -> str:
    index = text.rfind(old)
    return text[:index] + new + text[index + len(old) :]


def _inject_row_rule(rng: random.Random, spec: FormSpec, rule: str, decimals: int) -> bool:
    """Break a rule about the funds or the rows (before totals are summed, so 总分 stays consistent)."""
    rows, funds = spec.rows, spec.funds
    if rule == "SE-01":
        rate = max(Decimal(1), funds["execution_rate_percent"] + Decimal(rng.choice((-7, -3, 2, 5))))
        funds["execution_rate_percent"] = rate
        funds["funds_score"] = _funds_score(rate, funds["funds_weight"], decimals)
        return True
    if rule == "SE-02" and funds["execution_rate_percent"] < Decimal(97):
        funds["funds_score"] = funds["funds_weight"]
        return True
    if rule == "SE-04":
        full = [r for r in rows if r.score is not None and r.score == r.weight]
        if not full:
            return False
        row = rng.choice(full)
        assert row.weight is not None and row.score is not None
        extra = Decimal(rng.choice((2, 3, 5)))
        row.score += extra
        row.score_text = _figure(row.score, decimals)
        row.weight += extra
        row.weight_text = _figure(row.weight, decimals)
        return True
    if rule == "SE-06":
        full = [r for r in rows if r.score is not None and r.score == r.weight]
        if not full:
            return False
        row = rng.choice(full)
        assert row.weight is not None
        row.score = row.weight + Decimal(rng.choice((1, 2)))
        row.score_text = _figure(row.score, decimals)
        return True
    missed = [r for r in rows if r.score is not None and r.weight is not None and r.score < r.weight]
    if rule == "SE-09":
        met = [r for r in rows if r.quant is not None and r.quant.bracketed and r.score == r.weight]
        if not met:
            return False
        row = rng.choice(met)
        assert row.weight is not None
        row.score = floor2(row.weight / 2)
        row.reason = row.reason or rng.choice(("实际完成7项", "按计划完成"))
        row.score_text = _figure(row.score, decimals)
        return True
    quantitative_missed = [r for r in missed if r.quant is not None and r.actual and r.actual[:1].isdigit()]
    if rule == "SE-10" and quantitative_missed:
        row = rng.choice(quantitative_missed)
        row.score = row.weight
        row.score_text = row.weight_text
        return True
    if rule == "SE-12":
        if not missed:
            qualitative = [r for r in rows if r.quant is None and r.actual not in RESULT_BANDS]
            if not qualitative:
                return False
            row = rng.choice(qualitative)
            assert row.weight is not None
            row.score = max(Decimal(0), row.weight - 1)
            row.score_text = _figure(row.score, decimals)
            missed = [row]
        for row in missed:
            row.reason = None
        return True
    return False


def _inject_total_rule(rng: random.Random, spec: FormSpec, rule: str, decimals: int) -> None:
    assert spec.total_score is not None
    if rule == "SE-05":
        if decimals == 0 and rng.random() < 0.3:
            spec.total_score = spec.total_score * 10  # seed 003: 总分 100 | 1000
        else:
            spec.total_score = spec.total_score + Decimal(rng.choice(("-2.5", "-1", "1.5", "3")))
        spec.total_score_text = _figure(spec.total_score, decimals)
        if spec.grade is not None:
            spec.grade = grade_of(spec.total_score)  # the grade follows the total as printed
        spec.injected.append(rule)
    elif rule == "SE-15" and spec.grade is not None:
        spec.grade = next(name for _, name in GRADES if name != spec.grade)
        spec.injected.append(rule)
