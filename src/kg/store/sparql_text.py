"""Just enough SPARQL query structure to rewrite a query for a remote endpoint, as text.

`analyse(text)` finds, outside strings, IRIs and comments and at the top nesting level: the prologue
(BASE / PREFIX, and Virtuoso `define` pragmas), the query form, the dataset clauses (FROM / FROM NAMED),
a CONSTRUCT template, the WHERE group, the solution modifiers (GROUP BY … ORDER BY … LIMIT / OFFSET) and a
trailing VALUES block. The rewrites below splice text at those places and never parse or re-print the
rest, so the endpoint sees the query as written plus the additions:

* `with_prefixes`: PREFIX lines for the project prefixes the query uses without declaring;
* `with_bindings`: a VALUES block as the first element of the WHERE group (how both stores bind query
  parameters: the variable is bound for every pattern and FILTER of the group; values are RDF terms
  serialised by `sparql_term`, never raw text);
* `without_dataset`: the query without FROM / FROM NAMED (the protocol's dataset parameters then apply);
* `paged`: one page of a SELECT in a stable order (`ResultSetMaxRows`, see `kg.store.remote`);
* `construct_as_select`: the SELECT of a CONSTRUCT's WHERE part and its template.

Anything this does not recognise raises `SparqlTextError`, which callers report as a syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_KEYWORDS = (
    "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH",
)  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>(?:[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*)?
             :(?:[^\s{}()\[\];,"'<>\\]*[^\s{}()\[\];,"'<>\\.])?
             |[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*/+\-=<>!|^@])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class SparqlTextError(ValueError):
    """The query text is not a SPARQL query this module can rewrite (unbalanced, no query form …)."""


@dataclass(frozen=True)
class Token:
    kind: str  # string | iri | var | word | number | punct | other
    text: str
    start: int
    end: int
    depth: int  # nesting of { } ( ) [ ] before this token

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass
class QueryText:
    """Where the parts of a query are (character offsets into `text`)."""

    text: str
    form: str  # SELECT | CONSTRUCT | DESCRIBE | ASK
    form_start: int  # the form keyword
    prologue_end: int  # end of the last BASE / PREFIX / define before the form
    prefixes: set[str] = field(default_factory=set)  # declared prefix names (without ':')
    used_prefixes: set[str] = field(default_factory=set)  # prefix names used in prefixed names
    projection: tuple[int, int] = (0, 0)  # after the form keyword up to the dataset / WHERE
    dataset: list[tuple[int, int]] = field(default_factory=list)  # each FROM [NAMED] x clause
    template: tuple[int, int] | None = None  # CONSTRUCT { … } including the braces
    where: tuple[int, int] | None = None  # the WHERE group including the braces (WHERE keyword excluded)
    where_keyword: int | None = None  # offset of the WHERE keyword, if written
    modifiers: tuple[int, int] = (0, 0)  # GROUP BY … LIMIT / OFFSET, after the WHERE group
    order_by: tuple[int, int] | None = None  # ORDER BY and its conditions
    limit_offset: int | None = None  # offset of the first LIMIT / OFFSET keyword
    values: tuple[int, int] | None = None  # the trailing VALUES block

    @property
    def has_dataset(self) -> bool:
        return bool(self.dataset)

    def part(self, span: tuple[int, int] | None) -> str:
        return "" if span is None else self.text[span[0] : span[1]]


def tokens(text: str) -> list[Token]:
    """The tokens of `text` without whitespace and comments, each with its nesting depth."""
    found: list[Token] = []
    depth = 0
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - the pattern matches any character
            raise SparqlTextError(f"cannot read the query at offset {position}")
        kind = match.lastgroup or "other"
        value = match.group()
        if kind not in ("ws", "comment"):
            if value in ("}", ")", "]"):
                depth -= 1
                if depth < 0:
                    raise SparqlTextError(f"unbalanced {value!r} at offset {match.start()}")
            found.append(Token(kind, value, match.start(), match.end(), depth))
            if value in ("{", "(", "["):
                depth += 1
        position = match.end()
    if depth != 0:
        raise SparqlTextError("unbalanced brackets: the query ends inside { }, ( ) or [ ]")
    return found


def _closing(items: list[Token], index: int) -> int:
    """The index of the token closing the bracket at `index`."""
    depth = items[index].depth
    for position in range(index + 1, len(items)):
        if items[position].depth == depth and items[position].text in ("}", ")", "]"):
            return position
    raise SparqlTextError("unbalanced brackets")


@dataclass
class _Prologue:
    index: int  # first token after the prologue
    end: int  # offset after the prologue
    defines_end: int  # offset after the leading Virtuoso `define` pragmas
    prefixes: set[str]


def _prologue(items: list[Token]) -> _Prologue:
    """BASE <iri> | PREFIX p: <iri> | Virtuoso's `define name value` pragmas, at the start."""
    index = end = defines_end = 0
    only_defines = True
    prefixes: set[str] = set()
    while index < len(items):
        keyword = items[index].keyword
        if keyword == "BASE" and index + 1 < len(items) and items[index + 1].kind == "iri":
            end = items[index + 1].end
            only_defines = False
            index += 2
        elif keyword == "PREFIX" and index + 2 < len(items) and items[index + 2].kind == "iri":
            name = items[index + 1].text
            if not name.endswith(":"):
                raise SparqlTextError(f"bad PREFIX declaration {name!r}")
            prefixes.add(name[:-1])
            end = items[index + 2].end
            only_defines = False
            index += 3
        elif keyword == "DEFINE" and index + 2 < len(items):
            end = items[index + 2].end
            if only_defines:
                defines_end = end
            index += 3
        else:
            break
    return _Prologue(index, end, defines_end, prefixes)


