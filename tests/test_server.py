"""The service (`kg serve`) over real HTTP, with the seed data: clients, named queries, safety, pages.

Every test talks to a real uvicorn server started as `kg serve` on a free port (tests/live_server.py).
Standard clients are used unchanged: SPARQLWrapper and rdflib's SPARQLStore / SPARQLUpdateStore.

The load test runs 20 concurrent clients for KG_TEST_LOAD_SECONDS seconds (default 5, so that the whole
suite stays short; `KG_TEST_LOAD_SECONDS=30 ./scripts/test -k concurrent` runs the full 30 s of the
issue) and writes its figures to tests/artifacts/load-test.txt.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, POST, POSTDIRECTLY, TURTLE, XML, SPARQLWrapper

from kg.rdf.namespaces import KG
from kg.store import OxigraphStore
from tests.live_server import REPO, TOKEN, LiveServer, copy_store, free_port, kg_command, seeded_store

ARTIFACTS = REPO / "tests" / "artifacts"
TIMEOUT = 3.0
MAX_ROWS = 1000
MAX_REQUEST = 32768
FORMS = 31
COUNT_FORMS = (
    "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a ?c . "
    "VALUES ?c { kg:TargetTable kg:TargetDeclaration kg:SelfEvaluation } }"
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_store(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def server(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Updates on (token), a 3 s time limit, 3 workers, 1000 rows and 32 KiB requests at most."""
    folder = tmp_path_factory.mktemp("server")
    env = {"KG_MAX_ROWS": str(MAX_ROWS), "KG_MAX_REQUEST_BYTES": str(MAX_REQUEST)}
    store = copy_store(seeded, folder / "store")
    with LiveServer(store, folder, token=TOKEN, timeout=TIMEOUT, workers=3, env=env) as live:
        yield live


