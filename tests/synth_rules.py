"""Arithmetic rules of shared/RULES.md, checked on expected.json records of a synthetic corpus.

Only for testing the generator: every self-evaluation must break exactly the rules it lists in
`injected` (and target forms likewise for TG-03, TG-04 and DN-05). Values are read as the expected
extraction gives them (what the form prints).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from kg.forms.values import parse_comparison, parse_decimal

GRADES = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))
BANDS = ("达成指标", "部分达成指标并具有一定效果", "未达成指标且效果较差")


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _score(row: dict[str, Any]) -> Decimal | None:
    if row["score"] is None and row.get("alt", {}).get("score"):
        return _d(row["alt"]["score"][0])
    return _d(row["score"])


def _met(row: dict[str, Any]) -> bool | None:
    """Whether a quantitative target holds for the actual value; None when not quantitative."""
    target, actual = parse_comparison(row["target"]), parse_comparison(row["actual"])
    if target is None or actual is None or target.value is None or actual.value is None:
        return None
    if target.operator == "range" or actual.operator is not None:
        return None
    value, goal = actual.value, target.value
    return {
        None: value >= goal,
        "=": value == goal,
        ">=": value >= goal,
        ">": value > goal,
        "<=": value <= goal,
        "<": value < goal,
    }[target.operator]


def broken_rules(form: dict[str, Any]) -> set[str]:
    """Ids of the checked rules that the record breaks."""
    broken: set[str] = set()
    if form["form_type"] == "self_evaluation":
        broken |= _evaluation_rules(form)
    else:
        broken |= _target_rules(form)
    return broken


def _evaluation_rules(form: dict[str, Any]) -> set[str]:
    broken: set[str] = set()
    whole = form["layout"] == "cy"
    funds = {kind: _d(value) for kind, value in form["funds"].items()}
    rate, weight, score = funds["execution_rate_percent"], funds["funds_weight"], funds["funds_score"]
    assert rate is not None and weight is not None and score is not None
    full, executed = funds["full_year_budget"], funds["executed"]
    assert full is not None and executed is not None
    if abs(rate - executed / full * 100) > (Decimal(1) if whole else Decimal("0.01")):
        broken.add("SE-01")
    if abs(score - min(Decimal(10), rate / 10) * weight / 10) > (
        Decimal("0.05") if whole else Decimal("0.01")
    ):
        broken.add("SE-02")
    rows = form["indicators"]
    weights = sum((_d(r["weight"]) or Decimal(0) for r in rows), Decimal(0)) + weight
    scores = sum((_score(r) or Decimal(0) for r in rows), Decimal(0)) + score
    if weights != 100 or _d(form["total_weight"]) != weights:
        broken.add("SE-04")
    if abs((_d(form["total_score"]) or Decimal(0)) - scores) > Decimal("0.01"):
        broken.add("SE-05")
    for row in rows:
        row_weight, row_score = _d(row["weight"]), _score(row)
        assert row_weight is not None and row_score is not None
        if not Decimal(0) <= row_score <= row_weight:
            broken.add("SE-06")
        met = _met(row)
        if met is True and row_score < row_weight:
            broken.add("SE-09")
        if met is False and row_score == row_weight:
            broken.add("SE-10")
        if row_score < row_weight and not row["deviation_reason"]:
            broken.add("SE-12")
        if row["actual"] in BANDS:
            ratio = row_score / row_weight if row_weight else Decimal(1)
            band = BANDS.index(row["actual"])
            if (band == 0 and ratio < Decimal("0.8")) or (
                band == 1 and not Decimal("0.6") <= ratio < Decimal("0.8")
            ):
                broken.add("SE-11")
            if band == 2 and ratio >= Decimal("0.6"):
                broken.add("SE-11")
    if form["grade"] is not None:
        total = _d(form["total_score"]) or Decimal(0)
        if next(name for bound, name in GRADES if total >= bound) != form["grade"]:
            broken.add("SE-15")
    return broken


def _target_rules(form: dict[str, Any]) -> set[str]:
    broken: set[str] = set()
    if form["planned_start"] and form["planned_end"] and form["planned_start"] > form["planned_end"]:
        broken.add("TG-03")
    funds = {kind: _d(value) or Decimal(0) for kind, value in form["funds"].items()}
    if form["form_type"] == "target_declaration":
        if funds["project_total"] != funds["project_total_fiscal"] + funds.get(
            "project_other_funds", Decimal(0)
        ):
            broken.add("TG-04")
        annual = funds["annual_current_year_appropriation"] + funds["annual_carryover"] + funds["other_funds"]
        if funds["annual_request_total"] != annual or funds["annual_request_total"] > funds["project_total"]:
            broken.add("TG-04")
    elif funds["current_year_budget"] > funds["project_total_budget"]:
        broken.add("TG-04")
    for number in form["legal_basis_doc_numbers"]:
        year = re.search(r"〔(\d{4})〕", number)
        if year and int(year[1]) > form["year"]:
            broken.add("DN-05")
    _ = parse_decimal  # imported for symmetry with the parsers' readings
    return broken
