"""The compiled engine (kg.validate.compiled) finds exactly what pySHACL finds, form graph by form graph.

* the 31 seed forms (data/): the same findings (every field, messages and printed values included) and the
  same stored report graphs;
* SHACL Core beyond the shipped shapes, on hand-made form graphs in a store: cardinalities, sh:equals /
  sh:disjoint, sh:class with subclasses declared in one graph only, ill-typed literals, sh:pattern flags,
  incomparable and repeated value pairs, qualified counts, a deactivated shape, and a node shared by two
  form graphs (each graph must be validated on its own, as pySHACL does, not as their merge);
* a synthetic corpus of 200 forms (kg.synth);
* shapes the compiled engine does not support are refused, naming the shape.

The rule-by-rule cases (tests/test_validate_rules.py) run on both engines as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV

from kg.forms import parse_source
from kg.model import Form
from kg.rdf.mapping import form_to_named_graph
from kg.store.oxigraph import CATALOG, CATALOG_GRAPH, OxigraphStore
from kg.synth import build_corpus
from kg.validate import EngineError, ShapesError, StaleGraphError, load_catalog, validate_store
from kg.validate.compiled import compile_catalog, plan
from kg.validate.engine import to_rdflib
from kg.validate.findings import Finding
from kg.validate.report import ACROSS_FORMS, REPORT_GRAPH_PREFIX, Report, form_key
from kg.validate.run import batched_update, default_engine, save_reports_each

DATA = Path(__file__).resolve().parents[1] / "data"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def store_of(forms: list[Form]) -> OxigraphStore:
    """An in-memory store holding the forms, one `replace_file` per source file (as `kg ingest`)."""
    store = OxigraphStore.in_memory()
    by_file: dict[str, list[Form]] = {}
    for form in forms:
        by_file.setdefault(form.file, []).append(form)
    for file, file_forms in by_file.items():
        store.replace_file(file, [form_to_named_graph(form) for form in file_forms])
    return store


def seed_forms() -> list[Form]:
    return [
        form for path in sorted(DATA.glob("*.txt")) for form in parse_source(path.read_bytes(), path.name)
    ]


def key(finding: Finding) -> tuple[str, str, str, str, str | None]:
    value = finding.value_node.n3() if finding.value_node is not None else ""
    return (finding.focus_node, finding.source_shape, value, finding.severity, finding.constraint_component)


def stored_reports(store: OxigraphStore) -> dict[str, Graph]:
    """Every stored report graph (without its timestamp) by graph IRI, and the catalog's report entries."""
    graphs: dict[str, Graph] = {}
    result = store.query(
        "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER (STRSTARTS(STR(?g), "{REPORT_GRAPH_PREFIX}")) }}'
    )
    assert isinstance(result, ox.QuerySolutions)
    for s in result:
        graph = graphs.setdefault(s["g"].value, Graph())  # type: ignore[union-attr]
        triple = (to_rdflib(s["s"]), to_rdflib(s["p"]), to_rdflib(s["o"]))
        if triple[1] != PROV.generatedAtTime:
            graph.add(triple)
    entries = store.query(
        f"SELECT ?g ?node WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{CATALOG.derivedFrom}> ?node }} }}"
    )
    assert isinstance(entries, ox.QuerySolutions)
    catalog = Graph()
    for s in entries:
        catalog.add((to_rdflib(s["g"]), CATALOG.derivedFrom, to_rdflib(s["node"])))
    graphs["catalog"] = catalog
    return graphs


def assert_same_reports(one: dict[str, Graph], other: dict[str, Graph]) -> None:
    assert sorted(one) == sorted(other)
    for name in one:
        assert len(one[name]) == len(other[name]), name
        assert isomorphic(one[name], other[name]), name


# ----------------------------------------------------------------------------- the seeds


SEED_RULES = {
    "C-04": 2,
    "C-05": 1,
    "C-06": 1,
    "DN-01": 4,
    "SE-02": 1,
    "SE-03": 41,
    "SE-04": 1,
    "SE-05": 1,
    "SE-06": 1,
    "SE-07": 2,
    "SE-09": 3,
    "SE-10": 1,
    "SE-11": 2,
    "SE-12": 1,
    "SE-13": 5,
    "TG-04": 1,
    "TG-06": 1,
    "TG-09": 22,
    "TG-10": 10,
    "TG-11": 19,
}


