"""Load source files into the store: parse (`kg.forms`), map (`kg.rdf.mapping`), replace (`kg.store`).

Each file is its own transaction: a file that fails to read, parse or map adds nothing and leaves the
graphs it loaded before untouched; the other files still load. `file_to_quads` is a pure function of the
file's bytes and name, kept apart from the store so that it can later run in worker processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.model import FormParseError
from kg.store.oxigraph import OxigraphStore, graphs_to_quads

SKIPPED_SUFFIXES = (".md",)


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
    """The files to ingest: files as given; for a folder, every regular file below it, sorted, except
    hidden files or folders (name starting with '.') and `*.md` notes. Duplicates are dropped; paths
    that do not exist are kept so that they are reported."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            below = (
                candidate
                for candidate in path.rglob("*")
                if candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
                and candidate.suffix.lower() not in SKIPPED_SUFFIXES
            )
            found.extend(sorted(below))
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve() if path.exists() else path, path)
    return list(unique.values())


def file_to_graphs(data: bytes, file: str) -> list[tuple[URIRef, Graph]]:
    """Parse a source file's bytes and map each form to (graph IRI, triples).

    Raises FormParseError for input that is not a readable form file, ValueError when two forms would
    share a graph.
    """
    from kg.forms import parse_source
    from kg.rdf.mapping import form_graph_iri, form_to_graph

    graphs: list[tuple[URIRef, Graph]] = []
    seen: dict[URIRef, int] = {}
    for form in parse_source(data, file):
        graph_iri = form_graph_iri(form)
        if graph_iri in seen:
            first, second = seen[graph_iri], form.index_in_file
            raise ValueError(f"{file}: forms {first} and {second} map to the same graph <{graph_iri}>")
        seen[graph_iri] = form.index_in_file
        graphs.append((graph_iri, form_to_graph(form)))
    return graphs


def file_to_quads(data: bytes, file: str) -> list[ox.Quad]:
    """Pure: a source file's bytes to the quads of its form graphs (one named graph per form)."""
    return graphs_to_quads(file_to_graphs(data, file))


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


def ingest_file(path: Path, store: OxigraphStore) -> FileResult:
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
    paths: Sequence[Path], store: OxigraphStore, progress: ProgressCallback | None = None
) -> IngestReport:
    """Ingest files and folders (see `expand_paths`), one transaction per file."""
    files = expand_paths(paths)
    report = IngestReport()
    for done, path in enumerate(files):
        if progress is not None:
            progress(done, len(files), path, None)
        result = ingest_file(path, store)
        report.results.append(result)
        if progress is not None:
            progress(done + 1, len(files), path, result)
    return report
