"""The service's pure parts without a server: protocol parsing, the SPARQL scanner, content negotiation,
result serialisers, settings. (Over HTTP: tests/test_protocol.py and tests/test_server.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.server.engine import JobTimeout, WorkerDied, _Process
from kg.server.negotiation import (
    CSV,
    JSON,
    JSONLD,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    NotAcceptable,
    choose,
    prefers_html,
)
from kg.server.protocol import ProtocolError, parse_query_request, parse_update_request
from kg.server.results import serialise
from kg.server.settings import Settings, SettingsError
from kg.server.sparql_text import SparqlTextError, add_using, inspect_query, inspect_update
from kg.store.oxigraph import QUERY_PREFIXES

FORM = "application/x-www-form-urlencoded"

# ----------------------------------------------------------------------------- protocol


def test_query_requests() -> None:
    assert parse_query_request("GET", None, b"", b"") is None  # service description
    request = parse_query_request(
        "GET", None, b"query=ASK%7B%7D&default-graph-uri=urn%3Aa&default-graph-uri=urn%3Ab", b""
    )
    assert request is not None and request.query == "ASK{}" and request.default_graphs == ("urn:a", "urn:b")
    form = parse_query_request(
        "POST", f"{FORM}; charset=UTF-8", b"", b"query=ASK%20%7B%7D&named-graph-uri=urn%3Ag"
    )
    assert form is not None and form.named_graphs == ("urn:g",) and form.has_dataset
    direct = parse_query_request(
        "POST", "application/sparql-query", b"default-graph-uri=urn%3Aa", "ASK { '中' }".encode()
    )
    assert direct is not None and direct.query == "ASK { '中' }" and direct.default_graphs == ("urn:a",)


@pytest.mark.parametrize(
    ("method", "content_type", "query_string", "body", "status", "message"),
    [
        ("PUT", None, b"query=ASK%7B%7D", b"", 405, "GET or POST"),
        ("GET", None, b"query=ASK%7B%7D&query=ASK%7B%7D", b"", 400, "2 queries"),
        ("GET", None, b"default-graph-uri=urn%3Aa", b"", 400, "missing query"),
        ("GET", None, b"query=%20", b"", 400, "empty"),
        ("GET", None, b"update=CLEAR%20ALL", b"", 400, "/update"),
        ("GET", None, b"query=%FF", b"", 400, "not UTF-8"),
        ("POST", None, b"", b"ASK {}", 415, "needs a Content-Type"),
        ("POST", "text/plain", b"", b"ASK {}", 415, "text/plain is not accepted"),
        ("POST", "application/sparql-update", b"", b"CLEAR ALL", 415, "updates go to /update"),
        ("POST", "application/sparql-query; charset=latin1", b"", b"ASK {}", 415, "must be UTF-8"),
        ("POST", "application/sparql-query", b"", b"ASK { '\xe9' }", 400, "not valid UTF-8"),
        ("POST", "application/sparql-query", b"query=x", b"ASK {}", 400, "two queries"),
        ("POST", FORM, b"query=ASK%7B%7D", b"query=ASK%7B%7D", 400, "2 queries"),
    ],
)
def test_bad_query_requests(
    method: str, content_type: str | None, query_string: bytes, body: bytes, status: int, message: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_query_request(method, content_type, query_string, body)
    assert caught.value.status == status and message in caught.value.message


def test_update_requests() -> None:
    request = parse_update_request("POST", FORM, b"", b"update=CLEAR%20ALL&using-graph-uri=urn%3Aa")
    assert request.update == "CLEAR ALL" and request.using_graphs == ("urn:a",)
    direct = parse_update_request(
        "POST", "application/sparql-update", b"using-named-graph-uri=urn%3Ab", b"CLEAR ALL"
    )
    assert direct.using_named_graphs == ("urn:b",)
    for method, content_type, body, status in (
        ("GET", None, b"", 405),
        ("POST", None, b"update=CLEAR%20ALL", 415),
        ("POST", FORM, b"update=A&update=B", 400),
        ("POST", FORM, b"", 400),
        ("POST", "application/sparql-update; charset=ISO-8859-1", b"CLEAR ALL", 415),
        ("POST", "application/sparql-query", b"CLEAR ALL", 415),
    ):
        with pytest.raises(ProtocolError) as caught:
            parse_update_request(method, content_type, b"", body)
        assert caught.value.status == status


# ----------------------------------------------------------------------------- the scanner


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "select * { service silent <http://x/> { ?s ?p ?o } }",
        "SELECT * { \\u0053ERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * { \\U00000053ervice ?endpoint { ?s ?p ?o } }",
        "SELECT * { ?s ?p 'x' . SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * { FILTER (?a < ?b) SERVICE <http://x/> { } }",
        "SELECT * { ?s ?p '''a\nb''' SERVICE <http://x/> { } }",
    ],
)
def test_service_is_found(query: str) -> None:
    assert inspect_query(query).uses_service


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p 'SERVICE' }",
        'SELECT * { ?s ?p "a SERVICE <http://x/> { }" }',
        "SELECT * { ?s ?p '''SERVICE''' }",
        "# SERVICE <http://x/>\nSELECT * { ?service ?p ?o }",
        "PREFIX service: <http://x/> SELECT * { ?s service:SERVICE ?o }",
        "SELECT * { <http://x/SERVICE#SERVICE> ?p ?o }",
    ],
)
def test_service_is_not_imagined(query: str) -> None:
    assert not inspect_query(query).uses_service


def test_dataset_clauses_are_resolved() -> None:
    info = inspect_query(
        "BASE <http://b/x/> PREFIX e: <http://e/> SELECT * FROM <g> FROM e:one FROM NAMED id:graph "
        "FROM NAMED <http://abs/> WHERE { GRAPH ?g { ?s ?p ?o } }",
        prefixes=QUERY_PREFIXES,
    )
    assert info.form == "SELECT"
    assert info.from_graphs == ("http://b/x/g", "http://e/one")
    assert info.from_named_graphs == ("https://w3id.org/jixiao-kg/id/graph", "http://abs/")
    assert inspect_query("INSERT DATA { <a> <b> <c> }").update_keyword == "INSERT"
    with pytest.raises(SparqlTextError):
        inspect_query("SELECT * FROM nope:g { }")
    with pytest.raises(SparqlTextError):
        inspect_query("SELECT * { \\uD800 }")


def test_update_inspection_and_using() -> None:
    info = inspect_update(
        "LOAD <http://x/> ; WITH <g> DELETE { ?s ?p ?o } USING NAMED <n> WHERE { ?s ?p ?o }"
    )
    assert info.uses_load and info.dataset_clauses == ("WITH", "USING NAMED")
    assert not inspect_update("INSERT DATA { <a> <b> 'LOAD USING WITH' }").dataset_clauses
    text = add_using(
        "DELETE WHERE { ?a ?b ?c } ; INSERT { ?s ?p ?o } WHERE { { SELECT * WHERE { ?s ?p ?o } } } ; "
        "INSERT DATA { <a> <b> <c> }",
        ["urn:d"],
        ["urn:n"],
    )
    assert text.count("USING <urn:d> USING NAMED <urn:n> WHERE") == 1
    assert "DELETE WHERE" in text
    store = ox.Store()  # the rewritten text is valid SPARQL and means what the protocol says
    store.update("INSERT DATA { GRAPH <urn:d> { <urn:x> a <urn:T> } GRAPH <urn:e> { <urn:y> a <urn:T> } }")
    store.update(
        add_using("INSERT { GRAPH <urn:r> { ?s a <urn:Seen> } } WHERE { ?s a <urn:T> }", ["urn:d"], [])
    )
    assert [q.subject.value for q in store.quads_for_pattern(None, None, None, ox.NamedNode("urn:r"))] == [
        "urn:x"
    ]
    with pytest.raises(ValueError):
        add_using("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", ["not an iri>"], [])


# ----------------------------------------------------------------------------- negotiation


def test_negotiation() -> None:
    assert choose("solutions", None) is JSON
    assert choose("solutions", "*/*") is JSON
    assert choose("solutions", "application/sparql-results+xml") is XML
    assert choose("solutions", "text/csv;q=0.5, text/tab-separated-values") is TSV
    assert choose("solutions", "application/json") is JSON
    assert choose("boolean", "application/xml") is XML
    assert choose("graph", None) is TURTLE
    assert choose("graph", "application/json") is JSONLD
    assert choose("graph", "application/xml") is RDFXML
    assert choose("graph", "text/*") is TURTLE
    assert choose("solutions", "text/html", "csv") is CSV
    with pytest.raises(NotAcceptable, match="offered"):
        choose("solutions", "image/png")
    with pytest.raises(NotAcceptable):
        choose("solutions", "text/csv;q=0")
    with pytest.raises(NotAcceptable, match="not offered"):
        choose("graph", None, "csvx")
    assert prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert not prefers_html("*/*") and not prefers_html(None)
    assert not prefers_html("application/sparql-results+json,*/*;q=0.9")


# ----------------------------------------------------------------------------- serialisers


def _select(text: str) -> ox.QuerySolutions:
    store = ox.Store()
    store.update('INSERT DATA { <urn:s> <urn:p> "a,\\"b\\"\\n" , "中"@zh , 1 , 1.50 , _:b . }')
    result = store.query(text)
    assert isinstance(result, ox.QuerySolutions)
    return result


def test_serialisers_round_trip_and_cap_rows() -> None:
    query = "SELECT ?o ?none WHERE { <urn:s> <urn:p> ?o } ORDER BY STR(?o)"
    for fmt, parse_format in (
        (JSON, ox.QueryResultsFormat.JSON),
        (XML, ox.QueryResultsFormat.XML),
        (TSV, ox.QueryResultsFormat.TSV),
    ):
        output = serialise(_select(query), fmt, 100)
        parsed = ox.parse_query_results(output.body, parse_format)
        assert isinstance(parsed, ox.QuerySolutions)
        objects = [row["o"] for row in parsed]
        expected = [row["o"] for row in _select(query)]
        assert len(objects) == 5 and not output.truncated
        assert [o for o in objects if not isinstance(o, ox.BlankNode)] == [
            o for o in expected if not isinstance(o, ox.BlankNode)
        ]
    capped = serialise(_select(query), JSON, 2)
    assert capped.truncated and capped.rows == 2
    assert len(json.loads(capped.body)["results"]["bindings"]) == 2
    csv_text = serialise(_select(query), CSV, 100).body.decode()
    assert csv_text.startswith("o,none\r\n") and '"a,""b""\n"' in csv_text
    only = serialise(_select(query), JSON, 100, columns=("none", "o", "missing"))
    assert json.loads(only.body)["head"]["vars"] == ["none", "o"]


def test_results_json_is_exactly_json_dumps() -> None:
    """The JSON writer builds its bytes piece by piece (for speed): they must be those of one json.dumps
    of the document, for every kind of term (IRI, plain, language-tagged and typed literals, blank nodes,
    quoted triples, characters JSON escapes) and unbound variables."""
    store = ox.Store()
    store.update(
        'INSERT DATA { <urn:s> <urn:p> "a,\\"b\\"\\n\\t\\u0001\\\\" , "中"@zh , 1 , 1.50 , _:b , '
        '<urn:o\\u00e9> , "x"^^<urn:type> , <<( <urn:a> <urn:b> "c"@en )>> . }'
    )
    result = store.query("SELECT ?s ?o ?none WHERE { ?s <urn:p> ?o } ORDER BY STR(?o)")
    assert isinstance(result, ox.QuerySolutions)
    rows = list(result)
    body = serialise(
        store.query("SELECT ?s ?o ?none WHERE { ?s <urn:p> ?o } ORDER BY STR(?o)"), JSON, 100
    ).body
    document = json.loads(body)
    assert len(document["results"]["bindings"]) == len(rows) == 8
    assert body == json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    kinds = {binding["o"]["type"] for binding in document["results"]["bindings"]}
    assert kinds == {"uri", "literal", "bnode", "triple"}
    assert {"type": "literal", "value": "中", "xml:lang": "zh"} in [
        b["o"] for b in document["results"]["bindings"]
    ]


def test_boolean_and_graph_serialisers() -> None:
    store = ox.Store()
    store.update("INSERT DATA { <urn:a> <urn:b> 1 , 2 , 3 }")
    assert json.loads(serialise(store.query("ASK { ?s ?p ?o }"), JSON, 10).body) == {
        "head": {},
        "boolean": True,
    }
    assert b"<boolean>false</boolean>" in serialise(store.query("ASK { ?s ?p 9 }"), XML, 10).body
    graph = serialise(store.query("CONSTRUCT WHERE { ?s ?p ?o }"), TURTLE, 2)
    assert graph.truncated and graph.rows == 2
    assert len(list(ox.parse(graph.body, ox.RdfFormat.TURTLE))) == 2


# ----------------------------------------------------------------------------- engine: child messages


class _NoProcess:
    def kill(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return False


def _ask(behaviour: Callable[[Connection], None], message: object, timeout: float = 5.0) -> object:
    """`_Process.request(message)` on an event loop, the child being a thread running `behaviour` on the
    other end of a multiprocessing pipe."""
    ours, theirs = multiprocessing.Pipe()
    child = threading.Thread(target=behaviour, args=(theirs,), daemon=True)
    child.start()
    process = _Process("test", _NoProcess(), ours)  # type: ignore[arg-type]

    async def main() -> object:
        with ThreadPoolExecutor(2) as threads:
            return await process.request(message, timeout, threads)

    try:
        return asyncio.run(main())
    finally:
        process.kill()
        child.join(5)
        theirs.close()


def _raw(conn: Connection) -> socket.socket:
    return socket.socket(fileno=os.dup(conn.fileno()))


def test_child_answers_are_read_whole() -> None:
    """The engine reads a child's answer on the event loop (`kg.server.engine._MessageReader`, non-blocking
    reads in multiprocessing's framing): small and large answers, large jobs, answers in pieces."""

    def echo(conn: Connection) -> None:
        job = conn.recv()
        conn.send(("answer", job, b"x" * job[1]))

    for size in (0, 10, 70_000, 3_000_000):
        assert _ask(echo, ("job", size)) == ("answer", ("job", size), b"x" * size)
    big_job = ("job", 5, "q" * 500_000)  # written from a thread: more than the socket takes at once
    assert _ask(echo, big_job) == ("answer", big_job, b"xxxxx")

    answer = {"rows": list(range(50_000))}

    def in_pieces(conn: Connection) -> None:
        conn.recv()
        data = pickle.dumps(answer)
        frame = struct.pack("!i", len(data)) + data
        with _raw(conn) as sock:
            for piece in (frame[:2], frame[2:9], frame[9:70_000], frame[70_000:]):
                sock.sendall(piece)
                time.sleep(0.02)

    assert _ask(in_pieces, "job") == answer