@pytest.fixture(scope="module")
def seeds() -> Iterator[tuple[list[Finding], list[Finding], dict[str, Graph], dict[str, Graph], list, list]]:
    store = store_of(seed_forms())
    by_pyshacl = validate_store(store, engine="pyshacl", jobs=1)
    pyshacl_reports = stored_reports(store)
    compiled = validate_store(store, engine="compiled")
    compiled_reports = stored_reports(store)
    yield (
        by_pyshacl.findings,
        compiled.findings,
        pyshacl_reports,
        compiled_reports,
        by_pyshacl.forms,
        compiled.forms,
    )
    store.close()


def test_seeds_give_pyshacls_findings_field_by_field(seeds: tuple) -> None:  # type: ignore[type-arg]
    by_pyshacl, compiled = seeds[0], seeds[1]
    assert len(compiled) == 120
    assert dict(sorted(Counter(f.rule for f in compiled).items())) == SEED_RULES
    assert (
        compiled == by_pyshacl
    )  # every field: rule, messages, indicator, printed value, focus, value node …
    assert [f.json() for f in compiled] == [f.json() for f in by_pyshacl]
    assert [key(f) for f in compiled] == [key(f) for f in by_pyshacl]


def test_seeds_store_the_same_report_graphs(seeds: tuple) -> None:  # type: ignore[type-arg]
    pyshacl_reports, compiled_reports = seeds[2], seeds[3]
    assert len(compiled_reports) == 31 + 3  # a report per form, across-forms, rules, the catalog entries
    assert len(compiled_reports["catalog"]) == 33
    assert_same_reports(pyshacl_reports, compiled_reports)


def test_seeds_give_the_same_form_contexts(seeds: tuple) -> None:  # type: ignore[type-arg]
    """The same context for every form with findings; the others' contexts (which no finding names) have
    the same file, index, project, year, type and line, and no rows."""
    by_pyshacl, compiled = seeds[4], seeds[5]
    with_findings = {f.form for f in seeds[1]}
    assert len(compiled) == 31 and len(with_findings) == 26
    for mine, theirs in zip(compiled, by_pyshacl, strict=True):
        if mine.form in with_findings:
            assert mine == theirs
            assert mine.rows
        else:
            assert mine.rows == {}
            assert replace(mine, rows=theirs.rows) == theirs


# ----------------------------------------------------------------------------- saving reports in one update


def test_the_batched_save_stores_what_one_replace_per_report_stores() -> None:
    forms = seed_forms()[:6]
    catalog = load_catalog()
    runs = []
    for batched in (True, False):
        store = store_of(forms)
        stale = Report("gone/0", [], f"{REPORT_GRAPH_PREFIX}gone/0")  # a report of a form no longer loaded
        save_reports_each(store, [stale], catalog, CREATED, prune=False)
        run = validate_store(store, engine="compiled", save=False)
        reports = [*run.reports[:-1], Report(ACROSS_FORMS, [])]
        if batched:
            store.update(batched_update(store, reports, catalog, CREATED, prune=True))
        else:
            save_reports_each(store, reports, catalog, CREATED, prune=True)
        assert not store.contains_graph(f"{REPORT_GRAPH_PREFIX}gone/0")
        runs.append((stored_reports(store), store.count_triples()))
    assert runs[0][1] == runs[1][1]
    assert_same_reports(runs[0][0], runs[1][0])
    keys = [form_key(form.form) for form in run.forms] + [ACROSS_FORMS, "rules"]
    assert keys[:3] == ["000_bb01accd19b494dd/0", "000_bb01accd19b494dd/1", "001_5d49eaeac9110deb/0"]
    assert sorted(runs[0][0]) == sorted([f"{REPORT_GRAPH_PREFIX}{k}" for k in keys] + ["catalog"])


# ----------------------------------------------------------------------------- Core beyond the shipped shapes

PREFIXES = """
@prefix kg:      <https://w3id.org/jixiao-kg/ontology#> .
@prefix t:       <https://w3id.org/jixiao-kg/test#> .
@prefix sh:      <http://www.w3.org/ns/shacl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
"""

RULE = """
<https://w3id.org/jixiao-kg/id/rule/T-01> a kg:ComplianceRule ; dcterms:identifier "T-01" ;
    kg:ruleSeverity sh:Warning ; rdfs:label "测试"@zh , "test"@en .
"""


