"""Label/value fields, funds tables, narratives and totals around a form's indicator table.

Every template prints its header as label cells followed by their value (``项目名称 | 课题研究``),
sometimes in one cell (``申报单位名称：上海市…``). Labels come from `kg.forms.vocabulary`; a value
is the next non-empty cell that is not itself a label, so shifted or padded rows read the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from kg.forms.rows import Row
from kg.forms.text import normalize_label
from kg.forms.values import money_unit_from_label, parse_decimal
from kg.forms.vocabulary import (
    DECLARATION_ANNUAL_FUNDS,
    DECLARATION_PROJECT_FUNDS,
    EVALUATION_FUNDS_COLUMNS,
    EVALUATION_FUNDS_ROWS,
    EXTRA_FIELDS,
    HEADER_FIELDS,
    NARRATIVE_FIELDS,
    TARGET_TABLE_FUNDS,
    strip_label_prefix,
)
from kg.model import Field, Money, Number

KNOWN_LABELS = frozenset(HEADER_FIELDS) | NARRATIVE_FIELDS | EXTRA_FIELDS
INLINE_PAIR = re.compile(r"([^\s:：]{2,12})[:：]\s*(\S+)")


@dataclass
class HeaderFields:
    """What the rows above the indicator table say, before it is put on a `Form`."""

    fields: dict[str, Field] = field(default_factory=dict)  # Form attribute -> value
    narratives: dict[str, Field] = field(default_factory=dict)
    extra: dict[str, Field] = field(default_factory=dict)
    funds: list[Money] = field(default_factory=list)
    figures: dict[str, Number] = field(default_factory=dict)  # execution_rate, funds_weight, funds_score
    money_unit: str | None = None


def label_value_pairs(row: Row) -> Iterator[tuple[str, str, int]]:
    """(normalised label, value, column) for every known label on the row."""
    cells = row.nonempty
    for position, (column, text) in enumerate(cells):
        label = normalize_label(text)
        if label in KNOWN_LABELS:
            value = next(
                (c for _, c in cells[position + 1 :] if normalize_label(c) not in KNOWN_LABELS), None
            )
            if value is not None and not _is_label_cell(value):
                yield label, value, column
            continue
        head, sep, tail = _split_inline(text)
        if sep and normalize_label(head) in KNOWN_LABELS and tail.strip():
            yield normalize_label(head), tail.strip(), column


def _split_inline(text: str) -> tuple[str, str, str]:
    parts = re.split(r"([:：])", text, maxsplit=1)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (text, "", "")


def _is_label_cell(text: str) -> bool:
    return normalize_label(text) in KNOWN_LABELS


def read_label_fields(row: Row, header: HeaderFields) -> None:
    for label, value, _ in label_value_pairs(row):
        entry = Field(value, row.line_start)
        if label in HEADER_FIELDS:
            header.fields.setdefault(HEADER_FIELDS[label], entry)
        elif label in NARRATIVE_FIELDS:
            header.narratives.setdefault(label, entry)
        else:
            header.extra.setdefault(label, entry)
    for cell in row.cells:
        for label, value in INLINE_PAIR.findall(cell):
            if label in EXTRA_FIELDS and label not in header.extra:
                header.extra[label] = Field(value, row.line_start)


def read_target_table_funds(row: Row, header: HeaderFields) -> None:
    """2020 target table: ``项目总预算（元）： | 3,870,000 | 项目当年预算（元）： | 3,870,000``."""
    cells = row.nonempty
    for position, (_, text) in enumerate(cells[:-1]):
        kind = TARGET_TABLE_FUNDS.get(strip_label_prefix(normalize_label(text)))
        amount = parse_decimal(cells[position + 1][1])
        if kind and amount is not None:
            unit = money_unit_from_label(text) or header.money_unit or "元"
            header.funds.append(Money(kind, cells[position + 1][1], amount, unit, row.line_start))


def is_declaration_funds_row(row: Row) -> bool:
    return any(strip_label_prefix(label) in DECLARATION_ANNUAL_FUNDS for label in row.labels)


def read_declaration_funds(rows: Sequence[Row], header: HeaderFields) -> None:
    """2023 declaration: project figures on the left, the year's on the right of the same rows."""
    annual_column = min(
        (i for row in rows for i, label in enumerate(row.labels) if label == "年度资金申请总额"), default=None
    )
    for row in rows:
        unit = next((u for c in row.cells if (u := money_unit_from_label(c))), None)
        header.money_unit = header.money_unit or unit
        cells = row.nonempty
        for position, (column, text) in enumerate(cells[:-1]):
            label = strip_label_prefix(normalize_label(text))
            annual = annual_column is not None and column >= annual_column
            kinds = DECLARATION_ANNUAL_FUNDS if annual else DECLARATION_PROJECT_FUNDS
            amount = parse_decimal(cells[position + 1][1])
            if label in kinds and amount is not None:
                money = Money(
                    kinds[label], cells[position + 1][1], amount, header.money_unit or "元", row.line_start
                )
                header.funds.append(money)


