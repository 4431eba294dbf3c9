"""The deployment of the README: several `kg serve` replicas, stateless, in front of one Virtuoso.

Two replicas run over the session's Virtuoso (tests/conftest.py). What one replica writes, the other
reads at once; both give the same named-query answers byte for byte; stopping one leaves the other
serving. A load balancer in front of them can send any request to any replica."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import TOKEN, LiveServer
from tests.remote_services import Virtuoso

GRAPH = "http://example.org/replica-test/"
RESULTS = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def replicas(virtuoso: Virtuoso, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveServer]]:
    folder = tmp_path_factory.mktemp("replicas")
    servers = [
        LiveServer(virtuoso.spec, folder, token=TOKEN, workers=1, env=virtuoso.env())  # type: ignore[arg-type]
        for _ in range(2)
    ]
    try:
        yield [server.start() for server in servers]
    finally:
        for server in servers:
            server.stop()


def _update(url: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{url}/update",
        data={"update": text},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )


def _objects(url: str) -> list[str]:
    query = f"SELECT ?o WHERE {{ GRAPH <{GRAPH}> {{ <http://example.org/s> <http://example.org/p> ?o }} }}"
    response = httpx.get(f"{url}/sparql", params={"query": query}, headers=RESULTS, timeout=60)
    assert response.status_code == 200, response.text
    return sorted(b["o"]["value"] for b in response.json()["results"]["bindings"])


def test_a_write_through_one_replica_is_read_through_the_other(replicas: list[LiveServer]) -> None:
    first, second = replicas
    assert _update(first.url, f"DROP SILENT GRAPH <{GRAPH}>").status_code == 200
    assert _objects(second.url) == []
    response = _update(
        first.url,
        f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://example.org/s> <http://example.org/p> "一" , "二" }} }}',
    )
    assert response.status_code == 200, response.text
    assert _objects(second.url) == ["一", "二"]
    dropped = _update(second.url, f"DROP SILENT GRAPH <{GRAPH}>")  # Virtuoso: DROP needs a CREATE first
    assert dropped.status_code == 200, dropped.text
    assert _objects(first.url) == []


def test_replicas_answer_named_queries_identically(replicas: list[LiveServer], tmp_path: Path) -> None:
    bodies = []
    for server in replicas:
        response = httpx.get(f"{server.url}/queries/forms", headers={"Accept": "text/csv"}, timeout=120)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
    assert bodies[0] == bodies[1]
    assert bodies[0].startswith(b"file,")


def test_one_replica_stopping_leaves_the_other_serving(virtuoso: Virtuoso, tmp_path: Path) -> None:
    servers = [
        LiveServer(virtuoso.spec, tmp_path, workers=1, env=virtuoso.env())  # type: ignore[arg-type]
        for _ in range(2)
    ]
    first, second = (server.start() for server in servers)
    try:
        first.stop()  # SIGTERM
        assert first.process is not None and first.process.poll() is not None
        response = httpx.get(
            f"{second.url}/sparql",
            params={"query": "SELECT (40 + 2 AS ?n) WHERE {}"},
            headers=RESULTS,
            timeout=60,
        )
        assert response.status_code == 200
        assert response.json()["results"]["bindings"][0]["n"]["value"] == "42"
    finally:
        for server in servers:
            server.stop()