def shape(name: str, body: str) -> str:
    return (
        f't:{name} a sh:PropertyShape ; dcterms:identifier "T-01" ; sh:severity sh:Warning ;\n'
        f'    sh:message "{name}"@zh , "{name}"@en ;\n    {body} .\n'
    )


CORE_SHAPES = [
    shape("max-count", "sh:targetClass t:Item ; sh:path t:label ; sh:maxCount 1"),
    shape("min-count-2", "sh:targetClass t:Item ; sh:path t:part ; sh:minCount 2"),
    shape("equals", "sh:targetClass t:Item ; sh:path t:a ; sh:equals t:b"),
    shape("disjoint", "sh:targetClass t:Item ; sh:path t:a ; sh:disjoint t:c"),
    shape("class", "sh:targetClass t:Item ; sh:path t:unit ; sh:class t:Unit"),
    shape("datatype", "sh:targetClass t:Item ; sh:path t:n ; sh:datatype xsd:integer"),
    shape("pattern", 'sh:targetClass t:Item ; sh:path t:code ; sh:pattern "^a[0-9]+$" ; sh:flags "i"'),
    shape("less-than", "sh:targetClass t:Item ; sh:path t:low ; sh:lessThan t:high"),
    shape("at-most", "sh:targetClass t:Item ; sh:path ( t:part t:size ) ; sh:lessThanOrEquals t:limit"),
    shape("range", "sh:targetClass t:Item ; sh:path t:n2 ; sh:minInclusive 0 ; sh:maxExclusive 10.5"),
    shape("in", 'sh:targetClass t:Item ; sh:path t:kind ; sh:in ( 1 2 "x" )'),
    shape("node-kind", "sh:targetClass t:Item ; sh:path t:ref ; sh:nodeKind sh:IRI"),
    shape("has-value", 'sh:targetClass t:Item ; sh:path ( t:part t:kind ) ; sh:hasValue "y"'),
    shape("subjects-of", "sh:targetSubjectsOf t:special ; sh:path t:label ; sh:minCount 1"),
    shape(
        "qualified",
        "sh:targetClass t:Item ; sh:path t:part ; "
        'sh:qualifiedValueShape [ sh:path t:kind ; sh:in ( "y" ) ] ; '
        "sh:qualifiedMaxCount 1 ; sh:qualifiedMinCount 1",
    ),
    shape(
        "qualified-in",
        'sh:targetClass t:Item ; sh:path t:kind ; sh:qualifiedValueShape [ sh:in ( "x" 2 ) ] ; '
        "sh:qualifiedMinCount 1",
    ),
    shape("off", "sh:targetClass t:Item ; sh:path t:label ; sh:minCount 5 ; sh:deactivated true"),
]

# Two form graphs. <shared> is in both: one label in each (sh:maxCount 1 holds in each graph, not in
# their merge); t:Special is a subclass of t:Item and t:SubUnit of t:Unit in the first graph only.
FORM_GRAPH = """
@prefix kg: <https://w3id.org/jixiao-kg/ontology#> .
@prefix t:  <https://w3id.org/jixiao-kg/test#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix f:  <https://w3id.org/jixiao-kg/id/form/t{i}/0/> .
<https://w3id.org/jixiao-kg/id/form/t{i}/0> kg:formIndex 0 ; a kg:TargetTable .
f:profile kg:profileOf <https://w3id.org/jixiao-kg/id/form/t{i}/0> .
<https://w3id.org/jixiao-kg/id/shared> a t:Item ; t:label "label {i}" .
f:item1 a t:Item ; t:label "one" , "two" ; t:part f:p1 , f:p2 , f:p3 ;
    t:a 1 , 2 ; t:b 1 , 3 ; t:c 2 ;
    t:unit f:u1 , f:u2 , "a literal" ;
    t:n 5 , "abc"^^xsd:integer , "5.0"^^xsd:decimal ;
    t:code "A12" , "b12" , "a1b" ;
    t:low 1 , "text" , 7 ; t:high 5 , 6 ;
    t:limit 10 , 20 ;
    t:n2 -1 , 0 , 10.5 , "9" ;
    t:kind 1 , "1.0"^^xsd:decimal , "x" , "y" ;
    t:ref f:r , "r" ;
    t:special 1 .
f:p1 t:size 5 , 15 ; t:kind "y" .
f:p2 t:size 25 ; t:kind "y" .
f:p3 t:size 15 .
f:u1 a t:SubUnit .
f:u2 a t:Unit .
f:item2 a t:Special ; t:part f:p3 ; t:special 2 .
{extra}
"""
FIRST_ONLY = "t:Special rdfs:subClassOf t:Item . t:SubUnit rdfs:subClassOf t:Unit ."