def is_evaluation_funds_header(row: Row) -> bool:
    labels = set(row.labels)
    return {"年初预算数", "全年执行数"} <= labels or {"全年预算数", "全年执行数"} <= labels


def read_evaluation_funds(header_row: Row, rows: Sequence[Row], header: HeaderFields) -> None:
    """Self-evaluation funds table: columns named by the header row, rows by their label."""
    columns = [EVALUATION_FUNDS_COLUMNS.get(label) for label in header_row.labels]
    kinds = [kind for kind in columns if kind]
    header.money_unit = next((u for c in header_row.cells if (u := money_unit_from_label(c))), None)
    for row in rows:
        found = next(
            (
                (i, EVALUATION_FUNDS_ROWS[strip_label_prefix(label)])
                for i, label in enumerate(row.labels)
                if strip_label_prefix(label) in EVALUATION_FUNDS_ROWS
            ),
            None,
        )
        if found is None:
            continue
        column, row_key = found
        values = row.cells[column + 1 : column + 1 + len(kinds)]
        for kind, raw in zip(kinds, values, strict=False):
            _record_funds_value(header, kind, row_key, raw, row.line_start)


def _record_funds_value(header: HeaderFields, kind: str, row_key: str, raw: str, line: int) -> None:
    amount = parse_decimal(raw)
    if amount is None:
        return
    if kind in ("funds_weight", "execution_rate", "funds_score"):
        if row_key == "total":
            header.figures[kind] = Number(raw, amount, line)
        return
    header.funds.append(Money(kind, raw, amount, header.money_unit or "元", line, row=row_key))


def read_narrative_block(header_row: Row, text_rows: Sequence[Row], header: HeaderFields) -> None:
    """Goal texts printed under their column headings (预期目标 | 实际完成情况, 项目总目标 | 年度总体目标)."""
    headings = [
        (column, _heading_name(text))
        for column, text in header_row.nonempty
        if _heading_name(text) is not None
    ]
    if not headings:
        return
    for row in text_rows:
        for column, text in row.nonempty:
            if normalize_label(text) in {"总体目标", "年度总体目标", "绩效目标"}:
                continue
            name = min(headings, key=lambda h: (abs(h[0] - column), h[0]))[1]
            assert name is not None
            previous = header.narratives.get(name)
            value = previous.value + text if previous else text
            header.narratives[name] = Field(value, previous.line if previous else row.line_start)


NARRATIVE_HEADINGS = ("预期目标", "实际完成情况", "项目总目标", "年度总体目标")


def _heading_name(text: str) -> str | None:
    label = normalize_label(text)
    return next((h for h in NARRATIVE_HEADINGS if label.startswith(h)), None)


def is_narrative_heading_row(row: Row) -> bool:
    names = {_heading_name(text) for _, text in row.nonempty} - {None}
    return len(names) >= 2


def read_totals(row: Row) -> tuple[Number | None, Number | None]:
    """总分 | … | 100.00 | 98.00 -> (weight, score)."""
    numbers = [(c, parse_decimal(c)) for _, c in row.nonempty[1:]]
    values = [Number(raw, value, row.line_start) for raw, value in numbers if value is not None]
    weight = values[0] if values else None
    score = values[1] if len(values) > 1 else None
    return weight, score
