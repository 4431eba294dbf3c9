"""Serialise query results to bytes in a negotiated format, stopping at a row limit.

Runs inside the query workers. SELECT and ASK results are written here (SPARQL 1.1 Query Results JSON,
XML, CSV and TSV, each following its W3C Recommendation), CONSTRUCT/DESCRIBE triples by Oxigraph's own
serialisers. At most `max_rows` solutions or triples are written; `Serialised.truncated` says when more
were there (the HTTP layer reports it in the `X-SPARQL-MaxRows` header).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.server.negotiation import CSV, JSON, JSONLD, NTRIPLES, RDFXML, TSV, TURTLE, XML, Format
from kg.store.oxigraph import EXPORT_PREFIXES

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_json_string = encode_basestring  # a str as a JSON string, non-ASCII kept (as ensure_ascii=False)
_SRX = "http://www.w3.org/2005/sparql-results#"


@dataclass(frozen=True)
class Serialised:
    body: bytes
    rows: int
    truncated: bool


def result_kind(result: object) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QueryTriples):
        return "graph"
    return "solutions"


def _limited(items: Iterable[object], max_rows: int) -> tuple[list[object], bool]:
    out: list[object] = []
    iterator: Iterator[object] = iter(items)
    for item in iterator:
        if len(out) >= max_rows:
            return out, True
        out.append(item)
    return out, False


def serialise(result: object, fmt: Format, max_rows: int, columns: Sequence[str] = ()) -> Serialised:
    """`result` (pyoxigraph QuerySolutions, QueryBoolean or QueryTriples) as bytes in `fmt`. `columns`
    (a named query's `columns:` header) keeps only those variables of a SELECT, in that order."""
    if isinstance(result, ox.QueryBoolean):
        return Serialised(_boolean(bool(result), fmt), 1, False)
    if isinstance(result, ox.QueryTriples):
        triples, truncated = _limited(result, max_rows)
        return Serialised(graph_bytes(triples, fmt), len(triples), truncated)
    assert isinstance(result, ox.QuerySolutions)
    variables = [variable.value for variable in result.variables]
    rows, truncated = _limited(result, max_rows)
    if columns:
        kept = [column for column in columns if column in variables]
        if kept != variables:
            indices = [variables.index(column) for column in kept]
            rows = [[row[i] for i in indices] for row in rows]  # type: ignore[index]
            variables = kept
    return Serialised(_solutions(variables, rows, fmt), len(rows), truncated)


# ----------------------------------------------------------------------------- ASK


def _boolean(value: bool, fmt: Format) -> bytes:
    text = "true" if value else "false"
    if fmt is JSON:
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt is XML:
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{_SRX}">\n  <head/>\n'
            f"  <boolean>{text}</boolean>\n</sparql>\n"
        ).encode()
    if fmt is CSV:
        return f"_askResult\r\n{text}\r\n".encode()
    if fmt is TSV:
        return f"?_askResult\n{text}\n".encode()
    raise ValueError(f"{fmt.name} is not a format for ASK results")


# ----------------------------------------------------------------------------- SELECT


def _solutions(variables: list[str], rows: list[object], fmt: Format) -> bytes:
    if fmt is JSON:
        return _solutions_json(variables, rows)
    if fmt is XML:
        return _solutions_xml(variables, rows)
    if fmt is CSV:
        return _solutions_csv(variables, rows)
    if fmt is TSV:
        return _solutions_tsv(variables, rows)
    raise ValueError(f"{fmt.name} is not a format for SELECT results")