@pytest.fixture
def core_catalog(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "core.ttl").write_text(PREFIXES + RULE + "\n".join(CORE_SHAPES), encoding="utf-8")
    yield tmp_path


def core_store() -> OxigraphStore:
    store = OxigraphStore.in_memory()
    for i, extra in ((1, FIRST_ONLY), (2, "")):
        graph = Graph().parse(
            data=FORM_GRAPH.replace("{i}", str(i)).replace("{extra}", extra), format="turtle"
        )
        store.replace_file(f"t{i}.txt", [(URIRef(f"https://w3id.org/jixiao-kg/id/graph/t{i}/0"), graph)])
    return store


def short(finding: Finding) -> tuple[str, str, str, str]:
    focus = finding.focus_node.rsplit("/", 1)[-1]
    value = finding.value_node.n3() if finding.value_node is not None else ""
    return (
        finding.source_shape.rsplit("#", 1)[-1],
        f"{finding.form[-4:-2]}:{focus}",
        value,
        str(finding.constraint_component).rsplit("#", 1)[-1],
    )


def test_core_constructs_match_pyshacl_per_form_graph(core_catalog: Path) -> None:
    catalog = load_catalog(core_catalog)
    store = core_store()
    by_pyshacl = validate_store(store, engine="pyshacl", jobs=1, save=False, catalog=catalog)
    compiled = validate_store(store, engine="compiled", save=False, catalog=catalog)
    assert compiled.findings == by_pyshacl.findings
    got = Counter(short(f) for f in compiled.findings)
    integer, decimal = (
        "<http://www.w3.org/2001/XMLSchema#integer>",
        "<http://www.w3.org/2001/XMLSchema#decimal>",
    )
    t1 = "https://w3id.org/jixiao-kg/id/form/t1/0"
    assert got == Counter(
        {
            ("max-count", "t1:item1", "", "MaxCountConstraintComponent"): 1,
            ("max-count", "t2:item1", "", "MaxCountConstraintComponent"): 1,
            ("min-count-2", "t1:item2", "", "MinCountConstraintComponent"): 1,  # t:Special is an Item in t1
            ("min-count-2", "t1:shared", "", "MinCountConstraintComponent"): 1,
            ("min-count-2", "t2:shared", "", "MinCountConstraintComponent"): 1,
            ("equals", "t1:item1", f'"2"^^{integer}', "EqualsConstraintComponent"): 1,
            ("equals", "t2:item1", f'"2"^^{integer}', "EqualsConstraintComponent"): 1,
            ("equals", "t1:item1", f'"3"^^{integer}', "EqualsConstraintComponent"): 1,
            ("equals", "t2:item1", f'"3"^^{integer}', "EqualsConstraintComponent"): 1,
            ("disjoint", "t1:item1", f'"2"^^{integer}', "DisjointConstraintComponent"): 1,
            ("disjoint", "t2:item1", f'"2"^^{integer}', "DisjointConstraintComponent"): 1,
            ("class", "t1:item1", '"a literal"', "ClassConstraintComponent"): 1,
            ("class", "t2:item1", '"a literal"', "ClassConstraintComponent"): 1,
            (
                "class",
                "t2:item1",
                "<https://w3id.org/jixiao-kg/id/form/t2/0/u1>",
                "ClassConstraintComponent",
            ): 1,
            ("datatype", "t1:item1", f'"abc"^^{integer}', "DatatypeConstraintComponent"): 1,
            ("datatype", "t2:item1", f'"abc"^^{integer}', "DatatypeConstraintComponent"): 1,
            ("datatype", "t1:item1", f'"5"^^{decimal}', "DatatypeConstraintComponent"): 1,
            ("datatype", "t2:item1", f'"5"^^{decimal}', "DatatypeConstraintComponent"): 1,
            ("pattern", "t1:item1", '"b12"', "PatternConstraintComponent"): 1,
            ("pattern", "t2:item1", '"b12"', "PatternConstraintComponent"): 1,
            ("pattern", "t1:item1", '"a1b"', "PatternConstraintComponent"): 1,
            ("pattern", "t2:item1", '"a1b"', "PatternConstraintComponent"): 1,
            # every failing pair: "text" against 5 and 6, 7 against 5 and 6
            ("less-than", "t1:item1", '"text"', "LessThanConstraintComponent"): 2,
            ("less-than", "t2:item1", '"text"', "LessThanConstraintComponent"): 2,
            ("less-than", "t1:item1", f'"7"^^{integer}', "LessThanConstraintComponent"): 2,
            ("less-than", "t2:item1", f'"7"^^{integer}', "LessThanConstraintComponent"): 2,
            # sizes 5, 15, 25 along t:part / t:size against the limits 10 and 20
            ("at-most", "t1:item1", f'"15"^^{integer}', "LessThanOrEqualsConstraintComponent"): 1,
            ("at-most", "t2:item1", f'"15"^^{integer}', "LessThanOrEqualsConstraintComponent"): 1,
            ("at-most", "t1:item1", f'"25"^^{integer}', "LessThanOrEqualsConstraintComponent"): 2,
            ("at-most", "t2:item1", f'"25"^^{integer}', "LessThanOrEqualsConstraintComponent"): 2,
            ("range", "t1:item1", f'"-1"^^{integer}', "MinInclusiveConstraintComponent"): 1,
            ("range", "t2:item1", f'"-1"^^{integer}', "MinInclusiveConstraintComponent"): 1,
            ("range", "t1:item1", '"9"', "MinInclusiveConstraintComponent"): 1,
            ("range", "t2:item1", '"9"', "MinInclusiveConstraintComponent"): 1,
            ("range", "t1:item1", '"9"', "MaxExclusiveConstraintComponent"): 1,
            ("range", "t2:item1", '"9"', "MaxExclusiveConstraintComponent"): 1,
            ("range", "t1:item1", f'"10.5"^^{decimal}', "MaxExclusiveConstraintComponent"): 1,
            ("range", "t2:item1", f'"10.5"^^{decimal}', "MaxExclusiveConstraintComponent"): 1,
            ("in", "t1:item1", f'"1"^^{decimal}', "InConstraintComponent"): 1,  # 1.0 is not the term 1
            ("in", "t2:item1", f'"1"^^{decimal}', "InConstraintComponent"): 1,
            ("in", "t1:item1", '"y"', "InConstraintComponent"): 1,
            ("in", "t2:item1", '"y"', "InConstraintComponent"): 1,
            ("node-kind", "t1:item1", '"r"', "NodeKindConstraintComponent"): 1,
            ("node-kind", "t2:item1", '"r"', "NodeKindConstraintComponent"): 1,
            ("has-value", "t1:item2", "", "HasValueConstraintComponent"): 1,
            ("has-value", "t1:shared", "", "HasValueConstraintComponent"): 1,
            ("has-value", "t2:shared", "", "HasValueConstraintComponent"): 1,
            ("subjects-of", "t2:item2", "", "MinCountConstraintComponent"): 1,
            ("subjects-of", "t1:item2", "", "MinCountConstraintComponent"): 1,
            ("qualified", "t1:item1", "", "QualifiedMaxCountConstraintComponent"): 1,
            ("qualified", "t2:item1", "", "QualifiedMaxCountConstraintComponent"): 1,
            # p3 has no t:kind: it conforms to the qualified shape, so item2 (t1) has one and item1 three
            ("qualified", "t1:shared", "", "QualifiedMinCountConstraintComponent"): 1,
            ("qualified", "t2:shared", "", "QualifiedMinCountConstraintComponent"): 1,
            ("qualified-in", "t1:shared", "", "QualifiedMinCountConstraintComponent"): 1,
            ("qualified-in", "t2:shared", "", "QualifiedMinCountConstraintComponent"): 1,
            ("qualified-in", "t1:item2", "", "QualifiedMinCountConstraintComponent"): 1,
        }
    )
    # <shared> has one label in each graph: no sh:maxCount result, though their merge would have two
    assert not [f for f in compiled.findings if f.focus_node.endswith("/shared") and "max" in f.source_shape]
    assert {
        f.form for f in compiled.findings if f.focus_node.endswith("/item2") and "min-count" in f.source_shape
    } == {t1}


