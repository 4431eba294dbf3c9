"""The namespaces of the knowledge graph: our ontology (`KG`), our data (`ID`) and the W3C/community
vocabularies the ontology reuses."""

from __future__ import annotations

from typing import Any, cast

from rdflib import Graph, Namespace, URIRef
from rdflib import namespace as w3c


class TermCachingNamespace(Namespace):
    """An rdflib Namespace whose attribute terms (`KG.hasIndicator`, `RDF.type`) are made once. rdflib
    makes a new URIRef, IRI check included, on every attribute access (~2 µs), and ingest made ~1,600 per
    form: a quarter of a worker's CPU. The term is kept in the instance's `__dict__`, where Python finds it
    before it would call `__getattr__` again. `closed`: the rdflib DefinedNamespace (RDF, SKOS …) a W3C
    vocabulary's terms are first looked up in, so that a misspelt term is still reported. Item access
    (`ID["form/…"]`) is not cached: those IRIs are unbounded."""

    def __new__(cls, value: str, closed: Any = None) -> TermCachingNamespace:
        namespace = cast(TermCachingNamespace, super().__new__(cls, value))
        namespace.__dict__["_closed"] = closed
        return namespace

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        closed = self.__dict__.get("_closed")
        term: URIRef = getattr(closed, name) if closed is not None else self.term(name)
        self.__dict__[name] = term
        return term


def _w3c(vocabulary: Any) -> TermCachingNamespace:
    return TermCachingNamespace(str(vocabulary), closed=vocabulary)


KG = TermCachingNamespace("https://w3id.org/jixiao-kg/ontology#")
ONTOLOGY_IRI = "https://w3id.org/jixiao-kg/ontology"
ID = TermCachingNamespace("https://w3id.org/jixiao-kg/id/")
ELI = TermCachingNamespace("http://data.europa.eu/eli/ontology#")
QUDT = TermCachingNamespace("http://qudt.org/schema/qudt/")
DCTERMS = _w3c(w3c.DCTERMS)
ORG = _w3c(w3c.ORG)
OWL = _w3c(w3c.OWL)
PROV = _w3c(w3c.PROV)
RDF = _w3c(w3c.RDF)
RDFS = _w3c(w3c.RDFS)
SKOS = _w3c(w3c.SKOS)
TIME = _w3c(w3c.TIME)
XSD = _w3c(w3c.XSD)

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