def is_update(text: str) -> bool:
    """Whether the first keyword after the prologue is an update operation rather than a query form."""
    items = tokens(text)
    prologue = _prologue(items)
    return prologue.index < len(items) and items[prologue.index].keyword in UPDATE_KEYWORDS


def analyse(text: str) -> QueryText:
    """The structure of a SPARQL query (see the module documentation); SparqlTextError otherwise."""
    items = tokens(text)
    prologue = _prologue(items)
    index, prologue_end, prefixes = prologue.index, prologue.end, prologue.prefixes
    if index >= len(items) or items[index].keyword not in QUERY_FORMS:
        found = items[index].text if index < len(items) else "the end of the query"
        raise SparqlTextError(f"expected SELECT, CONSTRUCT, DESCRIBE or ASK, found {found!r}")
    form_token = items[index]
    query = QueryText(text, form_token.keyword, form_token.start, prologue_end, prefixes)
    query.used_prefixes = {
        token.text.split(":", 1)[0] for token in items if token.kind == "word" and ":" in token.text
    }
    index += 1
    projection_start = form_token.end
    if query.form == "CONSTRUCT" and index < len(items) and items[index].text == "{":
        close = _closing(items, index)
        query.template = (items[index].start, items[close].end)
        projection_start = items[close].end
        index = close + 1
    # Projection (SELECT / DESCRIBE), dataset clauses, then the WHERE group.
    projection_end = None
    while index < len(items):
        token = items[index]
        if token.depth == 0 and token.keyword == "FROM":
            if projection_end is None:
                projection_end = token.start
            end = index + 1
            if end < len(items) and items[end].keyword == "NAMED":
                end += 1
            if end >= len(items) or items[end].kind not in ("iri", "word"):
                raise SparqlTextError("FROM must name a graph")
            query.dataset.append((token.start, items[end].end))
            index = end + 1
            continue
        if token.depth == 0 and token.keyword == "WHERE":
            if projection_end is None:
                projection_end = token.start
            query.where_keyword = token.start
            index += 1
            continue
        if token.depth == 0 and token.text == "{":
            if projection_end is None:
                projection_end = token.start
            close = _closing(items, index)
            query.where = (token.start, items[close].end)
            index = close + 1
            break
        index += 1
    query.projection = (projection_start, projection_end if projection_end is not None else len(text))
    if query.where is None:
        if query.form != "DESCRIBE":
            raise SparqlTextError(f"{query.form} query without a WHERE group")
        query.modifiers = (len(text), len(text))
        return query
    if query.form == "CONSTRUCT" and query.template is None and query.where_keyword is None:
        raise SparqlTextError("CONSTRUCT needs a template or CONSTRUCT WHERE { … }")
    # Solution modifiers and a trailing VALUES block.
    modifiers_start = query.where[1]
    modifiers_end = len(text)
    while index < len(items):
        token = items[index]
        if token.depth == 0 and token.keyword == "VALUES":
            modifiers_end = token.start
            query.values = (token.start, len(text))
            break
        if token.depth == 0 and token.keyword == "ORDER":
            order_start = token.start
            stop = index + 1
            while stop < len(items) and not (
                items[stop].depth == 0 and items[stop].keyword in ("LIMIT", "OFFSET", "VALUES")
            ):
                stop += 1
            order_end = items[stop - 1].end
            query.order_by = (order_start, order_end)
            index = stop
            continue
        if token.depth == 0 and token.keyword in ("LIMIT", "OFFSET") and query.limit_offset is None:
            query.limit_offset = token.start
        index += 1
    query.modifiers = (modifiers_start, modifiers_end)
    return query


