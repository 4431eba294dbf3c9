"""Validating a store: reports stored beside the data, replaced on re-validation, found with SPARQL; worker
processes give the same findings; the outputs."""

from __future__ import annotations

import json
from dataclasses import replace

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from kg.model import Field
from kg.rdf.mapping import form_iri, form_to_graph, form_to_named_graph
from kg.rdf.namespaces import ID, KG
from kg.store.oxigraph import OxigraphStore
from kg.validate import FormSelector, SelectionError, StaleGraphError, engine, load_catalog, validate_store
from kg.validate.findings import JSON_KEYS
from kg.validate.report import render_html, render_json, render_text, render_ttl, report_graph_iri
from kg.validate.run import read_ntriples, stored_report_names
from tests.validation_forms import num, self_evaluation, target_declaration

SH_PREFIX = "PREFIX sh: <http://www.w3.org/ns/shacl#>\n"


def load(store: OxigraphStore, *forms: object) -> None:
    for form in forms:
        store.replace_file(form.file, [form_to_named_graph(form)])  # type: ignore[attr-defined]


def broken() -> object:
    """A self-evaluation whose 总分 does not add up (SE-05) and a row without reason (SE-12)."""
    form = self_evaluation(file="broken.txt", total_score=num("1000"))
    rows = list(form.indicators)
    rows[2] = replace(rows[2], score=num("27.00"))
    return replace(form, indicators=rows)


@pytest.fixture
def store() -> OxigraphStore:
    store = OxigraphStore.in_memory()
    load(store, self_evaluation(), broken(), target_declaration())
    lineage = Graph()
    lineage.add((ID["lineage/x"], RDF.type, KG.Lineage))
    for form in (target_declaration(project_name=Field("课题研究", 3)), self_evaluation()):
        lineage.add((ID["lineage/x"], KG.lineageMember, form_iri(form)))
    store.replace_derived("lineages", [(ID["graph/lineages"], lineage)], in_default_graph=True)
    return store


def rows(store: OxigraphStore, sparql: str) -> list[tuple[str, ...]]:
    result = store.query(SH_PREFIX + sparql)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [tuple(s[n].value if s[n] is not None else "" for n in names) for s in result]  # type: ignore[union-attr]


def test_reports_are_stored_per_form_and_found_with_sparql(store: OxigraphStore) -> None:
    run = validate_store(store, jobs=1)
    assert [context.file for context in run.forms] == ["broken.txt", "se.txt", "td.txt"]
    assert stored_report_names(store) == [
        "report/across-forms",
        "report/broken/0",
        "report/rules",
        "report/se/0",
        "report/td/0",
    ]
    # findings by rule, unit and year, as the package documentation shows
    by_rule = rows(
        store,
        """SELECT ?rule ?severity ?unit ?year (COUNT(*) AS ?n) WHERE {
             GRAPH ?report { ?r a sh:ValidationResult ; kg:ruleId ?rule ; sh:resultSeverity ?severity ;
                                kg:aboutForm ?form }
             ?form kg:fiscalYear ?year . OPTIONAL { ?form kg:implementingUnitName ?unit }
           } GROUP BY ?rule ?severity ?unit ?year ORDER BY ?rule""",
    )
    unit = "上海市城市管理行政执法局"
    assert by_rule == [
        ("SE-05", str(SH.Violation), unit, "2024", "1"),
        ("SE-06", str(SH.Violation), unit, "2024", "1"),
        ("SE-12", str(SH.Violation), unit, "2024", "1"),
        ("X-01", str(SH.Info), unit, "2024", "1"),
    ]
    twelve = rows(
        store,
        """SELECT ?indicator ?name ?printed ?message ?focus ?shape WHERE {
             GRAPH ?g { ?r kg:ruleId "SE-12" ; kg:aboutIndicator ?indicator ; kg:printedValue ?printed ;
                           sh:resultMessage ?message ; sh:focusNode ?focus ; sh:sourceShape ?shape ;
                           kg:rule ?rule FILTER (LANG(?message) = "zh") }
             ?indicator kg:level3Name ?name }""",
    )
    assert twelve == [
        (
            f"{ID}form/broken/0/indicator/2",
            "成果应用",
            "27.00",
            "得分低于分值，但本行“偏差原因分析及改进措施”为空",
            f"{ID}form/broken/0/indicator/2/profile",
            "https://w3id.org/jixiao-kg/shapes#SE-12",
        )
    ]
    # the reports stay out of the default graph; the rule catalogue is beside them
    assert rows(store, "SELECT ?r WHERE { ?r a sh:ValidationResult }") == []
    assert len(rows(store, "SELECT ?rule WHERE { GRAPH ?g { ?rule a kg:ComplianceRule } }")) == 32
    conforms = rows(
        store,
        "SELECT ?report ?ok WHERE { GRAPH ?g { ?report a sh:ValidationReport ; sh:conforms ?ok } } "
        "ORDER BY ?report",
    )
    assert [(r.rsplit("/report/", 1)[1], ok) for r, ok in conforms] == [
        ("across-forms", "false"),
        ("broken/0", "false"),
        ("se/0", "true"),
        ("td/0", "true"),
    ]


