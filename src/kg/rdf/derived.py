"""Derived facts: the arithmetic and classification the SHACL shapes need but SHACL Core cannot compute.

`add_derived(graph, form, form_iri)` is called by `kg.rdf.mapping.form_to_graph`: it computes, from the
typed model and with exact `Decimal` arithmetic, the figures that the compliance rules compare (execution
rate, funds score, sums of weights and scores, rescoring of a row, grade band, funds totals) and writes
each on its **own resource** in the form's graph. Printed resources get no new triple: a derived resource
points at what it is about (`kg:reckoningOf`, `kg:profileOf`), says it was computed
(`prov:wasGeneratedBy kg:IngestDerivation`) and from which printed resources (`prov:wasDerivedFrom`).
Vocabulary: `ontology/kg-validation.ttl`; shapes comparing these facts: `shapes/*.ttl`.

Reckonings (`kg:Reckoning`, IRIs `<form>/reckoning/<what>` and `<form>/indicator/<n>/reckoning/<what>`)
hold a figure as the form states it (`kg:statedValue`, and `kg:statedRaw` as printed), what it is computed
to be (`kg:computedValue`, `kg:tolerance`) and the bounds the stated figure must keep (`kg:lowerBound`,
`kg:upperBound`, `kg:upperBoundExclusive`, or `kg:statedText`/`kg:expectedText` for the grade). Which rule
applies is the reckoning's class (one class per rule and severity variant). A reckoning is only made when
every figure it needs is printed; a missing figure is reported by the completeness rules instead.

Profiles classify a printed form or row so that a rule's shape can target exactly the resources it
applies to (SHACL Core cannot select focus nodes by a comparison or a name pattern except through
sh:or/sh:not, which pySHACL evaluates per row at about ten times the cost).

* `kg:FormProfile` (`<form>/profile`): whether a self-evaluation's template prints a 评分等级 row (C-04),
  whether C-07 applies (declarations; self-evaluations from 2021), the first-level categories of its rows
  (`kg:rowCategory`: 产出, 效益, 满意度 or another first-level name), and the name keys (`kg:nameKey`,
  `kg.rdf.keys.name_key`: NFKC, no whitespace, no quotes, lower case) of the project, and its rows whose
  target is a floor or a ceiling (`kg:floorTargetRow` for ≥ and >, `kg:ceilingTargetRow` for ≤ and <),
  which X-01 and X-02 compare across years;
* `kg:IndicatorProfile` (`<form>/indicator/<n>/profile`, every row): its name key and the classes that
  apply: its form's type (TG-05), its first-level category on declarations and self-evaluations (TG-06),
  satisfaction row (TG-10), count/rate/timeliness row with an exact or minimum target (TG-09), row that
  lost points (SE-12; with `kg:deviationReasonOnRow` when a neighbouring row's reason speaks of it).

Quotients that do not terminate (执行率, proportional scores) are rounded half-even to 10 decimal places;
everything else is exact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol
from urllib.parse import quote

from rdflib import Literal, URIRef
from rdflib.term import Node

from kg.model import Form, FormType, Indicator, Money, Number
from kg.rdf.keys import name_key
from kg.rdf.mapping import decimal_literal, short_hash
from kg.rdf.namespaces import KG, PROV, RDF

QUOTIENT_PLACES = Decimal("1E-10")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TEN = Decimal(10)

# Layouts (kg.forms) whose template has no 评分等级 row: C-04 asks for the grade only as a warning there.
LAYOUTS_WITHOUT_GRADE_ROW = frozenset({"vertical-self-evaluation"})

# C-07 applies to declarations and to self-evaluations from this fiscal year on.
INDICATOR_MIX_FROM = 2021

# SE-03: default weights of the first-level categories, and of the funds (执行率) row.
DEFAULT_CATEGORY_WEIGHTS: dict[str, Decimal] = {
    "产出": Decimal(50),
    "效益": Decimal(30),
    "满意度": Decimal(10),
}
DEFAULT_FUNDS_WEIGHT = Decimal(10)
FUNDS_CATEGORY = "执行率"
_CATEGORY_SLUGS = {"产出": "output", "效益": "benefit", "满意度": "satisfaction", FUNDS_CATEGORY: "funds"}

# SE-15 grade bands on the printed 总分: (lowest score, grade), best first.
GRADE_BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(90), "优"),
    (Decimal(80), "良"),
    (Decimal(60), "中"),
    (Decimal("-Infinity"), "差"),
)
_GRADE_WORDS = {"优秀": "优", "良好": "良", "中等": "中", "较差": "差"}

# SE-11 bands of a qualitative result, as fractions of the weight: (prefix, lower, exclusive upper).
RESULT_BANDS: tuple[tuple[str, Decimal | None, Decimal | None], ...] = (
    ("未达成", None, Decimal("0.6")),
    ("部分达成", Decimal("0.6"), Decimal("0.8")),
    ("达成", Decimal("0.8"), None),
)

# Units printed for the same thing in different words.
_UNIT_SYNONYMS = {"百分比": "%", "％": "%"}
# Operators of a quantitative target that SE-07 rescales (for a range a–b: a).
_PROPORTIONAL_OPERATORS = frozenset({">=", ">", "=", "range"})
_COMPARISON_OPERATORS = frozenset({">=", ">", "=", "<=", "<", "range"})

# SE-12: a neighbour's reason "speaks of" a row when it contains NEIGHBOUR_MENTION characters in a row of
# the row's third-level name that the neighbour's own name does not contain.
NEIGHBOUR_MENTION = 4


ROW_CLASSES: dict[FormType, URIRef] = {
    FormType.TARGET_TABLE: KG.TargetTableRow,
    FormType.TARGET_DECLARATION: KG.TargetDeclarationRow,
    FormType.SELF_EVALUATION: KG.SelfEvaluationRow,
}
# TG-06: first-level categories whose second levels are constrained (declarations and self-evaluations).
CATEGORY_ROW_CLASSES: dict[str, URIRef] = {
    "产出": KG.OutputCategoryRow,
    "效益": KG.BenefitCategoryRow,
    "满意度": KG.SatisfactionCategoryRow,
}


class TripleSink(Protocol):
    """Where derived triples go: an rdflib Graph, or anything else with `add((s, p, o))`."""

    def add(self, triple: tuple[Node, Node, Node], /) -> object: ...


def add_derived(graph: TripleSink, form: Form, form_iri: URIRef) -> None:
    """Add the form's derived facts to its graph (see the module documentation)."""
    writer = _Writer(graph, form, form_iri)
    for index, indicator in enumerate(form.indicators):
        _row_profile(writer, index, indicator)
    _form_profile(writer)
    if form.form_type == FormType.SELF_EVALUATION:
        _self_evaluation(writer)
    elif form.form_type == FormType.TARGET_DECLARATION:
        _declaration_funds(writer)
    elif form.form_type == FormType.TARGET_TABLE:
        _target_table_funds(writer)


