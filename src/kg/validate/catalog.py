"""The shapes in `shapes/*.ttl` and the rules they carry, loaded once per process.

Two kinds of shapes are told apart here: SHACL Core shapes, which pySHACL checks per form graph
(`ShapeCatalog.form_shapes`), and SHACL-SPARQL shapes (the across-years rules), which `kg.validate` runs as
one SPARQL query each over the store (`ShapeCatalog.checks`). Every shape carries its rule id
(`dcterms:identifier`), `sh:severity`, a Chinese and an English `sh:message`, and may name the property that
holds the offending value as printed (`kg:printedValueProperty`). Rules (`kg:ComplianceRule`, IRIs
`…/id/rule/<id>`) carry their title, comment and RULES.md severity.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH
from rdflib.term import Node

from kg.rdf.namespaces import ID, KG
from kg.rdf.ontology import REPO_ROOT

SHAPES_NAMESPACE = "https://w3id.org/jixiao-kg/shapes#"
SEVERITIES: dict[URIRef, str] = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
SEVERITY_ORDER = ("violation", "warning", "info")
RULE_FAMILIES = ("C", "SE", "TG", "DN", "LB", "X")


class ShapesError(ValueError):
    """The shapes files are incomplete or inconsistent (a shape without rule id, severity or message …)."""


def shapes_dir() -> Path:
    """`shapes/` of the checkout, or the folder named by KG_SHAPES_DIR."""
    return Path(os.environ.get("KG_SHAPES_DIR", REPO_ROOT / "shapes"))


def rule_sort_key(rule_id: str) -> tuple[int, int, str]:
    """RULES.md order: C, SE, TG, DN, LB, X families, then by number."""
    family, _, number = rule_id.partition("-")
    rank = RULE_FAMILIES.index(family) if family in RULE_FAMILIES else len(RULE_FAMILIES)
    return rank, int(number) if number.isdigit() else 0, rule_id


def rule_iri(rule_id: str) -> URIRef:
    return ID[f"rule/{rule_id}"]


@dataclass(frozen=True)
class Rule:
    """A compliance rule of RULES.md as declared in the shapes files."""

    id: str
    severity: str  # as RULES.md gives it; some shapes of the rule have a lighter variant
    title_zh: str
    title_en: str
    comment: str
    iri: URIRef


@dataclass(frozen=True)
class ShapeInfo:
    """What a finding needs to know about the shape it comes from."""

    iri: URIRef
    rule: str
    severity: str
    message_zh: str
    message_en: str
    path: tuple[URIRef, ...] | None  # sh:path as forward steps; None for node shapes or other paths
    printed_value: URIRef | None  # kg:printedValueProperty


@dataclass(frozen=True)
class SparqlCheck:
    """A SHACL-SPARQL shape run as one query over the store: `$this` unbound, rows kept for targets."""

    shape: ShapeInfo
    query: str  # with PREFIX lines; selects ?this and ?value
    target_classes: tuple[URIRef, ...]


class ShapeCatalog:
    """All shapes of a shapes directory, split into per-form Core shapes and store-level SPARQL checks."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = sorted(directory.glob("*.ttl"))
        if not self.files:
            raise ShapesError(f"no shapes (*.ttl) in {directory}")
        self.graph = Graph()
        for path in self.files:
            self.graph.parse(path, format="turtle")
        self.rules = _rules(self.graph)
        self.shapes = {iri: _shape_info(self.graph, iri) for iri in _reporting_shapes(self.graph)}
        unknown = sorted({info.rule for info in self.shapes.values()} - set(self.rules))
        if unknown:
            raise ShapesError(f"shapes name rules that no kg:ComplianceRule declares: {', '.join(unknown)}")
        sparql_shapes = {s for s in self.graph.subjects(SH.sparql, None) if isinstance(s, URIRef)}
        self.checks = [_sparql_check(self.graph, self.shapes[iri]) for iri in sorted(sparql_shapes)]
        self.form_shapes = _without(self.graph, sparql_shapes)
        self._pyshacl_shapes: object | None = None

    def pyshacl_shapes(self) -> object:
        """The per-form shapes as a pySHACL ShapesGraph, harvested once and reused for every form."""
        if self._pyshacl_shapes is None:
            from pyshacl.shapes_graph import ShapesGraph

            shapes = ShapesGraph(self.form_shapes)
            _ = shapes.shapes  # harvest now
            self._pyshacl_shapes = shapes
        return self._pyshacl_shapes

    def rule_ids(self) -> list[str]:
        return sorted(self.rules, key=rule_sort_key)


