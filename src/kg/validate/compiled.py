"""The compiled engine: the SHACL Core shapes of the catalog as SPARQL that Oxigraph runs over the store.

pySHACL validates one form graph at a time, after the graph has been read out of the store and parsed into
rdflib; at about ten forms a second that is what bounds a whole-store validation. Here the constraints of
the Core shapes become a few dozen SELECT queries, each evaluated once over all form graphs together, every
pattern inside `GRAPH ?g { … }`, so that a form graph is still validated on its own: a focus node, its
value nodes and everything a constraint looks at (types, compared values) come from the same named graph,
never from the merged default graph (where shared nodes, such as a source file or a legal document, would
gather the values of several forms). The results are, per form graph, exactly pySHACL's: (focus node,
value, source shape, severity, constraint component), with SHACL's multiplicity (one result per failing
value, per failing value pair for sh:lessThan…, none with a value for sh:minCount, sh:hasValue and the
qualified counts).

What is compiled (anything else in a shape is refused with `ShapesError` naming the shape, rather than
checked differently):

* targets: sh:targetClass (SHACL instances: `rdf:type/rdfs:subClassOf*` in the form graph; the subclass
  step is left out when no named graph has an rdfs:subClassOf triple) and sh:targetSubjectsOf;
* sh:path: a predicate or a sequence of predicates (inverse, alternative and repetition paths are refused);
* sh:minCount, sh:maxCount; sh:datatype (the datatype IRI, and a lexical form SPARQL can cast, for the XSD
  types SPARQL casts to; rdf:langString, rdfs:Literal); sh:class; sh:nodeKind; sh:hasValue and sh:in
  (term equality); sh:pattern with sh:flags (REGEX on STR of the value; blank nodes fail);
  sh:minInclusive, sh:minExclusive, sh:maxInclusive, sh:maxExclusive (SPARQL's comparison: numbers by
  value, decimal against integer; an incomparable value fails); sh:lessThan, sh:lessThanOrEquals (every
  value pair, incomparable pairs fail), sh:equals, sh:disjoint; sh:qualifiedValueShape with
  sh:qualifiedMinCount / sh:qualifiedMaxCount (the inner shape: value tests on the node, or on the values
  of one path, with sh:minCount 1 and sh:hasValue; not with sh:qualifiedValueShapesDisjoint);
  sh:deactivated, sh:severity.

How the queries are shaped (in Oxigraph's in-memory store a scan costs about a microsecond a row, a lookup
ten or more, and it joins the triple patterns of one basic graph pattern by a lookup per solution but
subqueries by hashing; the plans below were chosen by measuring on 1,000 forms):

* **Value checks** (value tests, value pairs, sh:equals, sh:disjoint) start from the values: each path
  step is a subquery of its own, the test is applied to the last one, and the failing values are joined
  back along the path and then with the focus nodes of the shape (?t: the target class, ?tp: the
  sh:targetSubjectsOf predicate that makes the node one). Shapes that ask the same check (the
  reckonings' `lowerBound ≤ statedValue` …) share its query.
* **Absence checks** (sh:minCount 1, sh:hasValue, sh:qualifiedMinCount 1) start from the focus nodes and
  remove those that have what is required (MINUS, a hash anti-join); all such checks of the shapes with
  the same targets are one query. An inner shape that is only an sh:in list becomes VALUES, a lookup of
  its members.
* Counts other than 1 and node shapes start from the focus nodes, one query each.

The results become findings as pySHACL's do (`kg.validate.findings.resolve`): every form's context comes
from one query over all forms; the rows of the forms with findings from one more; the triples `resolve`
looks up (about the focus nodes, values, their rows, and what a path leads to) are read in batches.

Where the engines could still part (none of it occurs in the shipped shapes or in data kg maps; the tests
compare the engines on the seeds, a synthetic corpus, every rule case and hand-made graphs for each
construct): the lexical forms SPARQL's casts accept for sh:datatype are XSD's, where rdflib's parsers
accept a little more (`" 5"^^xsd:integer`); sh:pattern is SPARQL REGEX (XPath flags, `$` only at the very
end) where pySHACL uses Python's `re` (flags i and m only); sh:lessThan… compare IRIs as incomparable
(SPARQL) where pySHACL compares their text, and compare literals of two different datatypes by SPARQL's
operators where pySHACL may fall back on comparing the datatype IRIs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal as Kind

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.rdf.namespaces import KG
from kg.store.oxigraph import to_oxigraph
from kg.validate.catalog import ShapeCatalog, ShapeInfo, ShapesError
from kg.validate.engine import FormOutcome, to_rdflib
from kg.validate.findings import (
    DETAIL_PREDICATES,
    Finding,
    FormContext,
    Row,
    StaleGraphError,
    form_type_name,
    resolve,
    row_of,
    sort_findings,
)

Query = Callable[[str], object]
Mode = Kind["values", "absence", "focus"]

# Placeholders filled when a query is run: the focus nodes of a shape, the path from a node to its classes
# (`rdf:type`, or `rdf:type/rdfs:subClassOf*` when some graph declares subclasses) and the graphs in scope
# (nothing for all of them, else `VALUES ?g { … }`).
FOCUS = "\x00focus\x00"
TYPE = "\x00type\x00"
SCOPE = "\x00scope\x00"

# Datatypes whose lexical forms SPARQL can check by casting (`xsd:integer(STR(?v))` fails when ill-typed).
CASTABLE = frozenset(
    XSD[name]
    for name in (
        "boolean",
        "integer",
        "decimal",
        "float",
        "double",
        "dateTime",
        "date",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
    )
)
NODE_KINDS: dict[Node, str] = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
RANGES: dict[URIRef, tuple[str, URIRef]] = {
    SH.minInclusive: (">=", SH.MinInclusiveConstraintComponent),
    SH.minExclusive: (">", SH.MinExclusiveConstraintComponent),
    SH.maxInclusive: ("<=", SH.MaxInclusiveConstraintComponent),
    SH.maxExclusive: ("<", SH.MaxExclusiveConstraintComponent),
}
PAIRS: dict[URIRef, tuple[str, URIRef]] = {
    SH.lessThan: ("<", SH.LessThanConstraintComponent),
    SH.lessThanOrEquals: ("<=", SH.LessThanOrEqualsConstraintComponent),
}
# Parameters that describe a shape, or are read together with another parameter.
DESCRIPTIVE = frozenset(
    {
        SH.targetClass,
        SH.targetSubjectsOf,
        SH.path,
        SH.severity,
        SH.message,
        SH.name,
        SH.description,
        SH.order,
        SH.group,
        SH.deactivated,
        SH.flags,
        SH.qualifiedMinCount,
        SH.qualifiedMaxCount,
        SH.qualifiedValueShapesDisjoint,
    }
)
VALUE_TESTS = frozenset({SH.datatype, SH["class"], SH.nodeKind, SH["in"], SH.pattern, *RANGES})
CONSTRAINTS = frozenset(
    {*VALUE_TESTS, *PAIRS, SH.minCount, SH.maxCount, SH.hasValue, SH.equals, SH.disjoint}
    | {SH.qualifiedValueShape}
)
UNSUPPORTED_TARGETS = (SH.targetNode, SH.targetObjectsOf, SH.target)
PREFIXES = "\n".join(
    f"PREFIX {prefix}: <{namespace}>"
    for prefix, namespace in (("kg", KG), ("prov", PROV), ("dcterms", DCTERMS))
)
Path = tuple[URIRef, ...]


# ----------------------------------------------------------------------------- compiling the shapes


@dataclass(frozen=True)
class Check:
    """One constraint of one shape, compiled. `mode` says how it runs (see the module documentation):
    `values`: `pattern` is a subquery that selects, in every graph, the failing values (?value, and ?other
    for a failing pair) of the nodes `prefix` leads to (?this when there is no prefix, else
    `?_step<len(prefix)>`, which the query joins back to ?this);
    `absence`: `pattern` is the last step of the path, a subquery binding the nodes `prefix` leads to
    that have what is required (the query joins it back to ?this);
    `focus`: `pattern` is a whole query body, with the FOCUS placeholder, selecting `selects`."""

    shape: ShapeInfo
    component: URIRef
    mode: Mode
    pattern: str
    selects: str = "?g ?this"
    prefix: Path = ()


@dataclass(frozen=True)
class CompiledShape:
    """A Core shape: its targets and its checks."""

    shape: ShapeInfo
    classes: tuple[URIRef, ...]
    subjects_of: tuple[URIRef, ...]
    checks: tuple[Check, ...]

    @property
    def targets(self) -> tuple[tuple[URIRef, ...], tuple[URIRef, ...]]:
        return self.classes, self.subjects_of

    def focus(self) -> str:
        """The focus nodes, once each per graph, as (?g, ?this)."""
        branches = [f"{{ GRAPH ?g {{ ?this {TYPE} {_iri(c)} }} }}" for c in self.classes]
        branches += [f"{{ GRAPH ?g {{ ?this {_iri(p)} ?_object }} }}" for p in self.subjects_of]
        return f"{{ SELECT DISTINCT ?g ?this WHERE {{ {SCOPE} {' UNION '.join(branches)} }} }}"


@cache
def compile_catalog(catalog: ShapeCatalog) -> tuple[CompiledShape, ...]:
    """Every targeted Core shape of the catalog, compiled (once per catalog)."""
    graph = catalog.form_shapes
    targeted = {
        s for t in (SH.targetClass, SH.targetSubjectsOf, *UNSUPPORTED_TARGETS) for s in graph.subjects(t)
    }
    targeted |= {
        s
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in graph.subjects(RDF.type, kind)
        if (s, RDF.type, RDFS.Class) in graph
    }
    compiled = []
    for node in sorted(targeted, key=str):
        info = catalog.shapes.get(node) if isinstance(node, URIRef) else None
        if info is None:
            raise ShapesError(f"shape {node} has targets but no rule id (dcterms:identifier)")
        if (node, RDF.type, RDFS.Class) in graph:
            raise ShapesError(
                f"shape {node}: implicit class targets are not supported by the compiled engine"
            )
        for unsupported in UNSUPPORTED_TARGETS:
            if (node, unsupported, None) in graph:
                raise ShapesError(f"shape {node}: {unsupported} is not supported by the compiled engine")
        if not _deactivated(graph, node):
            compiled.append(_compile_shape(graph, info))
    return tuple(compiled)


def _compile_shape(graph: Graph, info: ShapeInfo) -> CompiledShape:
    parameters = _parameters(graph, info, info.iri)
    path = _path(graph, info, graph.value(info.iri, SH.path))
    checks = [
        check
        for parameter in sorted(parameters.keys() & CONSTRAINTS, key=str)
        for value in parameters[parameter]
        for check in _checks(graph, info, path, parameter, value)
    ]
    return CompiledShape(
        shape=info,
        classes=_iris(graph, info, SH.targetClass),
        subjects_of=_iris(graph, info, SH.targetSubjectsOf),
        checks=tuple(checks),
    )


def _parameters(graph: Graph, info: ShapeInfo, node: Node) -> dict[URIRef, list[Node]]:
    """The SHACL parameters of a shape node; ShapesError for one the compiled engine does not know."""
    parameters: dict[URIRef, list[Node]] = {}
    for predicate, value in graph.predicate_objects(node):
        if isinstance(predicate, URIRef) and str(predicate).startswith(str(SH)):
            if predicate not in CONSTRAINTS | DESCRIPTIVE:
                raise ShapesError(f"shape {info.iri}: {predicate} is not supported by the compiled engine")
            parameters.setdefault(predicate, []).append(value)
    return parameters


def _deactivated(graph: Graph, node: Node) -> bool:
    value = graph.value(node, SH.deactivated)
    return isinstance(value, Literal) and bool(value.value)


def _iris(graph: Graph, info: ShapeInfo, predicate: URIRef) -> tuple[URIRef, ...]:
    values = list(graph.objects(info.iri, predicate))
    if not all(isinstance(v, URIRef) for v in values):
        raise ShapesError(f"shape {info.iri}: the values of {predicate} must be IRIs")
    return tuple(sorted(v for v in values if isinstance(v, URIRef)))


def _path(graph: Graph, info: ShapeInfo, path: Node | None) -> Path | None:
    """sh:path as forward predicates: one IRI, or an RDF list of IRIs (a sequence path)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return (path,)
    if (path, RDF.first, None) in graph:
        steps = list(graph.items(path))
        if steps and all(isinstance(step, URIRef) for step in steps):
            return tuple(step for step in steps if isinstance(step, URIRef))
    kinds = ", ".join(str(p) for p in graph.predicates(path, None) if str(p).startswith(str(SH)))
    raise ShapesError(
        f"shape {info.iri}: sh:path with {kinds or 'a nested path in a sequence'} is not supported by the "
        "compiled engine (only a predicate or a sequence of predicates)"
    )


