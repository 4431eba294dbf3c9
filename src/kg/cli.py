"""The `kg` command line: ingest source files into the store, list forms, query, export, serve.

Exit status: 0 success; 1 failure (a file did not load, the store cannot be opened, I/O error);
2 usage error (bad option, unknown named query or parameter, SPARQL syntax error).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TextIO

import pyoxigraph as ox

from kg.distributed import DaskUnavailableError
from kg.ingest import FileResult, ingest_paths
from kg.link import LinkReport
from kg.rdf.named_queries import NamedQuery, load_named_queries
from kg.store import Store, open_store, store_spec
from kg.store.oxigraph import (
    EXPORT_FORMATS,
    EXPORT_PREFIXES,
    QueryError,
    StoreError,
)
from kg.synth import cli as synth_cli
from kg.validate import commands as validation
from kg.validate.findings import StaleGraphError
from kg.validate.run import EngineError, SelectionError

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
open it. --store also takes a remote SPARQL store: virtuoso://HOST:PORT (Virtuoso: isql on PORT for bulk
loads, SPARQL over HTTP on port 8890) or http(s)://HOST/sparql; credentials from KG_REMOTE_USER and
KG_REMOTE_PASSWORD (see README, Remote store)."""

MAIN_EPILOG = """\
examples:
  kg ingest data/                      load every *.txt below data/ (re-loading replaces a file's forms)
  kg link                              recompute lineages and the unit and legal-basis registries
  kg forms --year 2024                 list the loaded forms of fiscal year 2024
  kg query --name forms --format csv   run the named query queries/forms.rq, CSV to stdout
  kg query 'SELECT (COUNT(*) AS ?n) WHERE { ?f a kg:SelfEvaluation }'
  kg export --format nq -o dump.nq     every form graph and the catalog as N-Quads
  kg validate --format html -o r.html  check every form against the compliance rules (SHACL)
  kg check-ontology data/              HermiT consistency of the ontology with the seed forms
  kg --store /tmp/kg ingest data/      use another store
  kg --store virtuoso://127.0.0.1:1111 ingest data/   a Virtuoso server (scripts/virtuoso start)

Run `kg COMMAND --help` for each command's options and examples."""

INGEST_DESCRIPTION = """\
Parse source files and load their forms, one named graph per form. Folders are searched recursively
for *.txt files (hidden files and folders are skipped; other files such as data/lineage-overrides.csv
are not forms); a file named explicitly is read whatever its extension. Each file is loaded in one
transaction: a file that was loaded before is replaced as a whole; a file that fails to parse adds
nothing, keeps what it loaded before, and the other files still load. Several files new to an Oxigraph
store (a fresh store, say) are loaded faster, together: each is reported "parsed" as it is read, and one
bulk load, running alongside, takes them all ("loading N quads …" once all are parsed), into a copy of
the store that takes its place only if the load succeeds. When anything loaded, the lineages and
registries are recomputed from all loaded forms, as `kg link` does.

Progress goes to stderr, the per-file summary to stdout. Exit status 1 when any file failed; each error
is printed as `error: FILE:LINE: expected …`. With --validate the forms of the loaded files are then
checked against the compliance rules and their reports stored, as `kg validate --form FILE` does; a
count per file and severity is printed."""

INGEST_EPILOG = """\
examples:
  kg ingest data/                          every *.txt file below data/
  kg ingest data/001_5d49eaeac9110deb.txt  one file (replaces its forms if loaded before)
  kg --store var/test ingest a.txt b.txt   into another store
  kg ingest --validate data/               load, then validate what was loaded"""

LINK_DESCRIPTION = """\
Recompute, from every loaded form, what joins the forms across years (see kg.link):
  lineages   the project-years that are one continuing project (names drift between years), each link
             with its evidence (same unit, name and core-name similarity, shared indicators, closeness
             of funds, prior-year figures) and a confidence; the prior-year figures of target tables as
             funding facts of the previous year
  units      one organization per real unit, with aliases, and org:subOrganizationOf to the department
  legal      one resource per cited document (normalised 文号, titles, kind) and every citing form
They are stored as derived graphs that join the default graph, replacing the previous ones; `kg ingest`
runs this after loading. Curated overrides (confirm, reject or add a link) win over the algorithm: the
CSV data/lineage-overrides.csv (or $KG_LINEAGE_OVERRIDES, or --overrides FILE; format in the file).

Prints the links (earlier and later project-year, confidence, method) and a summary; the named queries
lineages, budget-series, indicator-history, projects-by-legal-basis and unit-totals read the result."""

LINK_EPILOG = """\
examples:
  kg link                                  recompute with data/lineage-overrides.csv
  kg link --overrides my-overrides.csv     with another overrides file
  kg link --no-overrides                   the algorithm alone
  kg link --evidence                       also print every link's signals
  kg query --name lineages                 then look at the result"""

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
Serve the store over HTTP until Ctrl-C: a SPARQL 1.1 Protocol endpoint (/sparql; /update with a bearer
token when KG_UPDATE_TOKEN is set), the named queries (/queries), web pages (/: query editor, projects,
legal bases, validation findings) and OpenAPI docs (/docs). The default graph is the merge of all form
graphs. Queries run in worker processes and are stopped at the time limit (503); SERVICE, LOAD and
graphs outside the store are refused (400). The service holds the store: `kg ingest` waits for it to stop.

