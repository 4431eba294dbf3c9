"""The seed forms, re-exported the ways real exports differ, must read exactly the same.

Each perturbation keeps the content and changes only what an exporter changes: encodings, line
ends, blank lines, spacing inside labels, punctuation width, form order. Line numbers may move,
so they are left out of the comparison.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kg.forms import parse_source
from kg.forms.rows import is_vertical_layout
from kg.model import Form
from tests.gold import form_values, funds_values, indicator_values

DATA = Path(__file__).resolve().parents[1] / "data"
SEEDS = sorted(DATA.glob("*.txt"))
LABELS = ("项目名称", "主管部门", "实施单位", "年度资金总额", "总分", "评分等级", "项目类别", "计划开始日期")


def signature(forms: list[Form]) -> list[dict[str, Any]]:
    """What a form says, without where it says it."""
    result = []
    for form in forms:
        values = form_values(form)
        values.pop("line_start")
        values["funds"] = funds_values(form)
        values["indicators"] = [indicator_values(i) for i in form.indicators]
        values["narratives"] = sorted(form.narratives)
        result.append(values)
    return result


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def gb18030(text: str) -> bytes:
    return text.encode("gb18030")


def bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def trailing_whitespace(text: str) -> bytes:
    return "\n".join(line + ("  " if line.strip() else "") for line in text.split("\n")).encode("utf-8")


def doubled_blank_lines(text: str) -> bytes:
    """An extra blank line after every row (page-break noise); vertical exports: between rows."""
    if is_vertical_layout(text.split("\n")):
        return text.replace("\n\n", "\n\n\n").encode("utf-8")
    return re.sub(r"\n(?=[^\n])", "\n\n", text).encode("utf-8")


def spaced_labels(text: str) -> bytes:
    for label in LABELS:
        text = text.replace(label, " ".join(label))
    return text.encode("utf-8")


def full_width_colons(text: str) -> bytes:
    return text.replace("年度资金总额:", "年度资金总额：").replace("其中:", "其中：").encode("utf-8")


PERTURBATIONS: dict[str, Callable[[str], bytes]] = {
    "crlf": crlf,
    "gb18030": gb18030,
    "bom": bom,
    "trailing-whitespace": trailing_whitespace,
    "blank-lines": doubled_blank_lines,
    "spaced-labels": spaced_labels,
    "full-width-colons": full_width_colons,
}


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbed_export_reads_the_same(seed: Path, name: str) -> None:
    original = parse_source(seed.read_bytes(), seed.name)
    perturbed = parse_source(PERTURBATIONS[name](seed.read_text(encoding="utf-8")), seed.name)
    assert signature(perturbed) == signature(original)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_forms_in_another_order_read_the_same(seed: Path) -> None:
    forms = parse_source(seed.read_bytes(), seed.name)
    if len(forms) < 2:
        pytest.skip(f"{seed.name} holds one form: nothing to reorder")
    lines = seed.read_text(encoding="utf-8").split("\n")
    cuts = [f.line_start - 1 for f in forms] + [len(lines)]
    blocks = ["\n".join(lines[a:b]).rstrip("\n") for a, b in itertools.pairwise(cuts)]
    reordered = parse_source(("\n\n".join(reversed(blocks)) + "\n").encode("utf-8"), seed.name)
    assert signature(reordered) == list(reversed(signature(forms)))
