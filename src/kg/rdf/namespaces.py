"""The namespaces of the knowledge graph: our ontology (`KG`), our data (`ID`) and the W3C/community
vocabularies the ontology reuses."""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD

KG = Namespace("https://w3id.org/jixiao-kg/ontology#")
ONTOLOGY_IRI = "https://w3id.org/jixiao-kg/ontology"
ID = Namespace("https://w3id.org/jixiao-kg/id/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
QUDT = Namespace("http://qudt.org/schema/qudt/")

PREFIXES: dict[str, Namespace] = {
    "kg": KG,
    "id": ID,
    "org": Namespace(str(ORG)),
    "prov": Namespace(str(PROV)),
    "skos": Namespace(str(SKOS)),
    "dcterms": Namespace(str(DCTERMS)),
    "eli": ELI,
    "qudt": QUDT,
    "time": Namespace(str(TIME)),
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "owl": Namespace(str(OWL)),
    "xsd": Namespace(str(XSD)),
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on a graph (for readable Turtle); returns the graph."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


__all__ = [
    "DCTERMS",
    "ELI",
    "ID",
    "KG",
    "ONTOLOGY_IRI",
    "ORG",
    "OWL",
    "PREFIXES",
    "PROV",
    "QUDT",
    "RDF",
    "RDFS",
    "SKOS",
    "TIME",
    "XSD",
    "bind_prefixes",
]