def test_a_form_graph_without_derived_facts_is_refused_not_passed() -> None:
    store = store_of(seed_forms()[:2])
    graph = store.form_graphs()[1].graph
    store.update(f"DELETE WHERE {{ GRAPH <{graph}> {{ ?profile kg:profileOf ?form }} }}")
    with pytest.raises(
        StaleGraphError, match=r"form graph of <.*/form/000_bb01accd19b494dd/1> has no derived"
    ):
        validate_store(store, engine="compiled")


# ----------------------------------------------------------------------------- a synthetic corpus


SYNTHETIC_RULES = {
    "C-04": 13,
    "C-05": 3,
    "C-06": 13,
    "C-07": 8,
    "DN-01": 40,
    "DN-05": 1,
    "SE-01": 2,
    "SE-03": 103,
    "SE-05": 1,
    "SE-06": 3,
    "SE-09": 3,
    "SE-12": 4,
    "SE-13": 58,
    "TG-03": 2,
    "TG-04": 5,
    "TG-09": 22,
    "TG-10": 87,
    "TG-11": 85,
}


def test_a_synthetic_corpus_gives_pyshacls_findings() -> None:
    corpus = build_corpus(200, 5)
    forms = [form for file in corpus.files for form in parse_source(file.data, file.name)]
    assert len(forms) == 200
    store = store_of(forms)
    by_pyshacl = validate_store(store, engine="pyshacl", save=False)
    compiled = validate_store(store, engine="compiled", save=False)
    assert len(compiled.findings) == 453
    assert dict(sorted(Counter(f.rule for f in compiled.findings).items())) == SYNTHETIC_RULES
    assert [key(f) for f in compiled.findings] == [key(f) for f in by_pyshacl.findings]
    assert compiled.findings == by_pyshacl.findings