def _checks(graph: Graph, info: ShapeInfo, path: Path | None, parameter: URIRef, value: Node) -> list[Check]:
    """The checks of one constraint parameter value of a shape."""
    if parameter in VALUE_TESTS:
        component, test = _value_test(graph, info, info.iri, parameter, value, "?value")
        return [_failing_values(info, component, path, test)]
    if parameter in PAIRS:
        return [_pair(info, path, parameter, value)]
    if parameter in (SH.minCount, SH.maxCount):
        return _cardinality(info, path, parameter, value)
    if parameter == SH.hasValue:
        return [_has_value(info, path, value)]
    if parameter in (SH.equals, SH.disjoint):
        return [_property_comparison(info, path, parameter, value)]
    return _qualified(graph, info, path, value)


# -- value tests: SPARQL expressions that are true when a value node passes, and never an error


def _value_test(
    graph: Graph, info: ShapeInfo, node: Node, parameter: URIRef, value: Node, v: str
) -> tuple[URIRef, str]:
    """(component, test of the value node `v`) for a value-type, string or range constraint of the shape
    node `node` (the shape itself, or the one nested in its sh:qualifiedValueShape)."""
    if parameter == SH.datatype:
        return SH.DatatypeConstraintComponent, _datatype_test(info, value, v)
    if parameter == SH["class"]:
        return SH.ClassConstraintComponent, f"EXISTS {{ GRAPH ?g {{ {v} {TYPE} {_term(value)} }} }}"
    if parameter == SH.nodeKind:
        if value not in NODE_KINDS:
            raise ShapesError(f"shape {info.iri}: sh:nodeKind {value} is not a node kind")
        return SH.NodeKindConstraintComponent, NODE_KINDS[value].format(v=v)
    if parameter == SH["in"]:
        same = " || ".join(f"sameTerm({v}, {_term(member)})" for member in graph.items(value))
        return SH.InConstraintComponent, f"({same or 'false'})"
    if parameter == SH.pattern:
        flags = graph.value(node, SH.flags)
        regex = f"REGEX(STR({v}), {_term(value)}{', ' + _term(flags) if flags is not None else ''})"
        return SH.PatternConstraintComponent, f"COALESCE(!isBlank({v}) && {regex}, false)"
    operator, component = RANGES[parameter]
    return component, f"COALESCE({v} {operator} {_term(value)}, false)"


