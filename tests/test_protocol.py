"""The W3C SPARQL 1.1 Protocol test suite (`sparql11/protocol`, 34 tests) against a running `kg serve`.

Each test is named after its entry in the W3C manifest and sends the request the test describes,
written here from the SPARQL 1.1 Protocol Recommendation, to a live service (uvicorn on a free port,
an update token set, a scratch store). Where the W3C suite only asks for "2xx" or "4xx", the exact
status the service answers is asserted, and so is the message saying what is wrong.

The W3C data documents (http://kasei.us/2009/09/sparql/data/data1.rdf …) are loaded into named graphs
of the same IRIs with SPARQL Update (the service never fetches anything from other hosts), each holding
`<dataN.rdf> a foaf:Document ; dc:title "dataN"`, so that the dataset tests can tell which graphs a
request really used.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import pytest

from kg.store import OxigraphStore
from tests.live_server import TOKEN, LiveServer

DATA = "http://kasei.us/2009/09/sparql/data/"
D1, D2, D3 = (f"{DATA}data{n}.rdf" for n in (1, 2, 3))
RESULT_GRAPH = "http://example.org/protocol-update-dataset-test/"
PREFIXES = "PREFIX dc: <http://purl.org/dc/terms/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
SEED = (
    PREFIXES
    + "CLEAR ALL ;\nINSERT DATA {\n"
    + "".join(
        f'  GRAPH <{d}> {{ <{d}> a foaf:Document ; dc:title "data{n}" }}\n'
        for n, d in ((1, D1), (2, D2), (3, D3))
    )
    + "}"
)
FORM = "application/x-www-form-urlencoded"
RESULTS_TYPES = ("application/sparql-results+xml", "application/sparql-results+json")
SELECT_TYPES = (*RESULTS_TYPES, "text/csv", "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("protocol")
    with OxigraphStore(folder / "store"):
        pass  # an empty scratch store
    with LiveServer(folder / "store", folder, token=TOKEN) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def seed(http: httpx.Client) -> None:
    response = http.post(
        "/update", content=SEED.encode(), headers={"Content-Type": "application/sparql-update", **AUTH}
    )
    assert response.status_code == 200, response.text


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def boolean(response: httpx.Response) -> bool:
    """The answer of an ASK in SPARQL results XML or JSON."""
    assert response.status_code == 200, response.text
    kind = media_type(response)
    assert kind in RESULTS_TYPES
    if kind.endswith("json"):
        value = json.loads(response.content)["boolean"]
        assert isinstance(value, bool)
        return value
    root = ET.fromstring(response.content)
    [node] = root.iter("{http://www.w3.org/2005/sparql-results#}boolean")
    return node.text == "true"


def solutions(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    if media_type(response) == "text/csv":  # lossy: values only (W3C SPARQL 1.1 CSV)
        header, *records = csv.reader(io.StringIO(response.content.decode("utf-8"), newline=""))
        return [{n: v for n, v in zip(header, record, strict=True) if v} for record in records]
    results = ox.parse_query_results(
        response.content, ox.QueryResultsFormat.from_media_type(media_type(response))
    )
    assert isinstance(results, ox.QuerySolutions)
    names = [v.value for v in results.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in results]


def ask(http: httpx.Client, query: str, **params: str | list[str]) -> httpx.Response:
    return http.get(
        "/sparql", params={"query": query, **params}, headers={"Accept": ", ".join(RESULTS_TYPES)}
    )


def result_graph(http: httpx.Client) -> set[str]:
    rows = solutions(
        http.get("/sparql", params={"query": f"SELECT ?s WHERE {{ GRAPH <{RESULT_GRAPH}> {{ ?s ?p ?o }} }}"})
    )
    return {row["s"] for row in rows}


def update(http: httpx.Client, text: str, **params: str | list[str]) -> httpx.Response:
    return http.post("/update", data={"update": text, **params}, headers=AUTH)


# ----------------------------------------------------------------------------- query operation


def test_query_post_form(http: httpx.Client) -> None:
    """query via URL-encoded POST"""
    response = http.post(
        "/sparql",
        content=b"query=ASK%20%7B%7D",
        headers={"Content-Type": FORM, "Accept": ", ".join(RESULTS_TYPES)},
    )
    assert boolean(response) is True


def test_query_get(http: httpx.Client) -> None:
    """query via GET"""
    assert boolean(ask(http, "ASK {}")) is True


def test_query_post_direct(http: httpx.Client) -> None:
    """query via POST directly"""
    response = http.post(
        "/sparql",
        content=b"ASK {}",
        headers={"Content-Type": "application/sparql-query", "Accept": RESULTS_TYPES[1]},
    )
    assert boolean(response) is True


def test_query_dataset_default_graphs_get(http: httpx.Client) -> None:
    """GET with protocol-specified default graphs: the default graph is their merge"""
    seed(http)
    query = f"ASK {{ <{D1}> ?p ?o . <{D2}> ?p ?o }}"
    assert boolean(ask(http, query, **{"default-graph-uri": [D1, D2]})) is True
    assert boolean(ask(http, query, **{"default-graph-uri": [D1]})) is False


def test_query_dataset_default_graphs_post(http: httpx.Client) -> None:
    """POST (form) with protocol-specified default graphs"""
    seed(http)
    body = urlencode(
        [
            ("query", f"ASK {{ <{D1}> ?p ?o . <{D2}> ?p ?o }}"),
            ("default-graph-uri", D1),
            ("default-graph-uri", D2),
        ]
    )
    response = http.post("/sparql", content=body, headers={"Content-Type": FORM, "Accept": RESULTS_TYPES[0]})
    assert boolean(response) is True


def test_query_dataset_named_graphs_post(http: httpx.Client) -> None:
    """POST (form) with protocol-specified named graphs"""
    seed(http)
    query = f"ASK {{ GRAPH ?g1 {{ <{D1}> ?p ?o }} GRAPH ?g2 {{ <{D2}> ?p ?o }} }}"
    body = urlencode([("query", query), ("named-graph-uri", D1), ("named-graph-uri", D2)])
    response = http.post("/sparql", content=body, headers={"Content-Type": FORM, "Accept": RESULTS_TYPES[1]})
    assert boolean(response) is True
    only_one = urlencode([("query", query), ("named-graph-uri", D1)])
    assert boolean(http.post("/sparql", content=only_one, headers={"Content-Type": FORM})) is False


def test_query_dataset_named_graphs_get(http: httpx.Client) -> None:
    """GET with protocol-specified named graphs"""
    seed(http)
    query = f"ASK {{ GRAPH ?g1 {{ <{D1}> ?p ?o }} GRAPH ?g2 {{ <{D2}> ?p ?o }} }}"
    assert boolean(ask(http, query, **{"named-graph-uri": [D1, D2]})) is True


def test_query_dataset_full(http: httpx.Client) -> None:
    """GET with protocol-specified default and named graphs"""
    seed(http)
    query = "SELECT ?g ?x ?s { ?x ?y ?o GRAPH ?g { ?s ?p ?o } }"
    response = http.get(
        "/sparql",
        params=[
            ("query", query),
            ("default-graph-uri", D3),
            ("named-graph-uri", D1),
            ("named-graph-uri", D2),
        ],
        headers={"Accept": "application/sparql-results+xml"},
    )
    rows = {(r["g"], r["x"], r["s"]) for r in solutions(response)}
    assert rows == {(D1, D3, D1), (D2, D3, D2)}  # data3 is not a named graph here, data1/2 not the default


def test_query_multiple_dataset(http: httpx.Client) -> None:
    """query specifying dataset in both query string and protocol: the protocol's dataset is used"""
    seed(http)
    query = f"ASK FROM <{D2}> {{ <{D1}> ?p ?o }}"
    assert boolean(ask(http, query, **{"default-graph-uri": D1})) is True
    assert boolean(ask(http, query)) is False  # without the protocol dataset, FROM <data2> applies


