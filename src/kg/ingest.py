"""Load source files into the store: parse (`kg.forms`), map (`kg.rdf.mapping`), replace (`kg.store`).

Each file is its own transaction: a file that fails to read, parse or map adds nothing and leaves the
graphs it loaded before untouched; the other files still load. `file_to_quads` is a pure function of the
file's bytes and name, kept apart from the store so that it runs in worker processes: with `workers` > 1,
`ingest_paths` reads, parses and maps files in a local process pool (`concurrent.futures`, spawned
workers that never open the store) and the parent writes each file's quads, in file order, one transaction
per file, exactly as the serial ingest does.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from kg.model import Form, FormParseError
from kg.store.base import Store, bulk_session
from kg.store.oxigraph import triples_to_quads

# What a folder contributes: its form exports. Other files beside them (notes, the curated
# data/lineage-overrides.csv of kg.link) are not forms; a file named explicitly is read whatever its name.
FOLDER_SUFFIXES = (".txt",)


@dataclass
class FileResult:
    """What happened to one source file."""

    path: Path  # as given or found below a given folder
    file: str  # base name: the file's identity in the store
    forms: int = 0
    triples: int = 0
    error: str | None = None
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        return "ok" if self.ok else "failed"


@dataclass
class IngestReport:
    """Per-file results of one ingest, in processing order."""

    results: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [result for result in self.results if not result.ok]

    @property
    def loaded(self) -> list[FileResult]:
        return [result for result in self.results if result.ok]

    @property
    def forms(self) -> int:
        return sum(result.forms for result in self.results)

    @property
    def triples(self) -> int:
        return sum(result.triples for result in self.results)


# progress(done, total, path, result): called with result=None before a file is read (done files so far),
# and with its result once it is processed.
ProgressCallback = Callable[[int, int, Path, FileResult | None], None]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """The files to ingest: files as given (any extension); for a folder, every `*.txt` file below it,
    sorted, except hidden files or folders (name starting with '.'). Duplicates are dropped; paths that
    do not exist are kept so that they are reported."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            below = (
                candidate
                for candidate in path.rglob("*")
                if candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
                and candidate.suffix.lower() in FOLDER_SUFFIXES
            )
            found.extend(sorted(below))
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve() if path.exists() else path, path)
    return list(unique.values())


def _forms_by_graph(data: bytes, file: str) -> Iterator[tuple[URIRef, Form]]:
    """(graph IRI, form) for each form of the file; ValueError when two forms would share a graph."""
    from kg.forms import parse_source
    from kg.rdf.mapping import form_graph_iri

    seen: dict[URIRef, int] = {}
    for form in parse_source(data, file):
        graph_iri = form_graph_iri(form)
        if graph_iri in seen:
            first, second = seen[graph_iri], form.index_in_file
            raise ValueError(f"{file}: forms {first} and {second} map to the same graph <{graph_iri}>")
        seen[graph_iri] = form.index_in_file
        yield graph_iri, form


def file_to_graphs(data: bytes, file: str) -> list[tuple[URIRef, Graph]]:
    """Parse a source file's bytes and map each form to (graph IRI, triples).

    Raises FormParseError for input that is not a readable form file, ValueError when two forms would
    share a graph.
    """
    from kg.rdf.mapping import form_to_graph

    return [(graph_iri, form_to_graph(form)) for graph_iri, form in _forms_by_graph(data, file)]


def file_to_quads(data: bytes, file: str) -> list[ox.Quad]:
    """Pure: a source file's bytes to the quads of its form graphs (one named graph per form).

    The same quads as `graphs_to_quads(file_to_graphs(data, file))`, made without building rdflib Graphs
    (`form_triples`) and converting each distinct term once for the whole file."""
    from kg.rdf.mapping import form_triples

    iris: dict[str, ox.NamedNode] = {}
    bnodes: dict[BNode, ox.BlankNode] = {}
    quads: list[ox.Quad] = []
    for graph_iri, form in _forms_by_graph(data, file):
        quads.extend(triples_to_quads(graph_iri, form_triples(form), iris, bnodes))
    return quads


def describe_error(error: BaseException, display: str) -> str:
    """`FILE:LINE: expected …, found …` for parse errors, `FILE: …` for anything else."""
    if isinstance(error, FormParseError):
        where = f"{display}:{error.line}" if error.line is not None else display
        message = f"{where}: expected {error.expected}"
        if error.found is not None:
            message += f", found {error.found!r}"
        return message
    if isinstance(error, OSError) and error.strerror:
        return f"{display}: cannot read the file: {error.strerror}"
    return f"{display}: {type(error).__name__}: {error}"


