"""Rebuild table rows from the broken text the PDF/Word exports give us.

Two physical layouts exist. Most templates print one table row per line with tab-separated cells.
The Beijing Chaoyang template prints one cell per line (each cell line starts with a tab, a line
without a leading tab continues the cell above, e.g. ``经济效益`` / ``指标``) and separates rows by
blank lines. Both become the same `Row` so that everything downstream reads one shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kg.forms.text import clean_cell, normalize_label


@dataclass(frozen=True)
class Row:
    """One table row: cleaned cells in printed column order and the source lines it spans."""

    cells: tuple[str, ...]
    line_start: int
    line_end: int

    @property
    def nonempty(self) -> list[tuple[int, str]]:
        """(column index, text) of the cells that carry text."""
        return [(i, c) for i, c in enumerate(self.cells) if c]

    @property
    def labels(self) -> list[str]:
        """Normalised cell texts, for matching against label vocabularies."""
        return [normalize_label(c) for c in self.cells]

    def first_text(self) -> str:
        return next((c for c in self.cells if c), "")


def is_vertical_layout(lines: Sequence[str]) -> bool:
    """True for the one-cell-per-line layout: cell lines start with a tab and hold no inner tab."""
    content = [line for line in lines if line.strip()]
    if not content:
        return False
    multi_cell = sum(1 for line in content if "\t" in line.lstrip("\t").rstrip("\t"))
    return multi_cell / len(content) < 0.05


def tabular_rows(lines: Sequence[str], first_line: int = 1) -> list[Row]:
    """One row per non-blank line; `first_line` is the file line number of `lines[0]`."""
    rows = []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        number = first_line + offset
        rows.append(Row(tuple(clean_cell(c) for c in line.split("\t")), number, number))
    return rows


def vertical_rows(lines: Sequence[str], first_line: int = 1) -> list[Row]:
    """Blank-line separated blocks become rows; tab-led lines start cells, other lines continue them."""
    rows: list[Row] = []
    cells: list[str] = []
    start = 0
    for offset, line in enumerate([*lines, ""]):
        number = first_line + offset
        if not line.strip() and not line.startswith("\t"):
            if cells:
                rows.append(Row(tuple(clean_cell(c) for c in cells), start, number - 1))
            cells = []
            continue
        if not cells:
            start = number
        if line.startswith("\t"):
            cells.extend(line[1:].rstrip("\t").split("\t"))
        elif not cells:
            cells.append(line)
        else:
            cells[-1] += line
    return _drop_empty(rows)


def _drop_empty(rows: list[Row]) -> list[Row]:
    return [row for row in rows if any(row.cells)]
