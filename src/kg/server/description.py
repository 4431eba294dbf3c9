"""The SPARQL 1.1 Service Description (`sd:Service`) answered by `GET /sparql` without a query."""

from __future__ import annotations

import pyoxigraph as ox

from kg.store.oxigraph import CATALOG_GRAPH

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
DCTERMS = "http://purl.org/dc/terms/"
SD_PREFIXES = {"sd": SD, "formats": FORMATS, "dcterms": DCTERMS}
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
DEFAULT_GRAPH_TEXT = (
    "The default graph is the merge (set union) of all form graphs, one named graph per printed form "
    "(plus derived graphs that join it, such as lineages), so a query without GRAPH sees every form at "
    "once and each shared triple once. GRAPH ?g { … } reaches single forms. The catalog graph and "
    "validation reports are named graphs outside the default graph."
)


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def service_description(query_endpoint: str, update_endpoint: str | None) -> list[ox.Triple]:
    """Triples describing the query endpoint (and the update endpoint when updates are enabled)."""
    service = ox.NamedNode(query_endpoint)
    dataset, default_graph, catalog = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(
            service, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")
        ),
        ox.Triple(
            service,
            ox.NamedNode(DCTERMS + "title"),
            ox.Literal("绩效知识图谱 SPARQL 查询端点", language="zh"),
        ),
        ox.Triple(
            service,
            ox.NamedNode(DCTERMS + "title"),
            ox.Literal("jixiao-kg SPARQL query endpoint", language="en"),
        ),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(
            default_graph,
            ox.NamedNode(DCTERMS + "description"),
            ox.Literal(DEFAULT_GRAPH_TEXT, language="en"),
        ),
        ox.Triple(dataset, _sd("namedGraph"), catalog),
        ox.Triple(catalog, RDF_TYPE, _sd("NamedGraph")),
        ox.Triple(catalog, _sd("name"), ox.NamedNode(str(CATALOG_GRAPH))),
    ]
    triples += [
        ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + name)) for name in RESULT_FORMATS
    ]
    if update_endpoint is not None:
        update = ox.NamedNode(update_endpoint)
        triples += [
            ox.Triple(update, RDF_TYPE, _sd("Service")),
            ox.Triple(update, _sd("endpoint"), update),
            ox.Triple(update, _sd("supportedLanguage"), _sd("SPARQL11Update")),
            ox.Triple(update, _sd("defaultDataset"), dataset),
        ]
    return triples
