"""The embedded on-disk triple store (pyoxigraph / RocksDB): one named graph per form.

Layout of the dataset
---------------------

* **Form graphs.** Every parsed form lives in its own named graph, `kg.rdf.mapping.form_graph_iri(form)`
  (`https://w3id.org/jixiao-kg/id/graph/<file-stem>/<index>`).
* **Default graph = the RDF merge of the form graphs**, maintained by the store: every triple that is in
  at least one form graph is in the default graph, once. Queries (`query()`) therefore see all forms at
  once, with set semantics and without the catalog, using plain SPARQL (no union flag). Never write to
  the default graph yourself; `rebuild_default_graph()` recomputes it.
  Why not Oxigraph's `use_default_graph_as_union`: in pyoxigraph 0.5 that union is a multiset, a triple
  shared by k graphs (the source file, organizations, projects, categories, legal documents) matches k
  times (upstream oxigraph/oxigraph#1919, fixed only in 0.6), so the `forms` query gave 5,119 rows for 31
  forms; and listing the form graphs as the default graph made a 2,000-form join ~60 s instead of 0.1 s.
* **Catalog graph** `https://w3id.org/jixiao-kg/id/graph/catalog` (`CATALOG_GRAPH`): the bookkeeping that
  says which graphs came from which source file, so that re-ingesting a file replaces exactly its graphs.
  Vocabulary: the small namespace `CATALOG` (`https://w3id.org/jixiao-kg/catalog#`, prefix `kgcat:`);
  the source file node is the IRI the mapping uses for the `kg:SourceFile`
  (`kg.rdf.mapping.source_file_iri`, `…/id/source/<base name>`)::

      GRAPH <https://w3id.org/jixiao-kg/id/graph/catalog> {
        <…/id/source/001_x.txt> kgcat:fileName   "001_x.txt" ;
                                kgcat:sha256     "<hex SHA-256 of the source bytes>" ;
                                kgcat:ingestedAt "2025-01-31T08:00:00Z"^^xsd:dateTime .
        <…/id/graph/001_x/0>    kgcat:sourceFile <…/id/source/001_x.txt> ;
                                kgcat:tripleCount 412 .
      }

  A file's form and triple counts are derived from its graphs' entries (`files()`). The catalog is not
  part of the default graph; read it with `GRAPH <…/id/graph/catalog> { … }` (or simply
  `GRAPH ?c { ?g kgcat:sourceFile ?f }`). `GRAPH ?g { … }` ranges over the form graphs and the catalog.

Querying
--------

`query()` evaluates against the default graph above; `GRAPH ?g { … }` addresses single forms. The project
prefixes (`kg:`, `id:`, `prov:`, `dcterms:`, `skos:`, `xsd:` … and `kgcat:`) are predeclared, so they may be
used without PREFIX lines (a query's own PREFIX lines win).

Atomic replacement
------------------

`replace_file()` sends one SPARQL Update request: remove from the default graph the triples of the graphs
being replaced that no other form graph holds, drop those graphs and their catalog entries, then
`INSERT DATA` the new graphs, their triples into the default graph and the new catalog entries. Oxigraph
runs an update request in one transaction, so a failure leaves the store exactly as it was. All
rdflib-to-Oxigraph term conversion happens before anything is written.

Bulk loading
------------

`bulk_add_nquads()` adds N-Quads files with one `Store.bulk_load` (about twice as fast as the
transactional writes above: `kg ingest` of many files new to the store uses it, see `kg.ingest`).
bulk_load is not transactional, so it never writes the live store: it loads a checkpoint of the store
(hard links beside it: cheap, for an empty store too) opened as a store of its own (`load_copy`), and
only once that has succeeded does the loaded copy take the live directory's place (`adopt`: the store is
closed, the two directories exchanged in one step, the store reopened). Any failure removes the copy,
and the store is as it was; a crash during the load leaves a `.<store>.staging-…` folder beside it
(safe to delete), never a half-loaded store. Quads new to the store that come as objects rather than
files take the same path when they are many (`BULK_ADD_MIN_QUADS`: the first `kg link` of thousands of
forms), and `compact()` then merges the files a bulk load leaves (`kg.link` calls it after every link).

Literals
--------

Terms are converted exactly: lexical form, datatype and language tag as given (pyoxigraph lower-cases
language tags, which BCP 47 defines as case-insensitive: `zh-Hans` -> `zh-hans`). Oxigraph however stores
some XSD datatypes by value (upstream issue oxigraph/oxigraph#526, no option to turn this off): an
xsd:decimal comes back in canonical form (`"40.00"` -> `"40"`, never rounded: values are fixed-point with
18 fraction digits or kept as text beyond that), and `xsd:int`/`xsd:long`… become `xsd:integer`.
`kg.rdf.mapping` already writes decimals canonically and keeps every printed figure verbatim in a
separate `…Raw` string, so nothing is lost for this project's data.

Locking
-------

RocksDB lets one process open an on-disk store at a time. Open the store for one command and close it
(`close()` or a `with` block); opening a store another process holds raises `StoreLockedError`.
Readers in other processes (`kg serve`'s query workers) never open the live directory read-only (RocksDB
does not support that while a writer runs: files vanish under the reader, seen as "Corruption" errors);
they open a checkpoint of it (`checkpoint()`, `OxigraphStore(path, read_only=True)`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import io
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg.rdf.mapping import Triple, source_file_iri
from kg.rdf.namespaces import ID, PREFIXES
from kg.store import sparql_text
from kg.store.sparql_text import SparqlTextError

CATALOG_GRAPH = ID["graph/catalog"]
CATALOG = Namespace("https://w3id.org/jixiao-kg/catalog#")

# Export formats: name -> (Oxigraph format, what is written).
EXPORT_FORMATS: dict[str, tuple[ox.RdfFormat, str]] = {
    "nq": (ox.RdfFormat.N_QUADS, "N-Quads: every form graph and the catalog graph"),
    "trig": (ox.RdfFormat.TRIG, "TriG: every form graph and the catalog graph"),
    "jsonld": (ox.RdfFormat.JSON_LD, "JSON-LD (expanded): every form graph and the catalog graph"),
    "ttl": (ox.RdfFormat.TURTLE, "Turtle: the merge of the form graphs (the default graph), no catalog"),
}

# Prefixes predeclared for queries, and used to abbreviate Turtle/TriG exports (without `id:`: data IRIs
# such as id:graph/001/0 would need escaped slashes, so they are written in full).
QUERY_PREFIXES: dict[str, str] = {prefix: str(ns) for prefix, ns in PREFIXES.items()} | {
    "kgcat": str(CATALOG)
}
EXPORT_PREFIXES: dict[str, str] = {prefix: iri for prefix, iri in QUERY_PREFIXES.items() if prefix != "id"}

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
OxTriple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, OxTerm]
# What a write adds: each named graph's distinct triples, as pyoxigraph terms, in first-seen order. Kept as
# triples rather than quads: a write needs each triple twice (in its graph, in the default graph), and
# reading a quad's terms back makes new Python objects (9 s for the lineages of 10,000 forms).
GraphTriples = dict[ox.NamedNode, dict[OxTriple, None]]
QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

_XSD_STRING_IRI = str(XSD.string)
_XSD_INTEGER = ox.NamedNode(str(XSD.integer))
_XSD_DECIMAL = ox.NamedNode(str(XSD.decimal))
_XSD_DOUBLE = ox.NamedNode(str(XSD.double))
_XSD_DATETIME = ox.NamedNode(str(XSD.dateTime))
_CAT = ox.NamedNode(str(CATALOG_GRAPH))
_K_SOURCE_FILE = ox.NamedNode(str(CATALOG.sourceFile))
_K_TRIPLE_COUNT = ox.NamedNode(str(CATALOG.tripleCount))
_K_FILE_NAME = ox.NamedNode(str(CATALOG.fileName))
_K_SHA256 = ox.NamedNode(str(CATALOG.sha256))
_K_INGESTED_AT = ox.NamedNode(str(CATALOG.ingestedAt))
_K_DERIVED_NAME = ox.NamedNode(str(CATALOG.derivedName))
_K_DERIVED_FROM = ox.NamedNode(str(CATALOG.derivedFrom))
# Adding at least this many quads new to the store (a first `kg link` of thousands of forms) goes through
# a bulk-loaded copy of the store rather than one transaction (`_add_new`).
BULK_ADD_MIN_QUADS = 200_000
BULK_READ_BYTES = 1 << 20  # bulk_add_nquads reads its files 1 MiB at a time
CHECKPOINT_ATTEMPTS = 3  # background compaction may remove a file while a checkpoint links it: retry
_VARIABLE_NAME = re.compile(r"^[?$]?([A-Za-z_][A-Za-z0-9_]*)$")


class StoreError(Exception):
    """The store cannot be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process (or another open handle in this one) holds the on-disk store."""


class QueryError(StoreError):
    """A SPARQL query failed: bad parameters or an evaluation error."""


class QuerySyntaxError(QueryError):
    """The SPARQL text does not parse."""


@dataclass(frozen=True)
class FileRecord:
    """A source file as recorded in the catalog."""

    file: str  # base name
    iri: str  # the kg:SourceFile node
    sha256: str | None
    ingested_at: str | None  # ISO 8601, UTC
    forms: int  # number of form graphs
    triples: int  # triples in those graphs


@dataclass(frozen=True)
class FormGraphRecord:
    """A form graph as recorded in the catalog."""

    graph: URIRef
    file: str
    triples: int


# ----------------------------------------------------------------------------- term conversion


def to_oxigraph(term: Node | OxTerm, bnodes: dict[BNode, ox.BlankNode] | None = None) -> OxTerm:
    """The pyoxigraph term for an rdflib term, exactly: lexical form, datatype and language tag as given
    (pyoxigraph lower-cases the tag).

    Blank nodes get a fresh Oxigraph blank node per distinct rdflib blank node when `bnodes` (the
    memo) is given, else one with the same label. pyoxigraph terms pass through unchanged.
    Raises ValueError for an invalid IRI or language tag, TypeError for anything that is not a term.
    """
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return term
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        if bnodes is None:
            return ox.BlankNode(str(term))
        if term not in bnodes:
            bnodes[term] = ox.BlankNode()
        return bnodes[term]
    if isinstance(term, Literal):
        lexical = str(term)
        if term.language:
            return ox.Literal(lexical, language=term.language)
        if term.datatype is None or term.datatype == XSD.string:
            return ox.Literal(lexical)
        return ox.Literal(lexical, datatype=ox.NamedNode(str(term.datatype)))
    raise TypeError(f"not an RDF term that can be stored: {term!r}")


def graphs_to_quads(graphs: Iterable[tuple[URIRef, Iterable[Triple]]]) -> list[ox.Quad]:
    """The distinct quads of (graph IRI, triples) pairs (rdflib Graphs or any iterable of triples, whose
    repeats count once, as in a Graph), converted exactly (see `to_oxigraph`), IRIs memoised across the
    graphs (`triples_to_quads`).

    Raises ValueError/TypeError for a graph name that is not an IRI, the catalog graph, or a term that
    cannot be converted; nothing partial is returned.
    """
    quad = ox.Quad
    per_graph = _triples_by_graph(graphs)
    return [quad(s, p, o, graph) for graph, triples in per_graph.items() for s, p, o in triples]


def triples_to_quads(
    graph_iri: URIRef | ox.NamedNode,
    triples: Iterable[Triple],
    iris: dict[str, ox.NamedNode] | None = None,
    bnodes: dict[BNode, ox.BlankNode] | None = None,
) -> list[ox.Quad]:
    """`graphs_to_quads` for one graph's triples (e.g. `kg.rdf.mapping.form_triples`): the same quads,
    converted about three times faster (ingest converts ~800 triples per form).

    IRIs repeat across triples and forms: `iris` memoises their conversion across calls, keyed by the
    plain string (an rdflib term as key would compare by a Python-level `__eq__` on every hit). Plain,
    language-tagged and typed literals are converted as `to_oxigraph` does; anything else (blank nodes
    through `bnodes`) goes through `to_oxigraph`."""
    graph_name = _graph_name(graph_iri)
    quad = ox.Quad
    return [quad(s, p, o, graph_name) for s, p, o in _converted(graph_iri, triples, iris, bnodes)]


def _converted(
    graph_iri: object,
    triples: Iterable[Triple],
    iris: dict[str, ox.NamedNode] | None = None,
    bnodes: dict[BNode, ox.BlankNode] | None = None,
) -> Iterator[OxTriple]:
    """The triples as pyoxigraph terms (`triples_to_quads`), checked to be valid RDF triples."""
    memo: dict[str, ox.NamedNode] = {} if iris is None else iris
    blanks: dict[BNode, ox.BlankNode] = {} if bnodes is None else bnodes
    named, literal = ox.NamedNode, ox.Literal

    def convert(term: Node) -> OxTerm:
        kind = type(term)
        if kind is URIRef:
            key = str(term)
            node = memo.get(key)
            if node is None:
                node = memo[key] = named(key)
            return node
        if kind is Literal:
            assert isinstance(term, Literal)
            if term.language:
                return literal(str(term), language=term.language)
            datatype = term.datatype
            if datatype is None or str(datatype) == _XSD_STRING_IRI:
                return literal(str(term))
            key = str(datatype)
            node = memo.get(key)
            if node is None:
                node = memo[key] = named(key)
            return literal(str(term), datatype=node)
        return to_oxigraph(term, blanks)

    for s, p, o in triples:
        subject, predicate, obj = convert(s), convert(p), convert(o)
        if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
            raise ValueError(f"not a valid RDF triple in graph <{graph_iri}>: {s!r} {p!r} {o!r}")
        yield subject, predicate, obj


# How pyoxigraph writes a literal's text (oxrdf's `print_quoted_str`): control characters escaped too.
_NQUADS_ESCAPES = str.maketrans(
    {chr(code): f"\\u{code:04X}" for code in (*range(0x20), 0x7F)}
    | {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
)


class NQuadsTerms:
    """rdflib terms written as N-Quads text, standing for exactly the pyoxigraph terms `to_oxigraph` (and
    `triples_to_quads`) make, and written as pyoxigraph writes them (literal text escaped alike, no
    datatype for xsd:string): the lines are those of `ox.serialize` of the quads (tests compare, on the
    seeds and a generated corpus). For ingest workers, whose text goes to the store as is: making
    pyoxigraph objects only to serialise them cost a worker ~3 of its ~15 ms of CPU per form.

    What pyoxigraph would check is still checked, once per distinct value: IRIs (`ox.NamedNode`) and
    language tags (lower-cased, as pyoxigraph does). Blank nodes get fresh pyoxigraph labels (unique
    across files, so that texts from several files can be loaded together), one per distinct rdflib blank
    node of this writer. Raises ValueError for an invalid IRI, language tag or triple, TypeError for
    anything that is not a term."""

    def __init__(self) -> None:
        self._iris: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._bnodes: dict[BNode, str] = {}

    def graph(self, graph_iri: URIRef) -> str:
        """A form graph's name (not the catalog graph: see `_graph_name`)."""
        return f"<{_graph_name(graph_iri).value}>"

    def triples(self, triples: Iterable[Triple], graph_iri: URIRef) -> list[str]:
        """Each triple as `S P O` (no graph, no final dot), in the order given."""
        term, lines = self.term, []
        for s, p, o in triples:
            if isinstance(s, Literal | ox.Literal) or not isinstance(p, URIRef | ox.NamedNode):
                raise ValueError(f"not a valid RDF triple in graph <{graph_iri}>: {s!r} {p!r} {o!r}")
            lines.append(f"{term(s)} {term(p)} {term(o)}")
        return lines

    def term(self, term: Node) -> str:
        kind = type(term)
        if kind is URIRef:
            return self._iri(str(term))
        if kind is Literal:
            assert isinstance(term, Literal)
            text = '"' + str(term).translate(_NQUADS_ESCAPES) + '"'
            if term.language:
                tag = self._tags.get(term.language)
                if tag is None:
                    tag = self._tags[term.language] = ox.Literal("", language=term.language).language or ""
                return f"{text}@{tag}"
            datatype = term.datatype
            if datatype is None or str(datatype) == _XSD_STRING_IRI:
                return text
            return f"{text}^^{self._iri(str(datatype))}"
        if kind is BNode:
            assert isinstance(term, BNode)
            label = self._bnodes.get(term)
            if label is None:
                label = self._bnodes[term] = str(ox.BlankNode())
            return label
        return str(to_oxigraph(term))  # a subclass of an rdflib term, or a pyoxigraph term: N-Triples form

    def _iri(self, iri: str) -> str:
        text = self._iris.get(iri)
        if text is None:
            text = self._iris[iri] = f"<{ox.NamedNode(iri).value}>"
        return text


