"""Load source files into the store: parse (`kg.forms`), map (`kg.rdf.mapping`), replace (`kg.store`).

Each file is its own transaction: a file that fails to read, parse or map adds nothing and leaves the
graphs it loaded before untouched; the other files still load. `file_to_quads` is a pure function of the
file's bytes and name, kept apart from the store so that it runs in worker processes: with `workers` > 1,
`ingest_paths` reads, parses and maps files in a local process pool (`concurrent.futures`, spawned
workers that never open the store) and the parent writes each file's quads, in file order, one transaction
per file, exactly as the serial ingest does.

Bulk path (Oxigraph). One transaction per file costs the writing process 16-24 µs per quad, against
~10 µs for pyoxigraph's `bulk_load`, and ~1,700 quads per form made it the bottleneck of any ingest of
many files. Files that replace nothing (new to the store: their source file is not catalogued and none of
their graphs exists, nor does another file of the same ingest name them, as when loading a fresh
store) need no transaction of their own: the parent only appends each one's text (its quads, their
triples for the default graph, its catalog entries) to N-Quads shards in a spool folder beside the store,
and one `bulk_load` takes all of them: it starts with the first shard, in a thread (pyoxigraph releases
the GIL), so that loading overlaps parsing, and loads into a copy of the store that replaces the store
only when the load has succeeded (`OxigraphStore.load_copy`, `adopt`): nothing is ever half-loaded.
A file that fails to read, parse or map is reported as before and adds nothing. From the first file that is
not new, the files before it are bulk-loaded and it and the rest are written one transaction each, as
without the bulk path, so the outcome is the same either way (tests compare the stores quad for quad).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from kg.model import Form, FormParseError
from kg.store.base import Store, bulk_session
from kg.store.oxigraph import (
    BulkCopy,
    NQuadsTerms,
    OxigraphStore,
    StoreError,
    catalog_nquads,
    triples_to_quads,
)

# What a folder contributes: its form exports. Other files beside them (notes, the curated
# data/lineage-overrides.csv of kg.link) are not forms; a file named explicitly is read whatever its name.
FOLDER_SUFFIXES = (".txt",)

SHARD_BYTES = 64 << 20  # the bulk path starts a new shard file past this size


@dataclass
class FileResult:
    """What happened to one source file."""

    path: Path  # as given or found below a given folder
    file: str  # base name: the file's identity in the store
    forms: int = 0
    triples: int = 0
    error: str | None = None
    sha256: str | None = None
    staged: bool = False  # bulk path: parsed and spooled, loaded with the others at the end

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        if not self.ok:
            return "failed"
        return "parsed" if self.staged else "ok"


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
# and with its result once it is processed (in the bulk path: parsed and spooled, `status` "parsed").
ProgressCallback = Callable[[int, int, Path, FileResult | None], None]
# notify(message): a step of the ingest other than a file, e.g. "loading 1,712,000 quads …" (bulk path).
NotifyCallback = Callable[[str], None]


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


def file_to_nquads(data: bytes, file: str) -> tuple[bytes, bytes, dict[str, int]]:
    """Pure: a source file's bytes to (the N-Quads of its form graphs, the N-Triples of their distinct
    triples for the default graph, each graph's IRI and number of triples).

    The same RDF as `file_to_quads` (tests parse the text and compare), written straight from the
    mapping's terms (`graphs_to_nquads`): what ingest workers send to the parent, which loads it as is."""
    from kg.rdf.mapping import form_triples

    return graphs_to_nquads((iri, form_triples(form)) for iri, form in _forms_by_graph(data, file))


