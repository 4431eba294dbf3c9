"""From the typed model (`kg.model.Form`) to RDF: namespaces, the mapping to named graphs, and the named
SPARQL queries in `queries/`. The ontology itself lives in `ontology/kg.ttl`."""