def test_revalidation_replaces_reports_and_follows_the_data(store: OxigraphStore) -> None:
    validate_store(store, jobs=1)
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?r a sh:ValidationResult } }"
    assert rows(store, count) == [("4",)]
    validate_store(store, jobs=1)
    assert rows(store, count) == [("4",)]  # replaced, not added
    load(store, replace(self_evaluation(), file="broken.txt"))  # the file corrected and loaded again
    run = validate_store(store, [FormSelector("broken.txt")], jobs=1)
    assert [f.rule for f in run.findings] == []
    assert rows(store, count) == [("1",)]  # only the X-01 info about se.txt is left
    store.remove_file("td.txt")
    validate_store(store, jobs=1)  # a whole-store validation drops the reports of forms gone
    assert "report/td/0" not in stored_report_names(store)


def test_a_graph_at_a_report_iri_is_replaced_even_when_the_catalog_does_not_list_it(
    store: OxigraphStore,
) -> None:
    """The save drops only graphs that are there (a first validation drops none); one written at a
    report's IRI by hand is there, and must not be merged into."""
    graph = report_graph_iri("broken/0")
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:x:stray> <urn:x:p> 1 }} }}")
    validate_store(store, jobs=1)
    in_graph = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    stray = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ <urn:x:stray> ?p ?o }} }}"
    assert rows(store, stray) == [("0",)]
    assert int(rows(store, in_graph)[0][0]) > 0


def test_selection_validates_only_the_named_forms(store: OxigraphStore) -> None:
    run = validate_store(store, [FormSelector.parse("data/broken.txt#0")], jobs=1)
    assert [c.file for c in run.forms] == ["broken.txt"]
    assert {f.file for f in run.findings} == {"broken.txt"}
    assert stored_report_names(store) == ["report/across-forms", "report/broken/0", "report/rules"]
    with pytest.raises(SelectionError, match=r"no form nothing\.txt"):
        validate_store(store, [FormSelector("nothing.txt")], jobs=1)
    with pytest.raises(SelectionError, match=r"no form se\.txt#3"):
        validate_store(store, [FormSelector("se.txt", 3)], jobs=1)


def test_worker_processes_find_the_same(store: OxigraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    graphs = [(str(r.graph), read_ntriples(store, r.graph)) for r in store.form_graphs()]
    alone = engine.validate_many(graphs, jobs=1)
    monkeypatch.setattr(engine, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 1)
    pooled = engine.validate_many(graphs, jobs=2)
    assert [sorted(f.json().items()) for o in pooled for f in o.findings] == [
        sorted(f.json().items()) for o in alone for f in o.findings
    ]


def test_a_form_read_back_from_the_store_validates_as_mapped() -> None:
    store = OxigraphStore.in_memory()
    form = broken()
    load(store, form)
    [record] = store.form_graphs()
    from_store = engine.validate_ntriples([(str(record.graph), read_ntriples(store, record.graph))])[0]
    mapped = engine.validate_form_graph(form_to_graph(form))
    assert [f.json() for f in from_store.findings] == [f.json() for f in mapped.findings] != []


def test_outputs(store: OxigraphStore) -> None:
    run = validate_store(store, jobs=1, save=False)
    rules = load_catalog().rules
    items = json.loads(render_json(run.findings))
    assert [tuple(item) for item in items] == [JSON_KEYS] * 4
    assert [item["rule"] for item in items] == ["SE-05", "SE-06", "SE-12", "X-01"]
    text = render_text(run.findings, run.forms, rules, limit=1)
    assert text.splitlines()[0] == "3 forms validated, 2 with findings: 3 violations, 0 warnings, 1 info"
    assert "broken.txt #0  2024  课题研究  绩效自评表" in text and "SE-05  总分等于各项得分之和" in text
    ttl = Graph().parse(data=render_ttl(run.reports, run.created), format="turtle")
    [report] = ttl.subjects(RDF.type, SH.ValidationReport)
    assert len(list(ttl.objects(report, SH.result))) == 4
    assert (report, SH.conforms, Literal(False)) in ttl
    assert set(ttl.objects(None, KG.aboutForm)) == {URIRef(f"{ID}form/broken/0"), URIRef(f"{ID}form/se/0")}
    page = render_html(run.findings, run.forms, rules, run.created)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "src=" not in page
    assert (
        "总分得分高于资金得分与各指标得分之和" in page
        and "无问题的表单" in page
        and "城管执法装备建设" in page
    )


def test_a_form_graph_without_derived_facts_is_refused_not_passed() -> None:
    """A graph mapped before the derived facts existed would pass rules it breaks: it is refused."""
    graph = form_to_graph(broken())  # type: ignore[arg-type]
    for profile in list(graph.subjects(KG.profileOf, None)):
        graph.remove((profile, None, None))
    with pytest.raises(StaleGraphError, match="no derived facts"):
        engine.validate_form_graph(graph)
