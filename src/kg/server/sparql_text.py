"""Read what a SPARQL request text asks for, before it runs: the parts that could leave the store.

A small scanner (not a parser) splits the text into the tokens of the SPARQL 1.1 grammar, after the
grammar's first step, `\\uXXXX` / `\\UXXXXXXXX` escape processing over the whole text (Oxigraph does the
same, so `\\u0053ERVICE` is seen as `SERVICE` here too). Strings, IRIs, comments, variables and prefixed
names are tokens of their own, so a keyword inside any of them is never mistaken for one, nor missed.

From the tokens:

* `inspect_query` finds SERVICE (always refused by the server: every SERVICE is a call to another host),
  FROM / FROM NAMED graph IRIs (resolved against BASE and PREFIX declarations and the predeclared
  prefixes; the server accepts only graphs the store holds) and the query form;
* `inspect_update` finds SERVICE, LOAD (fetches a document from the web: refused) and USING / USING NAMED /
  WITH (which conflict with the protocol's using-graph-uri / using-named-graph-uri);
* `add_using` applies using-graph-uri / using-named-graph-uri to an update: a `USING <g>` clause in front of
  the WHERE of every DELETE/INSERT operation, which is exactly what the protocol parameters mean. The IRIs
  are checked IRIs (`pyoxigraph.NamedNode`), written in `<…>` form.

Nothing here evaluates anything; the store's own parser still decides whether the text is valid SPARQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

import pyoxigraph as ox

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"

_TOKEN = re.compile(
    "|".join(
        [
            r"(?P<ws>\s+)",
            r"(?P<comment>#[^\r\n]*)",
            r"(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|"
            r"'(?:[^'\\\r\n]|\\.)*'|\"(?:[^\"\\\r\n]|\\.)*\")",
            r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)",
            rf"(?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)",
            rf"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            rf"(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",
            r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)",
            r"(?P<punct>\^\^|\|\||&&|!=|<=|>=|.)",
        ]
    ),
    re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class SparqlTextError(ValueError):
    """The text cannot be read as SPARQL tokens (the store's parser would reject it too)."""


@dataclass(frozen=True)
class Token:
    kind: str  # comment is dropped; ws is dropped
    text: str
    start: int  # offset in the unescaped text
    depth: int  # `{` nesting depth where the token starts


def unescape_codepoints(text: str) -> str:
    """SPARQL 1.1 §19.2: \\uXXXX and \\UXXXXXXXX escapes are replaced before parsing, anywhere in the text."""

    def replace(match: re.Match[str]) -> str:
        code = int(match[1] or match[2], 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise SparqlTextError(f"bad code point escape {match[0]!r}")
        return chr(code)

    return _ESCAPE.sub(replace, text)


def tokenize(text: str) -> list[Token]:
    """The significant tokens of an (already unescaped) SPARQL text, with their brace depth."""
    tokens: list[Token] = []
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        value = match.group()
        if kind == "punct" and value == "}":
            depth = max(0, depth - 1)
        tokens.append(Token(kind, value, match.start(), depth))
        if kind == "punct" and value == "{":
            depth += 1
    return tokens


def _is_word(token: Token, *words: str) -> bool:
    return token.kind == "word" and token.text.upper() in words


@dataclass
class _Prologue:
    base: str | None
    prefixes: dict[str, str] = field(default_factory=dict)

    def resolve(self, token: Token) -> str:
        if token.kind == "iri":
            iri = token.text[1:-1]
            return urljoin(self.base, iri) if self.base else iri
        prefix, _, local = token.text.partition(":")
        if prefix not in self.prefixes:
            raise SparqlTextError(f"prefix {prefix!r} is not declared")
        return self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)


@dataclass(frozen=True)
class QueryInfo:
    form: str | None  # SELECT | CONSTRUCT | DESCRIBE | ASK, None when not found
    uses_service: bool
    from_graphs: tuple[str, ...]
    from_named_graphs: tuple[str, ...]
    update_keyword: str | None  # the text starts like an update (INSERT, DELETE …): sent to the wrong place


@dataclass(frozen=True)
class UpdateInfo:
    uses_service: bool
    uses_load: bool
    dataset_clauses: tuple[str, ...]  # USING / USING NAMED / WITH as found


def _scan(text: str, base: str | None, prefixes: Mapping[str, str]) -> tuple[list[Token], _Prologue]:
    tokens = tokenize(unescape_codepoints(text))
    prologue = _Prologue(base, dict(prefixes))
    return tokens, prologue


def _track_prologue(tokens: Sequence[Token], i: int, prologue: _Prologue) -> None:
    """Update the BASE / PREFIX state when tokens[i] starts a declaration (they may appear between
    the operations of an update)."""
    token = tokens[i]
    if _is_word(token, "BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
        prologue.base = prologue.resolve(tokens[i + 1])
    elif (
        _is_word(token, "PREFIX")
        and i + 2 < len(tokens)
        and tokens[i + 1].kind == "pname"
        and tokens[i + 1].text.endswith(":")
        and tokens[i + 2].kind == "iri"
    ):
        prologue.prefixes[tokens[i + 1].text[:-1]] = prologue.resolve(tokens[i + 2])


def inspect_query(
    text: str, *, base: str | None = None, prefixes: Mapping[str, str] | None = None
) -> QueryInfo:
    """What a query asks for that matters before it runs (see the module documentation)."""
    tokens, prologue = _scan(text, base, prefixes or {})
    form: str | None = None
    update_keyword: str | None = None
    uses_service = False
    from_graphs: list[str] = []
    from_named: list[str] = []
    for i, token in enumerate(tokens):
        _track_prologue(tokens, i, prologue)
        if token.kind != "word":
            continue
        word = token.text.upper()
        if word == "SERVICE":
            uses_service = True
        elif word in QUERY_FORMS and form is None and token.depth == 0:
            form = word
        elif word in UPDATE_KEYWORDS and form is None and update_keyword is None and token.depth == 0:
            update_keyword = word
        elif word == "FROM" and token.depth == 0:
            named = i + 1 < len(tokens) and _is_word(tokens[i + 1], "NAMED")
            j = i + 2 if named else i + 1
            if j < len(tokens) and tokens[j].kind in ("iri", "pname"):
                (from_named if named else from_graphs).append(prologue.resolve(tokens[j]))
    return QueryInfo(form, uses_service, tuple(from_graphs), tuple(from_named), update_keyword)


def inspect_update(text: str) -> UpdateInfo:
    """What an update asks for that matters before it runs (see the module documentation)."""
    tokens = tokenize(unescape_codepoints(text))
    uses_service = uses_load = False
    clauses: list[str] = []
    for i, token in enumerate(tokens):
        if token.kind != "word":
            continue
        word = token.text.upper()
        if word == "SERVICE":
            uses_service = True
        elif word == "LOAD" and token.depth == 0:
            uses_load = True
        elif word == "USING" and token.depth == 0:
            named = i + 1 < len(tokens) and _is_word(tokens[i + 1], "NAMED")
            clauses.append("USING NAMED" if named else "USING")
        elif word == "WITH" and token.depth == 0:
            clauses.append("WITH")
    return UpdateInfo(uses_service, uses_load, tuple(clauses))


def add_using(text: str, using_graphs: Sequence[str], using_named_graphs: Sequence[str]) -> str:
    """The update with `USING <g>` / `USING NAMED <g>` clauses before the WHERE of every DELETE/INSERT
    operation (the meaning of the protocol's using-graph-uri / using-named-graph-uri). ValueError for a
    string that is not an IRI. The text is returned unescaped (\\u escapes already applied)."""
    clauses = [f"USING {ox.NamedNode(iri)}" for iri in using_graphs]
    clauses += [f"USING NAMED {ox.NamedNode(iri)}" for iri in using_named_graphs]
    unescaped = unescape_codepoints(text)
    if not clauses:
        return unescaped
    tokens = tokenize(unescaped)
    positions = [
        token.start
        for i, token in enumerate(tokens)
        if _is_word(token, "WHERE") and token.depth == 0 and not (i > 0 and _is_word(tokens[i - 1], "DELETE"))
    ]
    insertion = " ".join(clauses) + " "
    out, last = [], 0
    for position in positions:
        out.append(unescaped[last:position])
        out.append(insertion)
        last = position
    out.append(unescaped[last:])
    return "".join(out)