# ----------------------------------------------------------------------------- writing


@dataclass
class Reckoning:
    """One reckoning before it is written: stated figure, computed figure and bounds."""

    cls: URIRef
    slug: str
    stated: Decimal | None = None
    stated_raw: str | None = None
    computed: Decimal | None = None
    tolerance: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    upper_exclusive: Decimal | None = None
    stated_text: str | None = None
    expected_text: str | None = None
    category: str | None = None
    sources: list[URIRef] = field(default_factory=list)


class _Writer:
    def __init__(self, graph: TripleSink, form: Form, form_iri: URIRef) -> None:
        self.graph = graph
        self.form = form
        self.form_iri = form_iri

    def indicator_iri(self, index: int) -> URIRef:
        return URIRef(f"{self.form_iri}/indicator/{index}")

    def fund_iri(self, money: Money) -> URIRef:
        # The IRI kg.rdf.mapping gives the funding figure (form/<stem>/<index>/fund/<kind>/<row>).
        return URIRef(
            f"{self.form_iri}/fund/{quote(money.kind, safe='-._~')}/{quote(money.row, safe='-._~')}"
        )

    def _derived(self, node: URIRef, cls: URIRef, sources: Iterable[URIRef]) -> None:
        self.graph.add((node, RDF.type, cls))
        self.graph.add((node, PROV.wasGeneratedBy, KG.IngestDerivation))
        for source in dict.fromkeys(sources):
            self.graph.add((node, PROV.wasDerivedFrom, source))

    def reckoning(self, subject: URIRef, r: Reckoning) -> None:
        node = URIRef(f"{subject}/reckoning/{r.slug}")
        self._derived(node, r.cls, [subject, *r.sources])
        self.graph.add((node, KG.reckoningOf, subject))
        for predicate, value in (
            (KG.statedValue, r.stated),
            (KG.computedValue, r.computed),
            (KG.tolerance, r.tolerance),
            (KG.lowerBound, r.lower),
            (KG.upperBound, r.upper),
            (KG.upperBoundExclusive, r.upper_exclusive),
        ):
            if value is not None:
                self.graph.add((node, predicate, decimal_literal(value)))
        for predicate, text in (
            (KG.statedRaw, r.stated_raw),
            (KG.statedText, r.stated_text),
            (KG.expectedText, r.expected_text),
            (KG.reckonedCategory, r.category),
        ):
            if text is not None:
                self.graph.add((node, predicate, Literal(text)))

    def profile(
        self,
        subject: URIRef,
        classes: Sequence[URIRef],
        facts: Sequence[tuple[URIRef, URIRef | Literal]] = (),
    ) -> None:
        node = URIRef(f"{subject}/profile")
        self._derived(node, classes[0], [subject, *(o for _, o in facts if isinstance(o, URIRef))])
        for cls in classes[1:]:
            self.graph.add((node, RDF.type, cls))
        self.graph.add((node, KG.profileOf, subject))
        for predicate, obj in facts:
            self.graph.add((node, predicate, obj))


