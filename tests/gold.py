"""Compare parsed forms with the hand-checked extraction in ../shared/gold/forms.json.

Indicator rows are aligned by their third-level names (difflib), so one missing or extra row
costs one row, not every row after it. `alt` readings in the gold count as exact.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kg.model import Form, Indicator

REPO = Path(__file__).resolve().parents[1]
GOLD_PATH = REPO.parent / "shared" / "gold" / "forms.json"
DEVIATION_PREFIX = 15  # the gold keeps the first 15 characters of each deviation reason

INDICATOR_FIELDS = ("l1", "l2", "l3", "target", "actual", "weight", "score", "deviation_reason")
FORM_FIELDS = (
    "form_type",
    "year",
    "project_name",
    "reporting_unit",
    "supervising_department",
    "implementing_unit",
    "project_category",
    "project_nature",
    "performance_type",
    "includes_government_purchase",
    "planned_start",
    "planned_end",
    "money_unit_in_source",
    "line_start",
    "total_weight",
    "total_score",
    "grade",
    "legal_basis_doc_numbers",
    "legal_basis_titles",
)


REPORTS: list[str] = []  # accuracy tables of this test run, printed in pytest's terminal summary


def load_gold() -> list[dict[str, Any]]:
    return list(json.loads(GOLD_PATH.read_text(encoding="utf-8"))["forms"])


@dataclass
class Score:
    """Counts of checked and exact values per field, and the mismatches for the report."""

    checked: Counter[str] = field(default_factory=Counter)
    exact: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    gold_rows: int = 0
    found_rows: int = 0
    extra_rows: int = 0

    def check(self, name: str, got: Any, expected: Any, alts: list[Any], where: str) -> None:
        self.checked[name] += 1
        if _same(got, expected) or any(_same(got, alt) for alt in alts):
            self.exact[name] += 1
        else:
            self.misses.append(f"{where} {name}: got {got!r}, expected {expected!r}")

    def ratio(self, name: str) -> float:
        return self.exact[name] / self.checked[name] if self.checked[name] else 1.0

    def table(self) -> str:
        lines = [f"indicator rows: gold {self.gold_rows}, found {self.found_rows}, extra {self.extra_rows}"]
        for name in sorted(self.checked):
            lines.append(
                f"  {name:32} {self.exact[name]:5}/{self.checked[name]:<5} {100 * self.ratio(name):6.2f}%"
            )
        return "\n".join(lines)


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and got is not None:
        try:
            return Decimal(str(got)) == Decimal(str(expected))
        except ArithmeticError:
            return False
    return bool(got == expected)


def form_values(form: Form) -> dict[str, Any]:
    def text(field_value: Any) -> Any:
        return field_value.value if field_value is not None else None

    return {
        "form_type": form.form_type.value,
        "year": form.year,
        "project_name": form.project_name.value,
        "reporting_unit": text(form.reporting_unit),
        "supervising_department": text(form.supervising_department),
        "implementing_unit": text(form.implementing_unit),
        "project_category": text(form.project_category),
        "project_nature": text(form.project_nature),
        "performance_type": text(form.performance_type),
        "includes_government_purchase": form.includes_government_purchase,
        "planned_start": form.planned_start.isoformat() if form.planned_start else None,
        "planned_end": form.planned_end.isoformat() if form.planned_end else None,
        "money_unit_in_source": form.money_unit,
        "line_start": form.line_start,
        "total_weight": form.total_weight.value if form.total_weight else None,
        "total_score": form.total_score.value if form.total_score else None,
        "grade": text(form.grade),
        "legal_basis_doc_numbers": _unique(c.doc_number for c in form.legal_citations if c.doc_number),
        "legal_basis_titles": _unique(c.title for c in form.legal_citations if c.title and c.doc_number),
    }


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def funds_values(form: Form) -> dict[str, Decimal | None]:
    values: dict[str, Decimal | None] = {m.kind: m.amount for m in form.funds if m.row == "total"}
    values["funds_weight"] = form.funds_weight.value if form.funds_weight else None
    values["execution_rate_percent"] = form.execution_rate.value if form.execution_rate else None
    values["funds_score"] = form.funds_score.value if form.funds_score else None
    return values


def indicator_values(indicator: Indicator) -> dict[str, Any]:
    reason = indicator.deviation_reason
    return {
        "l1": indicator.l1,
        "l2": indicator.l2,
        "l3": indicator.l3,
        "target": indicator.target,
        "actual": indicator.actual,
        "weight": indicator.weight.value if indicator.weight else None,
        "score": indicator.score.value if indicator.score else None,
        "deviation_reason": reason[:DEVIATION_PREFIX] if reason else None,
    }


def compare(forms: list[Form], gold: list[dict[str, Any]]) -> Score:
    score = Score()
    by_key = {(form.file, form.index_in_file): form for form in forms}
    score.checked["forms"] = len(gold)
    score.exact["forms"] = sum(1 for g in gold if (g["file"], g["index_in_file"]) in by_key)
    score.extra_rows = 0
    for expected in gold:
        form = by_key.get((expected["file"], expected["index_in_file"]))
        where = f"{expected['file']}#{expected['index_in_file']}"
        score.gold_rows += len(expected["indicators"])
        if form is None:
            score.misses.append(f"{where}: form not found")
            continue
        _compare_form(form, expected, score, where)
    score.checked["forms"] = len(gold)
    score.extra_rows += max(0, len(forms) - len(gold))
    return score


def _compare_form(form: Form, expected: dict[str, Any], score: Score, where: str) -> None:
    got = form_values(form)
    for name in FORM_FIELDS:
        score.check(f"form.{name}", got[name], expected.get(name), [], where)
    funds = funds_values(form)
    for kind, value in expected["funds"].items():
        score.check("funds", funds.get(kind), value, [], f"{where} {kind}")
    mine = form.indicators
    matcher = difflib.SequenceMatcher(
        a=[i.l3 for i in mine], b=[g["l3"] for g in expected["indicators"]], autojunk=False
    )
    matched = 0
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            indicator, gold_row = mine[block.a + offset], expected["indicators"][block.b + offset]
            _compare_indicator(indicator, gold_row, score, f"{where} line {indicator.line_start}")
            matched += 1
    _compare_unmatched(matcher, mine, expected["indicators"], score, where)
    score.found_rows += matched


def _compare_unmatched(
    matcher: difflib.SequenceMatcher[str],
    mine: list[Indicator],
    gold_rows: list[dict[str, Any]],
    score: Score,
    where: str,
) -> None:
    """Rows replaced one-for-one (l3 differs) still count as found; their l3 is scored as a miss."""
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(a1 - a0, b1 - b0) if tag == "replace" else 0
        for offset in range(pairs):
            indicator = mine[a0 + offset]
            _compare_indicator(
                indicator, gold_rows[b0 + offset], score, f"{where} line {indicator.line_start}"
            )
            score.found_rows += 1
        score.extra_rows += (a1 - a0) - pairs
        for offset in range(pairs, b1 - b0):
            score.misses.append(f"{where}: missing indicator {gold_rows[b0 + offset]['l3']!r}")
        for offset in range(pairs, a1 - a0):
            score.misses.append(
                f"{where}: extra indicator {mine[a0 + offset].l3!r} line {mine[a0 + offset].line_start}"
            )


def _compare_indicator(indicator: Indicator, gold_row: dict[str, Any], score: Score, where: str) -> None:
    got = indicator_values(indicator)
    alts = gold_row.get("alt", {})
    for name in INDICATOR_FIELDS:
        score.check(f"indicator.{name}", got[name], gold_row[name], alts.get(name, []), where)