def test_query_content_type_select(http: httpx.Client) -> None:
    """SELECT answers in one of XML, JSON, CSV, TSV"""
    response = http.get("/sparql", params={"query": "SELECT (1 AS ?value) {}"})
    assert media_type(response) in SELECT_TYPES
    assert solutions(response) == [{"value": "1"}]
    for kind in SELECT_TYPES:
        answer = http.get("/sparql", params={"query": "SELECT (1 AS ?value) {}"}, headers={"Accept": kind})
        assert media_type(answer) == kind
        assert solutions(answer) == [{"value": "1"}]


def test_query_content_type_ask(http: httpx.Client) -> None:
    """ASK answers in XML or JSON"""
    response = http.get("/sparql", params={"query": "ASK {}"})
    assert media_type(response) in RESULTS_TYPES and boolean(response) is True
    for kind in RESULTS_TYPES:
        assert media_type(http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": kind})) == kind


def test_query_content_type_describe(http: httpx.Client) -> None:
    """DESCRIBE answers in an RDF format"""
    seed(http)
    query = f"DESCRIBE <{D1}>"
    response = http.get("/sparql", params={"query": query, "default-graph-uri": D1})
    assert response.status_code == 200 and media_type(response) in RDF_TYPES
    for kind in RDF_TYPES:
        answer = http.get(
            "/sparql", params={"query": query, "default-graph-uri": D1}, headers={"Accept": kind}
        )
        assert media_type(answer) == kind
        triples = list(
            ox.parse(answer.content, ox.RdfFormat.from_media_type(kind), base_iri="http://example.org/")
        )
        assert ox.NamedNode(D1) in {t.subject for t in triples}


def test_query_content_type_construct(http: httpx.Client) -> None:
    """CONSTRUCT answers in an RDF format"""
    query = "CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } WHERE {}"
    response = http.get("/sparql", params={"query": query})
    assert response.status_code == 200 and media_type(response) in RDF_TYPES
    for kind in RDF_TYPES:
        answer = http.get("/sparql", params={"query": query}, headers={"Accept": kind})
        assert media_type(answer) == kind
        [triple] = list(ox.parse(answer.content, ox.RdfFormat.from_media_type(kind)))
        assert triple.subject == ox.NamedNode("http://example.org/s") and triple.object.value == "1"


# ----------------------------------------------------------------------------- update operation


def test_update_dataset_default_graph(http: httpx.Client) -> None:
    """update with protocol-specified default graph (using-graph-uri)"""
    text = (
        SEED
        + f" ;\nINSERT {{ GRAPH <{RESULT_GRAPH}> {{ ?s a dc:BibliographicResource }} }}"
        + " WHERE { ?s a foaf:Document }"
    )
    response = update(http, text, **{"using-graph-uri": D1})
    assert response.status_code == 200, response.text
    assert result_graph(http) == {D1}


def test_update_dataset_default_graphs(http: httpx.Client) -> None:
    """update with protocol-specified default graphs"""
    text = (
        SEED
        + f" ;\nINSERT {{ GRAPH <{RESULT_GRAPH}> {{ ?s a dc:BibliographicResource }} }}"
        + " WHERE { ?s a foaf:Document }"
    )
    response = update(http, text, **{"using-graph-uri": [D1, D2]})
    assert response.status_code == 200, response.text
    assert result_graph(http) == {D1, D2}


def test_update_dataset_named_graphs(http: httpx.Client) -> None:
    """update with protocol-specified named graphs"""
    text = (
        SEED + f" ;\nINSERT {{ GRAPH <{RESULT_GRAPH}> {{ ?s a dc:BibliographicResource }} }} "
        "WHERE { GRAPH ?g { ?s a foaf:Document } }"
    )
    response = update(http, text, **{"using-named-graph-uri": [D1, D2]})
    assert response.status_code == 200, response.text
    assert result_graph(http) == {D1, D2}


def test_update_dataset_full(http: httpx.Client) -> None:
    """update with protocol-specified default graph and named graphs"""
    text = (
        SEED + f" ;\nINSERT {{ GRAPH <{RESULT_GRAPH}> {{ ?s a dc:BibliographicResource }} }} "
        "WHERE { { ?s a foaf:Document } UNION { GRAPH ?g { ?s a foaf:Document } } }"
    )
    response = update(http, text, **{"using-graph-uri": D1, "using-named-graph-uri": D2})
    assert response.status_code == 200, response.text
    assert result_graph(http) == {D1, D2}


def test_update_post_form(http: httpx.Client) -> None:
    """update via URL-encoded POST"""
    seed(http)
    text = PREFIXES + f"INSERT DATA {{ GRAPH <{RESULT_GRAPH}> {{ <{D1}> a dc:BibliographicResource }} }}"
    response = http.post(
        "/update", content=urlencode({"update": text}), headers={"Content-Type": FORM, **AUTH}
    )
    assert 200 <= response.status_code < 300, response.text
    assert result_graph(http) == {D1}


def test_update_post_direct(http: httpx.Client) -> None:
    """update via POST directly"""
    seed(http)
    text = PREFIXES + f"INSERT DATA {{ GRAPH <{RESULT_GRAPH}> {{ <{D2}> a dc:BibliographicResource }} }}"
    response = http.post(
        "/update",
        content=text.encode(),
        headers={"Content-Type": "application/sparql-update; charset=UTF-8", **AUTH},
    )
    assert 200 <= response.status_code < 300, response.text
    assert result_graph(http) == {D2}


def test_update_base_uri(http: httpx.Client, server: LiveServer) -> None:
    """a relative IRI in an update is resolved against the service's base IRI (the endpoint)"""
    text = (
        "CLEAR ALL ;\nINSERT DATA { GRAPH <http://example.org/protocol-base-test/> "
        "{ <http://example.org/s> <http://example.org/p> <test> } }"
    )
    assert update(http, text).status_code == 200
    query = (
        "SELECT ?o WHERE { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> ?p ?o } }"
    )
    [row] = solutions(http.get("/sparql", params={"query": query}))
    assert row["o"] == f"{server.url}/test"


# ----------------------------------------------------------------------------- bad requests


def test_bad_query_method(http: httpx.Client) -> None:
    """invoke the query operation with a method other than GET or POST"""
    response = http.put("/sparql?query=ASK%20%7B%7D")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert "GET or POST" in response.text


def test_bad_multiple_queries(http: httpx.Client) -> None:
    """invoke the query operation with more than one query string"""
    response = http.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert response.status_code == 400
    assert "2 queries" in response.text


def test_bad_query_wrong_media_type(http: httpx.Client) -> None:
    """invoke the query operation with a POST with a media type that is not url-encoded or sparql-query"""
    response = http.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "text/plain is not accepted" in response.text and "application/sparql-query" in response.text


def test_bad_query_missing_form_type(http: httpx.Client) -> None:
    """invoke the query operation with url-encoded body, but without the url-encoded content type"""
    response = http.post("/sparql", content=b"query=ASK%20%7B%7D")
    assert response.status_code == 415
    assert "needs a Content-Type" in response.text


def test_bad_query_missing_direct_type(http: httpx.Client) -> None:
    """invoke the query operation with the query as the body, but without the sparql-query content type"""
    response = http.post("/sparql", content=b"ASK {}")
    assert response.status_code == 415
    assert "needs a Content-Type" in response.text


def test_bad_query_non_utf8(http: httpx.Client) -> None:
    """invoke the query operation with a direct POST with a non-UTF-8 encoding (charset=ISO-8859-1)"""
    body = "ASK { <http://example/ö> ?p ?o }".encode("iso-8859-1")
    response = http.post(
        "/sparql", content=body, headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"}
    )
    assert response.status_code == 415
    assert "UTF-8" in response.text
    # the same bytes without a charset: not UTF-8 either
    response = http.post("/sparql", content=body, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400 and "not valid UTF-8" in response.text


def test_bad_query_syntax(http: httpx.Client) -> None:
    """invoke the query operation with a query that does not parse"""
    response = http.get("/sparql", params={"query": "ASK {"})
    assert response.status_code == 400
    assert "syntax error" in response.text.lower()


def test_bad_update_get(http: httpx.Client) -> None:
    """invoke the update operation with GET"""
    response = http.get("/update?update=CLEAR%20ALL", headers=AUTH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_bad_multiple_updates(http: httpx.Client) -> None:
    """invoke the update operation with more than one update string"""
    body = "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT"
    response = http.post("/update", content=body, headers={"Content-Type": FORM, **AUTH})
    assert response.status_code == 400
    assert "2 updates" in response.text


def test_bad_update_wrong_media_type(http: httpx.Client) -> None:
    """invoke the update operation with a POST with a media type that is not url-encoded or sparql-update"""
    response = http.post("/update", content=b"CLEAR NAMED", headers={"Content-Type": "text/plain", **AUTH})
    assert response.status_code == 415


def test_bad_update_missing_form_type(http: httpx.Client) -> None:
    """invoke the update operation with url-encoded body, but without the url-encoded content type"""
    response = http.post("/update", content=b"update=CLEAR%20NAMED", headers=AUTH)
    assert response.status_code == 415
    assert "needs a Content-Type" in response.text


def test_bad_update_non_utf8(http: httpx.Client) -> None:
    """invoke the update operation with a direct POST with a non-UTF-8 encoding"""
    body = "CLEAR GRAPH <http://example.org/ö>".encode("iso-8859-1")
    response = http.post(
        "/update",
        content=body,
        headers={"Content-Type": "application/sparql-update; charset=ISO-8859-1", **AUTH},
    )
    assert response.status_code == 415
    assert "UTF-8" in response.text


def test_bad_update_syntax(http: httpx.Client) -> None:
    """invoke the update operation with an update that does not parse"""
    response = http.post("/update", data={"update": "CLEAR XYZ"}, headers=AUTH)
    assert response.status_code == 400
    assert "syntax error" in response.text.lower()


def test_bad_update_dataset_conflict(http: httpx.Client) -> None:
    """invoke the update operation with a conflicting dataset: using-graph-uri and USING in the update"""
    seed(http)
    text = (
        PREFIXES + f"INSERT {{ GRAPH <{RESULT_GRAPH}> {{ ?s a dc:BibliographicResource }} }}\n"
        f"USING <{D1}>\nWHERE {{ ?s a foaf:Document }}"
    )
    response = update(http, text, **{"using-graph-uri": D1})
    assert response.status_code == 400
    assert "dataset given twice" in response.text
    assert result_graph(http) == set()  # nothing was written


def test_the_suite_has_34_tests() -> None:
    names = [name for name in globals() if name.startswith(("test_query_", "test_update_", "test_bad_"))]
    assert len(names) == 34, sorted(names)