def _quotient(value: Decimal) -> Decimal:
    """A quotient kept exact when it terminates within 10 places, else rounded half-even to 10 places."""
    rounded = value.quantize(QUOTIENT_PLACES, rounding=ROUND_HALF_EVEN)
    return value if rounded == value else rounded


def printed_places(raw: str) -> int:
    """Decimal places of a printed number: '98.63' -> 2, '99%' -> 0, '1,514.0223' -> 4."""
    match = re.search(r"\d(?:[\d,]*)(?:\.(\d+))?", unicodedata.normalize("NFKC", raw))
    return len(match.group(1) or "") if match else 0


def format_sum(value: Decimal, parts: Iterable[Number]) -> str:
    """A derived sum written with the largest precision of the printed parts: 88 + 10.00 -> '98.00'."""
    places = max((printed_places(part.raw) for part in parts), default=0)
    return f"{value:.{places}f}"


def category_of(level1: str | None) -> str | None:
    """The SE-03 category of a first-level name: '产出指标' -> '产出'; None when unnamed."""
    if level1 is None or not level1.strip():
        return None
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", level1))
    return next((category for category in DEFAULT_CATEGORY_WEIGHTS if name.startswith(category)), name)


def grade_of(total: Decimal) -> str:
    """SE-15: the grade a total score earns."""
    return next(grade for floor, grade in GRADE_BANDS if total >= floor)


def grade_band(grade: str) -> tuple[Decimal | None, Decimal | None] | None:
    """SE-15: (lowest total, exclusive highest total) of a grade, None for an unknown word."""
    floors = {name: floor for floor, name in GRADE_BANDS}
    if grade not in floors:
        return None
    better = [floor for floor, _ in GRADE_BANDS if floor > floors[grade]]
    lower = floors[grade] if floors[grade].is_finite() else None
    return lower, min(better) if better else None


