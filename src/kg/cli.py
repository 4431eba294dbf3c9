"""The `kg` command line: ingest source files into the store, list forms, query, export, serve.

Exit status: 0 success; 1 failure (a file did not load, the store cannot be opened, I/O error);
2 usage error (bad option, unknown named query or parameter, SPARQL syntax error).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TextIO

import pyoxigraph as ox

from kg.ingest import FileResult, ingest_paths
from kg.rdf.named_queries import NamedQuery, load_named_queries
from kg.store.oxigraph import (
    EXPORT_FORMATS,
    EXPORT_PREFIXES,
    OxigraphStore,
    QueryError,
    StoreError,
)

DEFAULT_STORE = Path("var/store")
STORE_ENV = "KG_STORE"
TABLE_CELL_WIDTH = 60
BAR_WIDTH = 20
FORMS_COLUMNS = ("file", "form_index", "form_type", "year", "project")
EXPORT_CSV_QUERY = "indicators"

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in the command line (exit status 2)."""


# ----------------------------------------------------------------------------- parser

_FORMATTER = argparse.RawDescriptionHelpFormatter

MAIN_DESCRIPTION = """\
jixiao-kg: a knowledge graph of Chinese public-budget project performance forms (绩效目标表,
绩效目标申报表, 绩效自评表). Source files are parsed, mapped to RDF (one named graph per form) and kept in
an embedded Oxigraph store that you can query with SPARQL.

The store is a directory: --store PATH, else $KG_STORE, else ./var/store. One process at a time can
open it."""

MAIN_EPILOG = """\
examples:
  kg ingest data/                      load every file below data/ (re-loading replaces a file's forms)
  kg forms --year 2024                 list the loaded forms of fiscal year 2024
  kg query --name forms --format csv   run the named query queries/forms.rq, CSV to stdout
  kg query 'SELECT (COUNT(*) AS ?n) WHERE { ?f a kg:SelfEvaluation }'
  kg export --format nq -o dump.nq     every form graph and the catalog as N-Quads
  kg --store /tmp/kg ingest data/      use another store

Run `kg COMMAND --help` for each command's options and examples."""

INGEST_DESCRIPTION = """\
Parse source files and load their forms, one named graph per form. Folders are searched recursively
(hidden files and *.md are skipped). Each file is loaded in one transaction: a file that was loaded
before is replaced as a whole; a file that fails to parse adds nothing, keeps what it loaded before, and
the other files still load.

Progress goes to stderr, the per-file summary to stdout. Exit status 1 when any file failed; each error
is printed as `error: FILE:LINE: expected …`."""

INGEST_EPILOG = """\
examples:
  kg ingest data/                          every file below data/
  kg ingest data/001_5d49eaeac9110deb.txt  one file (replaces its forms if loaded before)
  kg --store var/test ingest a.txt b.txt   into another store"""

FORMS_DESCRIPTION = """\
List the loaded forms (file, form_index, form_type, year, project), in file order. Runs the named query
`forms` (queries/forms.rq); use `kg query --name forms` for all of its columns."""

FORMS_EPILOG = """\
examples:
  kg forms
  kg forms --year 2024 --type self_evaluation
  kg forms --file 002_0ba3e1b3e0c621eb.txt"""

QUERY_DESCRIPTION = """\
Run a SPARQL query, given as text, `-` (read stdin) or `@FILE.rq`, or a named query from queries/ with
--name. The default graph is the merge of all form graphs; GRAPH ?g { … } reaches single forms. The
prefixes kg:, id:, prov:, dcterms:, skos:, org:, eli:, qudt:, rdf:, rdfs:, owl:, xsd:, time: and kgcat:
are predeclared.

--param NAME=VALUE binds the variable ?NAME before evaluation (never pasted into the text). Named query
parameters are typed by the query's header; for other queries an integer value becomes an xsd:integer,
anything else a plain string. Oxigraph only binds variables the SELECT clause lists.

Formats: table (aligned text, long cells clipped), csv (RFC 4180 with a header row; literals as their
lexical form, IRIs as IRIs), json (SPARQL 1.1 Query Results JSON). ASK prints true/false (json: the
results JSON); CONSTRUCT/DESCRIBE print Turtle (csv: subject,predicate,object; json: JSON-LD)."""

