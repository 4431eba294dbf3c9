"""What the rest of the project needs from a store, whichever store it is.

Two implementations share these semantics (see `kg.store.oxigraph` for the dataset layout they keep):

* `kg.store.oxigraph.OxigraphStore`: the embedded on-disk Oxigraph database (a directory);
* `kg.store.remote.RemoteStore`: a SPARQL endpoint (Virtuoso, or any SPARQL 1.1 Protocol + Update
  endpoint), reached over HTTP, with Virtuoso's bulk loader for loading.

`kg.store.open_store(spec)` picks one from a `--store` value: a path opens Oxigraph, `virtuoso://HOST:PORT`
or `http(s)://…/sparql` a remote store. Everything that reads or writes the dataset (`kg.cli`, `kg.ingest`,
`kg.link`, `kg.validate`, `kg.server`) takes a `Store`.

Query results are pyoxigraph's result types for both (`QuerySolutions`, `QueryBoolean`, `QueryTriples`),
so callers iterate and serialise them the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import IO, TYPE_CHECKING, Protocol, runtime_checkable

import pyoxigraph as ox
from rdflib import URIRef

from kg.rdf.mapping import Triple

if TYPE_CHECKING:
    from kg.store.oxigraph import FileRecord, FormGraphRecord

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


@runtime_checkable
class Store(Protocol):
    """The dataset: one named graph per form, the default graph as the merge (set union) of the form graphs
    and of the derived graphs that join it, the catalog graph apart (see `kg.store.oxigraph`)."""

    @property
    def location(self) -> str:
        """Where the store is, for messages: a directory, or the endpoint's address (never a password)."""
        ...

    # -- writing: each call replaces a source's graphs as a whole (see the implementation for the guarantee)

    def replace_file(
        self,
        file: str,
        graphs: Sequence[tuple[URIRef, Iterable[Triple]]],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int: ...

    def replace_file_quads(
        self,
        file: str,
        quads: Iterable[ox.Quad],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int: ...

    def replace_file_nquads(
        self,
        file: str,
        nquads: bytes,
        *,
        default_triples: bytes,
        graphs: Mapping[str, int],
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int: ...

    def replace_derived(
        self, name: str, graphs: Sequence[tuple[URIRef, Iterable[Triple]]], *, in_default_graph: bool
    ) -> int: ...

    def remove_file(self, file: str) -> int: ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None: ...

    def compact(self) -> None: ...

    # -- reading

    def files(self) -> list[FileRecord]: ...

    def form_graphs(self) -> list[FormGraphRecord]: ...

    def count_triples(self, graph: URIRef | None = None) -> int: ...

    def count_default_graph(self) -> int: ...

    def contains_graph(self, graph: str) -> bool: ...

    def query(
        self,
        sparql: str,
        substitutions: Mapping[str, object] | None = None,
        *,
        base_iri: str | None = None,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult: ...

    def export(self, format: str, output: IO[bytes] | None = None) -> bytes | None: ...

    # -- life cycle

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class BulkErrors(Protocol):
    """What a bulk-loading block reports when it ends: the files it could not load, by base name."""

    errors: dict[str, str]


@dataclass
class _NoBulk:
    errors: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def bulk_session(store: object) -> Iterator[BulkErrors]:
    """The store's bulk-loading block if it has one (`RemoteStore.bulk`: new files are written as shards
    and loaded together by Virtuoso's bulk loader when the block ends), else nothing special: every
    `replace_file*` call writes at once (Oxigraph: one transaction per file). The yielded object's
    `errors` (file base name -> message) is filled in when the block ends."""
    bulk = getattr(store, "bulk", None)
    if bulk is None:
        yield _NoBulk()
        return
    with bulk() as outcome:
        yield outcome