def normalise_grade(text: str) -> str:
    word = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return _GRADE_WORDS.get(word, word)


def target_met(indicator: Indicator) -> bool | None:
    """Whether the actual value meets the quantitative target (the parsed comparison), or None when the row
    is not quantitative: no comparison operator, no plain number on both sides, or different units."""
    target, actual = indicator.target_parsed, indicator.actual_parsed
    if target is None or actual is None or target.value is None or actual.value is None:
        return None
    if target.operator not in _COMPARISON_OPERATORS or actual.operator is not None or actual.qualitative:
        return None
    if target.operator == "range" and target.upper is None:
        return None
    target_unit, actual_unit = _unit(target.unit), _unit(actual.unit)
    if target_unit is not None and actual_unit is not None and target_unit != actual_unit:
        return None
    value, goal = actual.value, target.value
    if target.operator == "range":
        assert target.upper is not None
        return goal <= value <= target.upper
    return {
        ">=": value >= goal,
        ">": value > goal,
        "=": value == goal,
        "<=": value <= goal,
        "<": value < goal,
    }[target.operator]


def _unit(unit: str | None) -> str | None:
    if unit is None or not unit.strip():
        return None
    unit = unicodedata.normalize("NFKC", unit).strip()
    return _UNIT_SYNONYMS.get(unit, unit)


def result_band(indicator: Indicator) -> tuple[Decimal | None, Decimal | None] | None:
    """SE-11: (lower, exclusive upper) fractions of the weight for a qualitative result, or None."""
    actual = indicator.actual_parsed
    text = actual.qualitative if actual is not None else None
    if not text:
        return None
    text = re.sub(r"\s+", "", text)
    return next(((lower, upper) for prefix, lower, upper in RESULT_BANDS if text.startswith(prefix)), None)


def target_direction(indicator: Indicator) -> str | None:
    """X-02: "at-least" for a ≥ / > target, "at-most" for ≤ / <, None otherwise."""
    operator = indicator.target_parsed.operator if indicator.target_parsed is not None else None
    return {">=": "at-least", ">": "at-least", "<=": "at-most", "<": "at-most"}.get(operator or "")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def mentions(reason: str, name: str, neighbour_name: str) -> bool:
    """Whether a neighbour's deviation reason speaks of a row named `name` (see NEIGHBOUR_MENTION)."""
    reason, name, neighbour_name = _squash(reason), _squash(name), _squash(neighbour_name)
    return any(
        piece in reason and piece not in neighbour_name
        for piece in (name[i : i + NEIGHBOUR_MENTION] for i in range(len(name) - NEIGHBOUR_MENTION + 1))
    )


# ----------------------------------------------------------------------------- self-evaluations


def _form_profile(w: _Writer) -> None:
    form = w.form
    classes = [KG.FormProfile]
    if form.form_type == FormType.SELF_EVALUATION:
        grade_row = form.layout not in LAYOUTS_WITHOUT_GRADE_ROW
        classes.append(KG.FormWithGradeRow if grade_row else KG.FormWithoutGradeRow)
    if form.form_type == FormType.TARGET_DECLARATION or (
        form.form_type == FormType.SELF_EVALUATION and form.year >= INDICATOR_MIX_FROM
    ):
        classes.append(KG.IndicatorMixForm)
    categories = dict.fromkeys(c for c in (category_of(i.l1) for i in form.indicators) if c is not None)
    facts: list[tuple[URIRef, URIRef | Literal]] = [(KG.nameKey, Literal(name_key(form.project_name.value)))]
    facts.extend((KG.rowCategory, Literal(category)) for category in categories)
    directions = {"at-least": KG.floorTargetRow, "at-most": KG.ceilingTargetRow}
    for index, indicator in enumerate(form.indicators):
        direction = target_direction(indicator)
        if direction is not None:
            facts.append((directions[direction], w.indicator_iri(index)))
    w.profile(w.form_iri, classes, list(dict.fromkeys(facts)))