@cache
def load_catalog(directory: Path | None = None) -> ShapeCatalog:
    """The catalog of `directory` (default: `shapes_dir()`), parsed once per process."""
    return ShapeCatalog(directory if directory is not None else shapes_dir())


def _text(graph: Graph, subject: Node, predicate: URIRef, language: str | None = None) -> str | None:
    for value in graph.objects(subject, predicate):
        if isinstance(value, Literal) and (language is None or value.language == language):
            return str(value)
    return None


def _severity(node: Node | None) -> str | None:
    return SEVERITIES.get(node) if isinstance(node, URIRef) else None


def _rules(graph: Graph) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for node in graph.subjects(RDF.type, KG.ComplianceRule):
        rule_id = _text(graph, node, DCTERMS.identifier)
        severity = _severity(graph.value(node, KG.ruleSeverity))
        if not isinstance(node, URIRef) or rule_id is None or severity is None:
            raise ShapesError(f"rule {node} needs an IRI, dcterms:identifier and kg:ruleSeverity")
        rules[rule_id] = Rule(
            id=rule_id,
            severity=severity,
            title_zh=_text(graph, node, RDFS.label, "zh") or rule_id,
            title_en=_text(graph, node, RDFS.label, "en") or rule_id,
            comment=_text(graph, node, RDFS.comment, "zh") or "",
            iri=node,
        )
    return rules


def _reporting_shapes(graph: Graph) -> set[URIRef]:
    """Named shapes that carry a rule id: the shapes whose results are findings."""
    return {
        s
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and (s, DCTERMS.identifier, None) in graph
    }


def _shape_info(graph: Graph, shape: URIRef) -> ShapeInfo:
    rule = _text(graph, shape, DCTERMS.identifier)
    severity = _severity(graph.value(shape, SH.severity))
    message_zh, message_en = _text(graph, shape, SH.message, "zh"), _text(graph, shape, SH.message, "en")
    if rule is None or severity is None or message_zh is None or message_en is None:
        raise ShapesError(f"shape {shape} needs dcterms:identifier, sh:severity and sh:message @zh and @en")
    printed = graph.value(shape, KG.printedValueProperty)
    return ShapeInfo(
        iri=shape,
        rule=rule,
        severity=severity,
        message_zh=message_zh,
        message_en=message_en,
        path=_forward_path(graph, graph.value(shape, SH.path)),
        printed_value=printed if isinstance(printed, URIRef) else None,
    )


def _forward_path(graph: Graph, path: Node | None) -> tuple[URIRef, ...] | None:
    if isinstance(path, URIRef):
        return (path,)
    if path is None or (path, RDF.first, None) not in graph:
        return None
    steps = list(graph.items(path))
    forward = tuple(step for step in steps if isinstance(step, URIRef))
    return forward if len(forward) == len(steps) else None


def _sparql_check(graph: Graph, shape: ShapeInfo) -> SparqlCheck:
    constraint = graph.value(shape.iri, SH.sparql)
    select = _text(graph, constraint, SH.select) if constraint is not None else None
    if constraint is None or select is None:
        raise ShapesError(f"shape {shape.iri}: sh:sparql needs an sh:select query")
    prefixes = []
    for declaring in graph.objects(constraint, SH.prefixes):
        for declaration in graph.objects(declaring, SH.declare):
            prefix, namespace = graph.value(declaration, SH.prefix), graph.value(declaration, SH.namespace)
            prefixes.append(f"PREFIX {prefix}: <{namespace}>")
    query = "\n".join(prefixes) + "\n" + re.sub(r"\$this\b", "?this", select)
    targets = tuple(t for t in graph.objects(shape.iri, SH.targetClass) if isinstance(t, URIRef))
    return SparqlCheck(shape=shape, query=query, target_classes=tuple(sorted(targets)))


def _without(graph: Graph, shapes: set[URIRef]) -> Graph:
    """A copy of the shapes graph without the given shapes' own triples (their sh:sparql nodes stay inert)."""
    copy = Graph()
    for prefix, namespace in graph.namespaces():
        copy.bind(prefix, namespace)
    for triple in graph:
        if triple[0] not in shapes:
            copy.add(triple)
    return copy