def _file_entries(
    name: str, sha256: str | None, ingested_at: datetime | None
) -> tuple[ox.NamedNode, list[tuple[ox.NamedNode, ox.NamedNode, OxTerm]]]:
    """The source file's node and its catalog entries (name, ingest time, digest)."""
    when = (ingested_at or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    file_node = ox.NamedNode(str(source_file_iri(name)))
    timestamp = ox.Literal(when.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=_XSD_DATETIME)
    catalog: list[tuple[ox.NamedNode, ox.NamedNode, OxTerm]] = [
        (file_node, _K_FILE_NAME, ox.Literal(name)),
        (file_node, _K_INGESTED_AT, timestamp),
    ]
    if sha256 is not None:
        catalog.append((file_node, _K_SHA256, ox.Literal(sha256)))
    return file_node, catalog


def catalog_nquads(
    file: str, graphs: Mapping[str, int], *, sha256: str | None, ingested_at: datetime | None = None
) -> bytes:
    """N-Quads of the catalog entries of a source file new to the store: its name, digest and ingest time,
    and for each of its graphs (IRI -> number of triples) the file it came from and its triple count.

    One function for the two writers that add a new file as text (`replace_file_nquads`, and the shards
    of a bulk ingest in `kg.ingest`), so that both write the very same catalog."""
    name = _base_name(file)
    file_node, catalog = _file_entries(name, sha256, ingested_at)
    for iri, count in graphs.items():
        graph_name = _graph_name(ox.NamedNode(iri))
        catalog.append((graph_name, _K_SOURCE_FILE, file_node))
        catalog.append((graph_name, _K_TRIPLE_COUNT, ox.Literal(str(count), datatype=_XSD_INTEGER)))
    quads = [ox.Quad(s, p, o, _CAT) for s, p, o in catalog]
    return ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b""


class _ShardReader(io.RawIOBase):
    """Files read one after the other as one binary stream, so that one `bulk_load` takes them all
    (wrapped in a 1 MiB `io.BufferedReader` it loads as fast as from a path: measured on 100 MB). The
    next file is asked for only once the previous one is read to its end, so `paths` may be a generator
    that waits for files still being written."""

    def __init__(self, paths: Iterable[Path]) -> None:
        super().__init__()
        self._pending = iter(paths)
        self._current: IO[bytes] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._current is None:
                path = next(self._pending, None)
                if path is None:
                    return 0
                self._current = open(path, "rb", buffering=0)  # noqa: SIM115  # closed below
            count = self._current.readinto(buffer)  # type: ignore[attr-defined]  # a raw FileIO
            if count:
                return int(count)
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def bulk_load_nquads_files(store: ox.Store, shards: Iterable[Path]) -> None:
    """Load N-Quads files into a pyoxigraph store with one `bulk_load`, read one after the other (not
    transactional: see `OxigraphStore.bulk_add_nquads`)."""
    with io.BufferedReader(_ShardReader(shards), BULK_READ_BYTES) as stream:
        store.bulk_load(stream, ox.RdfFormat.N_QUADS)


@dataclass
class BulkCopy:
    """A copy of an Oxigraph store with quads bulk-loaded into it (`OxigraphStore.load_copy`), not yet the
    store: `OxigraphStore.adopt` makes it the store, `discard` drops it."""

    directory: Path | None = None  # on disk, beside the store
    memory: ox.Store | None = None  # the copy of an in-memory store

    def discard(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self.memory = None


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Exchange two directories in one step (Linux `renameat2` with RENAME_EXCHANGE), so that a crash
    never leaves either name empty. False where the C library or the file system does not offer it;
    OSError if it fails otherwise."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not Linux, or a C library without it
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def _beside(directory: Path, purpose: str) -> Path:
    """A new name next to `directory` (same file system: checkpoints are hard links, renames are atomic)."""
    return directory.parent / f".{directory.name}.{purpose}-{uuid.uuid4().hex[:12]}"


def _group_by_graph(quads: Iterable[ox.Quad], source: str) -> GraphTriples:
    per_graph: GraphTriples = {}
    for quad in quads:
        graph = quad.graph_name
        if not isinstance(graph, ox.NamedNode):
            raise ValueError(f"every quad of {source} must be in a named graph, got {quad}")
        subject, obj = quad.subject, quad.object
        assert not isinstance(subject, ox.Triple) and not isinstance(obj, ox.Triple)  # no RDF-star here
        per_graph.setdefault(_graph_name(graph), {})[(subject, quad.predicate, obj)] = None
    return per_graph


def _triples_by_graph(graphs: Iterable[tuple[URIRef, Iterable[Triple]]]) -> GraphTriples:
    """Each graph's distinct triples, converted exactly (`graphs_to_quads` without making the quads), IRIs
    memoised across the graphs."""
    iris: dict[str, ox.NamedNode] = {}
    bnodes: dict[BNode, ox.BlankNode] = {}
    per_graph: GraphTriples = {}
    for graph_iri, triples in graphs:
        per_graph.setdefault(_graph_name(graph_iri), {}).update(
            dict.fromkeys(_converted(graph_iri, triples, iris, bnodes))
        )
    return per_graph


def _merged(graphs: Iterable[dict[OxTriple, None]]) -> dict[OxTriple, None]:
    """The distinct triples of several graphs (their merge, in the default graph)."""
    merged: dict[OxTriple, None] = {}
    for triples in graphs:
        merged.update(triples)
    return merged


def _graph_name(graph_iri: object) -> ox.NamedNode:
    if not isinstance(graph_iri, URIRef | ox.NamedNode):
        raise TypeError(f"a form graph must be named by an IRI, got {graph_iri!r}")
    node = ox.NamedNode(graph_iri.value if isinstance(graph_iri, ox.NamedNode) else str(graph_iri))
    if node == _CAT:
        raise ValueError(f"<{CATALOG_GRAPH}> is the store's catalog graph; it cannot hold form data")
    return node


def substitution_term(value: object) -> OxTerm:
    """A query parameter as an RDF term: int -> xsd:integer, Decimal -> xsd:decimal, float -> xsd:double,
    bool -> xsd:boolean, str -> plain string literal, rdflib/pyoxigraph terms as they are."""
    if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal | URIRef | BNode | Literal):
        return to_oxigraph(value)
    if isinstance(value, bool):
        return ox.Literal(value)
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_XSD_INTEGER)
    if isinstance(value, Decimal):
        return ox.Literal(format(value, "f"), datatype=_XSD_DECIMAL)
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=_XSD_DOUBLE)
    if isinstance(value, str):
        return ox.Literal(value)
    raise TypeError(f"cannot use {value!r} as a query parameter")