@pytest.fixture(scope="module")
def open_server(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Defaults, no update token, CORS allowed for one origin."""
    folder = tmp_path_factory.mktemp("open-server")
    store = copy_store(seeded, folder / "store")
    with LiveServer(store, folder, env={"KG_CORS_ORIGINS": "https://example.org"}) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return [
        {k: v["value"] for k, v in b.items()} for b in json.loads(response.content)["results"]["bindings"]
    ]


def count(http: httpx.Client, query: str) -> int:
    [row] = bindings(http.get("/sparql", params={"query": query}))
    return int(next(iter(row.values())))


# ----------------------------------------------------------------------------- standard clients


def test_sparqlwrapper_unchanged(server: LiveServer) -> None:
    sparql = SPARQLWrapper(server.url + "/sparql")
    sparql.setQuery("PREFIX kg: <https://w3id.org/jixiao-kg/ontology#>\n" + COUNT_FORMS)
    sparql.setReturnFormat(JSON)
    result = sparql.query().convert()
    assert isinstance(result, dict) and result["results"]["bindings"][0]["n"]["value"] == str(FORMS)

    sparql.setReturnFormat(XML)
    document = sparql.query().convert()
    assert [n.firstChild.data for n in document.getElementsByTagName("literal")] == [str(FORMS)]  # type: ignore[union-attr]

    sparql.setReturnFormat(CSV)
    assert sparql.query().convert().decode().splitlines() == ["n", str(FORMS)]  # type: ignore[union-attr]

    sparql.setMethod(POST)  # application/x-www-form-urlencoded
    sparql.setReturnFormat(JSON)
    assert sparql.query().convert()["results"]["bindings"][0]["n"]["value"] == str(FORMS)  # type: ignore[index]
    sparql.setRequestMethod(POSTDIRECTLY)  # application/sparql-query
    assert sparql.query().convert()["results"]["bindings"][0]["n"]["value"] == str(FORMS)  # type: ignore[index]

    sparql = SPARQLWrapper(server.url + "/sparql")
    sparql.setQuery("PREFIX kg: <https://w3id.org/jixiao-kg/ontology#> ASK { ?f a kg:SelfEvaluation }")
    sparql.setReturnFormat(JSON)
    assert sparql.query().convert()["boolean"] is True  # type: ignore[index]

    sparql.setQuery(
        "PREFIX kg: <https://w3id.org/jixiao-kg/ontology#>\n"
        "CONSTRUCT { ?f a kg:SelfEvaluation } WHERE { ?f a kg:SelfEvaluation }"
    )
    sparql.setReturnFormat(TURTLE)
    turtle = sparql.query().convert()
    graph = turtle if isinstance(turtle, Graph) else Graph().parse(data=turtle, format="turtle")
    assert len(graph) == len(set(graph.subjects(RDF.type, KG.SelfEvaluation))) > 0


def test_sparqlwrapper_update_with_token(server: LiveServer, http: httpx.Client) -> None:
    sparql = SPARQLWrapper(server.url + "/sparql", updateEndpoint=server.url + "/update")
    sparql.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    sparql.setMethod(POST)
    sparql.setQuery('INSERT DATA { GRAPH <urn:test:wrapper> { <urn:test:s> <urn:test:p> "wrapper" } }')
    sparql.query()
    ask = 'ASK { GRAPH <urn:test:wrapper> { <urn:test:s> <urn:test:p> "wrapper" } }'
    assert json.loads(http.get("/sparql", params={"query": ask}).content)["boolean"] is True
    sparql.setQuery("DROP GRAPH <urn:test:wrapper>")
    sparql.query()
    assert json.loads(http.get("/sparql", params={"query": ask}).content)["boolean"] is False


def test_rdflib_sparqlstore_unchanged(server: LiveServer) -> None:
    graph = Graph(store=SPARQLStore(server.url + "/sparql"))
    rows = list(graph.query("PREFIX kg: <https://w3id.org/jixiao-kg/ontology#>\n" + COUNT_FORMS))
    assert [int(row[0]) for row in rows] == [FORMS]  # type: ignore[index]
    self_evaluations = set(graph.subjects(RDF.type, KG.SelfEvaluation))
    assert 0 < len(self_evaluations) < FORMS
    assert all(str(s).startswith("https://w3id.org/jixiao-kg/id/form/") for s in self_evaluations)


def test_rdflib_sparqlupdatestore_writes_are_seen(server: LiveServer) -> None:
    store = SPARQLUpdateStore(server.url + "/sparql", server.url + "/update", headers=AUTH)
    graph = Graph(store=store, identifier=URIRef("urn:test:rdflib"))
    graph.add((URIRef("urn:test:a"), URIRef("urn:test:p"), Literal("一")))
    assert list(graph.objects(URIRef("urn:test:a"), URIRef("urn:test:p"))) == [Literal("一")]
    graph.remove((URIRef("urn:test:a"), None, None))
    assert list(graph.objects(URIRef("urn:test:a"), URIRef("urn:test:p"))) == []


def test_updates_need_the_token(server: LiveServer, open_server: LiveServer) -> None:
    body = {"update": "INSERT DATA { <urn:x> <urn:y> <urn:z> }"}
    missing = httpx.post(server.url + "/update", data=body)
    assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
    wrong = httpx.post(server.url + "/update", data=body, headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 401
    disabled = httpx.post(open_server.url + "/update", data=body, headers=AUTH)
    assert disabled.status_code == 403 and "updates are disabled" in disabled.text


def test_service_description(http: httpx.Client, server: LiveServer) -> None:
    response = http.get("/sparql")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoint = URIRef(server.url + "/sparql")
    assert (endpoint, RDF.type, URIRef(sd + "Service")) in graph
    assert (
        URIRef(server.url + "/update"),
        URIRef(sd + "supportedLanguage"),
        URIRef(sd + "SPARQL11Update"),
    ) in graph
    assert "merge (set union) of all form graphs" in response.text
    assert http.get("/sparql", headers=HTML, follow_redirects=False).headers["location"] == "/query"


def test_openapi_docs(http: httpx.Client) -> None:
    docs = http.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn." not in docs.text and "https://" not in docs.text  # served locally, no CDN
    assert http.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/sparql", "/update", "/queries", "/queries/{name}"} <= set(paths)


# ----------------------------------------------------------------------------- named queries


def test_named_queries_are_listed_with_typed_parameters(http: httpx.Client) -> None:
    queries = {q["name"]: q for q in http.get("/queries").json()["queries"]}
    assert {"forms", "indicators", "funds", "legal-bases"} <= set(queries)
    forms = queries["forms"]
    assert forms["description"]
    assert {"name": "year", "type": "integer", "example": "2024"} in forms["parameters"]
    assert forms["csv_url"] == "/queries/forms?format=csv"
    assert http.get("/queries", headers=HTML).headers["content-type"].startswith("text/html")


def test_named_query_formats_and_csv_download(http: httpx.Client) -> None:
    rows = bindings(http.get("/queries/forms", params={"year": "2024"}))
    assert rows and all(row["year"] == "2024" for row in rows)
    csv_response = http.get("/queries/forms", params={"year": "2024", "format": "csv"})
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.headers["content-disposition"] == 'attachment; filename="forms.csv"'
    lines = csv_response.text.split("\r\n")
    assert lines[0].startswith("file,form_index,form_type,year,project") and len(lines) == len(rows) + 2
    xml = http.get(
        "/queries/forms", params={"year": "2024"}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    tsv = http.get("/queries/forms", params={"year": "2024", "format": "tsv"})
    assert tsv.text.startswith("?file\t?form_index")
    page = http.get("/queries/forms", params={"year": "2024"}, headers=HTML)
    assert page.headers["content-type"].startswith("text/html") and "课题研究" in page.text
    assert http.get("/queries/forms", params={"format": "turtle"}).status_code == 406


def test_named_query_parameters_are_terms_not_text(http: httpx.Client) -> None:
    """An injection attempt: the value is one string literal, so it matches nothing and changes nothing."""
    assert len(bindings(http.get("/queries/forms", params={"project": "课题研究"}))) == 2
    for evil in (
        '课题研究" } UNION { ?form ?p ?o } #',
        '课题研究" . } } ; DROP ALL ; SELECT * WHERE { { "',
        "课题研究' } #",
    ):
        assert bindings(http.get("/queries/forms", params={"project": evil})) == []
    bad = http.get("/queries/forms", params={"year": "2024 } UNION { ?s ?p ?o"})
    assert bad.status_code == 400 and "not of type integer" in bad.text
    unknown = http.get("/queries/forms", params={"nope": "1"})
    assert unknown.status_code == 400 and "no parameter 'nope'" in unknown.text
    assert http.get("/queries/no-such-query").status_code == 404
    assert count(http, COUNT_FORMS) == FORMS  # nothing was dropped
    page = http.get("/queries/forms", params={"project": "<script>alert(1)</script>"}, headers=HTML)
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


# ----------------------------------------------------------------------------- safety


def test_runaway_query_is_stopped_while_others_are_served(http: httpx.Client, server: LiveServer) -> None:
    statuses: list[int] = []
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        runaway = pool.submit(
            lambda: httpx.get(server.url + "/sparql", params={"query": RUNAWAY}, timeout=60)
        )
        time.sleep(0.2)
        while not runaway.done():
            response = http.get("/queries/forms", params={"year": "2024"})
            statuses.append(response.status_code)
        answer = runaway.result()
        elapsed = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert f"time limit of {TIMEOUT:g} s" in answer.text and answer.headers["retry-after"]
    assert TIMEOUT - 0.5 < elapsed < TIMEOUT + 5
    assert len(statuses) >= 5 and set(statuses) == {200}
    health = http.get("/healthz").json()
    assert health["timeouts"] >= 1 and health["respawns"] >= 1
    with ThreadPoolExecutor(6) as pool:  # the worker was replaced: all workers answer again
        answers = list(pool.map(lambda _: http.get("/queries/funds").status_code, range(12)))
    assert set(answers) == {200}


def test_runaway_update_is_stopped_and_changes_nothing(http: httpx.Client) -> None:
    update = "INSERT { GRAPH <urn:test:runaway> { ?a ?b ?c } } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    response = http.post("/update", data={"update": update}, headers=AUTH)
    assert response.status_code == 503 and "nothing was changed" in response.text
    assert count(http, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:runaway> { ?s ?p ?o } }") == 0
    ok = http.post(
        "/update",
        data={"update": "INSERT DATA { GRAPH <urn:test:after> { <urn:a> <urn:b> 1 } }"},
        headers=AUTH,
    )
    assert ok.status_code == 200, ok.text  # a new writer took over
    assert count(http, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:after> { ?s ?p ?o } }") == 1
    http.post("/update", data={"update": "DROP GRAPH <urn:test:after>"}, headers=AUTH)


class Listener:
    """A loopback TCP listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_service_and_load_are_refused_before_any_connection(http: httpx.Client) -> None:
    listener = Listener()
    target = f"http://127.0.0.1:{listener.port}/sparql"
    try:
        # Control: Oxigraph itself does connect for SERVICE, so the listener would see it.
        with pytest.raises(OSError):
            list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"))  # type: ignore[call-overload]
        deadline = time.monotonic() + 5
        while listener.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.connections == 1
        for query in (
            f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service silent <{target}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
            f"PREFIX x: <http://127.0.0.1:{listener.port}/> "
            "SELECT * WHERE { SERVICE x:sparql { ?s ?p ?o } }",
            "SELECT * WHERE { BIND (<" + target + "> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        ):
            for response in (
                http.get("/sparql", params={"query": query}),
                http.post(
                    "/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"}
                ),
            ):
                assert response.status_code == 400, query
                assert "SERVICE is not allowed" in response.text
        for update in (f"LOAD <{target}>", f"LOAD SILENT <{target}> INTO GRAPH <urn:g>"):
            response = http.post("/update", data={"update": update}, headers=AUTH)
            assert response.status_code == 400 and "LOAD is not allowed" in response.text
        response = http.post(
            "/update",
            data={"update": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"},
            headers=AUTH,
        )
        assert response.status_code == 400 and "SERVICE is not allowed" in response.text
        time.sleep(0.5)
        assert listener.connections == 1  # only the control's: the service opened no socket
    finally:
        listener.close()


def test_from_and_dataset_graphs_must_be_in_the_store(http: httpx.Client) -> None:
    outside = http.get("/sparql", params={"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"})
    assert outside.status_code == 400 and "<http://example.org/g> is not in the store" in outside.text
    named = http.get(
        "/sparql", params={"query": "SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }"}
    )
    assert named.status_code == 400
    catalog = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/jixiao-kg/id/graph/catalog> WHERE { ?s ?p ?o }"
    assert count(http, catalog) > 0
    param = http.get("/sparql", params={"query": "ASK {}", "default-graph-uri": "http://example.org/other"})
    assert param.status_code == 400
    form_graph = "https://w3id.org/jixiao-kg/id/graph/001_5d49eaeac9110deb/0"
    ok = http.get(
        "/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": form_graph},
    )
    assert int(bindings(ok)[0]["n"]) > 0


def test_result_rows_are_capped(http: httpx.Client) -> None:
    response = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(bindings(response)) == MAX_ROWS and response.headers["x-sparql-maxrows"] == str(MAX_ROWS)
    small = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"})
    assert len(bindings(small)) == 10 and "x-sparql-maxrows" not in small.headers
    graph = http.get(
        "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert len(graph.text.strip().splitlines()) == MAX_ROWS and graph.headers["x-sparql-maxrows"] == str(
        MAX_ROWS
    )


def test_request_size_is_capped(http: httpx.Client) -> None:
    big = "ASK {} #" + "x" * MAX_REQUEST
    body = http.post("/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"})
    assert body.status_code == 413 and "larger than the limit" in body.text
    url = http.get("/sparql", params={"query": big})
    assert url.status_code == 414 and "send long queries with POST" in url.text
    assert http.get("/sparql", params={"query": "ASK {} #" + "x" * 1000}).status_code == 200