# ----------------------------------------------------------------------------- terms


def sparql_string(value: str) -> str:
    """A SPARQL string literal with exactly this value (quotes, backslashes and line breaks escaped)."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
    )
    return f'"{escaped}"'


def sparql_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """An RDF term as SPARQL text: IRIs as `<…>` (pyoxigraph has checked them: no spaces, `<`, `>`, `"`…),
    literals as escaped strings with their language tag or datatype. Blank nodes cannot be bound."""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        text = sparql_string(term.value)
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"{text}^^<{term.datatype.value}>"
        return text
    raise ValueError(f"a blank node cannot be bound in a query sent to an endpoint: {term}")


# ----------------------------------------------------------------------------- rewrites


def with_prefixes(text: str, prefixes: Mapping[str, str]) -> str:
    """PREFIX declarations for the prefixes of `prefixes` that the query (or update) uses but does not
    declare, inserted at the start (after leading Virtuoso `define` pragmas); its own declarations win."""
    try:
        items = tokens(text)
        prologue = _prologue(items)
    except SparqlTextError:
        return text
    declared = {
        items[i + 1].text[:-1]
        for i, token in enumerate(items[:-1])
        if token.keyword == "PREFIX" and items[i + 1].text.endswith(":")
    }
    used = {token.text.split(":", 1)[0] for token in items if token.kind == "word" and ":" in token.text}
    missing = [name for name in prefixes if name in used and name not in declared]
    if not missing:
        return text
    at = prologue.defines_end
    lines = "".join(f"PREFIX {name}: <{prefixes[name]}>\n" for name in missing)
    return text[:at] + ("\n" if at else "") + lines + text[at:]


def with_bindings(query: QueryText, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with `VALUES ?a { … } VALUES ?b { … }` as the first elements of its WHERE group."""
    if not bindings:
        return query.text
    if query.where is None:
        raise SparqlTextError(f"a {query.form} query without WHERE group cannot take parameters")
    # One block per variable: Virtuoso 7.2's compiler fails on some multi-variable blocks ("no
    # SPART_VARR_FIXED") that it compiles as separate ones; the join of one-row blocks is the same.
    block = "".join(f" VALUES ?{name} {{ {sparql_term(term)} }}" for name, term in bindings.items()) + " "
    at = query.where[0] + 1
    return query.text[:at] + block + query.text[at:]


