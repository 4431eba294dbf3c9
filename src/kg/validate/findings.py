"""Findings: a SHACL validation result told in terms of the form it is about.

A pySHACL result names a focus node, a path, a value and the shape it comes from. A `Finding` adds what a
reviewer needs: the source file and form, project, year, the indicator row (third-level name), the offending
value as printed, and a message with the figures that do not add up.

How the row and the printed value are found (`resolve`):

* the *holders* of the offending value are the value itself when it is a part of a form (an indicator row);
  else, for a path of several steps, the nodes the path reaches before its last step that hold the value
  (or all of them when the value is missing); else the focus node;
* the row is the one the focus node belongs to (a row, its profile or reckonings), else the row the value
  is, else the first row among the holders;
* the printed value is the shape's `kg:printedValueProperty` read on the holders (several joined by
  " / "), else a literal value as it is, else none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF
from rdflib.term import Node

from kg.rdf.mapping import FORM_CLASSES
from kg.rdf.namespaces import ID, KG
from kg.validate.catalog import SEVERITY_ORDER, ShapeInfo, rule_sort_key

JSON_KEYS = (
    "rule",
    "severity",
    "file",
    "form_index",
    "project",
    "year",
    "indicator",
    "message",
    "value",
    "focus_node",
)

_PART = re.compile(rf"^({re.escape(str(ID))}form/[^/]+/\d+)(/indicator/(\d+))?(?:/|$)")

Lookup = Callable[[Node, URIRef], list[Node]]


def form_of(node: Node) -> str | None:
    """The form IRI a data IRI belongs to (`…/id/form/<stem>/<index>[/…]`), from the mapping's IRI scheme."""
    match = _PART.match(str(node)) if isinstance(node, URIRef) else None
    return match.group(1) if match else None


def row_of(node: Node) -> str | None:
    """The indicator row IRI a data IRI belongs to (the row, its profile or reckonings), or None."""
    match = _PART.match(str(node)) if isinstance(node, URIRef) else None
    return f"{match.group(1)}/indicator/{match.group(3)}" if match and match.group(2) else None


def graph_of_form(form: str) -> str:
    """The named graph of a form IRI (`…/id/form/<stem>/<i>` -> `…/id/graph/<stem>/<i>`)."""
    return f"{ID}graph/{form[len(f'{ID}form/') :]}"


class StaleGraphError(ValueError):
    """A form graph without the derived facts the shapes need (mapped by an older version of kg)."""


@dataclass(frozen=True)
class Row:
    index: int
    name: str | None
    line: int | None


@dataclass
class FormContext:
    """What findings say about their form: file, index, project, year, rows."""

    form: str
    file: str
    index: int
    project: str
    year: int | None
    form_type: str | None
    line: int | None
    rows: dict[str, Row] = field(default_factory=dict)

    @property
    def graph(self) -> str:
        return graph_of_form(self.form)

    @classmethod
    def from_graph(cls, graph: Graph) -> FormContext:
        """The context of the (only) form in a form graph."""
        forms = [s for s in graph.subjects(KG.formIndex, None) if isinstance(s, URIRef)]
        if len(forms) != 1:
            raise ValueError(f"a form graph holds exactly one form, found {len(forms)}")
        form = forms[0]
        if (None, KG.profileOf, form) not in graph:
            raise StaleGraphError(
                f"the form graph of <{form}> has no derived facts (it was loaded by an older kg): load its "
                "source file again (`kg ingest FILE`) before validating, or rules would silently not apply"
            )
        source = graph.value(form, PROV.hadPrimarySource)
        context = cls(
            form=str(form),
            file=_str(graph.value(source, DCTERMS.identifier)) if source is not None else "",
            index=_int(graph.value(form, KG.formIndex)) or 0,
            project=_str(graph.value(form, DCTERMS.title)),
            year=_int(graph.value(form, KG.fiscalYear)),
            form_type=form_type_name(graph.value(form, RDF.type)),
            line=_int(graph.value(form, KG.lineStart)),
        )
        for row in graph.objects(form, KG.hasIndicator):
            index = _int(graph.value(row, KG.indicatorIndex))
            context.rows[str(row)] = Row(
                index if index is not None else -1,
                _str(graph.value(row, KG.level3Name)) or None,
                _int(graph.value(row, KG.lineStart)),
            )
        return context


FORM_TYPES: dict[URIRef, str] = {cls: form_type.value for form_type, cls in FORM_CLASSES.items()}


def form_type_name(node: Node | None) -> str | None:
    """The output name of a form class (kg:SelfEvaluation -> self_evaluation)."""
    return FORM_TYPES.get(node) if isinstance(node, URIRef) else None


def _str(node: Node | None) -> str:
    return str(node) if node is not None else ""