Options override the environment (KG_HOST, KG_PORT, KG_QUERY_TIMEOUT, KG_MAX_ROWS, KG_MAX_REQUEST_BYTES,
KG_WORKERS, KG_CORS_ORIGINS, KG_SOURCE_DIRS; the token only from KG_UPDATE_TOKEN); see kg.server.settings."""

SERVE_EPILOG = """\
examples:
  kg serve                                    http://127.0.0.1:8000/
  kg serve --port 8080 --timeout 10 --workers 2
  KG_UPDATE_TOKEN=$(openssl rand -hex 16) kg serve   with SPARQL Update at /update
  kg serve --host 0.0.0.0 --cors-origin https://example.org"""


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
        metavar="STORE",
        help=f"store directory, or virtuoso://HOST:PORT or http(s)://…/sparql (default: ${STORE_ENV}, "
        f"else {DEFAULT_STORE})",
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
    ingest.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="parse and map files in N worker processes; the store is written in file order (default: 1)",
    )
    ingest.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="parse and map files on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786); "
        "needs dask[distributed] (pip install 'jixiao-kg[scale]')",
    )
    ingest.add_argument(
        "--validate", action="store_true", help="validate the loaded forms and store their reports"
    )

    link = commands.add_parser(
        "link",
        help="recompute lineages and the unit and legal-basis registries",
        description=LINK_DESCRIPTION,
        epilog=LINK_EPILOG,
        formatter_class=_FORMATTER,
    )
    overrides = link.add_mutually_exclusive_group()
    overrides.add_argument(
        "--overrides",
        type=Path,
        metavar="FILE",
        help="curated overrides CSV (default: data/lineage-overrides.csv)",
    )
    overrides.add_argument("--no-overrides", action="store_true", help="ignore curated overrides")
    link.add_argument("--evidence", action="store_true", help="print the signals of every link")

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
        help="serve the store over HTTP: SPARQL endpoint, named queries, web pages",
        description=SERVE_DESCRIPTION,
        epilog=SERVE_EPILOG,
        formatter_class=_FORMATTER,
    )
    serve.add_argument("--host", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: 8000)")
    serve.add_argument(
        "--store", dest="serve_store", metavar="STORE", help="the store (as kg --store)"
    )
    serve.add_argument("--workers", type=int, help="query worker processes (default: 4)")
    serve.add_argument("--timeout", type=float, help="seconds a query or update may run (default: 30)")
    serve.add_argument("--max-rows", type=int, help="rows or triples per answer at most (default: 100000)")
    serve.add_argument("--max-request-bytes", type=int, help="request body size limit (default: 1048576)")
    serve.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="allow this origin (repeatable; * for any)"
    )
    validation.add_parsers(commands, _FORMATTER)
    synth_cli.add_parser(commands, _FORMATTER)
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
    """`[####....] 3/4 path` on stderr: redrawn in place on a terminal, one line per file otherwise; other
    steps (`note`: the bulk load after the files are parsed) on lines of their own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0  # width of the bar drawn on the current line (terminal), 0 once it is ended

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
                self._last = 0
        elif result is not None:
            self.stream.write(bar + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A line of its own (below the bar if one is being drawn)."""
        if self.tty and self._last:
            self.stream.write("\n")
            self._last = 0
        self.stream.write(message + "\n")
        self.stream.flush()


# ----------------------------------------------------------------------------- commands


def _store_path(args: argparse.Namespace) -> Path | str:
    """The store to use: --store, else $KG_STORE, else ./var/store (a Path; a remote address as text)."""
    return store_spec(args.store)


def _open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    return open_store(_store_path(args), create=create)


def cmd_ingest(args: argparse.Namespace) -> int:
    with _open_store(args, create=True) as store:
        try:
            bar = ProgressBar(sys.stderr)
            report = ingest_paths(
                args.paths, store, bar, workers=max(1, args.workers), dask=args.dask, notify=bar.note
            )
        except DaskUnavailableError as err:
            raise StoreError(str(err)) from err
        if not report.results:
            raise UsageError("no files to ingest in " + ", ".join(str(p) for p in args.paths))
        rows = [[str(r.path), str(r.forms), str(r.triples), r.status] for r in report.results]
        summary = f"{len(report.loaded)} loaded, {len(report.failed)} failed"
        rows.append([f"total ({len(report.results)} files)", str(report.forms), str(report.triples), summary])
        sys.stdout.write(render_table(["file", "forms", "triples", "status"], rows, max_cell=100))
        linked = _link(store, None, use_default=True, quiet_unmatched=True) if report.loaded else None
        graphs = len(store.form_graphs())
        sys.stdout.write(
            f"store {store.location}: {len(store.files())} files, {graphs} form graphs, "
            f"{store.count_triples()} triples\n"
        )
        if linked is not None:
            sys.stdout.write(linked.summary() + "\n")
        if args.validate:
            validation.validate_ingested(store, [result.file for result in report.loaded], sys.stdout)
    sys.stdout.flush()
    for result in report.failed:
        sys.stderr.write(f"error: {result.error}\n")
    return EXIT_OK if report.ok else EXIT_FAILURE