def _datatype_test(info: ShapeInfo, datatype: Node, v: str) -> str:
    """A literal of the datatype whose lexical form is valid for it (SHACL: not ill-typed)."""
    if datatype == RDFS.Literal:
        return f"isLiteral({v})"
    if datatype == RDF.langString:
        return f'COALESCE(isLiteral({v}) && LANG({v}) != "", false)'
    if datatype == XSD.string:
        return f"COALESCE(isLiteral({v}) && DATATYPE({v}) = {_iri(XSD.string)}, false)"
    if datatype in CASTABLE:
        iri = _term(datatype)
        well_typed = f"DATATYPE({iri}(STR({v}))) = {iri}"
        return f"COALESCE(isLiteral({v}) && DATATYPE({v}) = {iri} && {well_typed}, false)"
    raise ShapesError(
        f"shape {info.iri}: sh:datatype {datatype} is not supported by the compiled engine (it cannot check "
        "its lexical forms; supported: xsd:string, rdf:langString, rdfs:Literal and SPARQL's cast types)"
    )


# -- patterns


def _step(subject: str, predicate: URIRef, obj: str, condition: str = "", among: str = "") -> str:
    """One triple pattern in each graph, as a subquery: Oxigraph joins subqueries by hashing. `among`
    (a VALUES clause for `obj`) makes it a lookup of those objects rather than a scan of the predicate."""
    variables = " ".join(term for term in (subject, obj) if term.startswith("?"))
    triple = f"{subject} {_iri(predicate)} {obj}"
    return f"{{ SELECT ?g {variables} WHERE {{ {among} {SCOPE} GRAPH ?g {{ {triple} }} {condition} }} }}"


