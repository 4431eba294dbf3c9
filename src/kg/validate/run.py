"""Validate what is in the store and keep the reports beside the data (see the package documentation)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.rdf.namespaces import ID
from kg.store.base import Store
from kg.store.oxigraph import CATALOG, CATALOG_GRAPH, FormGraphRecord
from kg.validate.catalog import ShapeCatalog, load_catalog
from kg.validate.engine import run_sparql_checks, validate_many
from kg.validate.findings import Finding, FormContext, sort_findings
from kg.validate.report import (
    ACROSS_FORMS,
    RULES_GRAPH,
    Report,
    form_key,
    report_graph_iri,
    report_to_graph,
    rules_graph,
)

DERIVED_PREFIX = f"{ID}derived/"


class SelectionError(ValueError):
    """A --form selector names nothing in the store."""


@dataclass(frozen=True)
class FormSelector:
    """`FILE` (every form of a source file, by base name) or `FILE#INDEX` (one form)."""

    file: str
    index: int | None = None

    @classmethod
    def parse(cls, text: str) -> FormSelector:
        match = re.fullmatch(r"(.+?)(?:#(\d+))?", text.strip())
        if match is None or not match.group(1):
            raise SelectionError(f"not a form: {text!r} (expected FILE or FILE#INDEX)")
        file = re.split(r"[\\/]", match.group(1))[-1]
        return cls(file, int(match.group(2)) if match.group(2) is not None else None)

    def __str__(self) -> str:
        return self.file if self.index is None else f"{self.file}#{self.index}"


@dataclass
class ValidationRun:
    """The outcome of one validation: the forms checked, all reports, the findings about those forms."""

    forms: list[FormContext]
    reports: list[Report]  # one per validated form, then the across-forms report (whole store)
    findings: list[Finding]  # about the validated forms, sorted
    created: datetime
    seconds: float
    stored: bool
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step: read, forms, across, save


def select_graphs(store: Store, selectors: Sequence[FormSelector] | None) -> list[FormGraphRecord]:
    """The form graphs to validate: all, or those the selectors name (SelectionError for one naming none)."""
    records = store.form_graphs()
    if not selectors:
        return records
    chosen: dict[URIRef, FormGraphRecord] = {}
    for selector in selectors:
        matching = [
            r
            for r in records
            if r.file == selector.file
            and (selector.index is None or str(r.graph).endswith(f"/{selector.index}"))
        ]
        if not matching:
            raise SelectionError(f"no form {selector} in the store (see `kg forms`)")
        chosen.update((r.graph, r) for r in matching)
    return [r for r in records if r.graph in chosen]


def read_ntriples(store: Store, graph: URIRef) -> bytes:
    """The triples of one named graph as N-Triples."""
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert isinstance(result, ox.QueryTriples)
    return result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""


def validate_store(
    store: Store,
    selectors: Sequence[FormSelector] | None = None,
    *,
    jobs: int | None = None,
    save: bool = True,
    catalog: ShapeCatalog | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationRun:
    """Validate the selected forms (default: all) per form graph, run the across-forms checks over the whole
    store, and (`save`) replace the stored reports: each validated form's, the across-forms one, the rules."""
    started = mark = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[step], mark = now - mark, now

    catalog = catalog if catalog is not None else load_catalog()
    records = select_graphs(store, selectors)
    graphs = [(str(record.graph), read_ntriples(store, record.graph)) for record in records]
    lap("read")
    outcomes = validate_many(graphs, jobs=jobs, shapes=catalog.directory, progress=progress)
    lap("forms")
    across = sort_findings(run_sparql_checks(store, catalog))
    lap("across")
    created = datetime.now(timezone.utc).replace(microsecond=0)
    reports = [
        Report(form_key(outcome.context.form), sort_findings(outcome.findings), outcome.context.graph)
        for outcome in outcomes
    ]
    reports.append(Report(ACROSS_FORMS, across))
    if save:
        save_reports(store, reports, catalog, created, prune=not selectors)
    lap("save")
    validated = {outcome.context.form for outcome in outcomes}
    findings = [finding for report in reports[:-1] for finding in report.findings]
    findings.extend(finding for finding in across if finding.form in validated)
    return ValidationRun(
        forms=[outcome.context for outcome in outcomes],
        reports=reports,
        findings=sort_findings(findings),
        created=created,
        seconds=time.perf_counter() - started,
        stored=save,
        timings=timings,
    )


def save_reports(
    store: Store, reports: Sequence[Report], catalog: ShapeCatalog, created: datetime, *, prune: bool
) -> None:
    """Replace each report's graph (kept out of the default graph), and the rules graph. `prune` also drops
    the reports of forms no longer in the store (after a whole-store validation)."""
    for report in reports:
        graph: Graph = report_to_graph(report, created)
        store.replace_derived(
            f"report/{report.key}", [(report_graph_iri(report.key), graph)], in_default_graph=False
        )
    store.replace_derived(
        "report/rules", [(RULES_GRAPH, rules_graph(catalog.rules.values()))], in_default_graph=False
    )
    if prune:
        forms = {str(record.graph)[len(f"{ID}graph/") :] for record in store.form_graphs()}  # <stem>/<index>
        for name in stored_report_names(store):
            key = name[len("report/") :]
            if key not in forms and key not in (ACROSS_FORMS, "rules"):
                store.replace_derived(name, [], in_default_graph=False)


def stored_report_names(store: Store) -> list[str]:
    """Derived-graph names of the stored reports: `report/<file-stem>/<index>`, `report/across-forms` …"""
    result = store.query(
        f"SELECT DISTINCT ?node WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{CATALOG.derivedFrom}> ?node }} "
        f'FILTER (STRSTARTS(STR(?node), "{DERIVED_PREFIX}report/")) }}'
    )
    assert isinstance(result, ox.QuerySolutions)
    return sorted(solution["node"].value[len(DERIVED_PREFIX) :] for solution in result)