def without_dataset(query: QueryText) -> str:
    """The query with its FROM / FROM NAMED clauses removed."""
    text = query.text
    for start, end in sorted(query.dataset, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


ORDER_KEY_VARIABLE = "kg_order_"


def order_conditions(query: QueryText) -> list[tuple[str, str]]:
    """The top-level ORDER BY conditions as (ASC | DESC, expression text)."""
    if query.order_by is None:
        return []
    start, end = query.order_by
    items = [token for token in tokens(query.text) if start <= token.start and token.end <= end]
    depth = items[0].depth
    conditions: list[tuple[str, str]] = []
    index = 2  # after ORDER BY
    while index < len(items):
        token = items[index]
        direction = "ASC"
        if token.keyword in ("ASC", "DESC") and index + 1 < len(items) and items[index + 1].text == "(":
            direction = token.keyword
            index += 1
            token = items[index]
        if token.text in ("(", "[") or (
            token.kind == "word" and index + 1 < len(items) and items[index + 1].text == "("
        ):
            opening = index if token.text == "(" else index + 1
            close = opening
            while not (items[close].text == ")" and items[close].depth == items[opening].depth):
                close += 1
            expression = query.text[token.start : items[close].end]
            inside = items[opening + 1 : close]
            if token.text == "(" and len(inside) == 1 and inside[0].kind == "var":
                expression = inside[0].text  # (?v) is ?v
            conditions.append((direction, expression))
            index = close + 1
        elif token.kind == "var" and token.depth == depth:
            conditions.append((direction, token.text))
            index += 1
        else:  # not a condition this reads (the endpoint judges the query): skip it
            index += 1
    return conditions


def paged(
    query: QueryText,
    variables: Sequence[str],
    offset: int,
    limit: int,
    *,
    conditions: Sequence[tuple[str, str]] | None = None,
    key: Callable[[str, str], str] = lambda variable, direction: f"{direction}({variable})",
    row_key: bool = False,
) -> str:
    """One page of a SELECT query in a total order, for endpoints that cut long answers.

    The query becomes a subquery that also projects its ORDER BY conditions (`?kg_order_N`); the outer
    query orders by those, then by every projected variable (so that rows equal in the query's own order
    have one order on every page: pages neither overlap nor skip), and takes `OFFSET offset LIMIT limit`.
    The order is the outer query's own: Virtuoso does not keep a subquery's order through an outer
    OFFSET. A condition that is a projected variable is used as it is (Virtuoso refuses an aggregate's
    alias in another projection). `conditions` (default: the query's own) and `key` (the outer ORDER BY
    conditions for a sort variable and direction, e.g. Virtuoso's whole-text order `text_order_key`) let
    the caller pass the conditions as written before a rewrite. `row_key`: order the ties by one
    expression over the text of all the projected variables (`row_text_key`; Virtuoso) instead of by
    each variable. The dataset clauses move to the outer query (a subquery has
    none). Virtuoso sorts at most `MaxSortedTopRows` rows for a page (scripts/virtuoso raises it)."""
    if query.form != "SELECT":
        raise SparqlTextError("only SELECT queries are paged")
    assert query.where is not None
    text = query.text
    conditions = list(order_conditions(query) if conditions is None else conditions)
    projection = text[query.form_start + len(query.form) : query.projection[1]]
    if projection.rstrip().endswith("*"):
        star = projection.rstrip()
        projection = star[:-1] + " " + " ".join(f"?{name}" for name in variables) + " "
    columns: list[str] = []
    order: list[str] = []
    for number, (direction, expression) in enumerate(conditions, start=1):
        if expression.startswith(("?", "$")) and expression[1:] in variables:
            order.append(key("?" + expression[1:], direction))
            continue
        columns.append(f"({expression} AS ?{ORDER_KEY_VARIABLE}{number})")
        order.append(key(f"?{ORDER_KEY_VARIABLE}{number}", direction))
    # Ties: with `row_key`, one key over the text of every projected variable (a total order on distinct
    # rows: Virtuoso's own order of a column mixing strings, numbers and IRIs differs between two runs
    # of the same query, so that pages overlap); else every projected variable not sorted on yet (a
    # repeated key makes Virtuoso sort wrongly too).
    if row_key:
        order.append(row_text_key(variables))
    else:
        sorted_on = set(re.findall(r"\b(?:ASC|DESC)\(\?(\w+)\)", " ".join(order)))
        order += [f"?{name}" for name in variables if name not in sorted_on]
    keys = " ".join(columns)
    inner = (
        f"SELECT{projection} {keys} WHERE {query.part(query.where)}"
        + text[query.where[1] : query.modifiers[1]]
        + " "
        + query.part(query.values)
    )
    dataset = " ".join(query.part(span) for span in query.dataset)
    outer = " ".join(f"?{name}" for name in variables)
    return (
        f"{text[: query.form_start]}SELECT {outer} {dataset}\nWHERE {{ {{ {inner} }} }}\n"
        f"ORDER BY {' '.join(order)}\nOFFSET {offset} LIMIT {limit}"
    )


def construct_as_select(query: QueryText) -> tuple[str, str]:
    """For a CONSTRUCT query: (the SELECT * of its WHERE part with the same prologue, dataset and modifiers;
    the template's triple patterns). `CONSTRUCT WHERE { … }` has its pattern as template."""
    if query.form != "CONSTRUCT" or query.where is None:
        raise SparqlTextError("not a CONSTRUCT query with a WHERE group")
    text = query.text
    template = query.part(query.template) if query.template is not None else query.part(query.where)
    dataset = " ".join(query.part(span) for span in query.dataset)
    select = (
        text[: query.form_start]
        + f"SELECT * {dataset} WHERE {query.part(query.where)}"
        + text[query.modifiers[0] : query.modifiers[1]]
        + " "
        + query.part(query.values)
    )
    return select, template


HIDDEN_GRAPH_VARIABLE = "kg_graph_"


def with_graph_filters(text: str, merge_graph: str) -> tuple[str, list[str]]:
    """Virtuoso, when the default graph is declared (`default-graph-uri` = the merge graph): rewrite each
    `GRAPH <iri> { P }` as `{ GRAPH ?kg_graph_N { P } FILTER (?kg_graph_N = <iri>) }` and each
    `GRAPH ?g { P }` as `{ GRAPH ?g { P } FILTER (?g != <merge>) }`.

    Why: with a declared default graph Virtuoso answers nothing for a constant `GRAPH <iri>` that no
    FROM NAMED lists (and COUNT(*) over it gives 1), while `GRAPH ?g` still ranges over every graph,
    the merge graph included. Returns the text and the hidden variables added (to leave out of results).
    """
    items = tokens(text)
    edits: list[tuple[int, str, int]] = []  # (offset, text to insert, characters to replace)
    hidden: list[str] = []
    for index, token in enumerate(items[:-2]):
        if token.keyword != "GRAPH":
            continue
        name, brace = items[index + 1], items[index + 2]
        if brace.text != "{" or name.kind not in ("iri", "var", "word"):
            continue
        close = items[_closing(items, index + 2)]
        if name.kind == "var":
            condition = f"{name.text} != <{merge_graph}>"
        else:
            variable = f"?{HIDDEN_GRAPH_VARIABLE}{len(hidden) + 1}"
            hidden.append(variable[1:])
            condition = f"{variable} = {name.text}"
            edits.append((name.start, variable, name.end - name.start))
        edits.append((token.start, "{ ", 0))
        edits.append((close.end, f" FILTER ({condition}) }}", 0))
    for offset, insert, length in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:offset] + insert + text[offset + length :]
    return text, hidden


