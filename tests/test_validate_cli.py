"""`kg validate`, `kg ingest --validate` and `kg check-ontology`, run as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from kg.validate.findings import JSON_KEYS

REPO = Path(__file__).resolve().parents[1]
KG_BIN = REPO / ".venv" / "bin" / "kg"
SE_FILE, TD_FILE, CY_FILE = "001_5d49eaeac9110deb.txt", "002_0ba3e1b3e0c621eb.txt", "003_f95dcf2be13289f4.txt"


def kg(
    *args: str | Path, store: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(KG_BIN)] if KG_BIN.exists() else [sys.executable, "-m", "kg.cli"]
    if store is not None:
        command += ["--store", str(store)]
    environment = {k: v for k, v in os.environ.items() if k != "KG_STORE"} | (env or {})
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, env=environment, cwd=REPO, timeout=600
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    store = tmp_path_factory.mktemp("validate") / "store"
    return store, kg("ingest", "--validate", "data/", store=store)


@pytest.fixture(scope="module")
def store(seeded: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    return seeded[0]


def findings(store: Path, *options: str) -> tuple[int, list[dict[str, object]]]:
    result = kg("validate", "--format", "json", *options, store=store)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("command", ["validate", "check-ontology"])
def test_help_teaches_with_examples(command: str) -> None:
    result = kg(command, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: kg {command}")
    assert re.search(r"^  kg ", result.stdout.split("examples:")[1], re.MULTILINE)
    assert "--validate" in kg("ingest", "--help").stdout


def test_ingest_validate_counts_per_file(seeded: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = seeded
    assert result.returncode == 0, result.stderr
    assert "validation (reports stored; details: kg validate --form FILE):" in result.stdout
    for name in ("000_bb01accd19b494dd.txt", SE_FILE, TD_FILE, CY_FILE):
        assert re.search(rf"^  {name}: \d+ violations, \d+ warnings, \d+ info$", result.stdout, re.MULTILINE)


def test_json_findings_have_exactly_the_contract_keys(store: Path) -> None:
    status, items = findings(store)
    assert status == 1  # there are violations
    assert all(tuple(item) == JSON_KEYS for item in items)
    assert {item["severity"] for item in items} <= {"violation", "warning", "info"}
    example = {
        "rule": "SE-05",
        "severity": "violation",
        "file": CY_FILE,
        "form_index": 0,
        "project": "公共事务协管经费",
        "year": 2020,
        "indicator": None,
        "value": "1000",
        "focus_node": "https://w3id.org/jixiao-kg/id/form/003_f95dcf2be13289f4/0/reckoning/total-score",
    }
    [found] = [item for item in items if item["rule"] == "SE-05"]
    assert {key: found[key] for key in example} == example
    assert str(found["message"]).startswith(
        "总分得分高于资金得分与各指标得分之和（表列 1000，各项得分合计 100"
    )


def test_rule_severity_and_form_choose_what_is_printed(store: Path) -> None:
    status, items = findings(store, "--rule", "SE-09", "--rule", "SE-12")
    assert status == 1
    assert sorted((i["rule"], i["form_index"], i["indicator"]) for i in items) == [
        ("SE-09", 7, "工作内容完成率"),
        ("SE-09", 10, "青年干部班培训人员合格人数"),
        ("SE-09", 12, "街面环境实效专项整治评查不少于 800 条街道"),
        ("SE-12", 1, "代理诉讼案件次数"),
    ]
    status, items = findings(store, "--severity", "warning", "--form", f"data/{CY_FILE}#1")
    assert status == 0  # warnings only
    assert {(i["file"], i["form_index"], i["severity"]) for i in items} == {(CY_FILE, 1, "warning")}
    assert {i["rule"] for i in items} >= {"C-04", "SE-03", "SE-07", "SE-13", "TG-10", "TG-11"}


def test_text_groups_by_form_then_rule_and_caps(store: Path) -> None:
    result = kg("validate", "--form", SE_FILE, "--rule", "SE-03", "--limit", "1", store=store)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"15 forms validated, 15 with findings: 0 violations, \d+ warnings, 0 info", lines[0])
    assert lines[2] == f"{SE_FILE} #0  2024  课题研究  绩效自评表"
    assert lines[3] == "  0 violations, 2 warnings, 0 info"
    assert lines[4].startswith("  SE-03  一级指标分值与默认不同")
    assert lines[6] == "    … 1 more"
    assert re.search(
        r"validated 15 forms in [\d.]+ s: 0 violations, \d+ warnings, 0 info \(reports stored\)",
        result.stderr,
    )


def test_ttl_is_a_shacl_validation_report_and_html_a_page(store: Path, tmp_path: Path) -> None:
    ttl = kg("validate", "--format", "ttl", "--rule", "TG-04", "--no-store", store=store)
    assert ttl.returncode == 1
    graph = Graph().parse(data=ttl.stdout, format="turtle")
    [report] = graph.subjects(RDF.type, SH.ValidationReport)
    [result] = graph.objects(report, SH.result)
    assert (result, SH.resultSeverity, SH.Violation) in graph
    page = tmp_path / "report.html"
    html = kg("validate", "--format", "html", "-o", page, store=store)
    assert html.returncode == 1 and f"wrote {page}" in html.stderr
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "src=" not in text
    assert (
        "按规则 · By rule" in text
        and "公共事务协管经费" in text
        and "总分得分高于资金得分与各指标得分之和" in text
    )


def test_reports_are_in_the_store_for_sparql(store: Path) -> None:
    query = (
        "PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?rule (COUNT(*) AS ?n) WHERE { GRAPH ?g { "
        '?r a sh:ValidationResult ; kg:ruleId ?rule } FILTER (?rule IN ("SE-05", "TG-04")) } GROUP BY ?rule '
        "ORDER BY ?rule"
    )
    result = kg("query", query, "--format", "csv", store=store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.replace("\r\n", "\n") == "rule,n\nSE-05,1\nTG-04,1\n"


def test_both_engines_print_the_same_findings(store: Path) -> None:
    """The default engine (compiled SPARQL on the embedded store) prints what pySHACL per form prints."""
    status, compiled = findings(store)
    assert (status, len(compiled)) == (1, 127)  # 120 Core findings, 7 across years
    assert findings(store, "--engine", "pyshacl", "--jobs", "1") == (status, compiled)
    assert findings(store, "--engine", "compiled", "--no-store") == (status, compiled)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "fast"], "invalid choice: 'fast'"),
        (["--rule", "SE-99"], "unknown rule SE-99"),
        (["--form", "nothing.txt"], "no form nothing.txt in the store"),
        (["--form", f"{SE_FILE}#99"], f"no form {SE_FILE}#99"),
    ],
)
def test_usage_errors_exit_2(store: Path, args: list[str], message: str) -> None:
    result = kg("validate", *args, store=store)
    assert result.returncode == 2 and message in result.stderr


# ----------------------------------------------------------------------------- check-ontology (HermiT)

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not found on PATH: HermiT needs it"
)


@needs_java
def test_check_ontology_passes_on_the_ontology_and_seed_data() -> None:
    result = kg("check-ontology", f"data/{CY_FILE}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kg-validation.ttl" in result.stdout and "+ 1 data files" in result.stdout
    assert "consistent, every class satisfiable" in result.stdout


@needs_java
def test_check_ontology_names_unsatisfiable_classes_and_inconsistency(tmp_path: Path) -> None:
    for module in (REPO / "ontology").glob("*.ttl"):
        shutil.copy(module, tmp_path / module.name)
    (tmp_path / "zz-bad.ttl").write_text(
        "@prefix kg: <https://w3id.org/jixiao-kg/ontology#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'kg:Impossible a owl:Class ; rdfs:label "不可能"@zh , "impossible"@en ;\n'
        "    rdfs:subClassOf kg:TargetTable , kg:SelfEvaluation .\n",
        encoding="utf-8",
    )
    result = kg("check-ontology", env={"KG_ONTOLOGY_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "UNSATISFIABLE class (can have no member): kg:Impossible (不可能 / impossible)" in result.stdout
    shutil.copy(REPO / "tests" / "fixtures" / "inconsistent.ttl", tmp_path / "zz-bad.ttl")
    result = kg("check-ontology", env={"KG_ONTOLOGY_DIR": str(tmp_path)})
    assert (
        result.returncode == 1 and "INCONSISTENT" in result.stdout and "the ontology itself" in result.stdout
    )