def graphs_to_nquads(
    graphs: Iterable[tuple[URIRef, Iterable[tuple[Node, Node, Node]]]],
) -> tuple[bytes, bytes, dict[str, int]]:
    """(graph IRI, triples) pairs as `file_to_nquads` returns them, terms written by `NQuadsTerms`."""
    terms = NQuadsTerms()
    chunks: list[str] = []
    distinct: set[str] = set()
    counts: dict[str, int] = {}
    for graph_iri, triples in graphs:
        end = f" {terms.graph(graph_iri)} .\n"
        lines = terms.triples(triples, graph_iri)
        counts[str(graph_iri)] = len(lines)
        chunks.extend(line + end for line in lines)
        distinct.update(lines)
    default = "".join(f"{line} .\n" for line in distinct)
    return "".join(chunks).encode(), default.encode(), counts


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
    bulk: bool = True,
    notify: NotifyCallback | None = None,
    keep_shards: Path | None = None,
) -> IngestReport:
    """Ingest files and folders (see `expand_paths`), one transaction per file.

    With `workers` > 1 the files are read, parsed and mapped in that many worker processes while this
    process writes them to the store in file order; results, errors and the store's contents are the
    same as with one worker (only the catalog's ingest times differ). With `dask` (a scheduler address)
    the files are parsed and mapped on that Dask cluster instead (`kg.distributed`). A store with a bulk
    loader (`RemoteStore.bulk`, Virtuoso) loads the new files together at the end (`bulk_session`); a
    file it could not load is then reported as failed.

    Several files into an Oxigraph store take the bulk path (see the module documentation) unless `bulk`
    is False or the store cannot be bulk-loaded (`OxigraphStore.can_bulk_load`: e.g. its directory is a
    mount point); `notify` then hears of the load ("loading N quads …"). Same results and contents.
    `keep_shards` (an existing folder on the store's file system) keeps a hard link of every N-Quads shard
    the bulk path loaded, so that a benchmark can load the very same quads again."""
    files = expand_paths(paths)
    report = IngestReport()
    if dask is not None:
        from kg.distributed import prepared_on_dask

        prepared = prepared_on_dask(files, dask) if files else None
    else:
        prepared = _prepared_in_pool(files, workers) if workers > 1 and len(files) > 1 else None
    if bulk and isinstance(store, OxigraphStore) and store.can_bulk_load and len(files) > 1:
        if prepared is None:
            prepared = (prepare_file(path) for path in files)
        return _ingest_in_bulk(files, prepared, store, progress, notify, keep_shards)
    with bulk_session(store) as bulk_outcome:
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
        if result.ok and result.file in bulk_outcome.errors:
            result.error = f"{result.path}: {bulk_outcome.errors[result.file]}"
            result.forms = result.triples = 0
    return report


def _ingest_in_bulk(
    files: Sequence[Path],
    prepared: Iterator[PreparedFile],
    store: OxigraphStore,
    progress: ProgressCallback | None,
    notify: NotifyCallback | None,
    keep_shards: Path | None = None,
) -> IngestReport:
    """The bulk path: new files are spooled and bulk-loaded together at the end; from the first file
    that would replace something, the spooled ones are loaded and the rest go one transaction each."""
    report = IngestReport()
    with store.scratch_folder("spool") as folder:
        batch: BulkBatch | None = BulkBatch(store, folder, keep_shards=keep_shards)
        try:
            for done, path in enumerate(files):
                if progress is not None:
                    progress(done, len(files), path, None)
                item = next(prepared)
                if item.error is not None or item.nquads is None:
                    result = _failed(path, item)
                elif batch is not None and batch.takes(path.name, item):
                    result = batch.stage(path, item)
                else:
                    if batch is not None:
                        batch.load(notify)
                        batch = None
                    result = _store_prepared(path, item, store)
                report.results.append(result)
                if progress is not None:
                    progress(done + 1, len(files), path, result)
        except BaseException:
            if batch is not None:
                batch.abort()
            raise
        finally:
            close = getattr(prepared, "close", None)
            if close is not None:
                close()  # stops the worker pool (or Dask client): the rest of the load needs the CPU
        if batch is not None:
            batch.load(notify)
    return report


