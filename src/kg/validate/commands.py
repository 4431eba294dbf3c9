"""The `kg validate`, `kg check-ontology` and `kg ingest --validate` commands (wired up in `kg.cli`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from kg.store.base import Store
from kg.validate.catalog import SEVERITY_ORDER, load_catalog
from kg.validate.findings import Finding
from kg.validate.report import counts_text, render_html, render_json, render_text, render_ttl, severity_counts
from kg.validate.run import ENGINES, FormSelector, SelectionError, ValidationRun, validate_store

FORMATS = ("text", "json", "ttl", "html")

VALIDATE_DESCRIPTION = """\
Check the loaded forms against the compliance rules (../shared/RULES.md: completeness C-01…C-07,
self-evaluation arithmetic SE-01…SE-15, target forms TG-03…TG-11, document numbers and legal bases DN-01,
DN-05, LB-01, across years X-01, X-02), written as SHACL shapes in shapes/. Each form graph is validated
on its own, as SHACL Core defines it: by default (--engine compiled, on the embedded store) the Core shapes
run as SPARQL queries over all form graphs at once, each pattern inside its form graph; --engine pyshacl
reads every form graph out and validates it with pySHACL (no inference; worker processes for many forms;
the default for a remote store). Both give the same findings. The across-years rules run as SPARQL over
the store, on the lineages `kg link` computed.

Every validated form's report is stored beside the data, replacing its previous one (named graphs
…/id/graph/report/<file-stem>/<index>, …/report/across-forms, …/report/rules; see kg.validate), unless
--no-store. --rule and --severity only choose what is printed.