def _int(node: Node | None) -> int | None:
    try:
        return int(str(node)) if node is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Finding:
    """One validation result about one form (see the module documentation). `json()` is the contract."""

    rule: str
    severity: str
    file: str
    form_index: int
    project: str
    year: int | None
    indicator: str | None
    message: str
    value: str | None
    focus_node: str
    # beyond the JSON contract: for reports, text and HTML
    message_en: str = ""
    form: str = ""
    indicator_node: str | None = None
    indicator_index: int | None = None
    line: int | None = None
    source_shape: str = ""
    constraint_component: str | None = None
    path: tuple[str, ...] | None = None
    value_node: Node | None = None
    form_type: str | None = None

    @property
    def graph(self) -> str:
        return graph_of_form(self.form)

    def json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in JSON_KEYS}

    def sort_key(self) -> tuple[Any, ...]:
        """Reading order; the last keys only break ties (two components of one shape on one value, a
        value node printed alike), so that every engine numbers a report's results the same way."""
        return (
            _natural(self.file),
            self.form_index,
            rule_sort_key(self.rule),
            SEVERITY_ORDER.index(self.severity),
            self.indicator_index if self.indicator_index is not None else -1,
            self.source_shape,
            self.value or "",
            self.focus_node,
            self.constraint_component or "",
            self.value_node.n3() if self.value_node is not None else "",
        )


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


# ----------------------------------------------------------------------------- resolution


def graph_lookup(graph: Graph) -> Lookup:
    def lookup(subject: Node, predicate: URIRef) -> list[Node]:
        return list(graph.objects(subject, predicate))

    return lookup


def resolve(
    context: FormContext,
    shape: ShapeInfo,
    focus: Node,
    value: Node | None,
    lookup: Lookup,
    constraint_component: Node | None = None,
) -> Finding:
    """The finding of one result of `shape` about `context`'s form (see the module documentation)."""
    holders = _holders(shape, focus, value, lookup)
    row = row_of(focus) or (row_of(value) if value is not None else None)
    if row is None:
        row = next((r for r in (row_of(h) for h in holders) if r is not None), None)
    info = context.rows.get(row) if row is not None else None
    printed: list[str] = []
    if shape.printed_value is not None:
        for holder in holders:
            printed.extend(str(o) for o in lookup(holder, shape.printed_value) if isinstance(o, Literal))
    elif isinstance(value, Literal):
        printed.append(str(value))
    detail_zh, detail_en = _detail(focus, row, lookup)
    return Finding(
        rule=shape.rule,
        severity=shape.severity,
        file=context.file,
        form_index=context.index,
        project=context.project,
        year=context.year,
        indicator=info.name if info is not None else None,
        message=shape.message_zh + (f"（{detail_zh}）" if detail_zh else ""),
        value=" / ".join(dict.fromkeys(printed)) or None,
        focus_node=str(focus),
        message_en=shape.message_en + (f" ({detail_en})" if detail_en else ""),
        form=context.form,
        indicator_node=row,
        indicator_index=info.index if info is not None else None,
        line=info.line if info is not None else _line(holders, focus, lookup, context.line),
        source_shape=str(shape.iri),
        constraint_component=str(constraint_component) if constraint_component is not None else None,
        path=tuple(str(p) for p in shape.path) if shape.path is not None else None,
        value_node=value,
        form_type=context.form_type,
    )


def _line(holders: list[Node], focus: Node, lookup: Lookup, default: int | None) -> int | None:
    """The source line of the part a finding is about (a citation, a funding figure), else the form's."""
    for node in [*holders, focus]:
        for value in lookup(node, KG.lineStart):
            return _int(value)
    return default


def _holders(shape: ShapeInfo, focus: Node, value: Node | None, lookup: Lookup) -> list[Node]:
    if isinstance(value, URIRef) and row_of(value) == str(value):  # the value is a row itself
        return [value]
    path = shape.path
    if path is None or len(path) < 2:
        return [focus]
    nodes: list[Node] = [focus]
    for step in path[:-1]:
        nodes = list(dict.fromkeys(o for n in nodes for o in lookup(n, step)))
    if value is not None:
        nodes = [n for n in nodes if value in lookup(n, path[-1])]
    return sorted(nodes, key=lambda n: _natural(str(n)))


def _detail(focus: Node, row: str | None, lookup: Lookup) -> tuple[str, str]:
    """The figures behind a reckoning's finding, as 'stated …, computed …' in Chinese and English."""
    classes = set(lookup(focus, RDF.type))
    if not classes & set(_RECKONING_DETAILS):
        return "", ""
    [cls] = sorted((c for c in classes if c in _RECKONING_DETAILS), key=str)
    figures = _Figures(focus, row, lookup)
    template_zh, template_en = _RECKONING_DETAILS[cls]  # type: ignore[index]
    return template_zh.format_map(figures), template_en.format_map(figures)