def parameter_bindings(substitutions: Mapping[str, object] | None) -> dict[str, ox.NamedNode | ox.Literal]:
    """Query parameters as variable name -> RDF term (see `substitution_term`); QueryError for a name that
    is not a variable or a value that is not a term. A blank node cannot be bound: VALUES holds none."""
    bindings: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, value in (substitutions or {}).items():
        match = _VARIABLE_NAME.match(name)
        if match is None:
            raise QueryError(f"not a SPARQL variable name: {name!r}")
        try:
            term = substitution_term(value)
        except (TypeError, ValueError) as err:
            raise QueryError(f"bad value for ?{match[1]}: {err}") from err
        if isinstance(term, ox.BlankNode):
            raise QueryError(f"bad value for ?{match[1]}: a blank node cannot be bound")
        bindings[match[1]] = term
    return bindings


def catalog_files(query: Callable[[str], QueryResult]) -> list[FileRecord]:
    """The source files in the catalog graph, by name, with their form and triple counts, read through any
    store's `query` (the embedded and the remote store keep the same catalog)."""
    rows = query(
        f"""
        SELECT ?file ?name ?sha ?at (COUNT(?g) AS ?forms) (SUM(COALESCE(?n, 0)) AS ?triples) WHERE {{
          GRAPH <{CATALOG_GRAPH}> {{
            ?file kgcat:fileName ?name .
            OPTIONAL {{ ?file kgcat:sha256 ?sha }}
            OPTIONAL {{ ?file kgcat:ingestedAt ?at }}
            OPTIONAL {{ ?g kgcat:sourceFile ?file ; kgcat:tripleCount ?n }}
          }}
        }} GROUP BY ?file ?name ?sha ?at
        """
    )
    assert isinstance(rows, ox.QuerySolutions)
    records = [
        FileRecord(
            file=_term_text(row["name"]),
            iri=_term_text(row["file"]),
            sha256=_term_text(row["sha"]) if row["sha"] is not None else None,
            ingested_at=_term_text(row["at"]) if row["at"] is not None else None,
            forms=int(_term_text(row["forms"])),
            triples=int(_term_text(row["triples"])),
        )
        for row in rows
    ]
    return sorted(records, key=lambda record: _natural_key(record.file))


