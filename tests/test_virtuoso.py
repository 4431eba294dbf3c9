"""The remote store on a real Virtuoso server (Debian's virtuoso-opensource, started by the session fixture
`virtuoso` with scripts/virtuoso on free 127.0.0.1 ports, its own folder, the dba password changed and
ResultSetMaxRows = 1000): the seed corpus ingested through `kg --store virtuoso://…` answers every named
query and the validation exactly as the embedded Oxigraph store does; long answers are paged, re-ingest
replaces, a failed replacement changes nothing, parameters cannot inject SPARQL. Skipped, with the reason,
where Virtuoso is not installed."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from kg.cli import main
from kg.rdf.named_queries import load_named_queries
from kg.rdf.namespaces import ID, KG
from kg.store import CATALOG_GRAPH, OxigraphStore, StoreError, open_store
from kg.store.remote import MERGE_GRAPH, RemoteStore
from tests.remote_services import MAX_ROWS, Virtuoso

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
BIG_GRAPH = ID["graph/001_5d49eaeac9110deb/10"]  # 3,503 triples: more than MAX_ROWS
INGESTED_AT = re.compile(r"catalog#ingestedAt>")
IN_REPORT = re.compile(r"<https://w3id\.org/jixiao-kg/id/graph/report/[^>]*> \.$")  # blank nodes, times

SHACL = "PREFIX sh: <http://www.w3.org/ns/shacl#>"

Row = tuple[str | None, ...]


@pytest.fixture(scope="module")
def remote_env(virtuoso: Virtuoso) -> Iterator[Virtuoso]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in virtuoso.env().items():
            patch.setenv(name, value)
        patch.delenv("KG_STORE", raising=False)
        yield virtuoso


@pytest.fixture(scope="module")
def loaded(remote_env: Virtuoso, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The seeds in Virtuoso (through the command line) and in an Oxigraph store: (address, store dir)."""
    embedded = tmp_path_factory.mktemp("oxigraph") / "store"
    assert main(["--store", remote_env.spec, "ingest", str(DATA)]) == 0
    assert main(["--store", str(embedded), "ingest", str(DATA)]) == 0
    return remote_env.spec, embedded


def _rows(
    store: object, text: str, substitutions: dict[str, object] | None = None
) -> tuple[list[str], list[Row]]:
    result = store.query(text, substitutions)  # type: ignore[attr-defined]
    assert isinstance(result, ox.QuerySolutions)
    names = [variable.value for variable in result.variables]
    return names, [tuple(str(s[n]) if s[n] is not None else None for n in names) for s in result]


def _export_lines(store: object) -> list[str]:
    data = store.export("nq") or b""  # type: ignore[attr-defined]
    lines = data.decode("utf-8").splitlines()
    return sorted(line for line in lines if not INGESTED_AT.search(line) and not IN_REPORT.search(line))