# ----------------------------------------------------------------------------- what is refused


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sh:targetClass t:Item ; sh:path [ sh:inversePath t:a ] ; sh:minCount 1", "inversePath"),
        (
            "sh:targetClass t:Item ; sh:path [ sh:alternativePath ( t:a t:b ) ] ; sh:minCount 1",
            "alternativePath",
        ),
        ("sh:targetClass t:Item ; sh:path ( t:a [ sh:inversePath t:b ] ) ; sh:minCount 1", "nested path"),
        ("sh:targetClass t:Item ; sh:path t:a ; sh:or ( [ sh:minCount 1 ] )", "shacl#or"),
        ("sh:targetNode t:x ; sh:path t:a ; sh:minCount 1", "targetNode"),
        ("sh:targetClass t:Item ; sh:path t:a ; sh:datatype xsd:gYear", "gYear"),
        (
            "sh:targetClass t:Item ; sh:path t:a ; sh:qualifiedValueShape [ sh:class t:C ] ; "
            "sh:qualifiedMinCount 1 ; sh:qualifiedValueShapesDisjoint true",
            "qualifiedValueShapesDisjoint",
        ),
    ],
)
def test_unsupported_shapes_are_refused_naming_the_shape(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "x.ttl").write_text(PREFIXES + RULE + shape("unsupported", body), encoding="utf-8")
    with pytest.raises(
        ShapesError, match=rf"^shape https://w3id.org/jixiao-kg/test#unsupported: .*{message}"
    ):
        compile_catalog(load_catalog(tmp_path))


PLANNED_QUERIES = 37


def test_the_shipped_shapes_compile_to_few_queries() -> None:
    shapes = compile_catalog(load_catalog())
    assert len(shapes) == 101  # every Core shape (X-01, X-02 run as SPARQL checks of their own)
    assert sum(len(s.checks) for s in shapes) == 104
    assert len(plan(shapes)) == PLANNED_QUERIES


class NotOxigraph:
    """A store that is not the embedded Oxigraph store (as a remote one)."""

    location = "http://localhost:8890/sparql"


def test_the_compiled_engine_needs_the_embedded_store() -> None:
    with pytest.raises(
        EngineError, match="embedded Oxigraph store only, not on http://localhost:8890/sparql"
    ):
        validate_store(NotOxigraph(), engine="compiled")  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="unknown engine 'fast'"):
        validate_store(OxigraphStore.in_memory(), engine="fast")
    assert default_engine(OxigraphStore.in_memory()) == "compiled"
    assert default_engine(NotOxigraph()) == "pyshacl"  # type: ignore[arg-type]