def test_child_that_stops_or_hangs() -> None:
    def stops_mid_answer(conn: Connection) -> None:
        conn.recv()
        with _raw(conn) as sock:
            sock.sendall(struct.pack("!i", 1000) + b"x" * 10)
        conn.close()

    def never_answers(conn: Connection) -> None:
        conn.recv()
        with contextlib.suppress(EOFError, OSError):
            conn.recv()  # until the engine gives up and closes its end

    def answers_twice(conn: Connection) -> None:
        conn.recv()
        data = pickle.dumps("one")
        with _raw(conn) as sock:
            sock.sendall((struct.pack("!i", len(data)) + data) * 2)

    with pytest.raises(WorkerDied):
        _ask(stops_mid_answer, "job")
    started = time.monotonic()
    with pytest.raises(JobTimeout):
        _ask(never_answers, "job", timeout=0.3)
    assert time.monotonic() - started < 2
    with pytest.raises(WorkerDied, match="not one message"):
        _ask(answers_twice, "job")


# ----------------------------------------------------------------------------- settings


def test_settings_from_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "KG_STORE": str(tmp_path),
            "KG_QUERY_TIMEOUT": "2.5",
            "KG_WORKERS": "2",
            "KG_UPDATE_TOKEN": "x" * 12,
            "KG_CORS_ORIGINS": "https://a.example, https://b.example",
        },
        port=9000,
        workers=None,
    )
    assert settings.store == tmp_path and settings.query_timeout == 2.5 and settings.workers == 2
    assert settings.updates_enabled and settings.port == 9000
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert "x" * 12 not in repr(settings)  # the token is never printed
    assert Settings.from_env({}).updates_enabled is False
    with pytest.raises(SettingsError):
        Settings.from_env({"KG_UPDATE_TOKEN": "short"})
    with pytest.raises(SettingsError):
        Settings.from_env({"KG_QUERY_TIMEOUT": "soon"})
