"""Split a source file into forms and read each one into the intermediate model.

A file may hold many forms of one template; each starts at its title line (绩效目标表, 绩效目标申报表,
绩效自评表) and runs to the next title. Each form is read in two phases: the header (fields, funds,
goals) until the indicator table's heading row, then the table until its end (the 总分 row of a
self-evaluation, the end of the form otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.forms import fields as f
from kg.forms.indicators import read_evaluation_table, read_target_table
from kg.forms.labels import NATIONAL_SCHEME, TARGET_TABLE_SCHEME
from kg.forms.legal import extract_citations
from kg.forms.rows import Row, is_vertical_layout, tabular_rows, vertical_rows
from kg.forms.text import decode_source, normalize_label, split_lines
from kg.forms.values import parse_bool_cn, parse_date
from kg.forms.vocabulary import (
    FORM_TITLES,
    GRADE_ROW,
    INDICATOR_HEADER_L1,
    INDICATOR_HEADER_L3,
    LEGAL_BASIS_FIELD,
    TOTAL_ROW,
)
from kg.model import Field, Form, FormParseError, FormType

YEAR_OF_FORM = re.compile(r"(\d{4})年度")
KNOWN_TITLES = "财政项目支出绩效目标表, 财政项目支出绩效目标申报表 or 项目支出绩效自评表"


@dataclass(frozen=True)
class FormSegment:
    """The lines of one form: `first_line` is the file line number of its title."""

    form_type: FormType
    first_line: int
    lines: Sequence[str]


def parse_source(data: bytes, file: str) -> list[Form]:
    """All forms in a source file's bytes; raises FormParseError naming file, line and expectation."""
    return parse_text(decode_source(data, file), file)


def parse_text(text: str, file: str) -> list[Form]:
    segments = split_forms(split_lines(text), file)
    return [read_form(segment, file, index) for index, segment in enumerate(segments)]


def title_type(line: str) -> FormType | None:
    """The form type when `line` is a form title (short, names a known form, not a summary)."""
    label = normalize_label(line.lstrip("# \t"))
    if len(label) > 40 or "汇总" in label:
        return None
    return next((form_type for title, form_type in FORM_TITLES if title in label), None)


def split_forms(lines: Sequence[str], file: str) -> list[FormSegment]:
    starts = [(number, t) for number, line in enumerate(lines, 1) if (t := title_type(line))]
    if not starts:
        first = next(((n, line) for n, line in enumerate(lines, 1) if line.strip()), (1, ""))
        raise FormParseError(file, first[0], f"a form title such as {KNOWN_TITLES}", first[1].strip()[:60])
    ends = [number - 1 for number, _ in starts[1:]] + [len(lines)]
    return [
        FormSegment(form_type, start, lines[start - 1 : end])
        for (start, form_type), end in zip(starts, ends, strict=True)
    ]


def segment_rows(segment: FormSegment) -> list[Row]:
    read = vertical_rows if is_vertical_layout(segment.lines) else tabular_rows
    return read(segment.lines, segment.first_line)


def read_form(segment: FormSegment, file: str, index: int) -> Form:
    rows = segment_rows(segment)
    end_line = rows[-1].line_end if rows else segment.first_line
    year = _year(rows, file, segment.first_line)
    header_at = next((i for i, row in enumerate(rows) if _is_indicator_header(row)), None)
    if header_at is None:
        raise FormParseError(
            file,
            end_line,
            f"the indicator table heading (一级指标 … 三级指标) of the form starting at line "
            f"{segment.first_line}",
            "end of form",
        )
    header = _read_header(rows[:header_at], segment.form_type)
    project = header.fields.get("project_name")
    if project is None:
        raise FormParseError(file, segment.first_line, "a 项目名称 (project name) field in the form header")
    form = Form(
        file=file,
        index_in_file=index,
        form_type=segment.form_type,
        layout=_layout_name(segment),
        line_start=segment.first_line,
        line_end=end_line,
        year=year,
        project_name=project,
    )
    _apply_header(form, header)
    _read_table(form, rows[header_at + 1 :], file)
    return form


def _layout_name(segment: FormSegment) -> str:
    if is_vertical_layout(segment.lines):
        return "vertical-self-evaluation"
    return {
        FormType.TARGET_TABLE: "tabular-target-table",
        FormType.TARGET_DECLARATION: "tabular-target-declaration",
        FormType.SELF_EVALUATION: "tabular-self-evaluation",
    }[segment.form_type]


