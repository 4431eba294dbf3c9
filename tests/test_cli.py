"""The `kg` command line, run as a real subprocess (.venv/bin/kg) against real on-disk stores.

The seeded store holds the four files of data/: 31 forms (2 target tables in 000, 15 self-evaluations of
2024 in 001, 12 target declarations of 2023 in 002, 2 self-evaluations of 2020 in 003).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.store import OxigraphStore

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
KG_BIN = REPO / ".venv" / "bin" / "kg"
DATA_FILES = {
    "000_bb01accd19b494dd.txt": 2,
    "001_5d49eaeac9110deb.txt": 15,
    "002_0ba3e1b3e0c621eb.txt": 12,
    "003_f95dcf2be13289f4.txt": 2,
}
FORMS_HEADER = (
    "file,form_index,form_type,year,project,unit,indicator_count,execution_rate,funds_weight,funds_score,"
    "total_weight,total_score,grade"
)


def kg(
    *args: str | Path,
    store: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    command = (
        [str(KG_BIN)]
        if KG_BIN.exists()
        else [sys.executable, "-c", "import sys; from kg.cli import main; sys.exit(main())"]
    )
    if store is not None:
        command += ["--store", str(store)]
    environment = {k: v for k, v in os.environ.items() if k != "KG_STORE"} | (env or {})
    raw = subprocess.run(
        [*command, *map(str, args)],
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        env=environment,
        cwd=cwd or REPO,
        check=False,
        timeout=300,
    )
    # decoded by hand: text=True would turn the CSV's CRLF into LF
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode("utf-8"), raw.stderr.decode("utf-8")
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    store = tmp_path_factory.mktemp("cli") / "store"
    return store, kg("ingest", "data/", store=store)


@pytest.fixture
def store(seeded: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    path, result = seeded
    assert result.returncode == 0, result.stderr
    return path


def csv_rows(text: str) -> list[list[str]]:
    assert text.endswith("\r\n"), "RFC 4180 records end with CRLF"
    return list(csv.reader(io.StringIO(text, newline="")))


def count(store: Path, sparql: str) -> int:
    result = kg("query", sparql, "--format", "csv", store=store)
    assert result.returncode == 0, result.stderr
    [[_], [value]] = csv_rows(result.stdout)
    return int(value)


# ----------------------------------------------------------------------------- help


@pytest.mark.parametrize("command", [[], ["ingest"], ["link"], ["forms"], ["query"], ["export"], ["serve"]])
def test_help_of_every_command_teaches(command: list[str]) -> None:
    result = kg(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: kg")
    assert "examples:" in result.stdout
    assert re.search(r"^  kg ", result.stdout.split("examples:")[1], re.MULTILINE)


def test_no_command_prints_usage(tmp_path: Path) -> None:
    result = kg(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: kg" in result.stderr and "examples:" in result.stderr


# ----------------------------------------------------------------------------- ingest and forms


def test_ingest_data_prints_progress_and_summary(
    seeded: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = seeded
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 4  # not a terminal: one line per file
    # a fresh store: each file is parsed, then all are bulk-loaded together
    assert progress[0].startswith("[#####...............] 1/4 data/000_bb01accd19b494dd.txt parsed")
    assert progress[3].startswith("[####################] 4/4 data/003_f95dcf2be13289f4.txt parsed")
    after = result.stderr.split(progress[3], 1)[1].strip().splitlines()
    assert re.fullmatch(r"loading [\d,]+ quads of 4 files into the store …", after[0])
    assert re.fullmatch(r"loaded 4 files in [\d.]+ s", after[1])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "forms", "triples", "status"]
    for name, forms in DATA_FILES.items():
        [row] = [line for line in lines if line.startswith(f"data/{name}")]
        assert re.fullmatch(rf"data/{name} +{forms} +[1-9]\d* +ok", row)
    [total] = [line for line in lines if line.startswith("total")]
    assert re.fullmatch(r"total \(4 files\) +31 +[1-9]\d* +4 loaded, 0 failed", total)
    assert re.search(r"4 files, 31 form graphs, \d+ triples", result.stdout)
    assert "error" not in result.stderr


def test_forms_lists_31_forms(store: Path) -> None:
    result = kg("forms", store=store)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "form_index", "form_type", "year", "project"]
    assert lines[-1] == "31 forms"
    rows = [line.split() for line in lines[2:-1]]
    assert len(rows) == 31
    assert rows[0] == ["000_bb01accd19b494dd.txt", "0", "target_table", "2020", "城管执法监督考核"]
    assert rows[2][:5] == ["001_5d49eaeac9110deb.txt", "0", "self_evaluation", "2024", "课题研究"]
    for name, forms in DATA_FILES.items():
        assert [row[1] for row in rows if row[0] == name] == [str(i) for i in range(forms)]


@pytest.mark.parametrize(
    ("options", "forms"),
    [
        (["--year", "2024"], 15),
        (["--type", "target_declaration"], 12),
        (["--file", "003_f95dcf2be13289f4.txt"], 2),
        (["--year", "2020", "--type", "self_evaluation"], 2),
    ],
)
def test_forms_filters(store: Path, options: list[str], forms: int) -> None:
    result = kg("forms", *options, store=store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{forms} forms"


# ----------------------------------------------------------------------------- query


def test_named_query_forms_as_csv(store: Path) -> None:
    result = kg("query", "--name", "forms", "--format", "csv", store=store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\r\n")[0] == FORMS_HEADER
    rows = csv_rows(result.stdout)
    assert len(rows) == 1 + 31
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert records[0] == {
        "file": "000_bb01accd19b494dd.txt",
        "form_index": "0",
        "form_type": "target_table",
        "year": "2020",
        "project": "城管执法监督考核",
        "unit": "上海市城市管理行政执法局",
        "indicator_count": "21",
        "execution_rate": "",
        "funds_weight": "",
        "funds_score": "",
        "total_weight": "",
        "total_score": "",
        "grade": "",
    }
    assert records[2] == {
        "file": "001_5d49eaeac9110deb.txt",
        "form_index": "0",
        "form_type": "self_evaluation",
        "year": "2024",
        "project": "课题研究",
        "unit": "上海市城市管理行政执法局",
        "indicator_count": "9",
        "execution_rate": "100",
        "funds_weight": "10",
        "funds_score": "10",
        "total_weight": "100",
        "total_score": "98",
        "grade": "优",
    }


def test_query_params_are_typed_terms(store: Path) -> None:
    named = kg("query", "--name", "forms", "--param", "year=2024", "--format", "csv", store=store)
    assert named.returncode == 0, named.stderr
    assert len(csv_rows(named.stdout)) == 1 + 15
    sparql = "SELECT ?form ?year WHERE { ?form kg:fiscalYear ?year }"
    free = kg("query", sparql, "--param", "year=2023", "--format", "csv", store=store)
    assert free.returncode == 0, free.stderr
    assert len(csv_rows(free.stdout)) == 1 + 12  # 2023 bound as xsd:integer, not as a string
    text = kg(
        "query",
        "SELECT ?project WHERE { ?f dcterms:title ?project }",
        "--param",
        "project=课题研究",
        "--format",
        "csv",
        store=store,
    )
    assert csv_rows(text.stdout)[1:] == [["课题研究"], ["课题研究"]]  # in 001 (2024) and 002 (2023)


def test_query_formats(store: Path) -> None:
    sparql = "SELECT (COUNT(?f) AS ?n) WHERE { ?f a kg:SelfEvaluation }"
    table = kg("query", sparql, store=store)
    assert table.stdout.splitlines() == [" n", "--", "17", "(1 row)"]
    as_json = json.loads(kg("query", sparql, "--format", "json", store=store).stdout)
    assert as_json["head"] == {"vars": ["n"]}
    assert as_json["results"]["bindings"] == [
        {"n": {"type": "literal", "value": "17", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}
    ]
    ask = "ASK { ?f kg:grade '优' }"
    assert kg("query", ask, store=store).stdout == "true\n"
    assert json.loads(kg("query", ask, "--format", "json", store=store).stdout) == {
        "head": {},
        "boolean": True,
    }
    construct = "CONSTRUCT { ?f dcterms:title ?t } WHERE { ?f a kg:TargetTable ; dcterms:title ?t }"
    turtle = kg("query", construct, store=store)
    assert turtle.returncode == 0, turtle.stderr
    assert len(Graph().parse(data=turtle.stdout, format="turtle")) == 2
    rows = csv_rows(kg("query", construct, "--format", "csv", store=store).stdout)
    assert rows[0] == ["subject", "predicate", "object"]
    assert sorted(row[2] for row in rows[1:]) == ["城管执法人员教育培训", "城管执法监督考核"]


def test_query_from_stdin_and_file(store: Path, tmp_path: Path) -> None:
    sparql = "SELECT (COUNT(?f) AS ?n) WHERE { ?f a kg:TargetDeclaration }"
    from_stdin = kg("query", "-", "--format", "csv", store=store, stdin=sparql)
    assert csv_rows(from_stdin.stdout) == [["n"], ["12"]]
    (tmp_path / "q.rq").write_text(sparql, encoding="utf-8")
    from_file = kg("query", f"@{tmp_path / 'q.rq'}", "--format", "csv", store=store)
    assert csv_rows(from_file.stdout) == [["n"], ["12"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SELECT ?x WHERE { ?x ?y }"], "SPARQL syntax error"),
        (["--name", "no-such-query"], "unknown named query 'no-such-query'"),
        (["--name", "forms", "--param", "colour=red"], "has no parameter 'colour'"),
        (["--name", "forms", "--param", "year=twenty"], "not of type integer"),
        (["--name", "forms", "--param", "year"], "expected NAME=VALUE"),
        (["@/no/such/file.rq"], "cannot read query file"),
        (["DESCRIBE <https://w3id.org/jixiao-kg/id/x>", "--param", "year=2024"], "without WHERE"),
    ],
)
def test_query_errors_exit_2(store: Path, args: list[str], message: str) -> None:
    result = kg("query", *args, store=store)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_query_needs_exactly_one_source(store: Path) -> None:
    assert kg("query", store=store).returncode == 2
    assert kg("query", "ASK {}", "--name", "forms", store=store).returncode == 2


# ----------------------------------------------------------------------------- export


def test_export_nq_round_trips_count(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "dump.nq"
    result = kg("export", "--format", "nq", "-o", out, store=store)
    assert result.returncode == 0, result.stderr
    quads = out.read_text(encoding="utf-8").splitlines()
    in_store = count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert len(quads) == in_store
    reloaded = ox.Store()
    reloaded.load(path=out, format=ox.RdfFormat.N_QUADS)
    assert len(reloaded) == in_store
    # the form graphs, the catalog and the graphs of `kg link` (lineages, registry/units, registry/legal)
    assert len(list(reloaded.named_graphs())) == 31 + 1 + 3
    assert kg("export", "--format", "nq", store=store).stdout.encode("utf-8") == out.read_bytes()


def test_export_turtle_jsonld_and_csv(store: Path, tmp_path: Path) -> None:
    turtle = kg("export", "--format", "ttl", store=store)
    assert turtle.returncode == 0, turtle.stderr
    merged = count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert len(Graph().parse(data=turtle.stdout, format="turtle")) == merged
    jsonld = tmp_path / "dump.jsonld"
    assert kg("export", "--format", "jsonld", "-o", jsonld, store=store).returncode == 0
    assert len(json.loads(jsonld.read_text(encoding="utf-8"))) == 31 + 1 + 3
    exported = kg("export", "--format", "csv", store=store)
    queried = kg("query", "--name", "indicators", "--format", "csv", store=store)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == queried.stdout
    assert csv_rows(exported.stdout)[0][:3] == ["file", "form_index", "project"]


# ----------------------------------------------------------------------------- store handling and serve


def test_store_from_environment_and_missing_store(store: Path, tmp_path: Path) -> None:
    from_env = kg("forms", env={"KG_STORE": str(store)}, cwd=tmp_path)
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout.splitlines()[-1] == "31 forms"
    missing = kg("forms", store=tmp_path / "none")
    assert missing.returncode == 1
    assert "no store at" in missing.stderr and "kg ingest" in missing.stderr
    default = kg("forms", cwd=tmp_path)  # ./var/store
    assert default.returncode == 1 and "var/store" in default.stderr


def test_locked_store_gives_a_clear_error(store: Path) -> None:
    with OxigraphStore(store):
        result = kg("forms", store=store)
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_serve_checks_its_options_and_store(tmp_path: Path) -> None:
    # the service itself is tested over HTTP in tests/test_server.py and tests/test_protocol.py
    assert kg("serve", "--port", "70000").returncode == 2
    missing = kg("serve", "--port", "8123", store=tmp_path / "none")
    assert missing.returncode == 1 and "no store at" in missing.stderr
