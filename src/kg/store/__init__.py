"""The triple store: an embedded, on-disk Oxigraph database holding one named graph per form.

See `kg.store.oxigraph` for the layout (form graphs, the catalog graph, the union default graph).
"""

from kg.store.oxigraph import (
    CATALOG,
    CATALOG_GRAPH,
    EXPORT_FORMATS,
    FileRecord,
    FormGraphRecord,
    OxigraphStore,
    QueryError,
    QuerySyntaxError,
    StoreError,
    StoreLockedError,
    graphs_to_quads,
    to_oxigraph,
)

__all__ = [
    "CATALOG",
    "CATALOG_GRAPH",
    "EXPORT_FORMATS",
    "FileRecord",
    "FormGraphRecord",
    "OxigraphStore",
    "QueryError",
    "QuerySyntaxError",
    "StoreError",
    "StoreLockedError",
    "graphs_to_quads",
    "to_oxigraph",
]
