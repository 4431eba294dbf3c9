"""Curated lineage overrides: a small CSV in `data/` that wins over the linking algorithm.

Format (UTF-8, RFC 4180, `#` lines are comments, blank lines are ignored), header row required::

    action,form_a,form_b,comment
    confirm,2020:城管执法监督考核,2023:城管执法监督考核辅助工作,"same 测评/评查/双十佳 work"
    reject,2023:城管执法社会宣传,2024:城管执法普法宣传,"two projects with look-alike names"
    add,000_bb01accd19b494dd.txt#1,001_5d49eaeac9110deb.txt#10,"renamed: 人员 dropped"

* `action`: `confirm` (keep this link whatever its score; confidence 1), `add` (a link the algorithm does
  not make; confidence 1, even across units), `reject` (never in one lineage, not even through other
  forms).
* `form_a`, `form_b`: a form as `FILE#INDEX` (the source file's base name and the 0-based form index), or
  as `[YEAR:]NAME[@UNIT]`: the project name as printed (spaces, quotes and bracket styles do not matter),
  optionally its fiscal year and its responsible unit (any name of the unit). A reference must name at
  least one loaded form; one that names several stands for each of them.
* `comment`: why; kept on the link (`kg:overrideComment`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

OVERRIDES_ENV = "KG_LINEAGE_OVERRIDES"
ACTIONS = ("confirm", "reject", "add")
HEADER = ("action", "form_a", "form_b", "comment")
_FILE_REF = re.compile(r"^(?P<file>[^#]+)#(?P<index>\d+)$")
_NAME_REF = re.compile(r"^(?:(?P<year>\d{4})\s*[:：]\s*)?(?P<name>[^@]+?)(?:\s*@\s*(?P<unit>.+))?$")


class OverrideError(ValueError):
    """A malformed overrides file (names the file and line)."""


@dataclass(frozen=True)
class FormRef:
    """A reference to one or more forms (see the module documentation)."""

    text: str
    file: str | None = None
    index: int | None = None
    year: int | None = None
    name: str | None = None
    unit: str | None = None

    @classmethod
    def parse(cls, text: str) -> FormRef:
        text = text.strip()
        match = _FILE_REF.match(text)
        if match is not None:
            return cls(text, file=match["file"].strip(), index=int(match["index"]))
        match = _NAME_REF.match(text)
        if match is None or not match["name"].strip():
            raise ValueError(f"not a form reference: {text!r} (expected FILE#INDEX or [YEAR:]NAME[@UNIT])")
        year = int(match["year"]) if match["year"] else None
        return cls(text, year=year, name=match["name"].strip(), unit=(match["unit"] or "").strip() or None)


@dataclass(frozen=True)
class Override:
    action: str
    a: FormRef
    b: FormRef
    comment: str
    line: int
    source: str


def default_overrides_path() -> Path:
    """`$KG_LINEAGE_OVERRIDES`, else `data/lineage-overrides.csv` of the checkout."""
    override = os.environ.get(OVERRIDES_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "data" / "lineage-overrides.csv"


def parse_overrides(text: str, source: str = "<overrides>") -> list[Override]:
    """Read an overrides CSV; OverrideError names the line of the first problem."""
    lines = [
        (number, line)
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return []
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
    header = tuple(cell.strip() for cell in rows[0])
    if header[:3] != HEADER[:3]:
        raise OverrideError(f"{source}:{lines[0][0]}: expected the header `{','.join(HEADER)}`")
    overrides = []
    for (number, _), row in zip(lines[1:], rows[1:], strict=True):
        where = f"{source}:{number}"
        cells = [cell.strip() for cell in row] + [""] * 4
        action = cells[0].lower()
        if action not in ACTIONS:
            raise OverrideError(f"{where}: action must be one of {', '.join(ACTIONS)}, got {cells[0]!r}")
        try:
            a, b = FormRef.parse(cells[1]), FormRef.parse(cells[2])
        except ValueError as err:
            raise OverrideError(f"{where}: {err}") from None
        overrides.append(Override(action, a, b, cells[3], number, source))
    return overrides


def load_overrides(path: Path | str | None) -> list[Override]:
    """The overrides of a file; no file (None or missing) means no overrides."""
    if path is None:
        return []
    path = Path(path)
    if not path.is_file():
        return []
    return parse_overrides(path.read_text(encoding="utf-8"), str(path))