def catalog_form_graphs(query: Callable[[str], QueryResult]) -> list[FormGraphRecord]:
    """The form graphs in the catalog graph, by file then form index, read through any store's `query`."""
    rows = query(
        f"SELECT ?g ?name ?n WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ "
        f"?g kgcat:sourceFile ?file ; kgcat:tripleCount ?n . ?file kgcat:fileName ?name }} }}"
    )
    assert isinstance(rows, ox.QuerySolutions)
    records = [
        FormGraphRecord(URIRef(_term_text(row["g"])), _term_text(row["name"]), int(_term_text(row["n"])))
        for row in rows
    ]
    return sorted(records, key=lambda r: (_natural_key(r.file), _natural_key(str(r.graph))))


def _base_name(file: str) -> str:
    name = re.split(r"[\\/]", file)[-1]
    if not name:
        raise ValueError(f"not a file name: {file!r}")
    return name


def _term_text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


# ----------------------------------------------------------------------------- the store


class OxigraphStore:
    """The project's dataset in an embedded Oxigraph store (see the module documentation).

    `OxigraphStore(path)` opens or creates the on-disk store at `path` (`create=False`: it must exist);
    `OxigraphStore.in_memory()` gives a throw-away store for tests. Use it as a context manager, or call
    `close()`, so that the on-disk lock is released.
    """

    def __init__(self, path: Path | str | None, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self._store: ox.Store | None = None
        if self.path is None:
            self._store = ox.Store()
            return
        if (read_only or not create) and not (self.path / "CURRENT").is_file():
            raise StoreError(f"no store at {self.path}: load data first with `kg ingest PATH…`")
        try:
            # Read-only opening takes no lock, but is only safe on a directory no process writes, such as
            # a checkpoint (`checkpoint()`): RocksDB gives no consistency guarantee otherwise.
            self._store = ox.Store.read_only(str(self.path)) if read_only else ox.Store(str(self.path))
        except OSError as err:
            if "lock" in str(err).lower():
                raise StoreLockedError(
                    f"the store at {self.path} is in use by another process (a running `kg serve` or "
                    f"`kg ingest`?); stop it, or use another store with --store / KG_STORE ({err})"
                ) from err
            raise StoreError(f"cannot open the store at {self.path}: {err}") from err

    @classmethod
    def in_memory(cls) -> OxigraphStore:
        """A store kept in memory only (for tests)."""
        return cls(None)

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "memory"
        return f"<OxigraphStore {where}{' closed' if self._store is None else ''}>"

    @property
    def location(self) -> str:
        """The store's directory (or `memory`), for messages (`kg.store.Store`)."""
        return str(self.path) if self.path is not None else "memory"

    # -- life cycle

    @property
    def _db(self) -> ox.Store:
        if self._store is None:
            raise StoreError("the store is closed")
        return self._store

    def close(self) -> None:
        """Flush and release the store (and its lock). Idempotent."""
        self._release(collect=True)

    def _release(self, *, collect: bool) -> None:
        """Flush and drop our handle. With `collect`, also run the garbage collector: the RocksDB handle
        (and its lock) goes only when the last reference does, and whoever opens this directory next needs
        the lock. `adopt` does without it: it reopens a different directory (the copy, with its own lock
        file), and with the millions of objects of a large link alive a collection takes seconds."""
        if self._store is None:
            return
        try:
            if self.path is not None and not self.read_only:
                self._store.flush()
        finally:
            self._store = None
            if collect:
                gc.collect()

    def __enter__(self) -> OxigraphStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing

    def replace_file(
        self,
        file: str,
        graphs: Sequence[tuple[URIRef, Iterable[Triple]]],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        """Atomically replace everything loaded from source file `file` by `graphs`; returns triples added.

        Removes every graph the catalog lists for `file` (and any graph named in `graphs`, whoever loaded
        it), adds the new graphs and their catalog entries, in one transaction: on any error nothing
        changes. `file` is the source file's base name (a path is reduced to it); `sha256` is the hex
        digest of the source bytes, `ingested_at` defaults to now (UTC).
        """
        file_node, catalog = _file_entries(_base_name(file), sha256, ingested_at)
        return self._replace_source(file_node, _triples_by_graph(graphs), catalog)

    def replace_file_quads(
        self,
        file: str,
        quads: Iterable[ox.Quad],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        """`replace_file` for quads already converted (e.g. by `kg.ingest.file_to_quads`)."""
        name = _base_name(file)
        file_node, catalog = _file_entries(name, sha256, ingested_at)
        return self._replace_source(file_node, _group_by_graph(quads, name), catalog)

    def replace_file_nquads(
        self,
        file: str,
        nquads: bytes,
        *,
        default_triples: bytes,
        graphs: Mapping[str, int],
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        """`replace_file_quads` for quads sent as text by an ingest worker (`kg.ingest.prepare_file`):
        `nquads` holds the form graphs' quads, `default_triples` (N-Triples) the distinct triples among
        them, `graphs` each graph's IRI and number of quads.

        A file the store has never seen is loaded as this text in one transaction (`Store.load`), without
        making Python objects of its quads; otherwise the quads are parsed and replace the file's graphs
        as `replace_file_quads` does. Same result either way."""
        name = _base_name(file)
        if not self.is_new_file(name, graphs):
            file_node, catalog = _file_entries(name, sha256, ingested_at)
            quads = ox.parse(nquads, ox.RdfFormat.N_QUADS)
            return self._replace_source(file_node, _group_by_graph(quads, name), catalog)
        entries = catalog_nquads(name, graphs, sha256=sha256, ingested_at=ingested_at)
        try:
            self._db.load(b"".join((nquads, default_triples, entries)), ox.RdfFormat.N_QUADS)
        except (OSError, RuntimeError, SyntaxError, ValueError) as err:
            raise StoreError(f"writing to the store failed, nothing was changed: {err}") from err
        return sum(graphs.values())

    def is_new_file(self, file: str, graphs: Iterable[str]) -> bool:
        """Whether loading source file `file` with these graphs (IRIs) would replace nothing: the catalog
        knows nothing of the file and none of the graphs exists. Such a file is added without removing
        anything, as text (`replace_file_nquads`) or together with others (`bulk_add_nquads`)."""
        file_node = ox.NamedNode(str(source_file_iri(_base_name(file))))
        if self._graphs_of(file_node):
            return False
        return self._is_new(file_node, [_graph_name(ox.NamedNode(iri)) for iri in graphs])

    # -- bulk loading (see the module documentation)

    @contextlib.contextmanager
    def scratch_folder(self, purpose: str) -> Iterator[Path]:
        """A new empty folder for work files, removed afterwards: beside the store directory
        (`.<store>.<purpose>-<random>`, on the store's file system, which is sized for the data), or a
        temporary folder for an in-memory store."""
        if self.path is None:
            folder = Path(tempfile.mkdtemp(prefix=f"kg-{purpose}-"))
        else:
            folder = _beside(self.path.resolve(), purpose)
            folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def bulk_add_nquads(self, shards: Iterable[Path]) -> None:
        """Add the quads of these N-Quads files with one `Store.bulk_load`, all or nothing: `load_copy`
        then `adopt`. On any failure, an interruption included, the store is unchanged.

        Low level, like `update`: the caller keeps the default graph the merge of the form graphs (its
        shards hold the new graphs' triples for it) and writes the catalog entries (`catalog_nquads`);
        `kg.ingest` does. Raises StoreError, nothing changed."""
        self.adopt(self.load_copy(shards))

    def load_copy(self, shards: Iterable[Path]) -> BulkCopy:
        """The store's data plus the shards' quads, bulk-loaded into a copy of the store (a checkpoint
        beside it, or a copy in memory) that is not the store yet (`adopt`, or `BulkCopy.discard`).

        `shards` is read lazily, one file after the other: it may yield files as they are written, or
        raise to abort the load. This may run in another thread while that one reads the store (`kg.ingest`
        does, so that the load overlaps the parsing), but nothing may write to the store until the copy
        is adopted or discarded: those writes would be lost. Raises StoreError, leaving no copy."""
        return self._filled_copy(lambda staged: bulk_load_nquads_files(staged, shards))

    def _filled_copy(self, fill: Callable[[ox.Store], None]) -> BulkCopy:
        """A copy of the store (see `load_copy`) that `fill` has bulk-loaded quads into."""
        if self.read_only:
            raise StoreError(f"the store at {self.path} is open read-only")
        if self.path is None:
            return BulkCopy(memory=self._filled_copy_in_memory(fill))
        staging = _beside(self.path.resolve(), "staging")
        try:
            self._checkpoint_into(staging)
            staged = ox.Store(str(staging))
            try:
                fill(staged)
                staged.flush()
            finally:
                # The last reference: the copy closes (and releases its lock) here, before it is moved. No
                # gc.collect(): with the millions of objects of a large link alive it took seconds.
                del staged
        except BaseException as err:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(err, Exception):
                raise StoreError(f"bulk loading into {self.path} failed, nothing was changed: {err}") from err
            raise
        return BulkCopy(directory=staging)

    def adopt(self, copy: BulkCopy) -> None:
        """Make a loaded copy (`load_copy`) the store. On disk the store is closed, the two directories
        are exchanged in one step (Linux `renameat2`: never a moment without a store at its name), or by
        two renames where that is not offered, and the store is reopened; the old directory is then
        removed. If the exchange fails, the store is reopened as it was and the copy discarded. Raises
        StoreError, nothing changed."""
        if copy.memory is not None:
            self._store, copy.memory = copy.memory, None
            return
        if copy.directory is None or self.path is None:
            raise StoreError("this copy was discarded, or belongs to another kind of store")
        live, staging, old = self.path.resolve(), copy.directory, _beside(self.path.resolve(), "retired")
        try:
            self._release(collect=False)
            if _exchange(staging, live):
                old = staging  # holds the previous store now
            else:
                live.rename(old)
                try:
                    staging.rename(live)
                except OSError:
                    old.rename(live)
                    raise
        except OSError as err:
            if not (live / "CURRENT").is_file():  # both renames failed: do not create an empty store
                raise StoreError(
                    f"cannot put the bulk-loaded copy in place; move {old} back to {live}"
                ) from err
            gc.collect()  # reopening the same directory: our old handle must have let go of its lock
            self._store = ox.Store(str(live))
            copy.discard()
            raise StoreError(f"cannot put the bulk-loaded copy in place, nothing was changed: {err}") from err
        self._store = ox.Store(str(live))
        shutil.rmtree(old, ignore_errors=True)

    @property
    def can_bulk_load(self) -> bool:
        """Whether `bulk_add_nquads` can work here: a store open for writing, in memory or in a directory
        that can be put aside (not a mount point, such as a container volume) inside a writable folder
        (for the copy and the spool)."""
        if self.read_only:
            return False
        if self.path is None:
            return True
        live = self.path.resolve()
        return not os.path.ismount(live) and os.access(live.parent, os.W_OK)

    def _filled_copy_in_memory(self, fill: Callable[[ox.Store], None]) -> ox.Store:
        staged = ox.Store()
        try:
            staged.bulk_extend(self._db)
            fill(staged)
        except Exception as err:
            raise StoreError(f"bulk loading failed, nothing was changed: {err}") from err
        return staged

    def _checkpoint_into(self, target: Path) -> None:
        """A checkpoint of the store at `target`, retried from scratch if compaction gets in the way."""
        for attempt in range(CHECKPOINT_ATTEMPTS):
            try:
                self._db.backup(str(target))
                return
            except OSError:
                shutil.rmtree(target, ignore_errors=True)
                if attempt == CHECKPOINT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def replace_derived(
        self, name: str, graphs: Sequence[tuple[URIRef, Iterable[Triple]]], *, in_default_graph: bool
    ) -> int:
        """Atomically replace the graphs computed from the forms under `name` (lineages, registries,
        validation reports); returns triples added.

        With `in_default_graph` the graphs join the default graph like form graphs (facts that queries
        join with the forms, such as lineages); without it they stay apart (reports, read with
        `GRAPH`). The catalog records them under `…/id/derived/<name>`, never as a source file.
        """
        node = ox.NamedNode(str(ID[f"derived/{name}"]))
        per_graph = _triples_by_graph(graphs)
        if in_default_graph:
            return self._replace_source(node, per_graph, [(node, _K_DERIVED_NAME, ox.Literal(name))])
        previous = [
            quad.subject
            for quad in self._db.quads_for_pattern(None, _K_DERIVED_FROM, node, _CAT)
            if isinstance(quad.subject, ox.NamedNode)
        ]
        operations = []
        for graph_name in sorted(set(previous) | set(per_graph), key=str):
            operations.append(f"DROP SILENT GRAPH {graph_name}")
            operations.append(f"DELETE WHERE {{ GRAPH {_CAT} {{ {graph_name} ?p ?o }} }}")
        data = [
            f"GRAPH {g} {{\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in triples) + "}"
            for g, triples in sorted(per_graph.items(), key=lambda item: str(item[0]))
        ]
        data.append(
            f"GRAPH {_CAT} {{\n" + "".join(f"{g} {_K_DERIVED_FROM} {node} .\n" for g in per_graph) + "}"
        )
        operations.append("INSERT DATA {\n" + "\n".join(data) + "\n}")
        self._update(" ;\n".join(operations))
        return sum(len(triples) for triples in per_graph.values())

    def _replace_source(
        self,
        source: ox.NamedNode,
        per_graph: GraphTriples,
        catalog: list[tuple[ox.NamedNode, ox.NamedNode, OxTerm]],
    ) -> int:
        """Replace every graph catalogued under `source` by `per_graph`, keeping the default graph the
        merge of all sourced graphs, in one update request (one transaction).

        A source the store has never seen, whose graphs do not exist yet, has nothing to remove: its quads,
        their default-graph triples and its catalog entries are then added with one `extend` (also one
        transaction), which spares writing and parsing the update's text (the same quads either way)."""
        catalog = list(catalog)
        for graph_name, graph_triples in per_graph.items():
            catalog.append((graph_name, _K_SOURCE_FILE, source))
            catalog.append(
                (graph_name, _K_TRIPLE_COUNT, ox.Literal(str(len(graph_triples)), datatype=_XSD_INTEGER))
            )
        previous = set(self._graphs_of(source))
        if not previous and self._is_new(source, per_graph):
            self._add_new(per_graph, catalog)
            return sum(len(graph_triples) for graph_triples in per_graph.values())
        data = [f"GRAPH {_CAT} {{\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in catalog) + "}"]
        merged = _merged(per_graph.values())
        for graph_name in sorted(per_graph, key=str):
            triples = per_graph[graph_name]
            data.append(f"GRAPH {graph_name} {{\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in triples) + "}")
        data.append("".join(f"{s} {p} {o} .\n" for s, p, o in merged))
        operations = self._removal_operations(source, previous | set(per_graph), keep=merged)
        operations.append("INSERT DATA {\n" + "\n".join(data) + "\n}")
        self._update(" ;\n".join(operations))
        return sum(len(graph_triples) for graph_triples in per_graph.values())

    def remove_file(self, file: str) -> int:
        """Atomically remove the graphs loaded from `file` and its catalog entries; returns the number of
        triples removed."""
        file_node = ox.NamedNode(str(source_file_iri(_base_name(file))))
        graphs = self._graphs_of(file_node)
        removed = sum(self.count_triples(URIRef(g.value)) for g in graphs)
        self._update(" ;\n".join(self._removal_operations(file_node, set(graphs))))
        return removed

    def _removal_operations(
        self,
        file_node: ox.NamedNode,
        graphs: set[ox.NamedNode],
        keep: Collection[OxTriple] = (),
    ) -> list[str]:
        """Update operations removing `graphs`, their catalog entries, the file's catalog entry, and the
        default-graph triples that only those graphs held (except those in `keep`, which the caller puts
        back)."""
        operations = []
        if graphs:
            ordered = sorted(graphs, key=str)
            removals = self._default_graph_removals(graphs, keep)
            if removals is not None:
                if removals:
                    operations.append(
                        "DELETE DATA {\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in removals) + "}"
                    )
            else:  # blank nodes cannot be named in DELETE DATA: let the engine find the triples
                operations.append(
                    f"DELETE {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {' '.join(str(g) for g in ordered)} }} "
                    f"GRAPH ?g {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} "
                    f"GRAPH {_CAT} {{ ?other {_K_SOURCE_FILE} ?file }} "
                    f"FILTER (?other NOT IN ({', '.join(str(g) for g in ordered)})) }} }}"
                )
            for graph_name in ordered:
                operations.append(f"DROP SILENT GRAPH {graph_name}")
                operations.append(f"DELETE WHERE {{ GRAPH {_CAT} {{ {graph_name} ?p ?o }} }}")
        operations.append(f"DELETE WHERE {{ GRAPH {_CAT} {{ {file_node} ?p ?o }} }}")
        return operations

    def _default_graph_removals(
        self, graphs: set[ox.NamedNode], keep: Collection[OxTriple]
    ) -> list[tuple[Any, Any, Any]] | None:
        """The default-graph triples held by `graphs` and by no other sourced graph, not in `keep`, found
        with one index lookup per triple (None when one has a blank node). The same as a DELETE … FILTER
        NOT EXISTS over the other graphs, which Oxigraph evaluated against every quad of the store: a
        re-link of 10,000 forms ran for more than ten minutes."""
        held: set[tuple[Any, Any, Any]] = set()
        for graph_name in graphs:
            for quad in self._db.quads_for_pattern(None, None, None, graph_name):
                held.add((quad.subject, quad.predicate, quad.object))
        held.difference_update(keep)
        sourced: dict[ox.NamedNode, bool] = {}
        removals = []
        for subject, predicate, obj in held:
            if isinstance(subject, ox.BlankNode) or isinstance(obj, ox.BlankNode):
                return None
            for quad in self._db.quads_for_pattern(subject, predicate, obj, None):
                other = quad.graph_name
                if not isinstance(other, ox.NamedNode) or other in graphs:
                    continue
                if other not in sourced:
                    entry = self._db.quads_for_pattern(other, _K_SOURCE_FILE, None, _CAT)
                    sourced[other] = next(iter(entry), None) is not None
                if sourced[other]:
                    break
            else:
                removals.append((subject, predicate, obj))
        return sorted(removals, key=str)

    def rebuild_default_graph(self) -> int:
        """Recompute the default graph as the merge of the catalogued form graphs (a repair tool; ingest
        keeps it up to date). Returns the number of triples in it."""
        self._update(
            f"DROP SILENT DEFAULT ;\n"
            f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {_CAT} {{ ?g {_K_SOURCE_FILE} ?file }} "
            f"GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        return self._count(ox.DefaultGraph())

    def _update(self, update: str) -> None:
        try:
            self._db.update(update)
        except (OSError, RuntimeError, SyntaxError, ValueError) as err:
            raise StoreError(f"writing to the store failed, nothing was changed: {err}") from err

    def _is_new(self, source: ox.NamedNode, per_graph: Iterable[ox.NamedNode]) -> bool:
        """No catalog entry for `source` and none of the graphs exists: replacing removes nothing."""
        if next(iter(self._db.quads_for_pattern(source, None, None, _CAT)), None) is not None:
            return False
        return not any(self._db.contains_named_graph(graph_name) for graph_name in per_graph)

    def _add_new(
        self,
        per_graph: GraphTriples,
        catalog: list[tuple[ox.NamedNode, ox.NamedNode, OxTerm]],
    ) -> None:
        """Add new graphs, their triples to the default graph and catalog entries in one transaction, or
        for many quads bulk-loaded into a copy of the store that then takes its place (`load_copy`):
        several times faster than a transaction of a million quads (the lineages of 10,000 forms), and
        as atomic."""
        quad = ox.Quad
        quads: list[ox.Quad] = [quad(s, p, o, _CAT) for s, p, o in catalog]
        for graph_name, graph_triples in per_graph.items():
            quads.extend(quad(s, p, o, graph_name) for s, p, o in graph_triples)
        quads.extend(quad(s, p, o) for s, p, o in _merged(per_graph.values()))
        if len(quads) >= BULK_ADD_MIN_QUADS and self.can_bulk_load:
            self.adopt(self._filled_copy(lambda staged: staged.bulk_extend(quads)))
            return
        try:
            self._db.extend(quads)
        except (OSError, RuntimeError, SyntaxError, ValueError) as err:
            raise StoreError(f"writing to the store failed, nothing was changed: {err}") from err

    def _graphs_of(self, file_node: ox.NamedNode) -> list[ox.NamedNode]:
        return [
            quad.subject
            for quad in self._db.quads_for_pattern(None, _K_SOURCE_FILE, file_node, _CAT)
            if isinstance(quad.subject, ox.NamedNode)
        ]

    # -- reading

    def files(self) -> list[FileRecord]:
        """The source files in the catalog, by name, with their form and triple counts."""
        return catalog_files(self.query)

    def form_graphs(self) -> list[FormGraphRecord]:
        """The form graphs in the catalog, by file then form index."""
        return catalog_form_graphs(self.query)

    def count_triples(self, graph: URIRef | None = None) -> int:
        """Triples in the named graphs (form graphs and catalog: exactly what `export("nq")` writes), or in
        one named graph."""
        if graph is None:
            return len(self._db) - self._count(ox.DefaultGraph())
        return self._count(ox.NamedNode(str(graph)))

    def count_default_graph(self) -> int:
        """Distinct triples in the default graph (the merge of all form graphs)."""
        return self._count(ox.DefaultGraph())

    def _count(self, graph_name: ox.NamedNode | ox.DefaultGraph) -> int:
        # COUNT in SPARQL runs in Rust: 3 s for 9 million triples, where iterating the quads in Python
        # took 49 s.
        pattern = "?s ?p ?o"
        if isinstance(graph_name, ox.NamedNode):
            pattern = f"GRAPH {graph_name} {{ {pattern} }}"
        result = self._db.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
        assert isinstance(result, ox.QuerySolutions)
        return int(_term_text(next(iter(result))[0]))

    def query(
        self,
        sparql: str,
        substitutions: Mapping[str, object] | None = None,
        *,
        base_iri: str | None = None,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query; the default graph is the union of all graphs (see the module documentation).

        `substitutions` binds variables (name with or without `?`) to values: `VALUES ?name { term }` as
        the first element of the WHERE group (`parameter_bindings` for the typing, `sparql_text.with_bindings`
        for the placement; terms are serialised, never pasted as text). That is standard SPARQL, so a remote
        store gives the same answers, and Oxigraph starts its plan from the bound pattern (with pyoxigraph's
        own `substitutions` a point query still scanned every candidate, and BOUND() of a substituted
        variable was false).
        `base_iri` resolves relative IRIs; `default_graph` / `named_graphs` (graph IRIs) set the dataset
        as the SPARQL protocol's default-graph-uri / named-graph-uri do, overriding FROM / FROM NAMED.
        Raises QuerySyntaxError for text that does not parse, QueryError for other query failures.
        """
        bindings = parameter_bindings(substitutions)
        if bindings:
            try:
                sparql = sparql_text.with_bindings(sparql_text.analyse(sparql), bindings)
            except SparqlTextError as err:
                raise QuerySyntaxError(f"SPARQL syntax error: {err}") from err
        try:
            return self._db.query(
                sparql,
                base_iri=base_iri,
                prefixes=QUERY_PREFIXES,
                default_graph=[ox.NamedNode(g) for g in default_graph] if default_graph is not None else None,
                named_graphs=[ox.NamedNode(g) for g in named_graphs] if named_graphs is not None else None,
            )
        except SyntaxError as err:
            raise QuerySyntaxError(f"SPARQL syntax error: {err}") from err
        except OSError as err:
            raise StoreError(f"reading the store failed: {err}") from err
        except (RuntimeError, ValueError, TypeError) as err:
            raise QueryError(str(err)) from err

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL 1.1 Update request as given, in one transaction (nothing changes on failure).

        Low level: it writes exactly what the request says, so the default graph stays the merge of the
        form graphs only if the request keeps it so (`kg ingest` does; see the module documentation).
        The query prefixes are predeclared. Raises QuerySyntaxError for text that does not parse,
        QueryError when the update fails.
        """
        try:
            self._db.update(sparql, base_iri=base_iri, prefixes=QUERY_PREFIXES)
        except SyntaxError as err:
            raise QuerySyntaxError(f"SPARQL syntax error: {err}") from err
        except (OSError, RuntimeError, ValueError, TypeError) as err:
            raise QueryError(f"the update failed, nothing was changed: {err}") from err

    def contains_graph(self, graph: str) -> bool:
        """Whether the store holds a named graph with this IRI (form, catalog, derived or other graph)."""
        return self._db.contains_named_graph(ox.NamedNode(graph))

    def compact(self) -> None:
        """Compact the on-disk indexes (RocksDB `optimize`). After a large write (a bulk load, the first
        `kg link` of thousands of forms) reads are spread over many overlapping files; compacting them
        took 30 s at 10,000 forms and made the named queries 15-45 % faster. Nothing for a store in
        memory. Raises StoreError."""
        if self.path is None or self.read_only:
            return
        try:
            self._db.optimize()
        except OSError as err:
            raise StoreError(f"cannot compact {self.path}: {err}") from err

    def checkpoint(self, target: Path | str) -> None:
        """Write a consistent copy of the on-disk store to the new directory `target` (RocksDB checkpoint:
        hard links where the file system allows, so it is quick and small). Nobody writes a checkpoint,
        so any number of processes may open it with `OxigraphStore(target, read_only=True)` while this
        store goes on writing."""
        if self.path is None:
            raise StoreError("an in-memory store has no checkpoint")
        try:
            self._db.backup(str(target))
        except OSError as err:
            raise StoreError(f"cannot write a checkpoint of {self.path} to {target}: {err}") from err

    def export(self, format: str, output: IO[bytes] | None = None) -> bytes | None:
        """Serialize the store: `nq`, `trig`, `jsonld` (every named graph: the form graphs and the catalog)
        or `ttl` (the default graph: the merge of the form graphs). Returns bytes when `output` is None."""
        if format not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
        rdf_format = EXPORT_FORMATS[format][0]
        prefixes = EXPORT_PREFIXES if format in ("ttl", "trig") else None
        try:
            if format == "ttl":
                return self._db.dump(output, rdf_format, from_graph=ox.DefaultGraph(), prefixes=prefixes)
            quads = (q for q in self._db if not isinstance(q.graph_name, ox.DefaultGraph))
            return ox.serialize(quads, output, rdf_format, prefixes=prefixes)
        except OSError as err:
            raise StoreError(f"export failed: {err}") from err
