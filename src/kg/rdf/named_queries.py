"""Named SPARQL queries: `.rq` files in `queries/` with a small comment header.

Header syntax: the leading block of lines starting with `#`; of those, lines of the form `# key: value` with

- `name`         once: the query's name (by convention the file stem)
- `description`  one or more lines, joined with a space
- `param`        repeatable: `<variable> <type> <example>` where type is string | integer | decimal | iri
                 or a normalising hook (`PARAM_HOOKS`): `name-key` (a project or unit name, matched on its
                 `kg.rdf.keys.name_key`) or `doc-ref` (a 文号 in any bracket style or a document title,
                 `kg.rdf.keys.doc_key`); the value is normalised, then bound as a plain string. The example is
                 the rest of the line (may contain spaces)
- `columns`      optional, once: the result columns, space-separated, in order. Parameters that are no
                 column (the query projects them only so that they can be bound) are left out of the
                 output by callers: use `NamedQuery.output_columns`. Without it every projected variable is
                 a column.

Any other comment line is ignored. A parameter is a variable of the SELECT projection bound in a
required pattern, which the caller may pre-bind (`Store.query(substitutions=…)`, see
`NamedQuery.substitutions`): the store adds `VALUES ?param { value }` as the first element of the WHERE
group, plain SPARQL 1.1, so a query means the same on Oxigraph and on a remote store. Left unbound it
means "all". For a point query to stay fast as the corpus grows, the bound pattern comes first in the
top-level group: not inside a subquery or UNION branch (evaluated without the binding), nor only in a
FILTER EXISTS (which Oxigraph applies after the joins); `lineages.rq` shows the pattern for a key that
several names share. Queries have no GRAPH clauses: they run on a default graph holding the merge of the
form graphs (`kg.store`) or on the union of the named graphs (`use_default_graph_as_union=True`), with
the same rows (shared resources, repeated in every form graph, are reached through DISTINCT subqueries
since pyoxigraph 0.5's union is a multiset).

The directory is `queries/` at the repository root, or the one named by the env var `KG_QUERIES_DIR`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from kg.rdf.keys import doc_key, name_key

PARAM_TYPES = ("string", "integer", "decimal", "iri")
# Parameter hooks: normalise the value (any variant a caller may type) to the lookup key the linker stores.
PARAM_HOOKS: dict[str, Callable[[str], str]] = {"name-key": name_key, "doc-ref": doc_key}
_XSD = "http://www.w3.org/2001/XMLSchema#"
# What pyoxigraph's `Store.query(substitutions=...)` accepts.
Substitutions = dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]
_HEADER_LINE = re.compile(r"#\s*(name|description|param|columns)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    example: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    params: tuple[QueryParam, ...]
    text: str
    path: Path
    columns: tuple[str, ...] = ()  # the `columns:` header; empty: every projected variable

    def output_columns(self, variables: Sequence[str]) -> list[str]:
        """The columns to show of a result whose projected variables are `variables`: the header's
        `columns:` (those the result has), else all of them."""
        if not self.columns:
            return list(variables)
        return [column for column in self.columns if column in variables]

    def param(self, name: str) -> QueryParam:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise ValueError(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")

    def substitutions(self, values: Mapping[str, str]) -> Substitutions:
        """pyoxigraph `substitutions` for the given parameter values (strings, converted by type)."""
        return {ox.Variable(name): to_term(self.param(name), value) for name, value in values.items()}


def to_term(param: QueryParam, value: str) -> ox.NamedNode | ox.Literal:
    """The RDF term of a parameter value; ValueError when the value does not fit the type."""
    if param.type == "iri":
        return ox.NamedNode(value)
    if param.type == "string":
        return ox.Literal(value)
    hook = PARAM_HOOKS.get(param.type)
    if hook is not None:
        normalised = hook(value)
        if not normalised:
            raise ValueError(f"parameter {param.name!r}: {value!r} is empty once normalised ({param.type})")
        return ox.Literal(normalised)
    try:
        if param.type == "integer":
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(_XSD + "integer"))
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
        return ox.Literal(format(number, "f"), datatype=ox.NamedNode(_XSD + "decimal"))
    except (ValueError, InvalidOperation):
        raise ValueError(f"parameter {param.name!r}: {value!r} is not of type {param.type}") from None


def default_queries_dir() -> Path:
    override = os.environ.get("KG_QUERIES_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "queries"


def parse_named_query(text: str, path: Path) -> NamedQuery:
    """Read the header of one query file; ValueError naming the file and line on a malformed header."""
    name: str | None = None
    description: list[str] = []
    params: list[QueryParam] = []
    columns: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        match = _HEADER_LINE.fullmatch(stripped)
        if match is None:
            continue
        key, value = match.groups()
        where = f"{path}:{number}"
        if key == "name":
            if name is not None:
                raise ValueError(f"{where}: second `name:` line")
            name = value
        elif key == "description":
            description.append(value)
        elif key == "columns":
            if columns:
                raise ValueError(f"{where}: second `columns:` line")
            columns = tuple(column.lstrip("?$") for column in value.split())
        else:
            params.append(_parse_param(value, where))
    if not name:
        raise ValueError(f"{path}: no `# name:` line in the header")
    return NamedQuery(name, " ".join(d for d in description if d), tuple(params), text, path, columns)


def _parse_param(value: str, where: str) -> QueryParam:
    parts = value.split(maxsplit=2)
    if len(parts) < 3 or (parts[1] not in PARAM_TYPES and parts[1] not in PARAM_HOOKS):
        types = "|".join((*PARAM_TYPES, *PARAM_HOOKS))
        raise ValueError(f"{where}: expected `# param: <variable> <{types}> <example>`")
    return QueryParam(parts[0].lstrip("?$"), parts[1], parts[2])


def load_named_queries(directory: Path | str | None = None) -> dict[str, NamedQuery]:
    """All `*.rq` files of the directory by query name, in name order."""
    root = Path(directory) if directory is not None else default_queries_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"queries directory not found: {root}")
    queries: dict[str, NamedQuery] = {}
    for path in sorted(root.glob("*.rq")):
        query = parse_named_query(path.read_text(encoding="utf-8"), path)
        if query.name in queries:
            raise ValueError(f"{path}: query name {query.name!r} already used by {queries[query.name].path}")
        queries[query.name] = query
    return dict(sorted(queries.items()))
