"""Assemble a synthetic corpus: forms grouped into files like the seeds, and the expected extraction.

`build_corpus(forms, seed)` is deterministic: the same numbers give byte-identical files and
`expected.json` (every random draw comes from generators seeded with strings, pools are lists in seed
order, JSON keys keep insertion order). `write_corpus` puts it in a folder.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kg.synth.plan import FormSpec, Planner, plan_forms
from kg.synth.pools import CY, LAYOUTS, SE, TD, TT, load_pools
from kg.synth.render import FILE_PATTERNS, PATTERNS, Rendered, render_cy, render_se, render_td, render_tt

EXPECTED_NAME = "expected.json"
GENERATOR_VERSION = 1
FORMS_PER_FILE = (10, 20)
DEVIATION_PREFIX = 15
FEATURED_PER_FORM = 3


@dataclass
class CorpusFile:
    name: str
    layout: str
    year: int
    data: bytes
    encoding: str
    final_newline: bool
    damage: list[str] = field(default_factory=list)
    forms: int = 0


@dataclass
class Corpus:
    files: list[CorpusFile]
    expected: dict[str, Any]

    @property
    def forms(self) -> int:
        return len(self.expected["forms"])


def build_corpus(forms: int, seed: int, seeds_dir: Path | None = None) -> Corpus:
    """`forms` synthetic forms in the four seed layouts, and their expected extraction."""
    if forms < 1:
        raise ValueError("the corpus needs at least one form")
    pools = load_pools(seeds_dir)
    planner = Planner(pools, seed)
    specs: list[FormSpec] = []
    index = 0
    while len(specs) < forms:
        specs.extend(plan_forms(planner, planner.lineage(index)))
        index += 1
    specs = specs[:forms]
    rng = random.Random(f"kg-synth:{seed}:files")
    groups: dict[tuple[int, str], list[FormSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.year, spec.layout), []).append(spec)
    chunks: list[tuple[str, int, list[FormSpec]]] = []
    for year, layout in sorted(groups, key=lambda key: (key[0], LAYOUTS.index(key[1]))):
        members = groups[(year, layout)]
        rng.shuffle(members)
        while members:
            size = rng.randint(*FORMS_PER_FILE)
            chunks.append((layout, year, members[:size]))
            members = members[size:]
    width = max(3, len(str(len(chunks) - 1)))
    featured: dict[str, list[str]] = {layout: list(PATTERNS[layout]) for layout in LAYOUTS}
    file_pending = list(FILE_PATTERNS)
    files: list[CorpusFile] = []
    expected_forms: list[dict[str, Any]] = []
    for number, (layout, year, members) in enumerate(chunks):
        digest = hashlib.sha256(f"kg-synth:{seed}:{number}:{layout}:{year}".encode()).hexdigest()[:16]
        name = f"{number:0{width}d}_{digest}.txt"
        file_rng = random.Random(f"kg-synth:{seed}:file:{number}")
        corpus_file, rendered = _render_file(name, layout, year, members, file_rng, featured, file_pending)
        files.append(corpus_file)
        for position, (spec, form, line_start) in enumerate(rendered):
            expected_forms.append(expected_form(spec, form, name, position, line_start))
    expected = {
        "about": (
            "Expected extraction of a synthetic corpus made by `kg bench-corpus` (kg.synth) from the seed "
            "forms' pools, in the format of shared/gold/forms.json. Values are as printed; money in the "
            "source unit. 'injected' lists the ids of the rules (shared/RULES.md) a form breaks on purpose; "
            "'damage' the export damage printed into it; 'lineage' the project it belongs to across years."
        ),
        "generator": {
            "version": GENERATOR_VERSION,
            "forms": forms,
            "seed": seed,
            "seed_files": pools.seed_files,
        },
        "files": [
            {
                "file": f.name,
                "layout": f.layout,
                "year": f.year,
                "forms": f.forms,
                "encoding": f.encoding,
                "final_newline": f.final_newline,
                "damage": f.damage,
            }
            for f in files
        ],
        "forms": expected_forms,
    }
    return Corpus(files, expected)


def _render_file(
    name: str,
    layout: str,
    year: int,
    members: Sequence[FormSpec],
    rng: random.Random,
    featured: dict[str, list[str]],
    file_pending: list[str],
) -> tuple[CorpusFile, list[tuple[FormSpec, Rendered, int]]]:
    lines: list[str] = ["", ""] if layout != CY else []
    if layout == TD:
        unit = members[0].unit or ""
        lines += [f"# {unit}{year}年度项目绩效目标汇总表", ""]
    rendered: list[tuple[FormSpec, Rendered, int]] = []
    for position, spec in enumerate(members):
        wanted = featured[layout][:FEATURED_PER_FORM]
        form_rng = random.Random(f"{name}:{position}")
        if layout == TT:
            form = render_tt(spec, form_rng, wanted, 1.0)
        elif layout == SE:
            form = render_se(spec, form_rng, wanted, 1.0)
        elif layout == TD:
            form = render_td(spec, form_rng, wanted, 1.0, first_in_file=position == 0)
        else:
            form = render_cy(spec, form_rng, wanted, 1.0, first_in_file=position == 0)
        featured[layout] = [p for p in featured[layout] if p not in form.damage]
        line_start = len(lines) + form.title_index + 1
        lines.extend(form.lines)
        rendered.append((spec, form, line_start))
        if position < len(members) - 1:
            gap = {TT: 1, SE: 1, TD: rng.choice((1, 1, 1, 3, 5)), CY: rng.choice((1, 4, 7))}[layout]
            lines.extend([""] * gap)
    damage: list[str] = []
    want = file_pending[:1]
    final_newline = True
    if "no-final-newline" in want or rng.random() < 0.5:
        final_newline = False
        damage.append("no-final-newline")
    text = "\n".join(lines) + ("\n" if final_newline else "")
    if layout == CY and final_newline:
        text += "\n\n"  # seed 003 ends with blank lines
    encoding = "utf-8"
    if "gb18030" in want or rng.random() < 0.1:
        encoding = "gb18030"
    elif "utf8-bom" in want or rng.random() < 0.03:
        encoding = "utf-8-sig"
    if "crlf" in want or rng.random() < 0.03:
        text = text.replace("\n", "\r\n")
        damage.append("crlf")
    damage += {"gb18030": ["gb18030"], "utf-8-sig": ["utf8-bom"]}.get(encoding, [])
    file_pending[:] = [p for p in file_pending if p not in damage]
    corpus_file = CorpusFile(
        name, layout, year, text.encode(encoding), encoding, final_newline, damage, len(members)
    )
    return corpus_file, rendered


def _number(value: Decimal | None) -> Any:
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def expected_form(spec: FormSpec, form: Rendered, file: str, index: int, line_start: int) -> dict[str, Any]:
    """The gold-format record of one form (cf. shared/gold/forms.json)."""
    evaluation = spec.layout in (SE, CY)
    indicators = []
    for position, row in enumerate(spec.rows):
        reason = row.reason[:DEVIATION_PREFIX] if row.reason else None
        record: dict[str, Any] = {
            "l1": row.l1,
            "l2": row.l2,
            "l3": row.l3,
            "target": row.target,
            "actual": row.actual if evaluation else None,
            "weight": _number(row.weight) if evaluation else None,
            "score": _number(row.score) if evaluation else None,
            "deviation_reason": reason if evaluation else None,
        }
        record.update(form.row_patches.get(position, {}))
        indicators.append(record)
    return {
        "file": file,
        "index_in_file": index,
        "line_start": line_start,
        "form_type": spec.form_type,
        "year": spec.year,
        "project_name": spec.name,
        "reporting_unit": spec.reporting_unit,
        "supervising_department": spec.department,
        "implementing_unit": spec.unit,
        "project_category": spec.category,
        "project_nature": spec.nature,
        "performance_type": spec.performance_type,
        "includes_government_purchase": spec.purchase,
        "planned_start": spec.planned_start.isoformat() if spec.planned_start else None,
        "planned_end": spec.planned_end.isoformat() if spec.planned_end else None,
        "money_unit_in_source": spec.money_unit,
        "funds": {kind: _number(value) for kind, value in spec.funds.items()},
        "legal_basis_doc_numbers": list(dict.fromkeys(spec.doc_numbers)),
        "legal_basis_titles": list(dict.fromkeys(spec.doc_titles)),
        "indicators": indicators,
        "indicator_count": len(indicators),
        "total_weight": _number(spec.total_weight),
        "total_score": _number(spec.total_score),
        "grade": spec.grade,
        "layout": spec.layout,
        "lineage": spec.lineage,
        "injected": list(spec.injected),
        "damage": list(form.damage),
    }


def write_corpus(out_dir: Path, forms: int, seed: int, seeds_dir: Path | None = None) -> Corpus:
    """Build the corpus and write its files and expected.json into `out_dir` (replacing a corpus written
    there before; a folder holding anything else is refused)."""
    corpus = build_corpus(forms, seed, seeds_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)
    for corpus_file in corpus.files:
        (out_dir / corpus_file.name).write_bytes(corpus_file.data)
    text = json.dumps(corpus.expected, ensure_ascii=False, indent=1) + "\n"
    (out_dir / EXPECTED_NAME).write_text(text, encoding="utf-8")
    return corpus


def _clear_previous(out_dir: Path) -> None:
    previous = out_dir / EXPECTED_NAME
    entries = [p for p in out_dir.iterdir() if not p.name.startswith(".")]
    if not entries:
        return
    if not previous.is_file():
        raise FileExistsError(
            f"{out_dir} is not empty and holds no {EXPECTED_NAME}: refusing to write a corpus into it"
        )
    listed = {entry["file"] for entry in json.loads(previous.read_text(encoding="utf-8")).get("files", [])}
    for entry in entries:
        if entry.name in listed or entry.name == EXPECTED_NAME:
            entry.unlink()