def _year(rows: Sequence[Row], file: str, title_line: int) -> int:
    for row in rows[:6]:
        match = YEAR_OF_FORM.search(normalize_label("".join(row.cells)))
        if match:
            return int(match[1])
    raise FormParseError(
        file, title_line + 1, "the fiscal year heading such as (2020年度) under the form title"
    )


def _is_indicator_header(row: Row) -> bool:
    labels = set(row.labels)
    return bool(labels & INDICATOR_HEADER_L1) and bool(labels & INDICATOR_HEADER_L3)


def _read_header(rows: Sequence[Row], form_type: FormType) -> f.HeaderFields:
    header = f.HeaderFields()
    position = 0
    while position < len(rows):
        row = rows[position]
        if f.is_evaluation_funds_header(row):
            block = _until(rows, position + 1, lambda r: f.is_narrative_heading_row(r))
            f.read_evaluation_funds(row, block, header)
            position += 1 + len(block)
            continue
        if form_type is FormType.TARGET_DECLARATION and f.is_declaration_funds_row(row):
            block = _until(rows, position, lambda r: not f.is_declaration_funds_row(r))
            f.read_declaration_funds(block, header)
            position += len(block)
            continue
        if f.is_narrative_heading_row(row):
            block = _until(rows, position + 1, lambda r: f.is_narrative_heading_row(r))
            f.read_narrative_block(row, block, header)
            position += 1 + len(block)
            continue
        f.read_label_fields(row, header)
        f.read_target_table_funds(row, header)
        position += 1
    return header


def _until(rows: Sequence[Row], start: int, stop: object) -> list[Row]:
    block = []
    for row in rows[start:]:
        if callable(stop) and stop(row):
            break
        block.append(row)
    return block


def _apply_header(form: Form, header: f.HeaderFields) -> None:
    for attribute, value in header.fields.items():
        setattr(form, attribute, value)
    form.narratives = header.narratives
    form.extra_fields = header.extra
    form.funds = header.funds
    form.money_unit = header.money_unit or next((m.unit for m in header.funds), "元")
    form.execution_rate = header.figures.get("execution_rate")
    form.funds_weight = header.figures.get("funds_weight")
    form.funds_score = header.figures.get("funds_score")
    if form.includes_government_purchase_raw:
        form.includes_government_purchase = parse_bool_cn(form.includes_government_purchase_raw.value)
    form.planned_start = parse_date(form.planned_start_raw.value) if form.planned_start_raw else None
    form.planned_end = parse_date(form.planned_end_raw.value) if form.planned_end_raw else None
    basis = header.narratives.get(LEGAL_BASIS_FIELD)
    if basis is not None:
        form.legal_citations = extract_citations(basis.value, basis.line, LEGAL_BASIS_FIELD)


def _read_table(form: Form, rows: Sequence[Row], file: str) -> None:
    if form.form_type is FormType.SELF_EVALUATION:
        total_at = next(
            (i for i, row in enumerate(rows) if normalize_label(row.first_text()) == TOTAL_ROW), None
        )
        if total_at is None:
            raise FormParseError(
                file,
                form.line_end,
                f"the 总分 row closing the indicator table of the self-evaluation form "
                f"starting at line {form.line_start}",
                "end of form",
            )
        form.indicators = read_evaluation_table(rows[:total_at], NATIONAL_SCHEME)
        form.total_weight, form.total_score = f.read_totals(rows[total_at])
        _read_after_table(form, rows[total_at + 1 :])
    else:
        scheme = TARGET_TABLE_SCHEME if form.form_type is FormType.TARGET_TABLE else NATIONAL_SCHEME
        form.indicators = read_target_table(rows, scheme)
    if not form.indicators:
        raise FormParseError(
            file, form.line_start, "at least one indicator row under the indicator table heading"
        )


def _read_after_table(form: Form, rows: Sequence[Row]) -> None:
    header = f.HeaderFields(extra=form.extra_fields)
    for row in rows:
        cells = row.nonempty
        if cells and normalize_label(cells[0][1]) == GRADE_ROW and len(cells) > 1:
            form.grade = Field(cells[1][1], row.line_start)
        f.read_label_fields(row, header)
