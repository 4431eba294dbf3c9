"""The processes that touch the store: query readers and the one writer (run in child processes).

pyoxigraph cannot interrupt a running query, so every query runs in a worker process that the server can
kill when the query's time is up (`kg.server.engine`). Each process keeps its store open between
requests; messages are the picklable dataclasses below, over a `multiprocessing` pipe.

* **Readers** open a *checkpoint* of the store read-only (`OxigraphStore(path, read_only=True)`): a
  RocksDB checkpoint is a consistent copy made of hard links that no process writes, so any number of
  readers may open it while the writer goes on (opening the live store read-only while it is written is
  undefined behaviour in RocksDB, and fails here with "Corruption" errors). A job names the checkpoint it
  must see; a reader that holds an older one reopens first (~15 ms), so an update is visible to every
  query that starts after the update's answer.
* **The writer** holds the live store (and its lock: `kg ingest` cannot run while the service does), runs
  SPARQL Updates (one transaction each) and writes the checkpoints.

This module is imported by the fork server that starts the workers, so it imports no web framework.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from kg.server.negotiation import NotAcceptable, choose
from kg.server.results import result_kind, serialise
from kg.store import Store, is_remote, open_store
from kg.store.oxigraph import OxigraphStore, QueryError, QuerySyntaxError, StoreError

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
CHECKPOINT_ATTEMPTS = 5


@dataclass(frozen=True)
class QueryJob:
    """A query to run on a checkpoint; the reply is a `JobResult`."""

    sparql: str
    accept: str | None = None  # the request's Accept header
    format: str | None = None  # an explicit format name (wins over `accept`)
    base_iri: str | None = None
    default_graph: tuple[str, ...] | None = None  # protocol dataset (overrides FROM / FROM NAMED)
    named_graphs: tuple[str, ...] | None = None
    required_graphs: tuple[str, ...] = ()  # graphs that must exist in the store (else 400)
    substitutions: tuple[tuple[str, OxTerm], ...] = ()
    max_rows: int = 100_000
    columns: tuple[str, ...] = ()  # a named query's `columns:`: the SELECT variables to answer with
    snapshot: str = ""  # set by the engine: the checkpoint directory to read


@dataclass(frozen=True)
class UpdateJob:
    """A SPARQL Update for the writer (one transaction)."""

    sparql: str
    base_iri: str | None


@dataclass(frozen=True)
class CheckpointJob:
    """Write a checkpoint of the store to the new directory `checkpoint` (for the readers)."""

    checkpoint: str



@dataclass(frozen=True)
class JobResult:
    status: int  # the HTTP status to answer with
    media_type: str = "text/plain; charset=utf-8"
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    kind: str = ""  # solutions | boolean | graph | update | error
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, message: str) -> JobResult:
        return cls(
            status, "text/plain; charset=utf-8", (message.rstrip() + "\n").encode("utf-8"), kind="error"
        )


# ----------------------------------------------------------------------------- running a query


def run_query(store: Store, job: QueryJob) -> JobResult:
    """Run `job` on an open store and serialise the answer (used by the readers and by the benchmark)."""
    for graph in job.required_graphs:
        if not store.contains_graph(graph):
            return JobResult.error(
                400,
                f"graph <{graph}> is not in the store: FROM / FROM NAMED / default-graph-uri / "
                f"named-graph-uri may only name graphs of this store (the service fetches nothing from "
                f"other hosts)",
            )
    try:
        result = store.query(
            job.sparql,
            dict(job.substitutions) or None,
            base_iri=job.base_iri,
            default_graph=job.default_graph,
            named_graphs=job.named_graphs,
        )
        kind = result_kind(result)
        try:
            fmt = choose(kind, job.accept, job.format)
        except NotAcceptable as err:
            return JobResult.error(406, str(err))
        output = serialise(result, fmt, job.max_rows, job.columns)
    except QuerySyntaxError as err:
        return JobResult.error(400, str(err))
    except QueryError as err:
        return JobResult.error(400, f"query failed: {err}")
    except StoreError as err:
        return JobResult.error(500, str(err))
    except (RuntimeError, ValueError, TypeError, OSError) as err:  # raised while iterating the results
        return JobResult.error(400, f"query evaluation failed: {err}")
    headers = {"X-SPARQL-MaxRows": str(job.max_rows)} if output.truncated else {}
    media_type = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
    return JobResult(200, media_type, output.body, output.rows, output.truncated, kind, headers)


def json_rows(result: JobResult) -> list[dict[str, dict[str, str]]]:
    """The bindings of a SELECT answered in results JSON (for the pages)."""
    document: dict[str, Any] = json.loads(result.body)
    return list(document["results"]["bindings"])


# ----------------------------------------------------------------------------- process entry points


def _quiet_signals() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def reader_main(conn: Connection, snapshot: str) -> None:
    """A query worker: open the checkpoint, then answer `QueryJob`s until the pipe closes."""
    _quiet_signals()
    try:
        store = _open_reader(snapshot)
    except StoreError as err:
        conn.send(("error", str(err)))
        return
    opened = snapshot
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        if job.snapshot and job.snapshot != opened:
            store.close()
            try:
                store = _open_reader(job.snapshot)
                opened = job.snapshot
            except StoreError as err:
                conn.send(JobResult.error(500, f"cannot open the store checkpoint: {err}"))
                continue
        conn.send(run_query(store, job))
    store.close()


def _open_reader(snapshot: str) -> Store:
    """A checkpoint read-only, or a remote store (`virtuoso://…`, `http(s)://…`: no checkpoints, every
    query goes to the endpoint, which has its own transactions)."""
    return open_store(snapshot) if is_remote(snapshot) else OxigraphStore(snapshot, read_only=True)


def writer_main(conn: Connection, path: str) -> None:
    """The writer: hold the live store, run `UpdateJob`s and `CheckpointJob`s until the pipe closes."""
    _quiet_signals()
    try:
        store = open_store(path)
    except StoreError as err:
        conn.send(("error", str(err)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        conn.send(_write(store, job))
    store.close()


def _write(store: Store, job: UpdateJob | CheckpointJob) -> JobResult:
    if isinstance(job, UpdateJob):
        try:
            store.update(job.sparql, base_iri=job.base_iri)
        except QueryError as err:  # QuerySyntaxError included
            return JobResult.error(400, str(err))
        except StoreError as err:  # a remote store that cannot be reached or refuses the credentials
            return JobResult.error(502, str(err))
        return JobResult(200, kind="update")
    if not isinstance(store, OxigraphStore):  # a remote store has no checkpoints: readers query it
        return JobResult(200, kind="update")
    # RocksDB's background compaction may delete a file while the checkpoint links it ("No such file or
    # directory", seen after quick successive updates): start again from a clean directory.
    for attempt in range(CHECKPOINT_ATTEMPTS):
        try:
            store.checkpoint(job.checkpoint)
            return JobResult(200, kind="update")
        except StoreError as err:
            for leftover in (job.checkpoint, job.checkpoint + ".tmp"):
                shutil.rmtree(leftover, ignore_errors=True)
            if attempt == CHECKPOINT_ATTEMPTS - 1:
                return JobResult.error(500, str(err))
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")
