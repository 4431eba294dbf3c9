"""Content negotiation: which result format answers a request, from its Accept header or a `format` name.

Result kinds and their formats, in the server's order of preference (the first is the default when the
client sends no Accept header, or `*/*`):

* `solutions` (SELECT) and `boolean` (ASK): SPARQL 1.1 Query Results JSON, XML, CSV, TSV;
* `graph` (CONSTRUCT, DESCRIBE): Turtle, N-Triples, JSON-LD, RDF/XML, and CSV (subject,predicate,object);
* `html` is offered only where a page exists (named queries), never by /sparql.

Aliases that clients send are understood: `application/json` (results JSON, or JSON-LD for a graph),
`application/xml` / `text/xml` (results XML, or RDF/XML), `text/tsv`, `text/plain` (N-Triples).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # short name, usable as ?format=
    media_type: str  # what the response's Content-Type says
    accepts: tuple[str, ...]  # media types that select it (the first is media_type)
    extension: str


JSON = Format(
    "json", "application/sparql-results+json", ("application/sparql-results+json", "application/json"), "srj"
)
XML = Format(
    "xml",
    "application/sparql-results+xml",
    ("application/sparql-results+xml", "application/xml", "text/xml"),
    "srx",
)
CSV = Format("csv", "text/csv", ("text/csv",), "csv")
TSV = Format("tsv", "text/tab-separated-values", ("text/tab-separated-values", "text/tsv"), "tsv")
TURTLE = Format("turtle", "text/turtle", ("text/turtle", "application/x-turtle"), "ttl")
NTRIPLES = Format("ntriples", "application/n-triples", ("application/n-triples", "text/plain"), "nt")
JSONLD = Format("jsonld", "application/ld+json", ("application/ld+json", "application/json"), "jsonld")
RDFXML = Format(
    "rdfxml", "application/rdf+xml", ("application/rdf+xml", "application/xml", "text/xml"), "rdf"
)
HTML = Format("html", "text/html", ("text/html", "application/xhtml+xml"), "html")

FORMATS: dict[str, tuple[Format, ...]] = {
    "solutions": (JSON, XML, CSV, TSV),
    "boolean": (JSON, XML, CSV, TSV),
    "graph": (TURTLE, NTRIPLES, JSONLD, RDFXML, CSV),
}
FORMAT_ALIASES = {
    "srj": "json",
    "sparql-results+json": "json",
    "srx": "xml",
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "json-ld": "jsonld",
    "rdf": "rdfxml",
    "rdf+xml": "rdfxml",
    "text": "csv",
}
FORMAT_NAMES = ("json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml")


class NotAcceptable(ValueError):
    """No offered format matches; the message lists what is offered."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), 0 for none."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        return 3 if (self.type, self.subtype) == (main, sub) else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped, bad q-values count as 1."""
    ranges = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            continue
        main, _, sub = media.partition("/")
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 1.0
        ranges.append(MediaRange(main.strip(), sub.strip(), q))
    return ranges


def quality(ranges: list[MediaRange], fmt: Format) -> float:
    """How much the client wants `fmt`: the q of the most specific range matching one of its types."""
    best_specificity, best_q = 0, 0.0
    for media_type in fmt.accepts:
        for media_range in ranges:
            specificity = media_range.matches(media_type)
            if specificity > best_specificity or (
                specificity == best_specificity and specificity and media_range.q > best_q
            ):
                best_specificity, best_q = specificity, media_range.q
    return best_q if best_specificity else 0.0


def normalise_format_name(name: str) -> str:
    key = name.strip().lower()
    return FORMAT_ALIASES.get(key, key)


def choose(kind: str, accept: str | None, format_name: str | None = None, *, html: bool = False) -> Format:
    """The format for a result of `kind` (solutions | boolean | graph). An explicit `format_name` wins
    over the Accept header. Raises NotAcceptable, naming the offered formats."""
    offered = FORMATS[kind] + ((HTML,) if html else ())
    if format_name:
        wanted = normalise_format_name(format_name)
        for fmt in offered:
            if fmt.name == wanted:
                return fmt
        names = ", ".join(f.name for f in offered)
        raise NotAcceptable(f"format {format_name!r} is not offered for {_KIND_TEXT[kind]}; offered: {names}")
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0]
    scored = [(quality(ranges, fmt), -i, fmt) for i, fmt in enumerate(offered)]
    q, _, best = max(scored, key=lambda item: (item[0], item[1]))
    if q <= 0:
        types = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(
            f"none of the accepted media types ({accept}) is offered for {_KIND_TEXT[kind]}; offered: {types}"
        )
    return best


def prefers_html(accept: str | None) -> bool:
    """Whether a client (a browser) names HTML and wants it at least as much as any machine format;
    `*/*` alone (curl, most libraries) does not count."""
    ranges = [r for r in parse_accept(accept) if (r.type, r.subtype) != ("*", "*")]
    html_q = quality(ranges, HTML)
    if html_q <= 0:
        return False
    machine = FORMATS["solutions"] + FORMATS["graph"]
    return html_q >= max(quality(ranges, fmt) for fmt in machine)


_KIND_TEXT = {
    "solutions": "SELECT results",
    "boolean": "ASK results",
    "graph": "CONSTRUCT/DESCRIBE results",
}
