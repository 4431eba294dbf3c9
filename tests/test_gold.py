"""Extraction of the seed corpus against the hand-checked gold (../shared/gold/forms.json)."""

from __future__ import annotations

import pytest

from kg.forms import parse_source
from tests.gold import GOLD_PATH, REPO, REPORTS, compare, load_gold

pytestmark = pytest.mark.skipif(not GOLD_PATH.exists(), reason=f"gold file {GOLD_PATH} not present")


@pytest.fixture(scope="module")
def score():  # type: ignore[no-untyped-def]
    forms = []
    for path in sorted((REPO / "data").glob("*.txt")):
        forms.extend(parse_source(path.read_bytes(), path.name))
    result = compare(forms, load_gold())
    misses = [f"  miss: {miss}" for miss in result.misses[:40]]
    REPORTS.append("\n".join(["seed extraction vs shared/gold/forms.json", result.table(), *misses]))
    return result


def test_every_form_found_with_type_year_and_project(score) -> None:  # type: ignore[no-untyped-def]
    assert score.ratio("forms") == 1.0
    for name in ("form.form_type", "form.year", "form.project_name", "form.line_start"):
        assert score.ratio(name) == 1.0, name


def test_indicator_rows_found(score) -> None:  # type: ignore[no-untyped-def]
    assert score.found_rows >= 0.99 * score.gold_rows
    assert score.extra_rows <= 0.01 * score.gold_rows


@pytest.mark.parametrize("name", ["target", "actual", "weight", "score", "deviation_reason", "l3"])
def test_indicator_values_exact(score, name: str) -> None:  # type: ignore[no-untyped-def]
    assert score.ratio(f"indicator.{name}") >= 0.99


@pytest.mark.parametrize("name", ["l1", "l2"])
def test_indicator_levels(score, name: str) -> None:  # type: ignore[no-untyped-def]
    assert score.ratio(f"indicator.{name}") >= 0.97


@pytest.mark.parametrize(
    "name",
    [
        "funds",
        "form.total_weight",
        "form.total_score",
        "form.grade",
        "form.legal_basis_doc_numbers",
        "form.money_unit_in_source",
    ],
)
def test_funds_totals_grades_and_doc_numbers_all_exact(score, name: str) -> None:  # type: ignore[no-untyped-def]
    assert score.ratio(name) == 1.0, [m for m in score.misses if name.split(".")[-1] in m]


@pytest.mark.parametrize(
    "name",
    [
        "form.reporting_unit",
        "form.supervising_department",
        "form.implementing_unit",
        "form.project_category",
        "form.project_nature",
        "form.performance_type",
        "form.includes_government_purchase",
        "form.planned_start",
        "form.planned_end",
        "form.legal_basis_titles",
    ],
)
def test_header_fields_exact(score, name: str) -> None:  # type: ignore[no-untyped-def]
    assert score.ratio(name) == 1.0, [m for m in score.misses if name.split(".")[-1] in m]