class BulkBatch:
    """Files new to an Oxigraph store on their way to one bulk load: their text goes to N-Quads shards
    in `folder` as it arrives (so memory holds only the bookkeeping), and each finished shard goes on to
    the load, which runs in a thread from the first shard on (`_BackgroundLoad`: pyoxigraph's bulk_load
    releases the GIL, so it overlaps the parsing); `load` waits for it to finish.

    Each file's shard text is what its own transaction would have written (`replace_file_nquads` of a
    new file): the form graphs' quads, their distinct triples for the default graph (triples shared with
    other files are merged by the store: it holds a set) and the catalog entries (`catalog_nquads`, with
    the time the file was spooled as its ingest time)."""

    def __init__(
        self,
        store: OxigraphStore,
        folder: Path,
        shard_bytes: int | None = None,
        *,
        keep_shards: Path | None = None,
    ) -> None:
        self.store = store
        self.folder = folder
        self.shard_bytes = SHARD_BYTES if shard_bytes is None else shard_bytes
        self.results: list[FileResult] = []
        self.quads = 0  # lines written, before the store merges the default graph's duplicates
        self._names: set[str] = set()
        self._graphs: set[str] = set()
        self._shards = 0
        self._out: BinaryIO | None = None
        self._written = 0
        self._loader = _BackgroundLoad(store, keep_shards)

    def takes(self, name: str, prepared: PreparedFile) -> bool:
        """Whether the file replaces nothing: not in the store, and no file of this batch has its name or
        one of its graphs (the later one would replace the earlier, which a bulk load cannot do)."""
        if name in self._names or not self._graphs.isdisjoint(prepared.graphs):
            return False
        return self.store.is_new_file(name, prepared.graphs)

    def stage(self, path: Path, prepared: PreparedFile) -> FileResult:
        """Append the file's text to the current shard; its result says "parsed" until `load`."""
        assert prepared.nquads is not None
        entries = catalog_nquads(path.name, prepared.graphs, sha256=prepared.sha256)
        for text in (prepared.nquads, prepared.default_triples, entries):
            self._write(text)
            self.quads += text.count(b"\n")
        self._names.add(path.name)
        self._graphs.update(prepared.graphs)
        result = FileResult(
            path=path,
            file=path.name,
            forms=len(prepared.graphs),
            triples=sum(prepared.graphs.values()),
            sha256=prepared.sha256,
            staged=True,
        )
        self.results.append(result)
        return result

    def load(self, notify: NotifyCallback | None) -> None:
        """Finish the bulk load of every staged file; if it fails, nothing was added and each of them is
        reported as failed with the store's error (as a failed transaction of its own would be)."""
        self._close_shard()
        if not self.results:
            return
        if notify is not None:
            notify(f"loading {self.quads:,} quads of {len(self.results)} files into the store …")
        error = self._loader.finish()
        for result in self.results:
            result.staged = False
            if error is not None:
                result.error = describe_error(error, str(result.path))
                result.forms = result.triples = 0
        if notify is not None:
            if error is not None:
                notify(f"loading failed, nothing was added: {error}")
            else:
                notify(f"loaded {len(self.results)} files in {self._loader.seconds:.1f} s")

    def abort(self) -> None:
        """Give up (the ingest was interrupted): the load stops and the store stays as it was."""
        self._close_shard()
        self._loader.abort()

    def _write(self, text: bytes) -> None:
        if self._out is None or self._written >= self.shard_bytes:
            self._close_shard()
            self._out = (self.folder / f"{self._shards:05d}.nq").open("wb")
            self._shards += 1
            self._written = 0
        self._out.write(text)
        self._written += len(text)

    def _close_shard(self) -> None:
        if self._out is not None:
            self._out.close()
            self._loader.add(Path(self._out.name))
            self._out = None


class _Aborted(Exception):
    """Raised into the shard stream of a load that must not complete."""