def test_ingest_through_the_command_line_loads_the_seeds(
    loaded: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, embedded = loaded
    assert main(["--store", spec, "forms"]) == 0
    remote_forms = capsys.readouterr().out
    assert main(["--store", str(embedded), "forms"]) == 0
    assert remote_forms == capsys.readouterr().out
    assert "31 forms" in remote_forms
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        assert [(f.file, f.forms, f.triples, f.sha256) for f in remote.files()] == [
            (f.file, f.forms, f.triples, f.sha256) for f in local.files()
        ]
        assert remote.form_graphs() == local.form_graphs()
        assert remote.count_triples() == local.count_triples()
        assert remote.count_default_graph() == local.count_default_graph()


@pytest.mark.parametrize("with_params", [False, True], ids=["all", "example-params"])
def test_every_named_query_answers_as_on_oxigraph(loaded: tuple[str, Path], with_params: bool) -> None:
    spec, embedded = loaded
    checked = 0
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        for name, query in load_named_queries().items():
            values = {p.name: p.example for p in query.params} if with_params else {}
            substitutions = {v.value: t for v, t in query.substitutions(values).items()}
            expected = _rows(local, query.text, substitutions)
            got = _rows(remote, query.text, substitutions)
            assert got[0] == expected[0], name
            if re.search(r"\bORDER\s+BY\b", query.text, re.IGNORECASE):
                assert got[1] == expected[1], f"{name}: rows or their order differ"
            else:
                assert Counter(got[1]) == Counter(expected[1]), f"{name}: rows differ"
            checked += 1
    assert checked >= 11


def test_validation_finds_exactly_what_it_finds_on_oxigraph(loaded: tuple[str, Path], tmp_path: Path) -> None:
    spec, embedded = loaded
    remote_out, local_out = tmp_path / "remote.json", tmp_path / "local.json"
    remote_status = main(
        ["--store", spec, "validate", "--format", "json", "--jobs", "1", "-o", str(remote_out)]
    )
    local_status = main(
        ["--store", str(embedded), "validate", "--format", "json", "--jobs", "1", "-o", str(local_out)]
    )
    assert remote_status == local_status
    remote_findings = json.loads(remote_out.read_text(encoding="utf-8"))
    assert remote_findings == json.loads(local_out.read_text(encoding="utf-8"))
    assert len(remote_findings) > 50
    with open_store(spec) as remote:  # the reports are stored apart from the default graph
        names = remote.query(
            f"{SHACL} SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?r a sh:ValidationReport }} }}",
        )
        assert isinstance(names, ox.QuerySolutions)
        assert int(next(iter(names))["n"].value) >= 31
        assert not remote.query(f"{SHACL} ASK {{ ?r a sh:ValidationReport }}")


def test_answers_longer_than_result_set_max_rows_are_paged(loaded: tuple[str, Path]) -> None:
    spec, embedded = loaded
    select = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{BIG_GRAPH}> {{ ?s ?p ?o }} }}"
    # Virtuoso itself cuts the answer at ResultSetMaxRows, saying so only in a header
    request = urllib.request.Request(
        f"{RemoteStore.open(spec).config.query_url}",
        data=urllib.parse.urlencode({"query": select}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = json.loads(response.read())
        assert response.headers["X-SPARQL-MaxRows"] == str(MAX_ROWS)
    assert len(raw["results"]["bindings"]) == MAX_ROWS
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        assert isinstance(remote, RemoteStore)
        _, rows = _rows(remote, select)
        assert remote.max_rows_seen == MAX_ROWS  # it was cut, and paged
        assert len(rows) == 3503 > MAX_ROWS
        assert Counter(rows) == Counter(_rows(local, select)[1])
        ordered = "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(?n) ?s"
        assert _rows(remote, ordered) == _rows(local, ordered)
        # a CONSTRUCT is never cut either (Virtuoso would cut it without any header)
        construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{BIG_GRAPH}> {{ ?s ?p ?o }} }}"
        remote_triples = set(remote.query(construct))  # type: ignore[arg-type]
        assert remote_triples == set(local.query(construct)) and len(remote_triples) == 3503  # type: ignore[arg-type]


def test_default_graph_is_the_set_merge_and_graph_reaches_forms(loaded: tuple[str, Path]) -> None:
    spec, embedded = loaded
    queries = [
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",  # shared triples once, no catalog, no Virtuoso graphs
        "SELECT ?f WHERE { ?f a kg:SourceFile }",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BIG_GRAPH}> {{ ?s ?p ?o }} }}",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?f a kg:SourceFile } } GROUP BY ?g",
        "SELECT ?file WHERE { GRAPH kgcat:nothing { ?a ?b ?c } OPTIONAL { ?x kgcat:fileName ?file } }",
        f"SELECT ?name WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?f kgcat:fileName ?name }} }}",
    ]
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        for text in queries:
            assert Counter(_rows(remote, text)[1]) == Counter(_rows(local, text)[1]), text
        assert not remote.contains_graph(str(MERGE_GRAPH))
        assert remote.query(f"ASK {{ GRAPH <{MERGE_GRAPH}> {{ ?s ?p ?o }} }}")  # it is there, as a graph


def test_reingest_replaces_and_never_duplicates(loaded: tuple[str, Path]) -> None:
    spec, embedded = loaded
    assert main(["--store", spec, "ingest", str(DATA / "001_5d49eaeac9110deb.txt")]) == 0
    assert main(["--store", spec, "ingest", str(DATA)]) == 0
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        assert remote.count_default_graph() == local.count_default_graph()
        assert remote.count_triples() == local.count_triples()
        assert len(remote.files()) == 4
        assert _export_lines(remote) == _export_lines(local)