def term_json(term: object) -> dict[str, str]:
    """A term as in SPARQL 1.1 Query Results JSON."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"type": "literal", "value": term.value, "xml:lang": term.language}
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return {"type": "literal", "value": term.value}
        return {"type": "literal", "value": term.value, "datatype": datatype}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {  # type: ignore[dict-item]
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")


def _term_json_text(term: object) -> str:
    """`term_json(term)` as compact JSON text (the same characters `json.dumps` writes, faster)."""
    kind = type(term)
    if kind is ox.Literal:
        value = _json_string(term.value)  # type: ignore[attr-defined]
        language = term.language  # type: ignore[attr-defined]
        if language:
            return f'{{"type":"literal","value":{value},"xml:lang":{_json_string(language)}}}'
        datatype = term.datatype.value  # type: ignore[attr-defined]
        if datatype == _XSD_STRING:
            return f'{{"type":"literal","value":{value}}}'
        return f'{{"type":"literal","value":{value},"datatype":{_json_string(datatype)}}}'
    if kind is ox.NamedNode:
        return f'{{"type":"uri","value":{_json_string(term.value)}}}'  # type: ignore[attr-defined]
    return _json_text(term_json(term))


def _solutions_json(variables: list[str], rows: list[object]) -> bytes:
    # Written piece by piece rather than as one `json.dumps` of a document: results repeat terms a lot, so
    # each (column, term) pair is encoded once, as the UTF-8 bytes of `"name":{…}`, and rows are joined
    # from those. The bytes are exactly those of json.dumps(document, ensure_ascii=False,
    # separators=(",", ":")) (tests/test_server_units.py checks).
    columns: list[tuple[bytes, dict[object, bytes]]] = [
        (_json_string(name).encode("utf-8") + b":", {}) for name in variables
    ]
    bindings = []
    for row in rows:
        fields = []
        for (key, memo), term in zip(columns, row, strict=True):  # type: ignore[call-overload]
            if term is not None:
                encoded = memo.get(term)
                if encoded is None:
                    encoded = memo[term] = key + _term_json_text(term).encode("utf-8")
                fields.append(encoded)
        bindings.append(b"{" + b",".join(fields) + b"}")
    return b"".join(
        (
            b'{"head":{"vars":',
            _json_text(variables).encode("utf-8"),
            b'},"results":{"bindings":[',
            b",".join(bindings),
            b"]}}",
        )
    )


_XML_WHITESPACE = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}  # kept exactly by every XML parser


def _text_xml(text: str) -> str:
    return escape(text, _XML_WHITESPACE)


def _term_xml(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_text_xml(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_text_xml(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{_text_xml(term.value)}</literal>"
        if term.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{_text_xml(term.value)}</literal>"
        return f"<literal>{_text_xml(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_term_xml(term.subject)}</subject><predicate>{_term_xml(term.predicate)}"
            f"</predicate><object>{_term_xml(term.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {term!r}")


def _solutions_xml(variables: list[str], rows: list[object]) -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{_SRX}">\n  <head>\n']
    out.extend(f"    <variable name={quoteattr(name)}/>\n" for name in variables)
    out.append("  </head>\n  <results>\n")
    indexed = list(enumerate(variables))
    for row in rows:
        out.append("    <result>")
        for i, name in indexed:
            term = row[i]  # type: ignore[index]
            if term is not None:
                out.append(f"<binding name={quoteattr(name)}>{_term_xml(term)}</binding>")
        out.append("</result>\n")
    out.append("  </results>\n</sparql>\n")
    return "".join(out).encode("utf-8")


def term_text(term: object) -> str:
    """A term as the SPARQL CSV format writes it: IRI and literal without markup, blank node as _:id."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _solutions_csv(variables: list[str], rows: list[object]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(variables)
    width = range(len(variables))
    writer.writerows([term_text(row[i]) for i in width] for row in rows)  # type: ignore[index]
    return text.getvalue().encode("utf-8")


def _solutions_tsv(variables: list[str], rows: list[object]) -> bytes:
    out = ["\t".join(f"?{name}" for name in variables), "\n"]
    width = range(len(variables))
    for row in rows:
        out.append("\t".join("" if row[i] is None else str(row[i]) for i in width))  # type: ignore[index]
        out.append("\n")
    return "".join(out).encode("utf-8")


# ----------------------------------------------------------------------------- CONSTRUCT / DESCRIBE

_RDF_FORMATS = {
    TURTLE.name: ox.RdfFormat.TURTLE,
    NTRIPLES.name: ox.RdfFormat.N_TRIPLES,
    JSONLD.name: ox.RdfFormat.JSON_LD,
    RDFXML.name: ox.RdfFormat.RDF_XML,
}


def graph_bytes(triples: Sequence[object], fmt: Format, prefixes: dict[str, str] | None = None) -> bytes:
    """Triples in an RDF format (or CSV: subject,predicate,object); Turtle with `prefixes` (default: the
    project's)."""
    if fmt is CSV:
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(["subject", "predicate", "object"])
        writer.writerows(
            [term_text(t.subject), term_text(t.predicate), term_text(t.object)]  # type: ignore[attr-defined]
            for t in triples
        )
        return text.getvalue().encode("utf-8")
    if fmt.name not in _RDF_FORMATS:
        raise ValueError(f"{fmt.name} is not a format for CONSTRUCT/DESCRIBE results")
    used = (prefixes if prefixes is not None else EXPORT_PREFIXES) if fmt is TURTLE else None
    return ox.serialize(list(triples), None, _RDF_FORMATS[fmt.name], prefixes=used) or b""  # type: ignore[arg-type]