def _along(path: Path, subject: str, obj: str, condition: str = "", among: str = "") -> str:
    """`subject` path `obj` in each graph, one subquery per step, `condition` and `among` (on `obj`) in
    the last."""
    nodes = [subject, *(f"?_step{i}" for i in range(1, len(path))), obj]
    last = len(path) - 1
    return "\n".join(
        _step(nodes[i], step, nodes[i + 1], *((condition, among) if i == last else ("", "")))
        for i, step in enumerate(path)
    )


def _distinct(path: Path | None) -> str:
    """DISTINCT where a path of several steps may reach a value through several intermediate nodes."""
    return "DISTINCT " if path is not None and len(path) > 1 else ""


def _failing_values(info: ShapeInfo, component: URIRef, path: Path | None, test: str) -> Check:
    if path is None:  # a node shape: the focus node is the value
        where = f"{FOCUS}\nBIND (?this AS ?value)\nFILTER (!({test}))"
        return Check(info, component, "focus", where, "?g ?this ?value")
    prefix = path[:-1]
    branch = _step(_end(prefix), path[-1], "?value", f"FILTER (!({test}))")
    return Check(info, component, "values", branch, "?g ?this ?value", prefix)


def _end(prefix: Path) -> str:
    """The variable of the node a path prefix leads to from ?this (`_along` names them so)."""
    return f"?_step{len(prefix)}" if prefix else "?this"


def _pair(info: ShapeInfo, path: Path | None, parameter: URIRef, other: Node) -> Check:
    """sh:lessThan / sh:lessThanOrEquals: a result for every failing (value, other value) pair."""
    operator, component = PAIRS[parameter]
    if path is None or not isinstance(other, URIRef):
        raise ShapesError(f"shape {info.iri}: {parameter} needs a property shape and an IRI")
    where = (
        f"{_along(path, '?this', '?value')}\n{_step('?this', other, '?other')}\n"
        f"FILTER (!COALESCE(?value {operator} ?other, false))"
    )
    body = f"{{ SELECT {_distinct(path)}?g ?this ?value ?other WHERE {{\n{where}\n}} }}"
    return Check(info, component, "values", body, "?g ?this ?value ?other")


def _property_comparison(info: ShapeInfo, path: Path | None, parameter: URIRef, other: Node) -> Check:
    """sh:equals: values not among the other property's and back; sh:disjoint: values among them."""
    if path is None or not isinstance(other, URIRef):
        raise ShapesError(f"shape {info.iri}: {parameter} is compiled for property shapes with an IRI")
    values, others = _along(path, "?this", "?value"), _step("?this", other, "?value")
    if parameter == SH.disjoint:
        body = f"{{ SELECT DISTINCT ?g ?this ?value WHERE {{\n{values}\n{others}\n}} }}"
        return Check(info, SH.DisjointConstraintComponent, "values", body, "?g ?this ?value")
    body = (
        f"{{ SELECT DISTINCT ?g ?this ?value WHERE {{\n{{ {values}\nMINUS {{ {others} }} }}\n"
        f"UNION\n{{ {others}\nMINUS {{ {values} }} }}\n}} }}"
    )
    return Check(info, SH.EqualsConstraintComponent, "values", body, "?g ?this ?value")


def _has_value(info: ShapeInfo, path: Path | None, value: Node) -> Check:
    if path is None:
        where = f"{FOCUS}\nFILTER (!sameTerm(?this, {_term(value)}))"
        return Check(info, SH.HasValueConstraintComponent, "focus", where)
    return _absence(info, SH.HasValueConstraintComponent, path, _term(value))


def _absence(
    info: ShapeInfo, component: URIRef, path: Path, obj: str, condition: str = "", among: str = ""
) -> Check:
    """A result for each focus node without `obj` (a term, or a variable meeting `condition` / `among`)
    at the end of the path; `pattern` is the last step (the query joins it back along the prefix)."""
    prefix = path[:-1]
    last = _step(_end(prefix), path[-1], obj, condition, among)
    return Check(info, component, "absence", last, prefix=prefix)


def _cardinality(info: ShapeInfo, path: Path | None, parameter: URIRef, value: Node) -> list[Check]:
    count = _count(info, parameter, value)
    if path is None:
        raise ShapesError(f"shape {info.iri}: {parameter} needs a property shape")
    if parameter == SH.minCount:
        if count == 0:
            return []
        if count == 1:
            return [_absence(info, SH.MinCountConstraintComponent, path, "?_any")]
        return [Check(info, SH.MinCountConstraintComponent, "focus", _counted(path, "", f"?n < {count}"))]
    return [Check(info, SH.MaxCountConstraintComponent, "focus", _counted(path, "", f"?n > {count}"))]


def _counted(path: Path, condition: str, compare: str) -> str:
    """Focus nodes whose number of distinct value nodes meeting `condition` satisfies `compare`."""
    return (
        f"{{ SELECT ?g ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {FOCUS}\n"
        f"OPTIONAL {{ {_along(path, '?this', '?value', condition)} }} }} GROUP BY ?g ?this }}\n"
        f"FILTER ({compare})"
    )


def _count(info: ShapeInfo, parameter: URIRef, value: Node | None) -> int:
    if not isinstance(value, Literal) or not isinstance(value.value, int) or value.value < 0:
        raise ShapesError(f"shape {info.iri}: {parameter} must be a non-negative integer")
    return int(value.value)


