"""jixiao-kg: a knowledge graph and SPARQL service for project performance forms (绩效).

Data flows one way: `kg.forms` (text → `kg.model`) → `kg.rdf` (model → RDF) → `kg.store`
→ `kg.validate`, `kg.server`, `kg.cli`.
"""

__version__ = "0.1.0"
