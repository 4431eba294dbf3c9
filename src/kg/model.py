"""The plain, typed intermediate model between the parsers and the RDF mapping.

Parsers (`kg.forms`) produce these objects; `kg.rdf` maps them to the ontology. Nothing here knows
about text layouts or RDF, so either side can change without touching the other. Every value keeps
the text as printed (`raw`) beside its normalised reading, and the line it came from, because
reviewers must be able to go back to the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum


class FormType(str, Enum):
    """The three kinds of performance form; values are the names used in outputs."""

    TARGET_TABLE = "target_table"  # 绩效目标表 (Shanghai 2020 template)
    TARGET_DECLARATION = "target_declaration"  # 绩效目标申报表 (2023 template)
    SELF_EVALUATION = "self_evaluation"  # 绩效自评表 (Shanghai 2024 / Beijing Chaoyang)


@dataclass(frozen=True)
class Field:
    """A printed value with the 1-based line it was read from."""

    value: str
    line: int


@dataclass(frozen=True)
class Number:
    """A printed number (weight, score, percentage...) kept exactly as a decimal."""

    raw: str
    value: Decimal
    line: int


@dataclass(frozen=True)
class Money:
    """An amount of money: `amount` is in the source's unit, `yuan` always in 元 (exact)."""

    kind: str  # key as in shared/gold/forms.json funds, e.g. "full_year_budget"
    raw: str
    amount: Decimal
    unit: str  # "元" or "万元"
    line: int
    row: str = "total"  # SE funds table row: total | current_year_appropriation | carryover | other

    @property
    def yuan(self) -> Decimal:
        """The amount in 元; a unit we cannot convert exactly is refused, never guessed."""
        if self.unit == "万元":
            return self.amount * 10000
        if self.unit == "元":
            return self.amount
        raise ValueError(f"line {self.line}: cannot convert money unit {self.unit!r} to 元")


@dataclass(frozen=True)
class Comparison:
    """A target or actual value read as a comparison.

    `operator` is one of ">=", "<=", "=", ">", "<", "range" or None (no operator printed);
    `value` is the number (the lower bound of a range), `upper` the upper bound of a range;
    `qualitative` holds the text when no number could be read (及时, 达成指标, 合理 ...).
    """

    raw: str
    operator: str | None = None
    value: Decimal | None = None
    upper: Decimal | None = None
    unit: str | None = None
    qualitative: str | None = None


@dataclass
class Indicator:
    """One third-level indicator row, with its place in the three-level tree."""

    l1: str | None
    l2: str | None
    l3: str
    target: str | None
    line_start: int
    line_end: int
    actual: str | None = None
    weight: Number | None = None
    score: Number | None = None
    deviation_reason: str | None = None
    target_parsed: Comparison | None = None
    actual_parsed: Comparison | None = None


@dataclass(frozen=True)
class LegalCitation:
    """A document cited as legal basis (立项依据), as found in one narrative field."""

    raw: str  # the citation text as printed, e.g. "《…通知》（沪城管执[2017]58号）"
    line: int
    source_field: str  # label of the field it was found in, e.g. "立项依据"
    doc_number: str | None = None  # normalised "issuer〔yyyy〕n号"
    doc_number_raw: str | None = None
    issuer_code: str | None = None  # "沪城管执"
    doc_year: int | None = None
    doc_seq: int | None = None
    title: str | None = None  # without 《》


@dataclass
class Form:
    """One performance form as printed, with provenance to its file and lines."""

    file: str  # base name of the source file
    index_in_file: int  # 0-based position of the form in its file
    form_type: FormType
    layout: str  # which template variant the parser recognised, e.g. "sh-se-2024"
    line_start: int  # the title line
    line_end: int
    year: int
    project_name: Field
    reporting_unit: Field | None = None  # 申报单位 (TT)
    supervising_department: Field | None = None  # 主管部门
    implementing_unit: Field | None = None  # 实施单位
    project_category: Field | None = None  # 项目类别
    project_nature: Field | None = None  # 项目性质
    performance_type: Field | None = None  # 绩效类型
    includes_government_purchase: bool | None = None  # 是否含有政府购买服务
    includes_government_purchase_raw: Field | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    planned_start_raw: Field | None = None
    planned_end_raw: Field | None = None
    money_unit: str = "元"
    funds: list[Money] = field(default_factory=list)
    execution_rate: Number | None = None  # 执行率 (%), as printed on the funds row
    funds_weight: Number | None = None  # 分值/分数 of the funds row
    funds_score: Number | None = None  # 得分 of the funds row
    # Narrative fields by their printed label (项目概况, 立项依据, 预期目标, 实际完成情况, 年度总体目标 ...).
    narratives: dict[str, Field] = field(default_factory=dict)
    indicators: list[Indicator] = field(default_factory=list)
    total_weight: Number | None = None
    total_score: Number | None = None
    grade: Field | None = None
    legal_citations: list[LegalCitation] = field(default_factory=list)
    # Other label/value pairs printed on the form that the model has no slot for (项目负责人, 联系电话 ...).
    extra_fields: dict[str, Field] = field(default_factory=dict)

    def fund(self, kind: str, row: str = "total") -> Money | None:
        """The money figure of a kind, or None when the form does not print it."""
        return next((m for m in self.funds if m.kind == kind and m.row == row), None)


class FormParseError(ValueError):
    """Input that cannot be read as performance forms; names the file, line and what was expected."""

    def __init__(self, file: str, line: int | None, expected: str, found: str | None = None) -> None:
        self.file = file
        self.line = line
        self.expected = expected
        self.found = found
        where = f"{file}:{line}" if line is not None else file
        message = f"{where}: expected {expected}"
        if found is not None:
            message += f", found {found!r}"
        super().__init__(message)