def test_failed_replacement_changes_nothing(loaded: tuple[str, Path]) -> None:
    spec, _ = loaded
    with open_store(spec) as remote:
        assert isinstance(remote, RemoteStore)
        before = (remote.count_triples(), remote.count_default_graph(), remote.files(), remote.form_graphs())
        graph = Graph()
        graph.add((URIRef(ID["form/000_bb01accd19b494dd/0"]), KG.note, Literal("new")))
        broken = remote._load_dir() / "broken.nq"
        broken.write_text('<http://example.org/s> <http://example.org/p> "unterminated .\n', encoding="utf-8")
        source = ox.NamedNode(str(ID["source/000_bb01accd19b494dd.txt"]))
        catalog_link = ox.NamedNode("https://w3id.org/jixiao-kg/catalog#sourceFile")
        graphs = [ox.NamedNode(str(ID["graph/000_bb01accd19b494dd/0"]))]
        with pytest.raises(StoreError, match="nothing was changed"):
            remote._replace_transaction(source, catalog_link, graphs, broken, in_default=True)
        broken.unlink()
        after = (remote.count_triples(), remote.count_default_graph(), remote.files(), remote.form_graphs())
        assert after == before


def test_parameters_are_bound_as_terms_never_as_query_text(loaded: tuple[str, Path]) -> None:
    spec, _ = loaded
    tricky = "a\"b\\c\n\r\t}{ <x> \\u0022 'q' # not a comment"
    injection = '" } } ; DROP ALL ; SELECT * WHERE { ?s ?p "'
    with open_store(spec) as remote:
        before = remote.count_triples()
        for value in (tricky, injection, "中文 ‘引号’"):
            result = remote.query("SELECT ?x WHERE { }", {"x": value})
            assert isinstance(result, ox.QuerySolutions)
            assert [s["x"] for s in result] == [ox.Literal(value)]
            result = remote.query("SELECT ?f WHERE { ?f dcterms:title ?x }", {"x": value})
            assert list(result) == []  # type: ignore[arg-type]
        named = load_named_queries()["forms"]
        result = remote.query(named.text, {"project": injection, "year": 2024})
        assert list(result) == []  # type: ignore[arg-type]
        assert remote.count_triples() == before


def test_http_address_reads_and_writes_without_isql(
    loaded: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--store http://…/sparql`: a Virtuoso endpoint detected from its Server header; writes then go as
    SPARQL Updates to /sparql-auth (digest), not through isql."""
    spec, embedded = loaded
    remote = RemoteStore.open(spec)
    monkeypatch.setenv("KG_REMOTE_PASSWORD", remote.config.password or "")
    url = remote.config.query_url
    http = open_store(url)
    assert (
        isinstance(http, RemoteStore) and http.config.dialect == "virtuoso" and not http.config.bulk_capable
    )
    before = http.count_default_graph()
    http.replace_file("zz_http.txt", [(ID["graph/zz_http/0"], _small_graph())], sha256="00" * 32)
    assert http.count_triples(ID["graph/zz_http/0"]) == 2
    assert http.count_default_graph() == before + 2
    http.replace_file("zz_http.txt", [(ID["graph/zz_http/0"], _small_graph())], sha256="00" * 32)
    assert http.count_default_graph() == before + 2  # replaced, not duplicated
    http.remove_file("zz_http.txt")
    assert http.count_default_graph() == before
    with OxigraphStore(embedded) as local:
        assert _export_lines(http) == _export_lines(local)


def _small_graph() -> Graph:
    graph = Graph()
    form = URIRef(ID["form/zz_http/0"])
    graph.add((form, KG.formIndex, Literal(0)))
    graph.add((form, KG.note, Literal("经由 HTTP 写入", lang="zh")))
    return graph


def test_dask_ingest_bulk_loads_once_and_matches_serial(
    loaded: tuple[str, Path], dask_scheduler: str, virtuoso: Virtuoso, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, embedded = loaded
    with open_store(spec) as remote:
        for record in remote.files():
            remote.remove_file(record.file)
        assert remote.files() == [] and remote.form_graphs() == []  # only the link graphs are left
    log = virtuoso.folder / "db" / "virtuoso.log"
    loader_runs = log.read_text(errors="replace").count("Loader started")
    assert main(["--store", spec, "ingest", "--dask", dask_scheduler, str(DATA)]) == 0
    assert "4 loaded, 0 failed" in capsys.readouterr().out
    assert log.read_text(errors="replace").count("Loader started") == loader_runs + 1  # one bulk load
    with open_store(spec) as remote, OxigraphStore(embedded) as local:
        assert _export_lines(remote) == _export_lines(local)