def _link(
    store: Store, overrides: Path | None, *, use_default: bool, quiet_unmatched: bool = False
) -> LinkReport:
    """Recompute the derived graphs; warnings (overrides that name no loaded form …) go to stderr, those
    about forms not loaded as one line when `quiet_unmatched` (ingest may load another corpus)."""
    from kg.link import link_store
    from kg.link.lineage import NO_MATCH
    from kg.link.overrides import OverrideError

    try:
        linked = link_store(store, overrides, use_default=use_default)
    except OverrideError as err:
        raise UsageError(str(err)) from err
    unmatched = [warning for warning in linked.warnings if quiet_unmatched and NO_MATCH in warning]
    for warning in linked.warnings:
        if warning not in unmatched:
            sys.stderr.write(f"warning: {warning}\n")
    if unmatched:
        sys.stderr.write(
            f"note: {len(unmatched)} lineage overrides name no loaded form (`kg link` lists them)\n"
        )
    return linked


def cmd_link(args: argparse.Namespace) -> int:
    if args.overrides is not None and not args.overrides.is_file():
        raise UsageError(f"overrides file not found: {args.overrides}")
    with _open_store(args) as store:
        linked = _link(store, args.overrides, use_default=not args.no_overrides)
    rows = []
    for lineage in linked.lineages:
        for link in lineage.links:
            earlier, later = link.candidate.earlier, link.candidate.later
            row = [
                f"{earlier.year} {earlier.title}",
                f"{later.year} {later.title}",
                str(link.confidence),
                link.method,
            ]
            if args.evidence:
                row.append(
                    " ".join(
                        f"{s.code}={s.value if s.value is not None else '-'}" for s in link.candidate.signals
                    )
                )
            rows.append(row)
    headers = ["earlier", "later", "confidence", "method", *(["evidence"] if args.evidence else [])]
    sys.stdout.write(render_table(headers, rows, max_cell=100 if args.evidence else TABLE_CELL_WIDTH))
    sys.stdout.write(linked.summary() + "\n")
    return EXIT_OK


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
    columns: NamedQuery | None = None
    if args.name is not None:
        named = columns = _named_query(args.name)
        text = named.text
        substitutions = _substitutions(named, values)
    else:
        text = _read_sparql(args.sparql)
        substitutions = {name: _guess_term(value) for name, value in values.items()}
    with _open_store(args) as store:
        results = store.query(text, substitutions)
        try:
            write_results(results, args.format, sys.stdout, columns)
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


def write_results(results: object, fmt: str, out: TextIO, named: NamedQuery | None = None) -> None:
    """Print SELECT / ASK / CONSTRUCT results in `fmt` (table, csv or json); for a named query, only its
    output columns (`NamedQuery.output_columns`: parameters projected only to be bound are left out)."""
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
    variables = [variable.value for variable in results.variables]
    headers = named.output_columns(variables) if named is not None else variables
    if fmt == "json":
        data = results.serialize(format=ox.QueryResultsFormat.JSON) or b""
        if headers != variables:
            data = _json_columns(data, headers)
        _write_bytes(out, data, newline=True)
        return
    rows = [[term_text(solution[h]) for h in headers] for solution in results]
    if fmt == "csv":
        write_csv(out, headers, rows)
    else:
        out.write(render_table(headers, rows))
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _json_columns(data: bytes, columns: Sequence[str]) -> bytes:
    """SPARQL JSON results reduced to `columns` (head and bindings)."""
    document = json.loads(data)
    document["head"]["vars"] = list(columns)
    document["results"]["bindings"] = [
        {name: value for name, value in binding.items() if name in columns}
        for binding in document["results"]["bindings"]
    ]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        with _open_store(args) as store, _text_output(args.output) as out:
            status = validation.run_validate(args, store, out)
    except (SelectionError, EngineError) as err:
        raise UsageError(str(err)) from err
    except StaleGraphError as err:
        raise StoreError(str(err)) from err
    if args.output is not None:
        sys.stderr.write(f"wrote {args.output}\n")
    return status


def cmd_check_ontology(args: argparse.Namespace) -> int:
    try:
        return validation.run_check_ontology(args, sys.stdout)
    except SelectionError as err:
        raise UsageError(str(err)) from err


@contextlib.contextmanager
def _text_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def cmd_serve(args: argparse.Namespace) -> int:
    from kg.server.main import serve  # FastAPI and uvicorn only for this command

    return serve(args, store_spec(args.serve_store) if args.serve_store else _store_path(args))


COMMANDS = {
    "ingest": cmd_ingest,
    "link": cmd_link,
    "forms": cmd_forms,
    "query": cmd_query,
    "export": cmd_export,
    "serve": cmd_serve,
    "validate": cmd_validate,
    "check-ontology": cmd_check_ontology,
    "bench-corpus": synth_cli.cmd_bench_corpus,
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