class _Figures(dict[str, str]):
    """The figures a message template names, each read and formatted when the template names it: the
    reckoning's own fields, and the printed figures of its row (when it has one)."""

    def __init__(self, focus: Node, row: str | None, lookup: Lookup) -> None:
        super().__init__()
        self.focus, self.row, self.lookup = focus, row, lookup

    def __missing__(self, name: str) -> str:
        subject, predicate = self.focus, _RECKONING_PREDICATES.get(name)
        if predicate is None and self.row is not None:
            subject, predicate = URIRef(self.row), _ROW_FIGURE_PREDICATES.get(name)
        if predicate is None:
            raise KeyError(name)
        self[name] = _first(self.lookup(subject, predicate))
        return self[name]


_RECKONING_FIELDS = (
    "statedRaw",
    "computedValue",
    "tolerance",
    "upperBound",
    "statedText",
    "expectedText",
    "reckonedCategory",
)
_RECKONING_PREDICATES = {name: KG[name] for name in _RECKONING_FIELDS}
_ROW_FIGURE_PREDICATES = {
    "target": KG.targetRaw,
    "actual": KG.actualRaw,
    "weight": KG.weightRaw,
    "score": KG.scoreRaw,
}

# What `resolve` reads about the nodes of a finding besides the shape's path and printed-value property
# (the compiled engine reads these in batches before resolving).
DETAIL_PREDICATES: tuple[URIRef, ...] = (
    RDF.type,
    KG.lineStart,
    *_RECKONING_PREDICATES.values(),
    *_ROW_FIGURE_PREDICATES.values(),
)

_RECKONING_DETAILS: dict[URIRef, tuple[str, str]] = {
    KG.ExecutionRateReckoning: (
        "表列 {statedRaw}，计算值 {computedValue}，允差 ±{tolerance}",
        "stated {statedRaw}, computed {computedValue}, tolerance ±{tolerance}",
    ),
    KG.FundsScoreReckoning: (
        "表列 {statedRaw}，计算值 {computedValue}，允差 ±{tolerance}",
        "stated {statedRaw}, computed {computedValue}, tolerance ±{tolerance}",
    ),
    KG.WholeNumberFundsScoreReckoning: (
        "表列 {statedRaw}，计算值 {computedValue}，允差 ±{tolerance}",
        "stated {statedRaw}, computed {computedValue}, tolerance ±{tolerance}",
    ),
    KG.CategoryWeightReckoning: (
        "{reckonedCategory} 分值合计 {statedRaw}，默认 {computedValue}",
        "{reckonedCategory} weights sum to {statedRaw}, default {computedValue}",
    ),
    KG.WeightSumReckoning: ("合计 {statedRaw}，应为 100", "the sum is {statedRaw}, not 100"),
    KG.TotalWeightReckoning: (
        "表列 {statedRaw}，各项分值合计 {computedValue}",
        "stated {statedRaw}, weights sum to {computedValue}",
    ),
    KG.TotalScoreReckoning: (
        "表列 {statedRaw}，各项得分合计 {computedValue}，允差 ±{tolerance}",
        "stated {statedRaw}, scores sum to {computedValue}, tolerance ±{tolerance}",
    ),
    KG.ExpectedScoreReckoning: (
        "指标值 {target}，实际完成值 {actual}，分值 {weight}，得分 {statedRaw}，按比例应得 {computedValue}",
        "target {target}, actual {actual}, weight {weight}, score {statedRaw}, proportional {computedValue}",
    ),
    KG.MetTargetScoreReckoning: (
        "指标值 {target}，实际完成值 {actual}，分值 {weight}，得分 {statedRaw}",
        "target {target}, actual {actual}, weight {weight}, score {statedRaw}",
    ),
    KG.MissedTargetScoreReckoning: (
        "指标值 {target}，实际完成值 {actual}，分值 {weight}，得分 {statedRaw}",
        "target {target}, actual {actual}, weight {weight}, score {statedRaw}",
    ),
    KG.ResultBandReckoning: (
        "实际完成值 {actual}，分值 {weight}，得分 {statedRaw}",
        "actual {actual}, weight {weight}, score {statedRaw}",
    ),
    KG.GradeReckoning: (
        "表列“{statedText}”，按总分应为“{expectedText}”",
        "stated {statedText}, the total score earns {expectedText}",
    ),
    KG.FundsSumReckoning: (
        "表列 {statedRaw}，各项合计 {computedValue} 元",
        "stated {statedRaw}, the parts add up to {computedValue} yuan",
    ),
    KG.FundsCeilingReckoning: (
        "表列 {statedRaw}，上限 {upperBound} 元",
        "stated {statedRaw}, at most {upperBound} yuan",
    ),
}


def _first(values: list[Node]) -> str:
    for value in values:
        if isinstance(value, Literal):
            return _display(value)
    return "—"


def _display(value: Literal) -> str:
    """A literal for a message: decimals with at most 4 places (computed quotients carry 10), thousands
    separated from 10,000 on."""
    if value.datatype is not None and str(value.datatype).endswith("#decimal"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if number.as_tuple().exponent < -4:  # type: ignore[operator]
            number = number.quantize(Decimal("0.0001"))
        text = format(number, ",f" if abs(number) >= 10000 else "f")  # money in 元: 103,288
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