def _self_evaluation(w: _Writer) -> None:
    form = w.form
    _execution_rate(w)
    _funds_score(w, _prints_whole_numbers(form))
    _weights_and_scores(w)
    _grade(w)
    for index, indicator in enumerate(form.indicators):
        _indicator(w, index, indicator)


def _prints_whole_numbers(form: Form) -> bool:
    printed = [n for n in (form.execution_rate, form.funds_weight, form.funds_score) if n is not None]
    return bool(printed) and all(printed_places(n.raw) == 0 for n in printed)


def _execution_rate(w: _Writer) -> None:
    form = w.form
    rate, executed, budget = form.execution_rate, form.fund("executed"), form.fund("full_year_budget")
    if rate is None or executed is None or budget is None or budget.yuan == 0:
        return
    computed = _quotient(executed.yuan / budget.yuan * HUNDRED)
    tolerance = Decimal(1).scaleb(-printed_places(rate.raw))
    w.reckoning(
        w.form_iri,
        Reckoning(
            KG.ExecutionRateReckoning,
            "execution-rate",
            stated=rate.value,
            stated_raw=rate.raw,
            computed=computed,
            tolerance=tolerance,
            lower=computed - tolerance,
            upper=computed + tolerance,
            sources=[w.fund_iri(executed), w.fund_iri(budget)],
        ),
    )


def _funds_score(w: _Writer, whole: bool) -> None:
    form = w.form
    rate, weight, score = form.execution_rate, form.funds_weight, form.funds_score
    if rate is None or weight is None or score is None:
        return
    computed = min(TEN, rate.value / TEN) * (weight.value / TEN)
    w.reckoning(
        w.form_iri,
        Reckoning(
            KG.WholeNumberFundsScoreReckoning if whole else KG.FundsScoreReckoning,
            "funds-score",
            stated=score.value,
            stated_raw=score.raw,
            computed=computed,
            tolerance=CENT,
            lower=computed - CENT,
            upper=computed + CENT,
        ),
    )


def _weights_and_scores(w: _Writer) -> None:
    form, s = w.form, w.form_iri
    rows = [w.indicator_iri(i) for i in range(len(form.indicators))]
    weights = [i.weight for i in form.indicators]
    if form.funds_weight is not None and form.indicators and all(n is not None for n in weights):
        parts = [form.funds_weight, *(n for n in weights if n is not None)]
        total = sum((n.value for n in parts), Decimal(0))
        raw = format_sum(total, parts)
        w.reckoning(
            s,
            Reckoning(
                KG.WeightSumReckoning,
                "weight-sum",
                total,
                raw,
                HUNDRED,
                Decimal(0),
                HUNDRED,
                HUNDRED,
                sources=rows,
            ),
        )
        if form.total_weight is not None:
            w.reckoning(
                s,
                Reckoning(
                    KG.TotalWeightReckoning,
                    "total-weight",
                    form.total_weight.value,
                    form.total_weight.raw,
                    total,
                    Decimal(0),
                    total,
                    total,
                    sources=rows,
                ),
            )
        _category_weights(w, form.funds_weight, rows)
    scores = [i.score for i in form.indicators]
    if form.total_score is not None and form.funds_score is not None and all(n is not None for n in scores):
        computed = form.funds_score.value + sum((n.value for n in scores if n is not None), Decimal(0))
        w.reckoning(
            s,
            Reckoning(
                KG.TotalScoreReckoning,
                "total-score",
                form.total_score.value,
                form.total_score.raw,
                computed,
                CENT,
                computed - CENT,
                computed + CENT,
                sources=rows,
            ),
        )