def ingest_file(path: Path, store: Store) -> FileResult:
    """Read, parse, map and load one file; never raises for a bad file (the error is in the result)."""
    result = FileResult(path=path, file=path.name)
    try:
        data = path.read_bytes()
        result.sha256 = hashlib.sha256(data).hexdigest()
        quads = file_to_quads(data, path.name)
        result.triples = store.replace_file_quads(path.name, quads, sha256=result.sha256)
        result.forms = len({quad.graph_name for quad in quads})
    except Exception as error:  # any failure of one file is reported, the others still load
        result.error = describe_error(error, str(path))
        result.triples = 0
    return result


def ingest_paths(
    paths: Sequence[Path],
    store: Store,
    progress: ProgressCallback | None = None,
    *,
    workers: int = 1,
    dask: str | None = None,
) -> IngestReport:
    """Ingest files and folders (see `expand_paths`), one transaction per file.

    With `workers` > 1 the files are read, parsed and mapped in that many worker processes while this
    process writes them to the store in file order; results, errors and the store's contents are the
    same as with one worker (only the catalog's ingest times differ). With `dask` (a scheduler address)
    the files are parsed and mapped on that Dask cluster instead (`kg.distributed`). A store with a bulk
    loader (`RemoteStore.bulk`, Virtuoso) loads the new files together at the end (`bulk_session`); a
    file it could not load is then reported as failed."""
    files = expand_paths(paths)
    report = IngestReport()
    if dask is not None:
        from kg.distributed import prepared_on_dask

        prepared = prepared_on_dask(files, dask) if files else None
    else:
        prepared = _prepared_in_pool(files, workers) if workers > 1 and len(files) > 1 else None
    with bulk_session(store) as bulk:
        for done, path in enumerate(files):
            if progress is not None:
                progress(done, len(files), path, None)
            if prepared is None:
                result = ingest_file(path, store)
            else:
                result = _store_prepared(path, next(prepared), store)
            report.results.append(result)
            if progress is not None:
                progress(done + 1, len(files), path, result)
    for result in report.results:
        if result.ok and result.file in bulk.errors:
            result.error = f"{result.path}: {bulk.errors[result.file]}"
            result.forms = result.triples = 0
    return report


@dataclass(frozen=True)
class PreparedFile:
    """What a worker sends back for one file: its digest and its quads as text (N-Quads, and their
    distinct triples as N-Triples for the default graph: passing text between processes is much cheaper
    than pickling quads, and the store can load it as is), or the error message."""

    sha256: str | None
    nquads: bytes | None = None
    default_triples: bytes = b""
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI -> number of quads
    error: str | None = None


def prepare_file(path: Path) -> PreparedFile:
    """Worker side of a parallel ingest: read, parse and map one file (never raises for a bad file)."""
    sha256 = None
    try:
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        quads = file_to_quads(data, path.name)
        graphs: dict[str, int] = {}
        for quad in quads:
            name = quad.graph_name.value  # type: ignore[union-attr]  # always a named graph here
            graphs[name] = graphs.get(name, 0) + 1
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
        return PreparedFile(
            sha256,
            ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b"",
            ox.serialize(triples, None, ox.RdfFormat.N_TRIPLES) or b"",
            graphs,
        )
    except Exception as error:  # reported like ingest_file reports it
        return PreparedFile(sha256, error=describe_error(error, str(path)))


def _init_worker() -> None:
    """Workers make short-lived objects per file: collect garbage less often (a few % of their time).
    The parent's store writes are the bottleneck (pyoxigraph's transactional writes): on a machine with
    few cores the workers yield the CPU to it (a lower scheduling priority)."""
    gc.set_threshold(50_000, 20, 20)
    with contextlib.suppress(OSError, AttributeError):  # no os.nice on some platforms
        os.nice(5)


def _prepared_in_pool(files: Sequence[Path], workers: int) -> Iterator[PreparedFile]:
    """Prepared files in order, computed `workers` at a time a few files ahead of the writer (bounded, so
    that a slow store does not make the finished files pile up in memory)."""
    # Spawned, not forked: the parent holds the open RocksDB store, which a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        pending: deque[Future[PreparedFile]] = deque()
        queue = iter(files)
        for path in queue:
            pending.append(pool.submit(prepare_file, path))
            if len(pending) >= 2 * workers:
                break
        while pending:
            prepared = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(prepare_file, following))
            yield prepared


def _store_prepared(path: Path, prepared: PreparedFile, store: Store) -> FileResult:
    """Parent side: write a prepared file in one transaction (as `ingest_file` does)."""
    result = FileResult(path=path, file=path.name, sha256=prepared.sha256)
    if prepared.error is not None or prepared.nquads is None:
        result.error = prepared.error or f"{path}: the worker returned nothing"
        return result
    try:
        result.triples = store.replace_file_nquads(
            path.name,
            prepared.nquads,
            default_triples=prepared.default_triples,
            graphs=prepared.graphs,
            sha256=result.sha256,
        )
        result.forms = len(prepared.graphs)
    except Exception as error:  # any failure of one file is reported, the others still load
        result.error = describe_error(error, str(path))
        result.triples = 0
    return result
