"""Running the shapes: pySHACL per form graph (in worker processes for many forms), SPARQL over the store.

Per form, pySHACL sees only that form's graph (its printed values and derived facts), with no inference,
no ontology mixed in and SHACL-AF off; the Core shapes graph is parsed and harvested once per process and
reused for every form. The SHACL-SPARQL shapes (across years) run once each over the whole store.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from kg.validate.catalog import ShapeCatalog, ShapesError, SparqlCheck, load_catalog
from kg.validate.findings import (
    Finding,
    FormContext,
    Lookup,
    Row,
    form_of,
    form_type_name,
    graph_lookup,
    resolve,
    sort_findings,
)

# Below this many forms a worker pool costs more (start-up, shapes parsing) than it saves.
POOL_THRESHOLD = 64
CHUNK_SIZE = 16


@dataclass
class FormOutcome:
    """The findings of one form graph, and what they say about the form."""

    context: FormContext
    findings: list[Finding]


# ----------------------------------------------------------------------------- one form


def validate_form_graph(graph: Graph, catalog: ShapeCatalog | None = None) -> FormOutcome:
    """Validate one form graph with the Core shapes (pySHACL, no inference) and resolve its findings."""
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.validator import Validator

    catalog = catalog if catalog is not None else load_catalog()
    context = FormContext.from_graph(graph)
    validator = Validator(
        DataGraph.from_rdflib(graph),
        shacl_graph=catalog.form_shapes,
        options={"inference": "none", "advanced": False, "inplace": True},
    )
    validator.shacl_graph = catalog.pyshacl_shapes()  # type: ignore[assignment]  # harvested once, reused
    _, report, _ = validator.run()
    lookup = graph_lookup(graph)
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        shape = catalog.shapes.get(source) if isinstance(source, URIRef) else None
        if shape is None:
            raise ShapesError(f"a result came from shape {source}, which carries no rule id")
        focus = report.value(result, SH.focusNode)
        assert focus is not None
        value = report.value(result, SH.value)
        component = report.value(result, SH.sourceConstraintComponent)
        findings.append(resolve(context, shape, focus, value, lookup, component))
    return FormOutcome(context, sort_findings(findings))


# ----------------------------------------------------------------------------- many forms


def graph_from_ntriples(data: bytes, cache: dict[object, Node] | None = None) -> Graph:
    """An rdflib graph from N-Triples bytes (parsed by Oxigraph; terms converted once per `cache`)."""
    cache = cache if cache is not None else {}
    graph = Graph()
    for triple in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
        graph.add(
            (
                to_rdflib(triple.subject, cache),
                to_rdflib(triple.predicate, cache),
                to_rdflib(triple.object, cache),
            )
        )
    return graph


def to_rdflib(term: object, cache: dict[object, Node] | None = None) -> Node:
    """The rdflib term of a pyoxigraph term, exactly (lexical form, datatype, language)."""
    if cache is not None:
        found = cache.get(term)
        if found is not None:
            return found
    converted: Node
    if isinstance(term, ox.NamedNode):
        converted = URIRef(term.value)
    elif isinstance(term, ox.Literal):
        if term.language:
            converted = Literal(term.value, lang=term.language)
        elif term.datatype.value == str(XSD.string):
            converted = Literal(term.value)
        else:
            converted = Literal(term.value, datatype=URIRef(term.datatype.value))
    elif isinstance(term, ox.BlankNode):
        converted = BNode(term.value)
    else:
        raise TypeError(f"not an RDF term: {term!r}")
    if cache is not None:
        cache[term] = converted
    return converted


def validate_ntriples(chunk: Sequence[tuple[str, bytes]], shapes: Path | None = None) -> list[FormOutcome]:
    """Validate form graphs given as (graph IRI, N-Triples bytes); what a worker process runs."""
    catalog = load_catalog(shapes)
    cache: dict[object, Node] = {}
    return [validate_form_graph(graph_from_ntriples(data, cache), catalog) for _, data in chunk]


def validate_many(
    graphs: Sequence[tuple[str, bytes]],
    *,
    jobs: int | None = None,
    shapes: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[FormOutcome]:
    """Validate many form graphs (graph IRI, N-Triples bytes), in `jobs` worker processes when there are
    enough of them (default: one per CPU); outcomes in the order given."""
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    chunks = [graphs[i : i + CHUNK_SIZE] for i in range(0, len(graphs), CHUNK_SIZE)]
    outcomes: list[FormOutcome] = []
    if jobs <= 1 or len(graphs) < POOL_THRESHOLD:
        for chunk in chunks:
            outcomes.extend(validate_ntriples(chunk, shapes))
            if progress is not None:
                progress(len(outcomes), len(graphs))
        return outcomes
    # spawn: workers must not inherit the open store (RocksDB) of this process
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for result in pool.map(validate_ntriples, chunks, [shapes] * len(chunks)):
            outcomes.extend(result)
            if progress is not None:
                progress(len(outcomes), len(graphs))
    return outcomes


# ----------------------------------------------------------------------------- across forms (SPARQL)


def run_sparql_checks(store: object, catalog: ShapeCatalog | None = None) -> list[Finding]:
    """The SHACL-SPARQL shapes, each run once over the store's default graph (the merge of the forms and
    the lineages): `$this` unbound, rows kept whose ?this is an instance of one of the shape's target
    classes; one finding per distinct (?this, ?value)."""
    catalog = catalog if catalog is not None else load_catalog()
    query: Callable[..., object] = store.query  # type: ignore[attr-defined]
    rows: list[tuple[SparqlCheck, Node, Node | None]] = []
    for check in catalog.checks:
        targets = _instances(query, check.target_classes)
        seen = set()
        solutions = _solutions(query(check.query))
        names = {variable.value for variable in solutions.variables}
        for solution in solutions:
            this, value = solution["this"], solution["value"]
            if this is None:
                continue
            focus = to_rdflib(this)
            if focus not in targets:
                continue
            value_node = to_rdflib(value) if value is not None else None
            if (focus, value_node) not in seen:
                seen.add((focus, value_node))
                rows.append((_with_bindings(check, solution, names), focus, value_node))
    if not rows:
        return []
    contexts = store_contexts(query, {form_of(focus) or str(focus) for _, focus, _ in rows})
    lookup = store_lookup(query)
    findings = []
    for check, focus, value in rows:
        context = contexts.get(form_of(focus) or str(focus))
        if context is not None:
            findings.append(resolve(context, check.shape, focus, value, lookup))
    return findings


def _with_bindings(check: SparqlCheck, solution: ox.QuerySolution, names: set[str]) -> SparqlCheck:
    """The check with its messages' {?var} / {$var} templates filled from one solution (SHACL-SPARQL)."""

    def fill(message: str) -> str:
        def value(match: re.Match[str]) -> str:
            term = solution[match.group(1)] if match.group(1) in names else None
            return term.value if isinstance(term, ox.NamedNode | ox.Literal) else match.group(0)

        return re.sub(r"\{[?$](\w+)\}", value, message)

    shape = replace(
        check.shape, message_zh=fill(check.shape.message_zh), message_en=fill(check.shape.message_en)
    )
    return replace(check, shape=shape)


