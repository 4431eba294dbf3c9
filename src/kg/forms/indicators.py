"""Rebuild the three-level indicator table of a form from its rows.

Columns are found from the right, where the values sit: a self-evaluation row is anchored on its
分值/得分 pair (actual, target and third-level name lie to its left, the deviation reason to its
right); a target row ends in its target value. Whatever stands left of the third-level name is
read as labels by vocabulary (`kg.forms.labels`), so rows that lost or shifted their leading cells
still land in the right group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kg.forms.labels import LabelReader, LabelScheme, RowLabels, assign_levels, join_fragments
from kg.forms.rows import Row
from kg.forms.text import normalize_label
from kg.forms.values import parse_comparison
from kg.forms.vocabulary import INDICATOR_NUMBER_PREFIX, PLACEHOLDER
from kg.model import Indicator, Number

PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# A cell that is finished as printed: a number with optional operator and unit, or a result band.
CLOSED_VALUE = re.compile(r"^[=≥≤<>＜＞≧≦]*\s*\d+(?:\.\d+)?\s*(?:\([^)]*\)|（[^）]*）|%)?$")
RESULT_BANDS = ("达成指标", "部分达成指标并具有一定效果", "未达成指标且效果较差")


@dataclass
class _Draft:
    """A row on its way to an `Indicator`; label-only rows carry labels but no indicator."""

    row: Row
    labels: RowLabels
    l3: str | None = None
    target: str | None = None
    actual: str | None = None
    weight: str | None = None
    score: str | None = None
    reason: str | None = None


def is_plain_number(text: str) -> bool:
    return bool(PLAIN_NUMBER.match(text.strip()))


def number(raw: str | None, line: int) -> Number | None:
    if raw is None or not is_plain_number(raw):
        return None
    return Number(raw, Decimal(raw.strip()), line)


def is_placeholder(row: Row) -> bool:
    return any(PLACEHOLDER.match(normalize_label(cell)) for cell in row.cells if cell)


def read_evaluation_table(rows: Sequence[Row], scheme: LabelScheme) -> list[Indicator]:
    """Indicators of a self-evaluation table (rows between the header and the 总分 row)."""
    reader = LabelReader(scheme)
    drafts = []
    for row in merge_continuations(rows, reader):
        draft = _split_evaluation_row(row, reader)
        if draft is not None:
            drafts.append(draft)
    return _finish(drafts, scheme)


def read_target_table(rows: Sequence[Row], scheme: LabelScheme) -> list[Indicator]:
    """Indicators of a target table or declaration: each row ends in its target value."""
    reader = LabelReader(scheme)
    drafts = [draft for row in rows if (draft := _split_target_row(row, reader)) is not None]
    return _finish(drafts, scheme)


def merge_continuations(rows: Sequence[Row], reader: LabelReader) -> list[Row]:
    """Fold rows with no 分值/得分 anchor (a cell's text wrapped onto the next line, often past a
    page break) into the row above, cell by cell."""
    merged: list[Row] = []
    for row in rows:
        if _anchor(row) is None and not is_placeholder(row) and merged:
            merged[-1] = _merge_rows(merged[-1], row, reader)
        else:
            merged.append(row)
    return merged


def _merge_rows(upper: Row, lower: Row, reader: LabelReader) -> Row:
    cells = list(upper.cells)
    for column, text in lower.nonempty:
        into = _continued_column(cells, column)
        if into is None:
            cells.append(text)
            continue
        head = cells[into]
        joined = join_fragments(normalize_label(head), normalize_label(text), reader.words)
        cells[into] = joined if joined and not reader.is_label(head) else head + text
    return Row(tuple(cells), upper.line_start, lower.line_end)


def _continued_column(cells: Sequence[str], column: int) -> int | None:
    """The cell a wrapped fragment continues: the same column, else the nearest open cell left."""
    for index in range(min(column, len(cells) - 1), -1, -1):
        if cells[index] and not _is_closed(cells[index]):
            return index
    return None


def _is_closed(text: str) -> bool:
    text = text.strip()
    return bool(CLOSED_VALUE.match(text)) or text in RESULT_BANDS


def _anchor(row: Row) -> tuple[int, int | None] | None:
    """(weight column, score column) of a self-evaluation row; score is None when only one
    number was printed (a truncated row)."""
    numbers = [i for i, cell in row.nonempty if is_plain_number(cell)]
    if not numbers:
        return None
    last = numbers[-1]
    if last - 1 in numbers:
        return last - 1, last
    return last, None


def _split_evaluation_row(row: Row, reader: LabelReader) -> _Draft | None:
    anchor = _anchor(row)
    if anchor is None:
        return _Draft(row, reader.read(row.nonempty)) if is_placeholder(row) else None
    weight_at, score_at = anchor
    after = score_at if score_at is not None else weight_at
    left = [(i, c) for i, c in row.nonempty if i < weight_at]
    reason = "".join(c for i, c in row.nonempty if i > after) or None
    actual = left.pop()[1] if left else None
    target, l3 = _take_name_and_value(left, reader)
    draft = _Draft(row, reader.read(left), l3, target, actual, row.cells[weight_at], None, reason)
    draft.score = row.cells[score_at] if score_at is not None else None
    return draft


def _split_target_row(row: Row, reader: LabelReader) -> _Draft | None:
    cells = [(i, c) for i, c in row.nonempty if not c.startswith("#") and not set(c) <= {"-", " "}]
    if not cells:
        return None
    if all(reader.is_label(c) for _, c in cells):
        return _Draft(row, reader.read(cells))
    target: str | None
    l3: str | None
    if reader.scheme.open_level2:
        target = cells.pop()[1] if len(cells) > 1 else None
        l3 = cells.pop()[1]
    else:
        target, l3 = _take_name_and_value(cells, reader)
        if l3 is None:
            return _Draft(row, reader.read(cells))
    return _Draft(row, reader.read(cells), l3, target)


def _take_name_and_value(left: list[tuple[int, str]], reader: LabelReader) -> tuple[str | None, str | None]:
    """Pop (value, third-level name) off the right end of `left`; a label word in the name's
    place means the value cell was empty, so the last text is the name."""
    if not left:
        return None, None
    value = left.pop()
    if reader.is_label(value[1]):
        left.append(value)
        return None, None
    if not left:
        return None, value[1]
    name = left.pop()
    if reader.is_label(name[1]):
        left.append(name)
        return None, value[1]
    return value[1], name[1]


def _finish(drafts: Sequence[_Draft], scheme: LabelScheme) -> list[Indicator]:
    levels = assign_levels([d.labels for d in drafts], scheme)
    indicators = []
    for draft, (l1, l2) in zip(drafts, levels, strict=True):
        if draft.l3 is None:
            continue
        line = draft.row.line_start
        indicators.append(
            Indicator(
                l1=l1,
                l2=l2,
                l3=INDICATOR_NUMBER_PREFIX.sub("", draft.l3),
                target=draft.target,
                line_start=line,
                line_end=draft.row.line_end,
                actual=draft.actual,
                weight=number(draft.weight, line),
                score=number(draft.score, line),
                deviation_reason=draft.reason,
                target_parsed=parse_comparison(draft.target),
                actual_parsed=parse_comparison(draft.actual),
            )
        )
    return indicators