QUERY_EPILOG = """\
examples:
  kg query --list                                       named queries and their parameters
  kg query --name forms
  kg query --name indicators --param year=2024 --param form_type=self_evaluation --format csv
  kg query 'SELECT ?p ?y WHERE { ?f a kg:TargetTable ; dcterms:title ?p ; kg:fiscalYear ?y }'
  kg query @my-query.rq --format json
  echo 'ASK { ?f kg:grade "优" }' | kg query -"""

EXPORT_DESCRIPTION = """\
Write the store to a file or stdout:
  nq      N-Quads: every form graph and the catalog graph (one quad per line)
  trig    TriG: the same, with prefixes
  jsonld  JSON-LD (expanded): the same
  ttl     Turtle: the merge of the form graphs (the default graph), no catalog
  csv     the named query `indicators` as CSV (one row per indicator, RFC 4180)"""

EXPORT_EPILOG = """\
examples:
  kg export --format nq -o var/dump.nq
  kg export --format ttl > forms.ttl
  kg export --format csv -o indicators.csv"""

SERVE_DESCRIPTION = """\
Serve the store over HTTP (SPARQL endpoint and API). Not implemented yet: the service comes in a later
issue; for now this prints a notice and exits 0."""

SERVE_EPILOG = """\
examples:
  kg serve
  kg serve --host 0.0.0.0 --port 8080"""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kg", description=MAIN_DESCRIPTION, epilog=MAIN_EPILOG, formatter_class=_FORMATTER
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help=f"store directory (default: ${STORE_ENV}, else {DEFAULT_STORE})",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="load source files or folders into the store",
        description=INGEST_DESCRIPTION,
        epilog=INGEST_EPILOG,
        formatter_class=_FORMATTER,
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="source file or folder")

    forms = commands.add_parser(
        "forms",
        help="list the loaded forms",
        description=FORMS_DESCRIPTION,
        epilog=FORMS_EPILOG,
        formatter_class=_FORMATTER,
    )
    forms.add_argument("--file", help="only forms of this source file (base name)")
    forms.add_argument("--year", type=int, help="only forms of this fiscal year")
    forms.add_argument(
        "--type",
        dest="form_type",
        choices=("target_table", "target_declaration", "self_evaluation"),
        help="only forms of this type",
    )

    query = commands.add_parser(
        "query",
        help="run a SPARQL query or a named query",
        description=QUERY_DESCRIPTION,
        epilog=QUERY_EPILOG,
        formatter_class=_FORMATTER,
    )
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("sparql", nargs="?", metavar="SPARQL", help="query text, - for stdin, or @FILE.rq")
    source.add_argument("--name", help="run the named query NAME from queries/")
    source.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    query.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="bind ?NAME to VALUE (repeatable)",
    )
    query.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")

    export = commands.add_parser(
        "export",
        help="write the store as N-Quads, TriG, Turtle, JSON-LD or CSV",
        description=EXPORT_DESCRIPTION,
        epilog=EXPORT_EPILOG,
        formatter_class=_FORMATTER,
    )
    export.add_argument("--format", required=True, choices=(*EXPORT_FORMATS, "csv"))
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")

    serve = commands.add_parser(
        "serve",
        help="serve the store over HTTP (coming in a later issue)",
        description=SERVE_DESCRIPTION,
        epilog=SERVE_EPILOG,
        formatter_class=_FORMATTER,
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jixiao-kg")
    except PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------- text output


def display_width(text: str) -> int:
    """Terminal columns of `text` (CJK characters take two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def clip(text: str, width: int) -> str:
    """`text` on one line, cut with … to at most `width` columns."""
    text = re.sub(r"[\t\r\n]+", " ", text)
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + "…"


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], max_cell: int = TABLE_CELL_WIDTH
) -> str:
    """Aligned text table; numeric columns are right-aligned, long cells clipped."""
    cells = [[clip(value, max_cell) for value in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    numeric = [
        bool(column) and all(_NUMBER.match(v) for v in column if v) and any(column)
        for column in ([row[i] for row in cells] for i in range(len(headers)))
    ]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - display_width(value))
            parts.append(pad + value if numeric[i] else value + pad)
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    return "\n".join(out) + "\n"


def term_text(term: object) -> str:
    """A result value as plain text: a literal's lexical form, an IRI as is, a blank node as _:id."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


class ProgressBar:
    """`[####....] 3/4 path` on stderr: redrawn in place on a terminal, one line per file otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0

    def __call__(self, done: int, total: int, path: Path, result: FileResult | None) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {path}"
        if result is not None:
            bar += f" {result.status}"
        if self.tty:
            padding = " " * max(0, self._last - display_width(bar))
            self.stream.write(f"\r{bar}{padding}")
            self._last = display_width(bar)
            if result is not None and done == total:
                self.stream.write("\n")
        elif result is not None:
            self.stream.write(bar + "\n")
        self.stream.flush()


# ----------------------------------------------------------------------------- commands


def _store_path(args: argparse.Namespace) -> Path:
    if args.store is not None:
        return Path(args.store)
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else DEFAULT_STORE


def _open_store(args: argparse.Namespace, *, create: bool = False) -> OxigraphStore:
    path = _store_path(args)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return OxigraphStore(path, create=create)


def cmd_ingest(args: argparse.Namespace) -> int:
    with _open_store(args, create=True) as store:
        report = ingest_paths(args.paths, store, ProgressBar(sys.stderr))
        if not report.results:
            raise UsageError("no files to ingest in " + ", ".join(str(p) for p in args.paths))
        rows = [[str(r.path), str(r.forms), str(r.triples), r.status] for r in report.results]
        summary = f"{len(report.loaded)} loaded, {len(report.failed)} failed"
        rows.append([f"total ({len(report.results)} files)", str(report.forms), str(report.triples), summary])
        sys.stdout.write(render_table(["file", "forms", "triples", "status"], rows, max_cell=100))
        graphs = len(store.form_graphs())
        sys.stdout.write(
            f"store {store.path}: {len(store.files())} files, {graphs} form graphs, "
            f"{store.count_triples()} triples\n"
        )
    sys.stdout.flush()
    for result in report.failed:
        sys.stderr.write(f"error: {result.error}\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def _named_query(name: str) -> NamedQuery:
    queries = load_named_queries()
    if name not in queries:
        raise UsageError(f"unknown named query {name!r}; known: {', '.join(queries) or 'none'}")
    return queries[name]


def _parse_params(params: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        name = name.strip().lstrip("?$")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UsageError(f"bad --param {item!r}: expected NAME=VALUE, e.g. --param year=2024")
        values[name] = value
    return values


def _guess_term(value: str) -> object:
    return int(value) if re.fullmatch(r"[+-]?\d+", value) else value


def _read_sparql(argument: str) -> str:
    if argument == "-":
        return sys.stdin.read()
    if argument.startswith("@"):
        path = Path(argument[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read query file {path}: {err.strerror or err}") from err
    return argument


def cmd_forms(args: argparse.Namespace) -> int:
    named = _named_query("forms")
    values = {
        key: str(value)
        for key, value in (("file", args.file), ("year", args.year), ("form_type", args.form_type))
        if value is not None
    }
    with _open_store(args) as store:
        results = store.query(named.text, _substitutions(named, values))
        assert isinstance(results, ox.QuerySolutions)
        rows = [[term_text(solution[column]) for column in FORMS_COLUMNS] for solution in results]
    sys.stdout.write(render_table(FORMS_COLUMNS, rows))
    sys.stdout.write(f"{len(rows)} forms\n")
    return EXIT_OK


def _substitutions(named: NamedQuery, values: dict[str, str]) -> dict[str, object]:
    try:
        return {variable.value: term for variable, term in named.substitutions(values).items()}
    except ValueError as err:
        raise UsageError(str(err)) from err


def cmd_query(args: argparse.Namespace) -> int:
    if args.list:
        return _list_queries()
    values = _parse_params(args.param)
    if args.name is not None:
        named = _named_query(args.name)
        text = named.text
        substitutions = _substitutions(named, values)
    else:
        text = _read_sparql(args.sparql)
        substitutions = {name: _guess_term(value) for name, value in values.items()}
    with _open_store(args) as store:
        results = store.query(text, substitutions)
        try:
            write_results(results, args.format, sys.stdout)
        except (RuntimeError, ValueError) as err:  # evaluation errors surface while iterating
            raise QueryError(f"query evaluation failed: {err}") from err
    return EXIT_OK


def _list_queries() -> int:
    for query in load_named_queries().values():
        sys.stdout.write(f"{query.name}\n")
        if query.description:
            sys.stdout.write(f"    {query.description}\n")
        for param in query.params:
            sys.stdout.write(f"    --param {param.name}=…  ({param.type}, e.g. {param.example})\n")
    return EXIT_OK


def write_results(results: object, fmt: str, out: TextIO) -> None:
    """Print SELECT / ASK / CONSTRUCT results in `fmt` (table, csv or json)."""
    if isinstance(results, ox.QueryBoolean):
        if fmt == "json":
            _write_bytes(out, results.serialize(format=ox.QueryResultsFormat.JSON) or b"", newline=True)
        else:
            out.write("true\n" if bool(results) else "false\n")
        return
    if isinstance(results, ox.QueryTriples):
        triples = list(results)
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(["subject", "predicate", "object"])
            writer.writerows(
                [term_text(t.subject), term_text(t.predicate), term_text(t.object)] for t in triples
            )
        else:
            rdf_format = ox.RdfFormat.JSON_LD if fmt == "json" else ox.RdfFormat.TURTLE
            prefixes = None if fmt == "json" else EXPORT_PREFIXES
            _write_bytes(
                out, ox.serialize(triples, None, rdf_format, prefixes=prefixes) or b"", newline=fmt == "json"
            )
        return
    assert isinstance(results, ox.QuerySolutions)
    if fmt == "json":
        _write_bytes(out, results.serialize(format=ox.QueryResultsFormat.JSON) or b"", newline=True)
        return
    headers = [variable.value for variable in results.variables]
    rows = [[term_text(solution[h]) for h in headers] for solution in results]
    if fmt == "csv":
        write_csv(out, headers, rows)
    else:
        out.write(render_table(headers, rows))
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def write_csv(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)


def _write_bytes(out: TextIO, data: bytes, newline: bool = False) -> None:
    out.flush()
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        buffer.write(data + (b"\n" if newline else b""))
        buffer.flush()
    else:
        out.write(data.decode("utf-8") + ("\n" if newline else ""))


def cmd_export(args: argparse.Namespace) -> int:
    with _open_store(args) as store, _output(args.output) as out:
        if args.format == "csv":
            named = _named_query(EXPORT_CSV_QUERY)
            results = store.query(named.text)
            assert isinstance(results, ox.QuerySolutions)
            headers = [variable.value for variable in results.variables]
            text = io.StringIO(newline="")
            write_csv(text, headers, [[term_text(s[h]) for h in headers] for s in results])
            out.write(text.getvalue().encode("utf-8"))
        else:
            store.export(args.format, out)
    if args.output is not None:
        sys.stderr.write(f"wrote {args.output}\n")
    return EXIT_OK


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[bytes]]:
    if path is None:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        yield handle


def cmd_serve(args: argparse.Namespace) -> int:
    sys.stdout.write(
        f"kg serve: the HTTP service (SPARQL endpoint and API on http://{args.host}:{args.port}/) comes in a "
        f"later issue; nothing was started.\n"
        f"Meanwhile use `kg query` and `kg export` on the store {_store_path(args)}.\n"
    )
    return EXIT_OK


COMMANDS = {
    "ingest": cmd_ingest,
    "forms": cmd_forms,
    "query": cmd_query,
    "export": cmd_export,
    "serve": cmd_serve,
}


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `kg` command; returns the exit status."""
    _utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except UsageError as err:
        sys.stderr.write(f"kg {args.command}: error: {err}\n")
        return EXIT_USAGE
    except QueryError as err:
        sys.stderr.write(f"kg {args.command}: error: {err}\n")
        return EXIT_USAGE
    except StoreError as err:
        sys.stderr.write(f"kg {args.command}: error: {err}\n")
        return EXIT_FAILURE
    except FileNotFoundError as err:  # e.g. the queries/ directory
        sys.stderr.write(f"kg {args.command}: error: {err}\n")
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`kg export | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