def _category_weights(w: _Writer, funds_weight: Number, rows: list[URIRef]) -> None:
    groups: dict[str, list[tuple[Number, URIRef]]] = {category: [] for category in DEFAULT_CATEGORY_WEIGHTS}
    for indicator, row in zip(w.form.indicators, rows, strict=True):
        category = category_of(indicator.l1)
        if category is not None and indicator.weight is not None:
            groups.setdefault(category, []).append((indicator.weight, row))
    groups[FUNDS_CATEGORY] = [(funds_weight, w.form_iri)]
    for category, members in groups.items():
        parts = [number for number, _ in members]
        total = sum((n.value for n in parts), Decimal(0))
        default = (
            DEFAULT_FUNDS_WEIGHT if category == FUNDS_CATEGORY else DEFAULT_CATEGORY_WEIGHTS.get(category, 0)
        )
        expected = Decimal(default)
        slug = _CATEGORY_SLUGS.get(category) or "other-" + short_hash(category)
        w.reckoning(
            w.form_iri,
            Reckoning(
                KG.CategoryWeightReckoning,
                f"category-weight/{slug}",
                total,
                format_sum(total, parts),
                expected,
                Decimal(0),
                expected,
                expected,
                category=category,
                sources=[row for _, row in members],
            ),
        )


def _grade(w: _Writer) -> None:
    form = w.form
    if form.grade is None or not form.grade.value.strip() or form.total_score is None:
        return
    stated = normalise_grade(form.grade.value)
    band = grade_band(stated)
    if band is None:  # not one of 优/良/中/差: nothing to compare
        return
    total = form.total_score
    w.reckoning(
        w.form_iri,
        Reckoning(
            KG.GradeReckoning,
            "grade",
            stated=total.value,
            stated_raw=total.raw,
            lower=band[0],
            upper_exclusive=band[1],
            stated_text=form.grade.value,  # as printed; the band is the normalised grade's
            expected_text=grade_of(total.value),
        ),
    )


def _indicator(w: _Writer, index: int, indicator: Indicator) -> None:
    row = w.indicator_iri(index)
    weight, score = indicator.weight, indicator.score
    if weight is None or score is None:
        return
    met = target_met(indicator)
    if met is True:
        w.reckoning(
            row,
            Reckoning(
                KG.MetTargetScoreReckoning,
                "met-target-score",
                score.value,
                score.raw,
                weight.value,
                lower=weight.value,
            ),
        )
    elif met is False:
        w.reckoning(
            row,
            Reckoning(
                KG.MissedTargetScoreReckoning,
                "missed-target-score",
                score.value,
                score.raw,
                weight.value,
                upper_exclusive=weight.value,
            ),
        )
        _expected_score(w, row, indicator, weight, score)
    band = result_band(indicator)
    if band is not None:
        lower, upper = band
        w.reckoning(
            row,
            Reckoning(
                KG.ResultBandReckoning,
                "result-band",
                score.value,
                score.raw,
                lower=weight.value * lower if lower is not None else None,
                upper_exclusive=weight.value * upper if upper is not None else None,
            ),
        )


def _expected_score(w: _Writer, row: URIRef, indicator: Indicator, weight: Number, score: Number) -> None:
    target, actual = indicator.target_parsed, indicator.actual_parsed
    assert target is not None and actual is not None and target.value is not None and actual.value is not None
    if target.operator not in _PROPORTIONAL_OPERATORS or target.value <= 0:
        return
    expected = _quotient(weight.value * actual.value / target.value)
    w.reckoning(
        row,
        Reckoning(
            KG.ExpectedScoreReckoning,
            "expected-score",
            score.value,
            score.raw,
            expected,
            CENT,
            upper=expected + CENT,
        ),
    )


# ----------------------------------------------------------------------------- row profiles


