"""What the generator draws from: the seed forms, read with the real parsers (`kg.forms`).

Every name, unit, indicator, target pattern, narrative sentence, deviation reason, cited document and
money range of a synthetic form comes from a pool built here from the seed files (`data/*.txt`), so the
corpus has the seeds' vocabulary and distributions without copying whole forms. Pools are plain lists in
seed order (no sets), so that a generator seeded the same way draws the same values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.forms import parse_source
from kg.forms.vocabulary import LEVEL1_NAMES, LEVEL2_PARENT, TARGET_TABLE_LEVEL1
from kg.model import Form

# Layout keys used throughout kg.synth (and in expected.json's "layout").
TT, TD, SE, CY = "tt", "td", "se", "cy"
LAYOUTS = (TT, TD, SE, CY)
_LAYOUT_OF = {
    "tabular-target-table": TT,
    "tabular-target-declaration": TD,
    "tabular-self-evaluation": SE,
    "vertical-self-evaluation": CY,
}
# The national three-level scheme in print order (TD, SE and the Chaoyang form).
NATIONAL_TREE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("产出指标", ("数量指标", "质量指标", "时效指标", "成本指标")),
    ("效益指标", ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标")),
    ("满意度指标", ("服务对象满意度指标",)),
)
RESULT_BANDS = ("达成指标", "部分达成指标并具有一定效果", "未达成指标且效果较差")
_SENTENCE = re.compile(r"[^。；;！!]+[。；;！!]?")


@dataclass(frozen=True)
class Template:
    """One indicator row as a seed printed it: its place in the tree, its name and its values."""

    l1: str
    l2: str
    l3: str
    target: str
    actual: str | None = None


@dataclass(frozen=True)
class Citation:
    """A document cited in a seed's 立项依据: title and the parts of its 文号."""

    title: str
    issuer: str
    year: int
    seq: int


@dataclass
class Pools:
    """Everything the generator draws from, per layout where the layouts differ."""

    names: list[str] = field(default_factory=list)
    name_heads: list[str] = field(default_factory=list)
    name_tails: list[str] = field(default_factory=list)
    sh_reporting_units: list[str] = field(default_factory=list)
    sh_departments: list[str] = field(default_factory=list)
    sh_units: list[str] = field(default_factory=list)
    cy_units: list[str] = field(default_factory=list)
    tt_categories: list[str] = field(default_factory=list)
    tt_performance_types: list[str] = field(default_factory=list)
    td_natures: list[str] = field(default_factory=list)
    td_categories: list[str] = field(default_factory=list)
    # layout -> l1 -> l2 -> templates (TT: its own open second level; TD/SE share "national").
    templates: dict[str, dict[str, dict[str, list[Template]]]] = field(default_factory=dict)
    indicator_counts: dict[str, list[int]] = field(default_factory=dict)
    sentences: dict[str, list[str]] = field(default_factory=dict)  # narrative label -> sentences
    reasons: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    legal_leads: list[str] = field(default_factory=list)
    money: dict[str, list[Decimal]] = field(default_factory=dict)  # "<layout>.<kind>" -> amounts
    cy_people: list[str] = field(default_factory=list)
    cy_phones: list[str] = field(default_factory=list)
    cy_fillers: list[str] = field(default_factory=list)
    cy_actuals: list[str] = field(default_factory=list)
    seed_files: list[str] = field(default_factory=list)


def default_seeds_dir() -> Path:
    """The repository's `data/` (beside `src/`), else `./data`."""
    repo_data = Path(__file__).resolve().parents[3] / "data"
    return repo_data if repo_data.is_dir() else Path("data")


def seed_files(seeds_dir: Path) -> list[Path]:
    files = sorted(p for p in seeds_dir.glob("*.txt") if p.is_file())
    if not files:
        raise FileNotFoundError(f"no seed files (*.txt) in {seeds_dir}")
    return files


@lru_cache(maxsize=4)
def load_pools(seeds_dir: Path | None = None) -> Pools:
    """Parse the seed files and build the pools (cached per folder)."""
    folder = seeds_dir or default_seeds_dir()
    forms: list[Form] = []
    paths = seed_files(folder)
    for path in paths:
        forms.extend(parse_source(path.read_bytes(), path.name))
    pools = build_pools(forms)
    pools.seed_files = [p.name for p in paths]
    return pools


def layout_of(form: Form) -> str:
    return _LAYOUT_OF[form.layout]