def _qualified(graph: Graph, info: ShapeInfo, path: Path | None, inner: Node) -> list[Check]:
    """sh:qualifiedValueShape: the number of value nodes that conform to the inner shape, against
    sh:qualifiedMinCount / sh:qualifiedMaxCount (results without a value)."""
    disjoint = graph.value(info.iri, SH.qualifiedValueShapesDisjoint)
    if isinstance(disjoint, Literal) and bool(disjoint.value):
        raise ShapesError(f"shape {info.iri}: sh:qualifiedValueShapesDisjoint is not supported")
    conforms = _conforms(graph, info, inner, "?value")
    bounds = [
        (SH.qualifiedMinCount, SH.QualifiedMinCountConstraintComponent, "<"),
        (SH.qualifiedMaxCount, SH.QualifiedMaxCountConstraintComponent, ">"),
    ]
    checks = []
    for parameter, component, operator in bounds:
        value = graph.value(info.iri, parameter)
        if value is None:
            continue
        count = _count(info, parameter, value)
        if path is None:  # the focus node is the one value node
            where = f"{FOCUS}\nBIND (?this AS ?value)\nFILTER (IF({conforms}, 1, 0) {operator} {count})"
            checks.append(Check(info, component, "focus", where))
        elif operator == "<" and count == 1:
            membership = _membership(graph, info, inner, conforms)
            checks.append(_absence(info, component, path, "?value", *membership))
        elif operator == ">" or count > 0:
            where = _counted(path, f"FILTER ({conforms})", f"?n {operator} {count}")
            checks.append(Check(info, component, "focus", where))
    return checks


def _membership(graph: Graph, info: ShapeInfo, inner: Node, conforms: str) -> tuple[str, str]:
    """(condition, VALUES clause) for the value nodes that conform to the inner shape: an inner shape that
    is only an sh:in list becomes VALUES (term equality, as sh:in), so that its members are looked up
    rather than every value of the path tested (C-01-type: `rdf:type` of every node)."""
    parameters = _parameters(graph, info, inner)
    if _deactivated(graph, inner) or set(parameters) != {SH["in"]} or len(parameters[SH["in"]]) != 1:
        return f"FILTER ({conforms})", ""
    members = " ".join(_term(member) for member in graph.items(parameters[SH["in"]][0]))
    return "", f"VALUES ?value {{ {members} }}"


def _conforms(graph: Graph, info: ShapeInfo, inner: Node, v: str) -> str:
    """A SPARQL expression: the node `v` conforms to the nested shape `inner` in ?g. Value tests on the
    node itself, or on the values of its path with sh:minCount 1 and sh:hasValue on that path."""
    if _deactivated(graph, inner):
        return "true"
    parameters = _parameters(graph, info, inner)
    path = _path(graph, info, graph.value(inner, SH.path))
    allowed = VALUE_TESTS | {SH.hasValue} | ({SH.minCount} if path is not None else set())
    unsupported = sorted(str(p) for p in parameters.keys() & CONSTRAINTS - allowed)
    if unsupported:
        raise ShapesError(f"shape {info.iri}: {', '.join(unsupported)} in a qualified value shape")
    w = "?_inner" if path is not None else v
    tests = [
        _value_test(graph, info, inner, parameter, value, w)[1]
        for parameter in sorted(parameters.keys() & VALUE_TESTS, key=str)
        for value in parameters[parameter]
    ]
    has = [_term(h) for h in parameters.get(SH.hasValue, [])]
    if path is None:
        parts = tests + [f"sameTerm({v}, {h})" for h in has]
    else:
        nested = "/".join(_iri(step) for step in path)
        parts = [f"NOT EXISTS {{ GRAPH ?g {{ {v} {nested} {w} }} FILTER (!({t})) }}" for t in tests]
        parts += [f"EXISTS {{ GRAPH ?g {{ {v} {nested} {h} }} }}" for h in has]
        for minimum in parameters.get(SH.minCount, []):
            if (count := _count(info, SH.minCount, minimum)) > 1:
                raise ShapesError(f"shape {info.iri}: sh:minCount {count} in a qualified value shape")
            if count == 1:
                parts.append(f"EXISTS {{ GRAPH ?g {{ {v} {nested} ?_some }} }}")
    return "(" + " && ".join(parts or ["true"]) + ")"


def _iri(node: URIRef) -> str:
    return f"<{node}>"


def _term(node: Node | None) -> str:
    """A term as SPARQL text (Oxigraph's N-Triples form: escapes, datatypes and language tags kept)."""
    if not isinstance(node, URIRef | Literal):
        raise ShapesError(f"not an IRI or literal in the shapes: {node!r}")
    return str(to_oxigraph(node))


# ----------------------------------------------------------------------------- planning and running


@dataclass
class Planned:
    """One query, and the checks whose results its rows are: the group numbered ?k of an absence query;
    the one group of a values query, for the shapes whose targets (?t, ?tp) the focus node is one of; the
    one check of a focus query."""

    mode: Mode
    text: str  # with the TYPE and SCOPE placeholders
    selects: str
    checks: list[list[tuple[CompiledShape, Check]]]

    @property
    def label(self) -> str:
        names = sorted(
            {str(shape.shape.iri).rsplit("#", 1)[-1] for group in self.checks for shape, _ in group}
        )
        shown = ", ".join(names) if len(names) < 4 else f"{names[0]} … {names[-1]} ({len(names)} shapes)"
        return f"{self.mode}: {shown}"