def test_errors_say_what_is_wrong(http: httpx.Client) -> None:
    update_here = http.get("/sparql", params={"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
    assert update_here.status_code == 400 and "POST it to /update" in update_here.text
    syntax = http.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert syntax.status_code == 400 and "syntax error" in syntax.text.lower()
    accept = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert accept.status_code == 406 and "application/sparql-results+json" in accept.text


def test_cors_is_off_by_default_and_configurable(server: LiveServer, open_server: LiveServer) -> None:
    origin = {"Origin": "https://example.org"}
    off = httpx.get(server.url + "/sparql", params={"query": "ASK {}"}, headers=origin)
    assert off.status_code == 200 and "access-control-allow-origin" not in off.headers
    on = httpx.get(open_server.url + "/sparql", params={"query": "ASK {}"}, headers=origin)
    assert on.headers["access-control-allow-origin"] == "https://example.org"
    other = httpx.get(
        open_server.url + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        open_server.url + "/sparql", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


def test_update_is_visible_to_later_queries(http: httpx.Client) -> None:
    ask = 'ASK { GRAPH <urn:test:visible> { <urn:test:s> <urn:test:p> "值" } }'
    assert json.loads(http.get("/sparql", params={"query": ask}).content)["boolean"] is False
    for _ in range(3):  # every worker, whichever answers, sees each update
        insert = http.post(
            "/update",
            data={"update": 'INSERT DATA { GRAPH <urn:test:visible> { <urn:test:s> <urn:test:p> "值" } }'},
            headers=AUTH,
        )
        assert insert.status_code == 200
        answers = [
            json.loads(http.get("/sparql", params={"query": ask}).content)["boolean"] for _ in range(6)
        ]
        assert answers == [True] * 6
        delete = http.post("/update", data={"update": "DROP GRAPH <urn:test:visible>"}, headers=AUTH)
        assert delete.status_code == 200
        answers = [
            json.loads(http.get("/sparql", params={"query": ask}).content)["boolean"] for _ in range(6)
        ]
        assert answers == [False] * 6


def test_queries_go_on_while_updates_are_written(http: httpx.Client, server: LiveServer) -> None:
    """Readers keep answering while updates commit and new checkpoints appear; old ones are removed."""
    stop_at = time.monotonic() + 3
    errors: list[str] = []

    def reader() -> int:
        done = 0
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while time.monotonic() < stop_at:
                response = client.get("/queries/forms", params={"year": "2024"})
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                done += 1
        return done

    updates = 0
    with ThreadPoolExecutor(3) as pool:
        readers = [pool.submit(reader) for _ in range(3)]
        while time.monotonic() < stop_at:
            text = f"INSERT DATA {{ GRAPH <urn:test:many> {{ <urn:test:s> <urn:test:p> {updates} }} }}"
            response = http.post("/update", data={"update": text}, headers=AUTH)
            assert response.status_code == 200, response.text
            updates += 1
        served = sum(future.result() for future in readers)
    assert not errors, errors[:3]
    assert updates >= 3 and served >= 10
    assert count(http, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:many> { ?s ?p ?o } }") == updates
    http.post("/update", data={"update": "DROP GRAPH <urn:test:many>"}, headers=AUTH)
    snapshots = list((server.store.parent / f"{server.store.name}.snapshots").iterdir())
    assert 1 <= len(snapshots) <= 3 + 1  # the current one and those readers still hold


def test_the_store_is_held_while_serving(server: LiveServer, tmp_path: Path) -> None:
    ingest = subprocess.run(
        [*kg_command(), "--store", str(server.store), "ingest", "data/001_5d49eaeac9110deb.txt"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("KG_")},
    )
    assert ingest.returncode == 1 and "in use by another process" in ingest.stderr
    missing = subprocess.run(
        [*kg_command(), "serve", "--store", str(tmp_path / "none"), "--port", "1"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "no store at" in missing.stderr
    with OxigraphStore(tmp_path / "held"):
        locked = subprocess.run(
            [*kg_command(), "serve", "--store", str(tmp_path / "held"), "--port", "1"],
            capture_output=True,
            text=True,
        )
    assert locked.returncode == 1 and "in use by another process" in locked.stderr


# ----------------------------------------------------------------------------- pages


def project_path(http: httpx.Client, name: str) -> str:
    query = f'SELECT ?p WHERE {{ ?f kg:project ?p . ?p rdfs:label "{name}"@zh }} LIMIT 1'
    [row] = bindings(http.get("/sparql", params={"query": query}))
    return "/" + row["p"].split("/id/", 1)[1]


def test_home_and_lists(http: httpx.Client) -> None:
    home = http.get("/", headers=HTML)
    assert home.status_code == 200 and f'id="count-forms">{FORMS}<' in home.text
    projects = http.get("/projects")
    assert projects.status_code == 200 and project_path(http, "课题研究") in projects.text
    legal = http.get("/legal")
    assert legal.status_code == 200 and "/legal/" in legal.text


def test_project_page(http: httpx.Client) -> None:
    page = http.get(project_path(http, "课题研究"))
    assert page.status_code == 200
    text = page.text
    assert '<h1 id="project-name">课题研究</h1>' in text
    assert "<svg" in text and "资金 funds by year and kind" in text  # the funds chart
    assert "年度资金申请总额" in text and "400,000.00" in text
    assert "人员配置数量" in text and "10/10" in text  # indicators: target / actual / score
    for year in ("2023", "2024"):
        assert f"<td>{year}</td>" in text
    assert re.search(r'href="/form/001_5d49eaeac9110deb/0#L\d+"', text)
    assert 'id="findings"' in text and 'id="legal"' in text


def test_form_page_shows_source_lines(http: httpx.Client) -> None:
    page = http.get("/form/001_5d49eaeac9110deb/0")
    assert page.status_code == 200
    assert 'id="L3"' in page.text and "课题研究" in page.text
    assert http.get("/form/001_5d49eaeac9110deb/99", headers=HTML).status_code == 404


def test_legal_pages(http: httpx.Client) -> None:
    query = "SELECT ?doc WHERE { ?f kg:hasLegalCitation ?c . ?c kg:citesDocument ?doc } LIMIT 1"
    [row] = bindings(http.get("/sparql", params={"query": query}))
    page = http.get("/" + row["doc"].split("/id/", 1)[1])
    assert page.status_code == 200 and 'id="citing"' in page.text and "/form/" in page.text
    assert http.get("/legal/0000000000000000", headers=HTML).status_code == 404


def test_validation_page(http: httpx.Client) -> None:
    page = http.get("/validation")
    assert page.status_code == 200
    findings = count(
        http,
        "PREFIX sh: <http://www.w3.org/ns/shacl#> "
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?r a sh:ValidationResult } }",
    )
    if findings:
        assert 'id="by-rule"' in page.text and 'id="by-unit"' in page.text and 'id="by-year"' in page.text
    else:
        assert 'id="no-findings"' in page.text


def test_unknown_pages_are_404(http: httpx.Client) -> None:
    assert http.get("/project/nothing-here", headers=HTML).status_code == 404
    assert http.get("/nothing-here").status_code == 404


# ----------------------------------------------------------------------------- load


def test_concurrent_clients_get_no_errors(open_server: LiveServer) -> None:
    """20 concurrent clients run named queries for KG_TEST_LOAD_SECONDS (default 5) seconds."""
    seconds = float(os.environ.get("KG_TEST_LOAD_SECONDS", "5"))
    queries = [q["name"] for q in httpx.get(open_server.url + "/queries").json()["queries"]]
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        with httpx.Client(base_url=open_server.url, timeout=60) as session:
            i = number
            while time.monotonic() < stop_at:
                name = queries[i % len(queries)]
                i += 1
                started = time.perf_counter()
                response = session.get(f"/queries/{name}")
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors.append(f"{name}: {response.status_code} {response.text[:200]}")

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(client, range(20)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ordered = sorted(latencies)
    summary = (
        f"20 clients x {seconds:g} s over {len(queries)} named queries: {len(latencies)} requests, "
        f"{len(errors)} errors, {len(latencies) / seconds:.1f} req/s, "
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms\n"
    )
    (ARTIFACTS / "load-test.txt").write_text(summary, encoding="utf-8")
    print(summary)
    assert not errors, errors[:5]
    assert len(latencies) >= 20


# ----------------------------------------------------------------------------- the README's main command


def test_main_command_ends_serving_and_prints_the_web_ui_url(tmp_path: Path) -> None:
    """`./scripts/run`: set up, ingest data/ with validation, serve; it prints the web UI's URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | {
        "KG_STORE": str(tmp_path / "store")
    }
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["./scripts/run", "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        text = ""
        while time.monotonic() < deadline and process.poll() is None:
            text = (tmp_path / "run.log").read_text(encoding="utf-8", errors="replace")
            if f"web UI {url}" in text:
                break
            time.sleep(0.2)
        assert f"web UI {url}" in text, text[-3000:]
        assert "4 loaded, 0 failed" in text
        home = httpx.get(url, headers=HTML, timeout=30)
        assert home.status_code == 200 and f'id="count-forms">{FORMS}<' in home.text
        assert httpx.get(url + "query", timeout=30).status_code == 200
    finally:
        process.terminate()  # `exec kg serve`: this is the server itself
        process.wait(30)
        log.close()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal (exit status -15)
    text = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert process.returncode in (0, -15) and "Application shutdown complete" in text, text[-2000:]
    assert not (tmp_path / "store.snapshots").exists()  # the readers' checkpoints are cleaned up
