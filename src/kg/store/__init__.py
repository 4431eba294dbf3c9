"""The triple store: one named graph per form, the default graph as their merge, the catalog graph.

Two stores keep that layout (see `kg.store.oxigraph` for it, `kg.store.base.Store` for the interface):
the embedded on-disk Oxigraph database (`OxigraphStore`, a directory) and a remote SPARQL store
(`RemoteStore`: Virtuoso, or any SPARQL 1.1 endpoint; `kg.store.remote`). `open_store(spec)` opens the one
a `--store` value names.
"""

from __future__ import annotations

import os
from pathlib import Path

from kg.store.base import Store
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

DEFAULT_STORE = "var/store"
STORE_ENV = "KG_STORE"
REMOTE_SCHEMES = ("virtuoso://", "http://", "https://")


def is_remote(spec: str | Path) -> bool:
    """Whether a `--store` value names a remote store (`virtuoso://…`, `http(s)://…`) rather than a path."""
    return isinstance(spec, str) and spec.lower().startswith(REMOTE_SCHEMES)


def store_spec(spec: str | Path | None = None) -> str | Path:
    """The store a command uses: `spec`, else `$KG_STORE`, else `./var/store`; a path as a Path."""
    value: str | Path = spec if spec is not None else (os.environ.get(STORE_ENV) or DEFAULT_STORE)
    return value if is_remote(value) else Path(value)


def open_store(spec: str | Path | None = None, *, create: bool = False, read_only: bool = False) -> Store:
    """Open the store `spec` names (see `store_spec` for the default):

    * a directory: the embedded Oxigraph store (`create`: make it if missing; `read_only`: a checkpoint);
    * `virtuoso://HOST:PORT[?http=…&load_dir=…]` or `http(s)://…/sparql`: a `RemoteStore` (credentials and
      the other settings from the environment, see `kg.store.remote.RemoteConfig.from_spec`); it must
      answer, else StoreError.
    """
    where = store_spec(spec)
    if isinstance(where, str):
        from kg.store.remote import RemoteStore  # SPARQLWrapper only when a remote store is used

        return RemoteStore.open(where)
    if create and not read_only:
        where.parent.mkdir(parents=True, exist_ok=True)
    return OxigraphStore(where, create=create, read_only=read_only)


__all__ = [
    "CATALOG",
    "CATALOG_GRAPH",
    "DEFAULT_STORE",
    "EXPORT_FORMATS",
    "STORE_ENV",
    "FileRecord",
    "FormGraphRecord",
    "OxigraphStore",
    "QueryError",
    "QuerySyntaxError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "graphs_to_quads",
    "is_remote",
    "open_store",
    "store_spec",
    "to_oxigraph",
]
