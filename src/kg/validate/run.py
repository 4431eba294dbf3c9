"""Validate what is in the store and keep the reports beside the data (see the package documentation)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.rdf.namespaces import ID
from kg.store.base import Store
from kg.store.oxigraph import CATALOG, CATALOG_GRAPH, FormGraphRecord, OxigraphStore, graphs_to_quads
from kg.validate.catalog import ShapeCatalog, load_catalog
from kg.validate.engine import FormOutcome, run_sparql_checks, validate_many
from kg.validate.findings import Finding, FormContext, sort_findings
from kg.validate.report import (
    ACROSS_FORMS,
    RULES_GRAPH,
    Report,
    form_key,
    report_graph_iri,
    report_terms,
    report_to_graph,
    rules_graph,
)

DERIVED_PREFIX = f"{ID}derived/"
ENGINES = ("compiled", "pyshacl")


class EngineError(ValueError):
    """An engine that cannot run on this store (the compiled engine needs the embedded Oxigraph store)."""


def default_engine(store: Store) -> str:
    """`compiled` on the embedded Oxigraph store; `pyshacl` elsewhere (a remote store evaluates SPARQL by
    its own rules, which the compiled queries are not proven against)."""
    return "compiled" if isinstance(store, OxigraphStore) else "pyshacl"


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
    # seconds per step: pyshacl: read, forms, across, save; compiled: select, query, contexts, across, save
    timings: dict[str, float] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)  # compiled: seconds per query, for profiling


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
    engine: str | None = None,
) -> ValidationRun:
    """Validate the selected forms (default: all) per form graph, run the across-forms checks over the whole
    store, and (`save`) replace the stored reports: each validated form's, the across-forms one, the rules.

    `engine`: `compiled` (the Core shapes as SPARQL over the store, `kg.validate.compiled`; the default on
    the embedded store) or `pyshacl` (each form graph read out and validated by pySHACL, in `jobs` worker
    processes; the default on a remote store). Both give the same findings."""
    started = mark = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[step], mark = now - mark, now

    engine = engine if engine is not None else default_engine(store)
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "compiled" and not isinstance(store, OxigraphStore):
        raise EngineError(
            f"the compiled engine runs on the embedded Oxigraph store only, not on {store.location}: "
            "use --engine pyshacl"
        )
    catalog = catalog if catalog is not None else load_catalog()
    records = select_graphs(store, selectors)
    queries: dict[str, float] = {}
    if engine == "compiled":
        lap("select")
        outcomes = _compiled(
            store, records, catalog, whole_store=not selectors, timings=timings, queries=queries
        )
        mark = time.perf_counter()
        if progress is not None:
            progress(len(outcomes), len(outcomes))
    else:
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
        queries=queries,
    )


def _compiled(
    store: Store,
    records: Sequence[FormGraphRecord],
    catalog: ShapeCatalog,
    *,
    whole_store: bool,
    timings: dict[str, float],
    queries: dict[str, float],
) -> list[FormOutcome]:
    """The compiled engine's outcomes; its steps (query, contexts) go into `timings`, the seconds of each
    of its queries into `queries`."""
    from kg.validate.compiled import validate_graphs

    run = validate_graphs(store.query, [str(r.graph) for r in records], catalog, whole_store=whole_store)
    timings.update(run.timings)
    queries.update(run.queries)
    return run.outcomes


def save_reports(
    store: Store, reports: Sequence[Report], catalog: ShapeCatalog, created: datetime, *, prune: bool
) -> None:
    """Replace each report's graph (kept out of the default graph), and the rules graph. `prune` also drops
    the reports of forms no longer in the store (after a whole-store validation).

    On the embedded store all of it is one update request (one transaction: the reports of a run are
    replaced together or not at all), written as `replace_derived` would write each report; elsewhere
    one `replace_derived` per report."""
    if isinstance(store, OxigraphStore):
        store.update(batched_update(store, reports, catalog, created, prune=prune))
    else:
        save_reports_each(store, reports, catalog, created, prune=prune)


def save_reports_each(
    store: Store, reports: Sequence[Report], catalog: ShapeCatalog, created: datetime, *, prune: bool
) -> None:
    """`save_reports` as one `replace_derived` per report (any store)."""
    for report in reports:
        graph: Graph = report_to_graph(report, created)
        store.replace_derived(
            f"report/{report.key}", [(report_graph_iri(report.key), graph)], in_default_graph=False
        )
    store.replace_derived(
        "report/rules", [(RULES_GRAPH, rules_graph(catalog.rules.values()))], in_default_graph=False
    )
    if prune:
        for name in _pruned(store, stored_report_names(store)):
            store.replace_derived(name, [], in_default_graph=False)


def _pruned(store: Store, names: Sequence[str]) -> list[str]:
    """The stored reports of forms that are no longer in the store."""
    forms = {str(record.graph)[len(f"{ID}graph/") :] for record in store.form_graphs()}  # <stem>/<index>
    return [
        name
        for name in names
        if (key := name[len("report/") :]) not in forms and key not in (ACROSS_FORMS, "rules")
    ]


def batched_update(
    store: Store, reports: Sequence[Report], catalog: ShapeCatalog, created: datetime, *, prune: bool
) -> str:
    """One SPARQL update doing what `replace_derived(f"report/{key}", …, in_default_graph=False)` does for
    every report and the rules (and, with `prune`, for the reports of forms gone): drop the graphs
    catalogued under those names and the new graphs, with their catalog entries, then insert the new graphs
    and their `kgcat:derivedFrom` entries."""
    catalog_graph = f"<{CATALOG_GRAPH}>"
    derived_from = f"<{CATALOG.derivedFrom}>"
    new: dict[str, tuple[URIRef, Iterable[tuple[object, object, object]]]] = {
        f"report/{report.key}": (report_graph_iri(report.key), report_terms(report, created))
        for report in reports
    }
    rules = rules_graph(catalog.rules.values())
    new["report/rules"] = (
        RULES_GRAPH,
        [(q.subject, q.predicate, q.object) for q in graphs_to_quads([(RULES_GRAPH, rules)])],
    )
    stored = _stored_report_graphs(store)
    names = set(new) | (set(_pruned(store, sorted({name for _, name in stored}))) if prune else set())
    # Only graphs that are there: a DROP of a missing graph changes nothing, yet 10,000 of them in the
    # request made its insert of a first validation's reports take twice as long.
    catalogued = {graph for graph, _ in stored}
    dropped = {graph for graph, name in stored if name in names} | {
        str(graph)
        for graph, _ in new.values()
        if str(graph) in catalogued or store.contains_graph(str(graph))
    }
    operations = [
        f"DROP SILENT GRAPH <{graph}> ;\nDELETE WHERE {{ GRAPH {catalog_graph} {{ <{graph}> ?p ?o }} }}"
        for graph in sorted(dropped)
    ]
    data = []
    entries = []
    for name, (graph, triples) in sorted(new.items()):
        text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
        data.append(f"GRAPH <{graph}> {{\n{text}}}")
        if text:
            entries.append(f"<{graph}> {derived_from} <{ID}derived/{name}> .\n")
    data.append(f"GRAPH {catalog_graph} {{\n" + "".join(entries) + "}")
    operations.append("INSERT DATA {\n" + "\n".join(data) + "\n}")
    return " ;\n".join(operations)


def _stored_report_graphs(store: Store) -> list[tuple[str, str]]:
    """(graph IRI, derived-graph name) of the stored report graphs."""
    result = store.query(
        f"SELECT ?g ?node WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{CATALOG.derivedFrom}> ?node }} "
        f'FILTER (STRSTARTS(STR(?node), "{DERIVED_PREFIX}report/")) }}'
    )
    assert isinstance(result, ox.QuerySolutions)
    return [(s["g"].value, s["node"].value[len(DERIVED_PREFIX) :]) for s in result]


def stored_report_names(store: Store) -> list[str]:
    """Derived-graph names of the stored reports: `report/<file-stem>/<index>`, `report/across-forms` …"""
    result = store.query(
        f"SELECT DISTINCT ?node WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{CATALOG.derivedFrom}> ?node }} "
        f'FILTER (STRSTARTS(STR(?node), "{DERIVED_PREFIX}report/")) }}'
    )
    assert isinstance(result, ox.QuerySolutions)
    return sorted(solution["node"].value[len(DERIVED_PREFIX) :] for solution in result)