def _row_profile(w: _Writer, index: int, indicator: Indicator) -> None:
    form_type = w.form.form_type
    classes = [KG.IndicatorProfile, ROW_CLASSES[form_type]]
    facts: list[tuple[URIRef, URIRef | Literal]] = [(KG.nameKey, Literal(name_key(indicator.l3)))]
    category = category_of(indicator.l1)
    if form_type != FormType.TARGET_TABLE and category in CATEGORY_ROW_CLASSES:
        classes.append(CATEGORY_ROW_CLASSES[category])
    if is_satisfaction_row(indicator):
        classes.append(KG.SatisfactionIndicatorRow)
    if is_count_rate_or_timeliness_target(indicator):
        classes.append(KG.CountRateOrTimelinessTargetRow)
    weight, score = indicator.weight, indicator.score
    lost_points = weight is not None and score is not None and score.value < weight.value
    if form_type == FormType.SELF_EVALUATION and lost_points:
        neighbour = _neighbour_speaking_of(w.form.indicators, index)
        if neighbour is None:
            classes.append(KG.DeductedRow)
        else:
            classes.append(KG.DeductedRowReasonNearby)
            facts.append((KG.deviationReasonOnRow, w.indicator_iri(neighbour)))
    w.profile(w.indicator_iri(index), classes, facts)


def is_satisfaction_row(indicator: Indicator) -> bool:
    """TG-10: 满意度 in the first- or second-level name, or a third-level name ending in 满意度/满意率
    (群众满意度; not 满意度测评问卷数量, a count)."""
    levels = (_squash(indicator.l1 or ""), _squash(indicator.l2 or ""))
    return any("满意度" in name for name in levels) or _squash(indicator.l3).endswith(("满意度", "满意率"))


def is_count_rate_or_timeliness_target(indicator: Indicator) -> bool:
    """TG-09's scope: an exact (=) or minimum (≥) number printed with a unit, or on a timeliness row."""
    target = indicator.target_parsed
    if target is None or target.value is None or target.operator not in ("=", ">="):
        return False
    return _unit(target.unit) is not None or "时效" in _squash(indicator.l2 or "")


def _neighbour_speaking_of(rows: Sequence[Indicator], index: int) -> int | None:
    """SE-12: the index of the row above or below whose deviation reason speaks of row `index`."""
    for other in (index - 1, index + 1):
        if 0 <= other < len(rows):
            reason = rows[other].deviation_reason
            if reason and reason.strip() and mentions(reason, rows[index].l3, rows[other].l3):
                return other
    return None


# ----------------------------------------------------------------------------- target forms (TG-04)


def _declaration_funds(w: _Writer) -> None:
    form = w.form
    _funds_sum(w, "project-funds-sum", "project_total", ("project_total_fiscal", "project_other_funds"))
    _funds_sum(
        w,
        "annual-funds-sum",
        "annual_request_total",
        ("annual_current_year_appropriation", "annual_carryover", "other_funds"),
    )
    _funds_ceiling(w, "annual-within-project", form.fund("annual_request_total"), form.fund("project_total"))


def _target_table_funds(w: _Writer) -> None:
    form = w.form
    _funds_ceiling(
        w, "current-year-within-total", form.fund("current_year_budget"), form.fund("project_total_budget")
    )


def _funds_sum(w: _Writer, slug: str, total_kind: str, part_kinds: Sequence[str]) -> None:
    total = w.form.fund(total_kind)
    parts = [m for m in (w.form.fund(kind) for kind in part_kinds) if m is not None]
    if total is None or not parts:
        return
    computed = sum((m.yuan for m in parts), Decimal(0))  # a blank part counts as 0
    w.reckoning(
        w.form_iri,
        Reckoning(
            KG.FundsSumReckoning,
            slug,
            total.yuan,
            total.raw,
            computed,
            Decimal(0),
            computed,
            computed,
            category=total_kind,
            sources=[w.fund_iri(total), *(w.fund_iri(m) for m in parts)],
        ),
    )


def _funds_ceiling(w: _Writer, slug: str, part: Money | None, whole: Money | None) -> None:
    if part is None or whole is None:
        return
    w.reckoning(
        w.form_iri,
        Reckoning(
            KG.FundsCeilingReckoning,
            slug,
            part.yuan,
            part.raw,
            whole.yuan,
            upper=whole.yuan,
            category=part.kind,
            sources=[w.fund_iri(part), w.fund_iri(whole)],
        ),
    )
