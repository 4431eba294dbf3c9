"""Where the ontology lives and how to load it as one graph.

The ontology is split into modules (`ontology/*.ttl`: the core, validation vocabulary, lineages)
so that each concern can grow on its own; every consumer reads the merged graph from here.
"""

from __future__ import annotations

import os
from pathlib import Path

from rdflib import Graph

REPO_ROOT = Path(__file__).resolve().parents[3]


def ontology_dir() -> Path:
    """`ontology/` of the checkout, or the folder named by KG_ONTOLOGY_DIR."""
    return Path(os.environ.get("KG_ONTOLOGY_DIR", REPO_ROOT / "ontology"))


def ontology_files() -> list[Path]:
    return sorted(ontology_dir().glob("*.ttl"))


def load_ontology() -> Graph:
    """All ontology modules merged into one graph."""
    graph = Graph()
    for path in ontology_files():
        graph.parse(path, format="turtle")
    return graph