def plan(shapes: Sequence[CompiledShape]) -> list[Planned]:
    """The queries of the compiled shapes: a value check that several shapes share (the reckonings'
    `lowerBound ≤ statedValue` …) once, the absence checks of shapes with the same targets in one query,
    any other check alone. (Value checks along the same path prefix could share a query too, each
    numbered ?k; measured on 1,000 forms that was slower: Oxigraph then carries every branch's failing
    values, most of them of nodes that are no focus node of that branch, through the joins.)"""
    values: dict[tuple[Path, str], list[tuple[CompiledShape, Check]]] = {}
    absences: dict[tuple[tuple[URIRef, ...], tuple[URIRef, ...]], list[tuple[CompiledShape, Check]]] = {}
    planned = []
    for shape in shapes:
        for check in shape.checks:
            if check.mode == "values":
                values.setdefault((check.prefix, check.pattern), []).append((shape, check))
            elif check.mode == "absence":
                absences.setdefault(shape.targets, []).append((shape, check))
            else:
                text = f"SELECT {check.selects} WHERE {{\n{check.pattern.replace(FOCUS, shape.focus())}\n}}"
                planned.append(Planned("focus", text, check.selects, [[(shape, check)]]))
    for (prefix, branch), checks in values.items():
        planned.append(_values_query(prefix, branch, checks))
    for checks in absences.values():
        planned.append(_absence_query(checks))
    return planned


def _absence_query(checks: list[tuple[CompiledShape, Check]]) -> Planned:
    """The focus nodes (of shapes with the same targets) times the absence checks, numbered ?k, minus what
    they have: the checks along one path prefix share one join along it (C-06's three checks one scan of
    kg:profileOf)."""
    by_prefix: dict[Path, list[tuple[CompiledShape, Check]]] = {}
    for shape, check in checks:
        by_prefix.setdefault(check.prefix, []).append((shape, check))
    ordered = [item for members in by_prefix.values() for item in members]
    parts, k = [], 0
    for prefix, members in by_prefix.items():
        union = "\nUNION\n".join(
            f"{{ {check.pattern}\nBIND ({k + i} AS ?k) }}" for i, (_, check) in enumerate(members)
        )
        k += len(members)
        if prefix:
            along = _along(prefix, "?this", _end(prefix))
            parts.append(f"{{ SELECT ?g ?this ?k WHERE {{\n{along}\n{{ {union} }}\n}} }}")
        else:
            parts.append(union)
    keys = " ".join(str(i) for i in range(len(ordered)))
    text = (
        f"SELECT ?g ?this ?k WHERE {{\n{ordered[0][0].focus()}\nVALUES ?k {{ {keys} }}\n"
        f"MINUS {{\n{' UNION '.join(f'{{ {part} }}' for part in parts)}\n}}\n}}"
    )
    return Planned("absence", text, "?g ?this ?k", [[item] for item in ordered])


def _values_query(prefix: Path, branch: str, checks: list[tuple[CompiledShape, Check]]) -> Planned:
    """The failing values the branch selects, joined along the path prefix back to ?this (DISTINCT: a
    value may be reached through several intermediate nodes), then with the focus nodes of the checks'
    shapes."""
    failing = branch
    if prefix:
        along = _along(prefix, "?this", _end(prefix))
        failing = f"{{ SELECT DISTINCT ?g ?this ?value ?other WHERE {{\n{branch}\n{along}\n}} }}"
    text = f"SELECT ?g ?this ?value ?other ?t ?tp WHERE {{\n{failing}\n{_targets(checks)}\n}}"
    return Planned("values", text, "?g ?this ?value ?other ?t ?tp", [checks])


def _targets(checks: Sequence[tuple[CompiledShape, Check]]) -> str:
    """The nodes that are focus nodes of some of the shapes, with the class (?t) or the predicate of
    sh:targetSubjectsOf (?tp) that makes them one."""
    classes = sorted({c for shape, _ in checks for c in shape.classes})
    predicates = sorted({p for shape, _ in checks for p in shape.subjects_of})
    branches = []
    if classes:
        branches.append(
            f"{{ VALUES ?t {{ {' '.join(map(_iri, classes))} }} GRAPH ?g {{ ?this {TYPE} ?t }} }}"
        )
    if predicates:
        branches.append(
            f"{{ VALUES ?tp {{ {' '.join(map(_iri, predicates))} }} GRAPH ?g {{ ?this ?tp ?_o }} }}"
        )
    return f"{{ SELECT DISTINCT ?g ?this ?t ?tp WHERE {{ {SCOPE} {' UNION '.join(branches)} }} }}"


@dataclass(frozen=True)
class Result:
    """One validation result: in which form graph, about which focus node and value, from which check."""

    graph: str
    focus: Node
    value: Node | None
    check: Check


def type_path(query: Query) -> str:
    """`rdf:type/rdfs:subClassOf*` when some named graph has an rdfs:subClassOf triple, else `rdf:type`:
    the same SHACL instances either way, without a path evaluation per node when no graph declares
    subclasses (form graphs do not)."""
    found = query(f"ASK {{ GRAPH ?g {{ ?sub {_iri(RDFS.subClassOf)} ?super }} }}")
    return f"{_iri(RDF.type)}/{_iri(RDFS.subClassOf)}*" if bool(found) else _iri(RDF.type)


def run_plan(query: Query, planned: Sequence[Planned], scope: str, timings: dict[str, float]) -> list[Result]:
    """Run the queries; the results of every check, each once."""
    cache: dict[object, Node] = {}
    types = type_path(query)
    results: list[Result] = []
    for item in planned:
        started = time.perf_counter()
        seen: set[tuple[object, ...]] = set()
        for s in _solutions(query(item.text.replace(TYPE, types).replace(SCOPE, scope))):
            graph, focus = _text(s["g"]), to_rdflib(s["this"], cache)
            value = (
                to_rdflib(s["value"], cache) if "?value" in item.selects and s["value"] is not None else None
            )
            for check in _checks_of(item, s):
                if item.mode == "values":  # a row per target the node is of, and per failing pair
                    key = (graph, focus, value, s["other"], id(check))
                    if key in seen:
                        continue
                    seen.add(key)
                results.append(Result(graph, focus, value, check))
        timings[item.label] = timings.get(item.label, 0.0) + time.perf_counter() - started
    return results