def text_order_key(variable: str, direction: str = "ASC") -> str:
    """ORDER BY conditions that Virtuoso applies like SPARQL: first the whole text of a string or IRI
    (Virtuoso compares stored long strings by a prefix, then by an internal id), "" for anything else;
    then the value itself (numbers, dates … by value: one IF with a number in one branch would make
    Virtuoso compare every value as text)."""
    # isNumeric first: Virtuoso calls an aggregate's number from a subquery an IRI
    text = (
        f"IF(!isNumeric({variable}) && (isIRI({variable}) || (isLiteral({variable}) && (DATATYPE({variable}) "
        f'= <http://www.w3.org/2001/XMLSchema#string> || LANG({variable}) != ""))), STR({variable}), "")'
    )
    return f"{direction}({text}) {direction}({variable})"


def row_text_key(variables: Sequence[str]) -> str:
    """One ORDER BY key telling rows apart by every variable's text, datatype and language (the
    tie-breaker of `paged` on Virtuoso: one key, a string, compared whole, the same in every run)."""
    parts = ', "|", '.join(
        f'COALESCE(STR(?{name}), ""), "^", COALESCE(STR(DATATYPE(?{name})), ""), "@", '
        f'COALESCE(LANG(?{name}), "")'
        for name in variables
    )
    return f"ASC(CONCAT({parts}))" if variables else ""


MAX_SORT_KEYS = 20  # Virtuoso sorts by at most 20 keys ("SQ186: Over 20 keys in group by")
MAX_TEXT_ORDER_CONDITIONS = 9  # each condition takes two keys (`text_order_key`)


def with_text_order(query: QueryText) -> str:
    """Virtuoso: the query's top-level ORDER BY with each plain `?v`, `ASC(?v)` or `DESC(?v)` condition
    compared by whole text for strings and IRIs (see `text_order_key`); other conditions as written."""
    if query.order_by is None:
        return query.text
    start, end = query.order_by
    every = tokens(query.text)
    items = [token for token in every if start <= token.start and token.end <= end]
    # Aliases of the projection, `(… AS ?v)`: computed values (aggregates …), which Virtuoso compares
    # correctly and refuses inside another expression.
    aliases = {
        every[i + 1].text
        for i, token in enumerate(every[:-1])
        if token.keyword == "AS" and every[i + 1].kind == "var" and token.end <= query.projection[1]
    }
    if len(order_conditions(query)) > MAX_TEXT_ORDER_CONDITIONS:
        return query.text
    edits: list[tuple[int, int, str]] = []
    index = 2  # after ORDER BY
    while index < len(items):
        token = items[index]
        if token.kind == "var" and token.depth == items[0].depth and token.text not in aliases:
            edits.append((token.start, token.end, text_order_key(token.text)))
            index += 1
            continue
        if (
            token.keyword in ("ASC", "DESC")
            and index + 3 < len(items)
            and items[index + 1].text == "("
            and items[index + 2].kind == "var"
            and items[index + 2].text not in aliases
            and items[index + 3].text == ")"
        ):
            edits.append(
                (token.start, items[index + 3].end, text_order_key(items[index + 2].text, token.keyword))
            )
            index += 4
            continue
        index += 1
    text = query.text
    for edit_start, edit_end, replacement in sorted(edits, reverse=True):
        text = text[:edit_start] + replacement + text[edit_end:]
    return text