def build_pools(forms: Sequence[Form]) -> Pools:
    pools = Pools()
    for form in forms:
        layout = layout_of(form)
        _add(pools.names, [form.project_name.value])
        pools.indicator_counts.setdefault(layout, []).append(len(form.indicators))
        _read_units(pools, form, layout)
        _read_indicators(pools, form, layout)
        _read_narratives(pools, form, layout)
        _read_money(pools, form, layout)
        for citation in form.legal_citations:
            if citation.doc_number and citation.title and citation.issuer_code and citation.doc_year:
                cited = Citation(
                    citation.title, citation.issuer_code, citation.doc_year, citation.doc_seq or 1
                )
                _add(pools.citations, [cited])
        basis = form.narratives.get("立项依据")
        if basis is not None and "《" in basis.value:
            lead = basis.value.split("《", 1)[0].strip()
            _add(pools.legal_leads, [lead] if 4 <= len(lead) <= 60 and not re.search(r"\d", lead) else [])
    pools.name_heads, pools.name_tails = _name_parts(pools.names)
    return pools


def _add(target: list[Any], values: Iterable[Any]) -> None:
    for value in values:
        if value is not None and value != "" and value not in target:
            target.append(value)


def _value(field_value: object) -> str | None:
    value = getattr(field_value, "value", None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _read_units(pools: Pools, form: Form, layout: str) -> None:
    department, unit = _value(form.supervising_department), _value(form.implementing_unit)
    if layout == CY:
        _add(pools.cy_units, [v for v in (department, unit) if v])
        extra = form.extra_fields
        _add(pools.cy_people, [v for v in [_value(extra.get("项目负责人"))] if v])
        _add(pools.cy_phones, [v for v in [_value(extra.get("联系电话"))] if v and v.isdigit()])
        filler = _value(extra.get("填表人"))
        _add(pools.cy_fillers, [filler.split()[0]] if filler else [])
        return
    _add(pools.sh_departments, [department] if department else [])
    _add(pools.sh_units, [unit] if unit else [])
    _add(pools.sh_reporting_units, [v for v in [_value(form.reporting_unit)] if v])
    if layout == TT:
        _add(pools.tt_categories, [v for v in [_value(form.project_category)] if v])
        _add(pools.tt_performance_types, [v for v in [_value(form.performance_type)] if v])
    if layout == TD:
        _add(pools.td_natures, [v for v in [_value(form.project_nature)] if v])
        _add(pools.td_categories, [v for v in [_value(form.project_category)] if v])


def _read_indicators(pools: Pools, form: Form, layout: str) -> None:
    family = TT if layout == TT else (CY if layout == CY else "national")
    tree = pools.templates.setdefault(family, {})
    for indicator in form.indicators:
        l1, l2, target = indicator.l1, indicator.l2, indicator.target
        if not l1 or not l2 or not target or not target.strip() or "\t" in indicator.l3:
            continue
        if family == TT:
            if l1 not in TARGET_TABLE_LEVEL1:
                continue
        elif l1 not in LEVEL1_NAMES or LEVEL2_PARENT.get(l2) != l1:
            continue
        template = Template(
            l1, l2, indicator.l3.strip(), target.strip(), (indicator.actual or "").strip() or None
        )
        group = tree.setdefault(l1, {}).setdefault(l2, [])
        if all(t.l3 != template.l3 for t in group):
            group.append(template)
        if layout == SE and indicator.deviation_reason:
            _add(pools.reasons, [indicator.deviation_reason.strip()])
        if layout == CY and indicator.actual:
            _add(pools.cy_actuals, [indicator.actual.strip()])


def _read_narratives(pools: Pools, form: Form, layout: str) -> None:
    for label, text in form.narratives.items():
        if label == "立项依据":
            continue
        key = _narrative_key(label, layout)
        sentences = [s.strip() for s in _SENTENCE.findall(text.value) if len(s.strip()) >= 6]
        _add(pools.sentences.setdefault(key, []), [s for s in sentences if "\t" not in s])


def _narrative_key(label: str, layout: str) -> str:
    for name in ("项目总目标", "年度总体目标", "预期目标", "实际完成情况"):
        if label.startswith(name):
            return f"{layout}.{name}"
    return f"{layout}.{label}"


def _read_money(pools: Pools, form: Form, layout: str) -> None:
    for money in form.funds:
        if money.row == "total":
            _add(pools.money.setdefault(f"{layout}.{money.kind}", []), [money.amount])


def _name_parts(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split project names into heads and tails that recombine into plausible new names.

    A head is the longest prefix (2+ characters) a name shares with another name ('城管执法'); the
    rest of that name is a tail ('社会宣传'). Names that share no prefix give neither.
    """
    heads: list[str] = []
    tails: list[str] = []
    for name in names:
        best = 0
        for other in names:
            if other == name:
                continue
            common = 0
            while common < min(len(name), len(other)) and name[common] == other[common]:
                common += 1
            if common < len(name):
                best = max(best, common)
        if best >= 2 and len(name) - best >= 2:
            _add(heads, [name[:best]])
            _add(tails, [name[best:]])
    return heads, tails