def _solutions(result: object) -> ox.QuerySolutions:
    if not isinstance(result, ox.QuerySolutions):
        raise ShapesError("a SPARQL check must be a SELECT query")
    return result


def _instances(query: Callable[..., object], classes: Sequence[URIRef]) -> set[Node]:
    if not classes:
        return set()
    values = " ".join(f"<{c}>" for c in classes)
    return {
        to_rdflib(s["node"])
        for s in _solutions(query(f"SELECT ?node WHERE {{ VALUES ?c {{ {values} }} ?node a ?c }}"))
    }


def store_contexts(query: Callable[..., object], forms: Iterable[str]) -> dict[str, FormContext]:
    """Form contexts read from the store's default graph, for findings of the SPARQL checks."""
    values = " ".join(f"<{form}>" for form in sorted(forms))
    contexts: dict[str, FormContext] = {}
    for s in _solutions(
        query(
            f"""SELECT ?form ?index ?file ?title ?year ?type ?line WHERE {{
              VALUES ?form {{ {values} }}
              ?form kg:formIndex ?index .
              OPTIONAL {{ ?form prov:hadPrimarySource/dcterms:identifier ?file }}
              OPTIONAL {{ ?form dcterms:title ?title }}
              OPTIONAL {{ ?form kg:fiscalYear ?year }}
              OPTIONAL {{ ?form kg:lineStart ?line }}
              OPTIONAL {{ ?form a ?type
                          FILTER (?type IN (kg:TargetTable, kg:TargetDeclaration, kg:SelfEvaluation)) }}
            }}"""
        )
    ):
        form = _value(s["form"])
        contexts[form] = FormContext(
            form=form,
            file=_value(s["file"]),
            index=int(_value(s["index"])),
            project=_value(s["title"]),
            year=int(_value(s["year"])) if s["year"] is not None else None,
            form_type=form_type_name(to_rdflib(s["type"])) if s["type"] is not None else None,
            line=int(_value(s["line"])) if s["line"] is not None else None,
        )
    for s in _solutions(
        query(
            f"""SELECT ?form ?row ?index ?name ?line WHERE {{
              VALUES ?form {{ {values} }}
              ?form kg:hasIndicator ?row . ?row kg:indicatorIndex ?index .
              OPTIONAL {{ ?row kg:level3Name ?name }} OPTIONAL {{ ?row kg:lineStart ?line }}
            }}"""
        )
    ):
        contexts[_value(s["form"])].rows[_value(s["row"])] = Row(
            int(_value(s["index"])),
            _value(s["name"]) or None,
            int(_value(s["line"])) if s["line"] is not None else None,
        )
    return contexts


def _value(term: object) -> str:
    """The lexical form of a literal or the text of an IRI; '' for an unbound variable."""
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else ""


def store_lookup(query: Callable[..., object]) -> Lookup:
    """Objects of (subject, predicate) in the store's default graph, as rdflib terms."""

    def lookup(subject: Node, predicate: URIRef) -> list[Node]:
        if not isinstance(subject, URIRef):
            return []
        result = query(f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}")
        return [to_rdflib(s["o"]) for s in _solutions(result)]

    return lookup


__all__ = [
    "CHUNK_SIZE",
    "POOL_THRESHOLD",
    "FormOutcome",
    "graph_from_ntriples",
    "run_sparql_checks",
    "store_contexts",
    "to_rdflib",
    "validate_form_graph",
    "validate_many",
    "validate_ntriples",
]