def _checks_of(item: Planned, solution: ox.QuerySolution) -> list[Check]:
    """The checks a row of the query is a result of."""
    if item.mode == "focus":
        return [item.checks[0][0][1]]
    if item.mode == "absence":
        return [check for _, check in item.checks[int(_text(solution["k"]))]]
    cls, predicate = URIRef(_text(solution["t"])), URIRef(_text(solution["tp"]))
    return [
        check for shape, check in item.checks[0] if cls in shape.classes or predicate in shape.subjects_of
    ]


def _solutions(result: object) -> ox.QuerySolutions:
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError(f"expected SELECT solutions, got {type(result).__name__}")
    return result


# ----------------------------------------------------------------------------- contexts and lookups


def form_contexts(query: Query, graphs: Sequence[str], scope: str) -> dict[str, FormContext]:
    """The context (file, index, project, year, type, line) of the form in each graph, read as
    `FormContext.from_graph` reads it; raises as it does for a graph without exactly one form or without
    derived facts."""
    contexts: dict[str, FormContext] = {}
    forms: dict[str, set[str]] = {graph: set() for graph in graphs}
    stale: list[str] = []
    text = f"""{PREFIXES}
    SELECT ?g ?form ?index ?file ?title ?year ?type ?line ?derived WHERE {{ {scope}
      GRAPH ?g {{
        ?form kg:formIndex ?index .
        OPTIONAL {{ ?form prov:hadPrimarySource ?source OPTIONAL {{ ?source dcterms:identifier ?file }} }}
        OPTIONAL {{ ?form dcterms:title ?title }}
        OPTIONAL {{ ?form kg:fiscalYear ?year }}
        OPTIONAL {{ ?form kg:lineStart ?line }}
        OPTIONAL {{ ?form a ?type }}
        BIND (EXISTS {{ ?profile kg:profileOf ?form }} AS ?derived)
      }} }}"""
    for s in _solutions(query(text)):
        graph, form = _text(s["g"]), _text(s["form"])
        if graph not in forms:
            continue
        forms[graph].add(form)
        if graph in contexts:
            continue
        if s["derived"] != ox.Literal(True):
            stale.append(form)
        contexts[graph] = FormContext(
            form=form,
            file=_text(s["file"]),
            index=_int(s["index"]) or 0,
            project=_text(s["title"]),
            year=_int(s["year"]),
            form_type=form_type_name(to_rdflib(s["type"])) if s["type"] is not None else None,
            line=_int(s["line"]),
        )
    for graph in graphs:
        if len(forms[graph]) != 1:
            raise ValueError(f"a form graph holds exactly one form, found {len(forms[graph])} in <{graph}>")
    if stale:
        raise StaleGraphError(
            f"the form graph of <{sorted(stale)[0]}> has no derived facts (it was loaded by an older kg): "
            "load its source file again (`kg ingest FILE`) before validating, or rules would silently not "
            "apply"
        )
    return contexts


