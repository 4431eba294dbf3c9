"""The remote store on a real Virtuoso server (Debian's virtuoso-opensource, started by the session fixture
`virtuoso` with scripts/virtuoso on free 127.0.0.1 ports, its own folder, the dba password changed and
ResultSetMaxRows = 1000): the seed corpus ingested through `kg --store virtuoso://…` answers every named
query and the validation exactly as the embedded Oxigraph store does; long answers are paged, re-ingest
replaces, a failed replacement changes nothing, parameters cannot inject SPARQL. Skipped, with the reason,
where Virtuoso is not installed."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from kg.cli import main
from kg.ingest import file_to_quads
from kg.rdf.named_queries import load_named_queries
from kg.rdf.namespaces import ID, KG
from kg.store import CATALOG_GRAPH, OxigraphStore, StoreError, open_store
from kg.store.remote import _REPLACE_PROCEDURE, MERGE_GRAPH, RemoteStore
from tests.remote_services import MAX_ROWS, Virtuoso

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
BIG_GRAPH = ID["graph/001_5d49eaeac9110deb/10"]  # about 3,500 triples: more than MAX_ROWS
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
        expected = _rows(local, select)[1]
        assert len(rows) == len(expected) > 3 * MAX_ROWS
        assert Counter(rows) == Counter(expected)
        ordered = "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(?n) ?s"
        assert _rows(remote, ordered) == _rows(local, ordered)
        # a CONSTRUCT is never cut either (Virtuoso would cut it without any header)
        construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{BIG_GRAPH}> {{ ?s ?p ?o }} }}"
        remote_triples = set(remote.query(construct))  # type: ignore[arg-type]
        assert remote_triples == set(local.query(construct))  # type: ignore[arg-type]
        assert len(remote_triples) == len(expected)


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
    """A replacement that fails inside its transaction (here: an error raised just before the commit, after
    the old graphs were deleted and the new ones written) leaves the store exactly as it was."""
    spec, _ = loaded
    file = DATA / "000_bb01accd19b494dd.txt"
    graph = ox.NamedNode(str(ID["graph/000_bb01accd19b494dd/0"]))
    with open_store(spec) as remote:
        assert isinstance(remote, RemoteStore)
        before = (
            remote.count_triples(),
            remote.count_default_graph(),
            remote.files(),
            _graph_rows(remote, graph),
        )
        failing = _REPLACE_PROCEDURE.replace(
            "  commit work;\n  return 'KG_REPLACE_OK';", "  signal ('KGTST', 'injected failure');"
        )
        assert failing != _REPLACE_PROCEDURE
        remote._isql(failing + ";\n")
        remote._procedure_ready = True
        changed = [
            ox.Quad(q.subject, q.predicate, ox.Literal("changed"), q.graph_name) if n % 3 == 0 else q
            for n, q in enumerate(file_to_quads(file.read_bytes(), file.name))
        ]
        try:
            with pytest.raises(StoreError, match=r"nothing was changed(.|\n)*injected failure"):
                remote.replace_file_quads(file.name, changed)
        finally:
            remote._isql(_REPLACE_PROCEDURE + ";\n")
        after = (
            remote.count_triples(),
            remote.count_default_graph(),
            remote.files(),
            _graph_rows(remote, graph),
        )
        assert after == before
        assert not remote.query(
            "ASK { GRAPH ?g { ?s ?p ?o } FILTER (STRSTARTS(STR(?g), 'urn:x-jixiao-kg:')) }"
        )


def _store_quads(store: RemoteStore, graph: ox.NamedNode) -> list[ox.Quad]:
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")
    return [ox.Quad(r["s"], r["p"], r["o"], graph) for r in rows]  # type: ignore[union-attr, arg-type]


def _graph_rows(store: RemoteStore, graph: ox.NamedNode) -> list[str]:
    return sorted(str(q) for q in _store_quads(store, graph))


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


def test_kg_serve_in_front_of_virtuoso_keeps_the_protocol(loaded: tuple[str, Path], tmp_path: Path) -> None:
    """`kg serve --store virtuoso://…`: two replicas (no state of their own) over the one Virtuoso answer
    the SPARQL protocol as over the embedded store: content negotiation, 400 / 406 with a message,
    graphs outside the store refused, an update through one replica seen through the other."""
    from tests.live_server import TOKEN, LiveServer

    spec, embedded = loaded
    env = {
        name: os.environ[name]
        for name in ("KG_REMOTE_USER", "KG_REMOTE_PASSWORD_FILE", "KG_VIRTUOSO_LOAD_DIR")
    }
    first = LiveServer(spec, tmp_path, token=TOKEN, workers=1, env=env)  # type: ignore[arg-type]
    second = LiveServer(spec, tmp_path, token=TOKEN, workers=1, env=env)  # type: ignore[arg-type]
    with first, second, httpx.Client(base_url=first.url, timeout=60) as one:
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?f a kg:SelfEvaluation }"
        with OxigraphStore(embedded) as local:
            expected = next(iter(local.query(count)))["n"].value  # type: ignore[call-overload]
        answer = one.get(
            "/sparql", params={"query": count}, headers={"Accept": "application/sparql-results+json"}
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(
            "application/sparql-results+json"
        )
        assert answer.json()["results"]["bindings"][0]["n"]["value"] == expected
        xml = one.post("/sparql", data={"query": count}, headers={"Accept": "application/sparql-results+xml"})
        assert xml.status_code == 200 and "<sparql" in xml.text and f">{expected}<" in xml.text
        csv = one.get("/queries/forms", params={"format": "csv"})
        assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 32  # header + 31 forms
        turtle = one.get(
            "/sparql",
            params={
                "query": "CONSTRUCT { ?f dcterms:title ?t } WHERE { ?f a kg:TargetTable ; dcterms:title ?t }"
            },
            headers={"Accept": "text/turtle"},
        )
        assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
        assert len(list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))) >= 2
        syntax = one.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"})
        assert syntax.status_code == 400 and "syntax error" in syntax.text.lower()
        unacceptable = one.get("/sparql", params={"query": count}, headers={"Accept": "image/png"})
        assert unacceptable.status_code == 406
        outside = one.get(
            "/sparql", params={"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"}
        )
        assert outside.status_code == 400 and "not in the store" in outside.text
        service = one.get(
            "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
        )
        assert service.status_code == 400
        graph = f"{ID}graph/test/replicas"
        update = one.post(
            "/update",
            data={"update": f'INSERT DATA {{ GRAPH <{graph}> {{ <{ID}x> <{KG}note> "一" }} }}'},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert update.status_code == 200, update.text
        seen = httpx.get(
            f"{second.url}/sparql",
            params={"query": f'ASK {{ GRAPH <{graph}> {{ ?s ?p "一" }} }}'},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert seen.status_code == 200 and seen.json()["boolean"] is True
        one.post(
            "/update",
            data={"update": f"DROP SILENT GRAPH <{graph}>"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
