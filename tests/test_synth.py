"""The synthetic corpus generator (kg.synth, `kg bench-corpus`): deterministic, covers every seed layout
and damage pattern, consistent arithmetic except the recorded injected errors, and read back by the
parsers as accurately as the seeds are."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kg.cli import main
from kg.forms import parse_source
from kg.model import Form
from kg.synth import EXPECTED_NAME, FILE_PATTERNS, PATTERNS, Corpus, build_corpus, write_corpus
from tests.gold import REPORTS, Score, compare
from tests.synth_rules import broken_rules

ACCURACY_FORMS, ACCURACY_SEED = 300, 11
SMALL_FORMS, SMALL_SEED = 80, 1


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus(ACCURACY_FORMS, ACCURACY_SEED)


@pytest.fixture(scope="module")
def parsed(corpus: Corpus) -> list[Form]:
    forms: list[Form] = []
    for corpus_file in corpus.files:
        forms.extend(parse_source(corpus_file.data, corpus_file.name))
    return forms


@pytest.fixture(scope="module")
def score(corpus: Corpus, parsed: list[Form]) -> Score:
    result = compare(parsed, corpus.expected["forms"])
    misses = [f"  miss: {miss}" for miss in result.misses[:20]]
    title = f"synthetic corpus ({ACCURACY_FORMS} forms, seed {ACCURACY_SEED}) vs its expected.json"
    REPORTS.append("\n".join([title, result.table(), *misses]))
    return result


# ----------------------------------------------------------------------------- determinism and CLI


def test_same_forms_and_seed_give_byte_identical_output(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["bench-corpus", "--forms", "60", "--seed", "5", str(first)]) == 0
    write_corpus(second, 60, 5)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert EXPECTED_NAME in names and len(names) > 3
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_another_seed_gives_another_corpus() -> None:
    one, other = build_corpus(30, 1), build_corpus(30, 2)
    assert [f.data for f in one.files] != [f.data for f in other.files]


def test_rewriting_replaces_a_corpus_but_refuses_other_folders(tmp_path: Path) -> None:
    write_corpus(tmp_path / "c", 40, 1)
    write_corpus(tmp_path / "c", 20, 2)
    expected = json.loads((tmp_path / "c" / EXPECTED_NAME).read_text(encoding="utf-8"))
    assert len(expected["forms"]) == 20
    assert sorted(p.name for p in (tmp_path / "c").glob("*.txt")) == sorted(
        f["file"] for f in expected["files"]
    )
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_corpus(tmp_path / "other", 10, 1)
    assert main(["bench-corpus", "--forms", "10", str(tmp_path / "other")]) == 1


# ----------------------------------------------------------------------------- what a corpus contains


def test_a_small_corpus_has_every_layout_and_damage_pattern() -> None:
    small = build_corpus(SMALL_FORMS, SMALL_SEED)
    forms = small.expected["forms"]
    assert len(forms) == SMALL_FORMS
    seen = {(form["layout"], name) for form in forms for name in form["damage"]}
    seen |= {("file", name) for entry in small.expected["files"] for name in entry["damage"]}
    wanted = {(layout, name) for layout, names in PATTERNS.items() for name in names}
    wanted |= {("file", name) for name in FILE_PATTERNS}
    assert wanted - seen == set()
    assert {form["layout"] for form in forms} == set(PATTERNS)
    assert any(not entry["final_newline"] for entry in small.expected["files"])
    assert any(entry["encoding"] == "gb18030" for entry in small.expected["files"])


def test_files_hold_several_forms_of_one_layout_and_year(corpus: Corpus) -> None:
    sizes = [f.forms for f in corpus.files]
    assert sum(sizes) == ACCURACY_FORMS
    assert max(sizes) <= 20 and sum(1 for s in sizes if s >= 10) >= len(sizes) // 2
    by_file: dict[str, set[tuple[str, int]]] = {}
    for form in corpus.expected["forms"]:
        by_file.setdefault(form["file"], set()).add((form["layout"], form["year"]))
    assert all(len(kinds) == 1 for kinds in by_file.values())


def test_projects_are_followed_across_years_with_drifting_names(corpus: Corpus) -> None:
    lineages: dict[str, list[dict[str, Any]]] = {}
    for form in corpus.expected["forms"]:
        lineages.setdefault(form["lineage"], []).append(form)
    spans = [len({f["year"] for f in forms}) for forms in lineages.values()]
    assert sum(1 for span in spans if span >= 3) >= len(lineages) // 3
    assert any(len({f["project_name"] for f in forms}) > 1 for forms in lineages.values())
    years = {form["year"] for form in corpus.expected["forms"]}
    assert years == set(range(2019, 2025))


def test_self_evaluations_add_up_except_the_recorded_injected_errors(corpus: Corpus) -> None:
    injected: Counter[str] = Counter()
    for form in corpus.expected["forms"]:
        assert broken_rules(form) == set(form["injected"]), (form["file"], form["index_in_file"])
        injected.update(form["injected"])
    evaluations = sum(1 for f in corpus.expected["forms"] if f["form_type"] == "self_evaluation")
    clean = sum(
        1 for f in corpus.expected["forms"] if f["form_type"] == "self_evaluation" and not f["injected"]
    )
    assert clean >= 0.85 * evaluations
    assert sum(injected.values()) >= 5


# ----------------------------------------------------------------------------- parsed back


def test_every_form_found_with_type_year_and_project(score: Score) -> None:
    assert score.ratio("forms") == 1.0
    for name in ("form.form_type", "form.year", "form.project_name", "form.line_start"):
        assert score.ratio(name) == 1.0, [m for m in score.misses if name.split(".")[-1] in m][:5]


def test_indicator_rows_found(score: Score) -> None:
    assert score.found_rows >= 0.99 * score.gold_rows
    assert score.extra_rows <= 0.01 * score.gold_rows


@pytest.mark.parametrize("name", ["target", "actual", "weight", "score", "deviation_reason", "l3"])
def test_indicator_values_exact(score: Score, name: str) -> None:
    assert score.ratio(f"indicator.{name}") >= 0.99, [m for m in score.misses if name in m][:5]


@pytest.mark.parametrize("name", ["l1", "l2"])
def test_indicator_levels(score: Score, name: str) -> None:
    assert score.ratio(f"indicator.{name}") >= 0.97, [m for m in score.misses if name in m][:5]


@pytest.mark.parametrize(
    "name",
    [
        "funds",
        "form.total_weight",
        "form.total_score",
        "form.grade",
        "form.legal_basis_doc_numbers",
        "form.legal_basis_titles",
        "form.money_unit_in_source",
        "form.supervising_department",
        "form.implementing_unit",
        "form.reporting_unit",
        "form.planned_start",
        "form.planned_end",
    ],
)
def test_funds_totals_grades_and_doc_numbers_all_exact(score: Score, name: str) -> None:
    assert score.ratio(name) == 1.0, [m for m in score.misses if name.split(".")[-1] in m][:5]
