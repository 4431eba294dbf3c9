"""The ontology (ontology/*.ttl merged): OWL 2 DL hygiene checked structurally, then HermiT consistency."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg.rdf.mapping import FUNDING_KINDS
from kg.rdf.namespaces import KG, ONTOLOGY_IRI
from kg.rdf.ontology import load_ontology

ROOT = Path(__file__).resolve().parents[1]
INCONSISTENT = Path(__file__).resolve().parent / "fixtures" / "inconsistent.ttl"

ENTITY_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))
# OWL 2 datatype map members used as ranges (xsd:date and xsd:gYear are not in the map).
OWL2_DATATYPES = {XSD.string, XSD.integer, XSD.decimal, XSD.boolean, XSD.dateTime, RDFS.Literal}


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_ontology()


def declared(graph: Graph, kind: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)}


def test_header_has_titles_and_version(onto: Graph) -> None:
    header = URIRef(ONTOLOGY_IRI)
    assert (header, RDF.type, OWL.Ontology) in onto
    titles = {(t.language, str(t)) for t in onto.objects(header, DCTERMS.title) if isinstance(t, Literal)}
    assert {lang for lang, _ in titles} == {"zh", "en"}
    assert onto.value(header, OWL.versionInfo) == Literal("0.1.0")
    assert onto.value(header, OWL.versionIRI) == URIRef(ONTOLOGY_IRI + "/0.1.0")


def test_every_class_and_property_has_zh_and_en_label_and_comment(onto: Graph) -> None:
    missing = []
    for kind in ENTITY_KINDS:
        for entity in declared(onto, kind):
            langs = {
                label.language for label in onto.objects(entity, RDFS.label) if isinstance(label, Literal)
            }
            if not {"zh", "en"} <= langs or onto.value(entity, RDFS.comment) is None:
                missing.append(entity)
    assert missing == []


def test_no_punning_each_entity_has_one_kind(onto: Graph) -> None:
    kinds: dict[URIRef, set[URIRef]] = {}
    for kind in (*ENTITY_KINDS, OWL.NamedIndividual):
        for entity in declared(onto, kind):
            kinds.setdefault(entity, set()).add(kind)
    assert {entity: k for entity, k in kinds.items() if len(k) > 1} == {}


def test_every_used_term_is_declared(onto: Graph) -> None:
    classes = declared(onto, OWL.Class)
    properties = set().union(*(declared(onto, kind) for kind in ENTITY_KINDS[1:]))
    undeclared = set()
    for s, p, o in onto:
        if not str(p).startswith(BUILT_IN) and p not in properties:
            undeclared.add(p)
        is_class_position = p in (RDF.type, RDFS.subClassOf, RDFS.domain) and isinstance(o, URIRef)
        if is_class_position and not str(o).startswith(BUILT_IN) and o not in classes:
            undeclared.add(o)
        if p == RDFS.range and s in declared(onto, OWL.ObjectProperty) and o not in classes:
            undeclared.add(o)
    assert undeclared == set()


def test_datatype_ranges_are_in_the_owl2_datatype_map(onto: Graph) -> None:
    ranges = {onto.value(p, RDFS.range) for p in declared(onto, OWL.DatatypeProperty)} - {None}
    assert ranges <= OWL2_DATATYPES


def test_the_three_form_types_are_pairwise_disjoint_subclasses(onto: Graph) -> None:
    forms = [KG.TargetTable, KG.TargetDeclaration, KG.SelfEvaluation]
    for form in forms:
        assert (form, RDFS.subClassOf, KG.PerformanceForm) in onto
    member_lists = [list(onto.items(m)) for m in onto.objects(None, OWL.members)]
    assert forms in member_lists


def test_funding_kinds_are_the_mapping_kinds(onto: Graph) -> None:
    notations = {str(onto.value(kind, SKOS.notation)) for kind in onto.subjects(RDF.type, KG.FundingKind)}
    assert notations == set(FUNDING_KINDS)
    for kind in FUNDING_KINDS:
        assert (KG[f"FundingKind_{kind}"], SKOS.inScheme, KG.FundingKindScheme) in onto


# ----------------------------------------------------------------------------- HermiT (owlready2)


def run_hermit(graph: Graph, tmp_path: Path) -> None:
    """Reason over the graph with HermiT in a fresh owlready2 world; raises when inconsistent."""
    if shutil.which("java") is None:
        pytest.skip("java not found on PATH: owlready2 needs it to run HermiT")
    path = tmp_path / "ontology.owl"
    graph.serialize(path, format="xml")
    owlready2.reasoning.JAVA_MEMORY = 512
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner(world, infer_property_values=False, debug=0)


def test_ontology_is_consistent_under_hermit(onto: Graph, tmp_path: Path) -> None:
    run_hermit(onto, tmp_path)


def test_inconsistent_fixture_is_detected_by_hermit(onto: Graph, tmp_path: Path) -> None:
    graph = Graph()
    graph += onto
    graph.parse(INCONSISTENT)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        run_hermit(graph, tmp_path)