class _BackgroundLoad:
    """`OxigraphStore.load_copy` in a thread started with the first shard: it reads the shards as they
    are handed over (deleting each once read), while this thread goes on parsing. `finish` says no more
    will come, waits, and adopts the copy here, in the thread that owns the store (nothing else touches
    it meanwhile). Interrupted or aborted, the copy is discarded and the store stays as it was."""

    def __init__(self, store: OxigraphStore, keep_shards: Path | None = None) -> None:
        self.store = store
        self.keep_shards = keep_shards  # a hard link of each shard read goes there
        self.seconds = 0.0
        self._queue: queue.SimpleQueue[Path | _Aborted | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: StoreError | None = None
        self._copy: BulkCopy | None = None
        self._unwanted = False  # set when the copy must be discarded, whenever it is done
        self._lock = threading.Lock()
        self._finished = False

    def add(self, shard: Path) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kg-bulk-load", daemon=True)
            self._thread.start()
        self._queue.put(shard)

    def finish(self) -> StoreError | None:
        """Wait for the load and adopt the copy; the error (nothing was changed), or None when done."""
        self._finished = True
        self._queue.put(None)
        try:
            if self._thread is not None:
                self._thread.join()
        except BaseException:
            self._drop()
            raise
        if self._error is not None or self._copy is None:
            return self._error or StoreError("the bulk load ended without a result, nothing was changed")
        copy, self._copy = self._copy, None
        try:
            self.store.adopt(copy)
        except StoreError as error:
            return error
        return None

    def abort(self) -> None:
        """Stop the load (at its next shard) and discard the copy."""
        self._drop()
        if not self._finished:
            self._queue.put(_Aborted("the ingest was interrupted"))
            if self._thread is not None:
                self._thread.join()

    def _drop(self) -> None:
        with self._lock:
            self._unwanted = True
            copy, self._copy = self._copy, None
        if copy is not None:
            copy.discard()

    def _shards(self) -> Iterator[Path]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, _Aborted):
                raise item
            yield item
            if self.keep_shards is not None:
                os.link(item, self.keep_shards / item.name)
            item.unlink(missing_ok=True)  # read to the end: the load asks for the next one only then

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            copy = self.store.load_copy(self._shards())
        except Exception as error:  # StoreError; anything else is reported the same way
            self._error = error if isinstance(error, StoreError) else StoreError(str(error))
            return
        finally:
            self.seconds = time.perf_counter() - start
        with self._lock:
            if not self._unwanted:
                self._copy = copy
                return
        copy.discard()


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
    """Worker side of a parallel or bulk ingest: read, parse and map one file (never raises for a bad
    file)."""
    try:
        data = path.read_bytes()
    except OSError as error:  # reported like ingest_file reports it
        return PreparedFile(None, error=describe_error(error, str(path)))
    return prepare_data(data, path.name, str(path))


def prepare_data(data: bytes, name: str, display: str) -> PreparedFile:
    """Parse and map one file's bytes (`file_to_nquads`); errors name the file as `display`. Also what
    Dask workers run (`kg.distributed`), which get the bytes, not the file."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        nquads, default_triples, graphs = file_to_nquads(data, name)
    except Exception as error:  # reported like ingest_file reports it
        return PreparedFile(sha256, error=describe_error(error, display))
    return PreparedFile(sha256, nquads, default_triples, graphs)


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


def _failed(path: Path, prepared: PreparedFile) -> FileResult:
    """The result of a file its worker could not read, parse or map."""
    error = prepared.error or f"{path}: the worker returned nothing"
    return FileResult(path=path, file=path.name, sha256=prepared.sha256, error=error)


def _store_prepared(path: Path, prepared: PreparedFile, store: Store) -> FileResult:
    """Parent side: write a prepared file in one transaction (as `ingest_file` does)."""
    if prepared.error is not None or prepared.nquads is None:
        return _failed(path, prepared)
    result = FileResult(path=path, file=path.name, sha256=prepared.sha256)
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
