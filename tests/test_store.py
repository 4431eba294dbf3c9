"""The Oxigraph store: replacement per source file, atomicity, literal exactness, persistence, queries.

These tests build small rdflib graphs by hand, so they do not depend on the parsers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.rdf.mapping import decimal_literal
from kg.rdf.namespaces import ID, KG
from kg.store import (
    CATALOG_GRAPH,
    OxigraphStore,
    QueryError,
    QuerySyntaxError,
    StoreError,
    StoreLockedError,
    graphs_to_quads,
)

SHARED_ORG = ID["org/shared"]


def form_graph(stem: str, index: int, *, extra: int = 0) -> tuple[URIRef, Graph]:
    """A small form graph: 4 own triples (+ `extra`), and 2 triples every form shares."""
    form = ID[f"form/{stem}/{index}"]
    graph = Graph()
    graph.add((form, RDF.type, KG.SelfEvaluation))
    graph.add((form, KG.formIndex, Literal(str(index), datatype=XSD.integer)))
    graph.add((form, KG.fiscalYear, Literal("2024", datatype=XSD.integer)))
    graph.add((form, KG.implementingUnit, SHARED_ORG))
    for n in range(extra):
        graph.add((form, RDFS.comment, Literal(f"extra {n}")))
    graph.add((SHARED_ORG, RDF.type, URIRef("http://www.w3.org/ns/org#Organization")))
    graph.add((SHARED_ORG, RDFS.label, Literal("上海市城市管理行政执法局", lang="zh")))
    return ID[f"graph/{stem}/{index}"], graph


def snapshot(store: OxigraphStore) -> tuple[int, bytes, int]:
    return store.count_triples(), store.export("nq") or b"", store.count_default_graph()


def select(store: OxigraphStore, sparql: str, **params: object) -> list[dict[str, str]]:
    results = store.query(sparql, params or None)
    assert isinstance(results, ox.QuerySolutions)
    names = [v.value for v in results.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in results]


@pytest.fixture
def store() -> OxigraphStore:
    with OxigraphStore.in_memory() as memory:
        yield memory


def test_replace_file_adds_graphs_and_catalog(store: OxigraphStore) -> None:
    added = store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)], sha256="ab" * 32)
    assert added == 12
    # 12 form triples + catalog: 3 for the file (name, sha256, time) + 2 per graph
    assert store.count_triples() == 12 + 3 + 4
    assert store.count_triples(ID["graph/a/0"]) == 6
    # default graph = merge of the form graphs: 2 × 4 own triples + 2 shared, once
    assert store.count_default_graph() == 10
    [record] = store.files()
    assert (record.file, record.forms, record.triples, record.sha256) == ("a.txt", 2, 12, "ab" * 32)
    assert record.iri == str(ID["source/a.txt"])
    assert record.ingested_at is not None and record.ingested_at.endswith("Z")
    assert [(str(g.graph), g.file, g.triples) for g in store.form_graphs()] == [
        (str(ID["graph/a/0"]), "a.txt", 6),
        (str(ID["graph/a/1"]), "a.txt", 6),
    ]


def test_replace_file_replaces_and_never_duplicates(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)])
    store.replace_file("b.txt", [form_graph("b", 0, extra=3)])
    first = snapshot(store)
    for _ in range(3):
        store.replace_file("b.txt", [form_graph("b", 0, extra=3)])
        store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)])
    count, _, default = snapshot(store)
    assert (count, default) == (first[0], first[2])
    assert [(f.file, f.forms, f.triples) for f in store.files()] == [("a.txt", 2, 12), ("b.txt", 1, 9)]
    assert len(select(store, "SELECT ?f WHERE { ?f a kg:SelfEvaluation }")) == 3

    # a.txt now has one form: graph a/1 disappears, from the named graphs and from the default graph
    assert store.replace_file("a.txt", [form_graph("a", 0, extra=1)]) == 7
    assert [(f.file, f.forms, f.triples) for f in store.files()] == [("a.txt", 1, 7), ("b.txt", 1, 9)]
    assert store.count_triples(ID["graph/a/1"]) == 0
    assert not store.query(f"ASK {{ <{ID['form/a/1']}> ?p ?o }}")
    assert store.query(f"ASK {{ <{ID['form/a/0']}> rdfs:comment 'extra 0' }}")
    assert store.count_default_graph() == 5 + 7 + 2


def test_shared_triples_stay_while_any_form_holds_them(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0)])
    store.replace_file("b.txt", [form_graph("b", 0)])
    label = f"ASK {{ <{SHARED_ORG}> rdfs:label ?l }}"
    assert store.remove_file("a.txt") == 6
    assert store.query(label)
    assert store.count_default_graph() == 6
    assert store.remove_file("b.txt") == 6
    assert not store.query(label)
    assert (store.count_triples(), store.count_default_graph(), store.files()) == (0, 0, [])


def test_catalog_is_not_in_the_default_graph(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0)])
    assert not store.query("ASK { ?g kgcat:sourceFile ?f }")
    assert store.query(f"ASK {{ GRAPH <{CATALOG_GRAPH}> {{ ?g kgcat:sourceFile ?f }} }}")
    rows = select(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert rows == [{"n": "6"}]


def test_failed_conversion_leaves_store_unchanged(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)])
    before = snapshot(store)
    graph_iri, bad = form_graph("a", 1)
    bad.add((URIRef("https://w3id.org/jixiao-kg/id/bad iri"), RDF.type, KG.SelfEvaluation))
    with pytest.raises(ValueError):
        store.replace_file("a.txt", [form_graph("a", 0, extra=2), (graph_iri, bad)])
    assert snapshot(store) == before
    with pytest.raises(ValueError, match="catalog"):
        store.replace_file("a.txt", [(CATALOG_GRAPH, Graph())])
    assert snapshot(store) == before


def test_failure_inside_the_transaction_leaves_store_unchanged(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)])
    before = snapshot(store)
    original = OxigraphStore._removal_operations

    def failing(
        self: OxigraphStore, file_node: ox.NamedNode, graphs: set[ox.NamedNode], **keep: Any
    ) -> list[str]:
        # after the old graphs are dropped, an operation that fails (the graph exists)
        return [*original(self, file_node, graphs, **keep), f"CREATE GRAPH <{CATALOG_GRAPH}>"]

    monkeypatch.setattr(OxigraphStore, "_removal_operations", failing)
    with pytest.raises(StoreError, match="nothing was changed"):
        store.replace_file("a.txt", [form_graph("a", 0, extra=5)])
    assert snapshot(store) == before


DECIMALS = ["40.00", "86.75", "0.1", "100", "-2.50", "1514.0223", "12345678901234.5678", "0.000001"]


def test_terms_are_converted_exactly() -> None:
    graph = Graph()
    subject = ID["form/x/0"]
    for n, text in enumerate(DECIMALS):
        graph.add((subject, KG[f"d{n}"], Literal(text, datatype=XSD.decimal)))
    graph.add((subject, RDFS.label, Literal("课题研究", lang="zh-Hans")))
    graph.add((subject, KG.raw, Literal("40.00")))
    quads = graphs_to_quads([(ID["graph/x/0"], graph)])
    objects = {q.predicate.value: q.object for q in quads}
    for n, text in enumerate(DECIMALS):
        literal = objects[str(KG[f"d{n}"])]
        assert isinstance(literal, ox.Literal)
        assert (literal.value, literal.datatype.value) == (text, str(XSD.decimal))
    label = objects[str(RDFS.label)]
    # the tag is kept; pyoxigraph itself lower-cases it (BCP 47 tags are case-insensitive)
    assert isinstance(label, ox.Literal) and (label.value, label.language) == ("课题研究", "zh-hans")
    raw = objects[str(KG.raw)]
    assert isinstance(raw, ox.Literal) and (raw.value, raw.datatype.value) == ("40.00", str(XSD.string))


def test_repeated_triples_count_once_as_in_a_graph(store: OxigraphStore) -> None:
    """Derived triples may come as a plain iterable with repeats (kg.link's lineage triples): each is one
    quad, on either store, as if they had been added to an rdflib Graph."""
    triple = (ID["form/x/0"], KG.lookupKey, Literal("课题研究"))
    other = (ID["form/x/0"], KG.sortOrder, Literal(0))
    assert graphs_to_quads([(ID["graph/x/0"], [triple, other, triple])]) == graphs_to_quads(
        [(ID["graph/x/0"], [triple, other])]
    )
    repeated = [(ID["graph/repeats"], [triple, triple])]
    assert store.replace_derived("repeats", repeated, in_default_graph=True) == 1


def test_decimal_values_round_trip_exactly(store: OxigraphStore) -> None:
    graph = Graph()
    subject = ID["form/x/0"]
    for n, text in enumerate(DECIMALS):
        graph.add((subject, KG[f"d{n}"], Literal(text, datatype=XSD.decimal)))
    graph.add((subject, KG.raw, Literal("40.00")))
    graph.add((subject, RDFS.label, Literal("课题研究", lang="zh-Hans")))
    store.replace_file("x.txt", [(ID["graph/x/0"], graph)])
    stored = {
        row["p"]: row["o"]
        for row in select(store, f"SELECT ?p ?o WHERE {{ GRAPH <{ID['graph/x/0']}> {{ ?s ?p ?o }} }}")
    }
    # Oxigraph keeps decimals by value: exact (no float anywhere), lexical form canonical; the mapping
    # writes that same canonical form (kg.rdf.mapping.decimal_literal), so its literals come back as written.
    expected = ["40", "86.75", "0.1", "100", "-2.5", "1514.0223", "12345678901234.5678", "0.000001"]
    for n, text in enumerate(DECIMALS):
        value = stored[str(KG[f"d{n}"])]
        assert value == expected[n]
        assert Decimal(value) == Decimal(text)
        assert str(decimal_literal(Decimal(text))) == value
    assert stored[str(KG.raw)] == "40.00"  # printed text kept verbatim as a string
    assert stored[str(RDFS.label)] == "课题研究"
    # the language tag is kept (lower-cased by pyoxigraph)
    assert store.query(f"ASK {{ <{subject}> rdfs:label ?l FILTER (lang(?l) = 'zh-hans') }}")
    # decimal comparison is exact
    assert store.query(f"ASK {{ <{subject}> kg:d5 1514.0223 ; kg:d6 12345678901234.5678 }}")


def test_on_disk_store_keeps_data_when_reopened(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with OxigraphStore(path) as store:
        store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)], sha256="0" * 64)
        before = snapshot(store)
    with OxigraphStore(path, create=False) as reopened:
        assert snapshot(reopened) == before
        assert [(f.file, f.forms, f.triples, f.sha256) for f in reopened.files()] == [
            ("a.txt", 2, 12, "0" * 64)
        ]
        reopened.replace_file("a.txt", [form_graph("a", 0)])
    with OxigraphStore(path) as again:
        assert [(f.file, f.forms, f.triples) for f in again.files()] == [("a.txt", 1, 6)]


def test_store_is_locked_while_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with OxigraphStore(path):
        with pytest.raises(StoreLockedError, match="in use by another process"):
            OxigraphStore(path)
        code = f"from kg.store import OxigraphStore; OxigraphStore({str(path)!r})"
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert other.returncode != 0
        assert "StoreLockedError" in other.stderr and "in use by another process" in other.stderr
    with OxigraphStore(path) as reopened:  # released on close
        assert reopened.count_triples() == 0


def test_missing_or_closed_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        OxigraphStore(tmp_path / "nothing", create=False)
    assert not (tmp_path / "nothing").exists()
    store = OxigraphStore(tmp_path / "store")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count_triples()


def test_query_substitutions_are_typed_terms(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)])
    sparql = "SELECT ?f ?i WHERE { ?f kg:formIndex ?i }"
    assert select(store, sparql, i=1) == [{"f": str(ID["form/a/1"]), "i": "1"}]
    assert select(store, sparql, i="1") == []  # a string is not the integer 1
    assert len(select(store, sparql)) == 2
    # A parameter is a VALUES block first in the WHERE group (plain SPARQL, as on a remote store): it binds
    # a variable the query does not select too, and BOUND() sees it.
    assert select(store, "SELECT ?f WHERE { ?f kg:formIndex ?i }", i=1) == [{"f": str(ID["form/a/1"])}]
    flagged = "SELECT ?f ?given WHERE { BIND (BOUND(?i) AS ?given) ?f kg:formIndex ?i }"
    assert select(store, flagged, i=0) == [{"f": str(ID["form/a/0"]), "given": "true"}]
    assert {row["given"] for row in select(store, flagged)} == {"false"}
    with pytest.raises(QueryError, match="blank node"):
        store.query(sparql, {"i": ox.BlankNode()})
    with pytest.raises(QuerySyntaxError, match="WHERE"):
        store.query(f"DESCRIBE <{ID['form/a/0']}>", {"i": 1})
    with pytest.raises(QuerySyntaxError):
        store.query("SELECT WHERE {")
    with pytest.raises(QueryError, match="variable name"):
        store.query(sparql, {"not a name": 1})


def test_exports(store: OxigraphStore) -> None:
    store.replace_file("a.txt", [form_graph("a", 0), form_graph("a", 1)], sha256="f" * 64)
    nquads = (store.export("nq") or b"").decode()
    assert len(nquads.splitlines()) == store.count_triples() == 19
    reloaded = ox.Store()
    reloaded.load(nquads, ox.RdfFormat.N_QUADS)
    assert len(reloaded) == 19
    assert {str(g) for g in reloaded.named_graphs()} == {
        f"<{ID['graph/a/0']}>",
        f"<{ID['graph/a/1']}>",
        f"<{CATALOG_GRAPH}>",
    }
    turtle = Graph().parse(data=store.export("ttl"), format="turtle")
    assert len(turtle) == store.count_default_graph() == 10
    trig = ox.Store()
    trig.load(store.export("trig"), ox.RdfFormat.TRIG)
    assert len(trig) == 19
    document = json.loads(store.export("jsonld") or b"")
    assert {node["@id"] for node in document} == {
        str(ID["graph/a/0"]),
        str(ID["graph/a/1"]),
        str(CATALOG_GRAPH),
    }
    with pytest.raises(ValueError, match="unknown export format"):
        store.export("xml")


def derived_graph(name: str, value: str) -> tuple[URIRef, Graph]:
    graph = Graph()
    graph.add((ID[f"lineage/{name}"], RDFS.label, Literal(value)))
    return ID[f"graph/{name}"], graph


def test_derived_graphs_in_the_default_graph_are_replaced_and_are_no_source_files(
    store: OxigraphStore,
) -> None:
    store.replace_file("001_a.txt", [form_graph("001_a", 0)])
    store.replace_derived("lineages", [derived_graph("lineages", "first")], in_default_graph=True)
    store.replace_derived("lineages", [derived_graph("lineages", "second")], in_default_graph=True)
    labels = select(store, f"SELECT ?v WHERE {{ <{ID['lineage/lineages']}> rdfs:label ?v }}")
    assert labels == [{"v": "second"}]
    assert [record.file for record in store.files()] == ["001_a.txt"]
    assert [record.file for record in store.form_graphs()] == ["001_a.txt"]
    store.replace_file("001_a.txt", [form_graph("001_a", 0)])
    assert select(store, f"SELECT ?v WHERE {{ <{ID['lineage/lineages']}> rdfs:label ?v }}") == [
        {"v": "second"}
    ]


def test_derived_graphs_outside_the_default_graph_are_read_with_graph(store: OxigraphStore) -> None:
    store.replace_derived("report", [derived_graph("report/a", "r1")], in_default_graph=False)
    store.replace_derived("report", [derived_graph("report/b", "r2")], in_default_graph=False)
    assert select(store, "SELECT ?v WHERE { ?s rdfs:label ?v }") == []
    rows = select(store, "SELECT ?g ?v WHERE { GRAPH ?g { ?s rdfs:label ?v } }")
    assert rows == [{"g": str(ID["graph/report/b"]), "v": "r2"}]