def _text(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else ""


def _int(term: object) -> int | None:
    try:
        return int(term.value) if isinstance(term, ox.Literal) else None
    except ValueError:
        return None


Wanted = tuple[str, URIRef, URIRef]  # (graph, subject, predicate)


class BatchLookup:
    """`resolve`'s lookups (objects of a subject and predicate) in a form graph, answered from triples read
    in batches: many subjects per query, each with the predicates asked for. A lookup of a subject and
    predicate not read yet answers nothing and is noted in `missing`, for the next batch."""

    BATCH = 2000

    def __init__(self, query: Query) -> None:
        self.query = query
        self.triples: dict[tuple[str, Node], dict[Node, list[Node]]] = {}
        self.read: dict[tuple[str, Node], set[Node]] = {}
        self.missing: set[Wanted] = set()
        self.cache: dict[object, Node] = {}

    def in_graph(self, graph: str) -> Callable[[Node, URIRef], list[Node]]:
        def lookup(subject: Node, predicate: URIRef) -> list[Node]:
            if not isinstance(subject, URIRef):
                return []  # form graphs hold no blank nodes, and literals are no subjects
            if predicate not in self.read.get((graph, subject), ()):
                self.missing.add((graph, subject, predicate))
                return []
            return self.triples[(graph, subject)].get(predicate, [])

        return lookup

    def fetch(self, wanted: Iterable[Wanted]) -> None:
        """Read the objects of these (graph, subject IRI, predicate) triples: one query per batch of
        subjects that want the same predicates."""
        predicates: dict[tuple[str, Node], set[URIRef]] = {}
        for graph, subject, predicate in wanted:
            if isinstance(subject, URIRef) and predicate not in self.read.get((graph, subject), ()):
                predicates.setdefault((graph, subject), set()).add(predicate)
        groups: dict[frozenset[URIRef], list[tuple[str, Node]]] = {}
        for pair, wanted_here in predicates.items():
            groups.setdefault(frozenset(wanted_here), []).append(pair)
            self.triples.setdefault(pair, {})
            self.read.setdefault(pair, set()).update(wanted_here)
        for asked, pairs in groups.items():
            among = ", ".join(_iri(p) for p in sorted(asked))
            for start in range(0, len(pairs), self.BATCH):
                rows = " ".join(f"(<{g}> <{s}>)" for g, s in sorted(pairs)[start : start + self.BATCH])
                text = (
                    f"SELECT ?g ?s ?p ?o WHERE {{ VALUES (?g ?s) {{ {rows} }} GRAPH ?g {{ ?s ?p ?o }} "
                    f"FILTER (?p IN ({among})) }}"
                )
                for s in _solutions(self.query(text)):
                    objects = self.triples[(_text(s["g"]), to_rdflib(s["s"], self.cache))]
                    objects.setdefault(to_rdflib(s["p"], self.cache), []).append(
                        to_rdflib(s["o"], self.cache)
                    )
        self.missing.difference_update(
            (graph, subject, predicate)
            for (graph, subject), wanted_here in predicates.items()
            for predicate in wanted_here
        )


PASSES = 8  # resolving reads what a path leads to one step per pass; the shapes' paths have two steps


def add_rows(query: Query, contexts: dict[str, FormContext], graphs: set[str], scope: str) -> None:
    """The indicator rows (index, third-level name, line) of the forms in `graphs`, as
    `FormContext.from_graph` reads them (the first value of each), one subquery per property: joined by
    hashing, that is several times faster than OPTIONAL patterns evaluated per row."""
    if not graphs:
        return

    def column(predicate: str, variable: str) -> str:
        triple = f"?row {predicate} {variable}"
        return f"OPTIONAL {{ SELECT ?g ?row {variable} WHERE {{ {scope} GRAPH ?g {{ {triple} }} }} }}"

    text = f"""{PREFIXES}
    SELECT ?g ?form ?row ?index ?name ?line WHERE {{
      {{ SELECT ?g ?form ?row WHERE {{ {scope} GRAPH ?g {{ ?form kg:hasIndicator ?row }} }} }}
      {column("kg:indicatorIndex", "?index")}
      {column("kg:level3Name", "?name")}
      {column("kg:lineStart", "?line")}
    }}"""
    for s in _solutions(query(text)):
        graph = _text(s["g"])
        if graph not in graphs or _text(s["form"]) != contexts[graph].form:
            continue
        rows = contexts[graph].rows
        row = _text(s["row"])
        if row not in rows:
            index = _int(s["index"])
            rows[row] = Row(-1 if index is None else index, _text(s["name"]) or None, _int(s["line"]))


def resolve_results(
    results: Sequence[Result], contexts: dict[str, FormContext], lookup: BatchLookup
) -> dict[str, list[Finding]]:
    """The findings of the results, per form graph. What `resolve` reads is read first for the focus
    nodes, values and their rows; `resolve` runs again for the results that asked for more (what a path
    leads to), once that is read."""
    lookup.fetch(
        (r.graph, node, predicate)
        for r in results
        for node in (r.focus, r.value, _uri(_row_of(r.focus)), _uri(_row_of(r.value)))
        if isinstance(node, URIRef)
        for predicate in (*DETAIL_PREDICATES, *(r.check.shape.path or ()), *_printed(r.check.shape))
    )
    findings: dict[str, list[Finding]] = {}
    pending = list(results)
    for _ in range(PASSES):
        retry, wanted = [], set()
        for result in pending:
            lookup.missing.clear()
            check = result.check
            finding = resolve(
                contexts[result.graph],
                check.shape,
                result.focus,
                result.value,
                lookup.in_graph(result.graph),
                check.component,
            )
            if lookup.missing:
                retry.append(result)
                wanted |= lookup.missing
            else:
                findings.setdefault(result.graph, []).append(finding)
        if not retry:
            return findings
        lookup.fetch(wanted)
        pending = retry
    raise RuntimeError(f"resolving {len(pending)} results still asks for triples after {PASSES} passes")


def _printed(shape: ShapeInfo) -> tuple[URIRef, ...]:
    return (shape.printed_value,) if shape.printed_value is not None else ()


def _row_of(node: Node | None) -> str | None:
    return row_of(node) if node is not None else None


def _uri(text: str | None) -> URIRef | None:
    return URIRef(text) if text is not None else None


# ----------------------------------------------------------------------------- the engine


@dataclass
class CompiledRun:
    """The outcomes of the validated forms (in the order given), the seconds each step took, and each
    query's seconds (for profiling)."""

    outcomes: list[FormOutcome]
    timings: dict[str, float]
    queries: dict[str, float]


def validate_graphs(
    query: Query, graphs: Sequence[str], catalog: ShapeCatalog, *, whole_store: bool
) -> CompiledRun:
    """Validate the form graphs `graphs` with the compiled Core shapes. `whole_store`: they are all the
    form graphs of the store, so that the queries need not name them (rows of other named graphs, such as
    reports, are dropped here)."""
    steps: dict[str, float] = {}
    queries: dict[str, float] = {}
    chosen = set(graphs)
    scope = "" if whole_store else "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }"
    started = time.perf_counter()
    results = [
        r for r in run_plan(query, plan(compile_catalog(catalog)), scope, queries) if r.graph in chosen
    ]
    steps["query"] = time.perf_counter() - started
    started = time.perf_counter()
    contexts = form_contexts(query, graphs, scope)
    add_rows(query, contexts, {r.graph for r in results}, scope)
    found = resolve_results(results, contexts, BatchLookup(query))
    outcomes = [FormOutcome(contexts[g], sort_findings(found.get(g, []))) for g in graphs]
    steps["contexts"] = time.perf_counter() - started
    return CompiledRun(outcomes, steps, queries)


__all__ = [
    "BatchLookup",
    "Check",
    "CompiledRun",
    "CompiledShape",
    "Planned",
    "Result",
    "compile_catalog",
    "form_contexts",
    "plan",
    "run_plan",
    "type_path",
    "validate_graphs",
]