Formats: text (by form, then rule, counts first, at most --limit findings per rule), json (a list of
findings with the keys rule, severity, file, form_index, project, year, indicator, message, value,
focus_node), ttl (a standard sh:ValidationReport), html (one self-contained page for reviewers).
Exit status 1 when a printed finding is a violation, 0 otherwise, 2 for a usage error."""

VALIDATE_EPILOG = """\
examples:
  kg validate                                          every loaded form, summary as text
  kg validate --form 003_f95dcf2be13289f4.txt          the forms of one source file
  kg validate --form 001_5d49eaeac9110deb.txt#10       one form (index as in `kg forms`)
  kg validate --rule SE-05 --rule SE-09 --format json  only these rules, as JSON
  kg validate --severity violation                     only violations
  kg validate --format html -o var/report.html         a page for reviewers
  kg validate --format ttl > report.ttl                the SHACL validation report
  kg validate --engine pyshacl --jobs 4                pySHACL per form graph (same findings, slower)"""

CHECK_ONTOLOGY_DESCRIPTION = """\
Check the ontology (ontology/*.ttl, merged) with the HermiT reasoner (owlready2; needs Java): it must be
consistent and every class satisfiable. Source files or folders given as PATH are parsed and mapped (with
their derived facts) and checked together with it, as instance data. On failure the unsatisfiable classes
are named; for an inconsistency, which data paths bring it. Exit status 0 when consistent and every class
is satisfiable, 1 otherwise (also when Java is missing)."""

CHECK_ONTOLOGY_EPILOG = """\
examples:
  kg check-ontology                       the ontology alone
  kg check-ontology data/                 the ontology with every seed form as data
  kg check-ontology data/003_f95dcf2be13289f4.txt --java-memory 2048"""


def add_parsers(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Add `validate` and `check-ontology` to the `kg` subcommands."""
    validate = commands.add_parser(
        "validate",
        help="check the loaded forms against the compliance rules (SHACL)",
        description=VALIDATE_DESCRIPTION,
        epilog=VALIDATE_EPILOG,
        formatter_class=formatter,
    )
    validate.add_argument(
        "--form",
        action="append",
        default=[],
        metavar="FILE[#INDEX]",
        help="only this source file's forms, or one form (repeatable; default: all)",
    )
    validate.add_argument(
        "--rule", action="append", default=[], metavar="ID", help="only this rule (repeatable)"
    )
    validate.add_argument(
        "--severity",
        action="append",
        default=[],
        choices=SEVERITY_ORDER,
        help="only this severity (repeatable)",
    )
    validate.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    validate.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    validate.add_argument(
        "--limit", type=int, default=5, metavar="N", help="text: findings per rule (default: 5)"
    )
    validate.add_argument(
        "--engine",
        choices=ENGINES,
        help="compiled (SPARQL over the store; default on the embedded store) or pyshacl (per form graph; "
        "default on a remote store)",
    )
    validate.add_argument(
        "--jobs", type=int, metavar="N", help="pyshacl: worker processes (default: one per CPU)"
    )
    validate.add_argument("--no-store", action="store_true", help="do not store the reports")

    check = commands.add_parser(
        "check-ontology",
        help="check the ontology (and data) for consistency with HermiT",
        description=CHECK_ONTOLOGY_DESCRIPTION,
        epilog=CHECK_ONTOLOGY_EPILOG,
        formatter_class=formatter,
    )
    check.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="source file or folder to add as data"
    )
    check.add_argument(
        "--java-memory", type=int, default=1024, metavar="MB", help="heap for HermiT (default: 1024)"
    )


def selected(findings: Sequence[Finding], rules: Sequence[str], severities: Sequence[str]) -> list[Finding]:
    return [
        f for f in findings if (not rules or f.rule in rules) and (not severities or f.severity in severities)
    ]


def parse_selectors(texts: Sequence[str]) -> list[FormSelector]:
    return [FormSelector.parse(text) for text in texts]


def check_rules(rules: Sequence[str]) -> None:
    known = load_catalog().rules
    unknown = [rule for rule in rules if rule not in known]
    if unknown:
        raise SelectionError(
            f"unknown rule {', '.join(unknown)}; known: {', '.join(load_catalog().rule_ids())}"
        )


def run_validate(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    """`kg validate` on an open store; SelectionError for a bad --form or --rule."""
    check_rules(args.rule)
    run = validate_store(
        store, parse_selectors(args.form), jobs=args.jobs, save=not args.no_store, engine=args.engine
    )
    findings = selected(run.findings, args.rule, args.severity)
    out.write(render(run, findings, args.format, args.limit))
    counts = severity_counts(findings)
    stored = " (reports stored)" if run.stored else ""
    sys.stderr.write(
        f"validated {len(run.forms)} forms in {run.seconds:.1f} s: {counts_text(counts)}{stored}\n"
    )
    return 1 if counts["violation"] else 0


def render(run: ValidationRun, findings: Sequence[Finding], fmt: str, limit: int = 5) -> str:
    rules = load_catalog().rules
    if fmt == "json":
        return render_json(findings)
    if fmt == "ttl":
        return render_ttl(run.reports, run.created, keep={id(f) for f in findings})
    if fmt == "html":
        return render_html(findings, run.forms, rules, run.created)
    return render_text(findings, run.forms, rules, limit)


def validate_ingested(store: Store, files: Sequence[str], out: TextIO) -> None:
    """`kg ingest --validate`: validate the forms of the files just loaded; a summary line per file."""
    if not files:
        return
    run = validate_store(store, [FormSelector(file) for file in files])
    by_file: dict[str, list[Finding]] = {file: [] for file in files}
    for finding in run.findings:
        by_file.setdefault(finding.file, []).append(finding)
    out.write("validation (reports stored; details: kg validate --form FILE):\n")
    for file, found in by_file.items():
        out.write(f"  {file}: {counts_text(severity_counts(found))}\n")


def run_check_ontology(args: argparse.Namespace, out: TextIO) -> int:
    from kg.validate.ontology_check import JavaMissingError, check_ontology, describe

    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        raise SelectionError(f"no such file or folder: {', '.join(missing)}")
    try:
        check = check_ontology(args.paths, java_memory=args.java_memory)
    except JavaMissingError as err:
        sys.stderr.write(f"kg check-ontology: error: {err}\n")
        return 1
    out.write(describe(check))
    return 0 if check.ok else 1
