"""The W3C SPARQL 1.1 Protocol suite of tests/test_protocol.py against `kg serve` in front of Virtuoso
(`kg serve --store virtuoso://…`, the session's test server): the protocol behaviour is the service's
own, whatever store answers the queries.

Two adaptations, both about the data, not the protocol: the suite's seed update starts with `CLEAR ALL`,
which on Virtuoso would also clear Virtuoso's own system graphs, so here it drops only the suite's
graphs; and `test_update_base_uri` (whose update text is `CLEAR ALL ; …`) runs with that text changed
the same way."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import tests.test_protocol as protocol
from tests.live_server import TOKEN, LiveServer
from tests.remote_services import Virtuoso
from tests.test_protocol import *  # noqa: F403  (the suite's tests, run here with the fixtures below)

SAFE_CLEAR = "".join(
    f"DROP SILENT GRAPH <{graph}> ;\n"
    for graph in (
        protocol.D1,
        protocol.D2,
        protocol.D3,
        protocol.RESULT_GRAPH,
        "http://example.org/protocol-base-test/",
    )
)


@pytest.fixture(scope="module")
def server(virtuoso: Virtuoso, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("protocol-virtuoso")
    env = virtuoso.env()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol, "SEED", protocol.SEED.replace("CLEAR ALL ;\n", SAFE_CLEAR))
        with LiveServer(virtuoso.spec, folder, token=TOKEN, workers=2, env=env) as live:  # type: ignore[arg-type]
            yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def test_update_base_uri(http: httpx.Client, server: LiveServer) -> None:
    """a relative IRI in an update is resolved against the service's base IRI (the endpoint)"""
    text = (
        f"{SAFE_CLEAR}INSERT DATA {{ GRAPH <http://example.org/protocol-base-test/> "
        "{ <http://example.org/s> <http://example.org/p> <test> } }"
    )
    assert protocol.update(http, text).status_code == 200
    query = (
        "SELECT ?o WHERE { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> ?p ?o } }"
    )
    [row] = protocol.solutions(http.get("/sparql", params={"query": query}))
    assert row["o"] == f"{server.url}/test"
