"""The SPARQL 1.1 Protocol (W3C Recommendation, 2013): reading query and update requests.

Pure functions of the request's method, Content-Type, query string and body, so that every rule can be
tested without a server. Each refusal is a `ProtocolError` with the HTTP status and a message that says
what is wrong and what to send instead:

* query (`/sparql`): GET with `query=`; POST with `application/x-www-form-urlencoded` (`query=` in the
  body); POST with `application/sparql-query` (the query is the body; dataset parameters in the URL).
  `default-graph-uri` / `named-graph-uri` are repeatable. A GET without any parameter asks for the
  service description (`parse_query_request` returns None).
* update (`/update`): POST only, `application/x-www-form-urlencoded` (`update=`) or
  `application/sparql-update`; `using-graph-uri` / `using-named-graph-uri` repeatable.
* 400 for a missing or repeated query/update, an empty query, a body or parameter that is not UTF-8;
  405 for another method; 415 for a missing or other Content-Type, or a charset other than UTF-8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class QueryRequest:
    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class UpdateRequest:
    update: str
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContentType:
    media_type: str  # lower case, no parameters; "" when absent
    charset: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def parse_content_type(header: str | None) -> ContentType:
    if not header or not header.strip():
        return ContentType("")
    media, *rest = header.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return ContentType(media.strip().lower(), params.get("charset"), params)


def parse_params(raw: bytes | str, where: str) -> list[tuple[str, str]]:
    """`name=value&…` (application/x-www-form-urlencoded), values percent-decoded as UTF-8."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as err:
        raise ProtocolError(
            400, f"the {where} is not UTF-8 after percent-decoding ({err.reason}); send UTF-8"
        ) from err


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def _check_charset(content_type: ContentType) -> None:
    charset = content_type.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ProtocolError(
            415,
            f"charset {charset} is not supported: SPARQL requests must be UTF-8 (send charset=utf-8 or none)",
        )


def _decode_body(body: bytes, what: str) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolError(
            400, f"the {what} is not valid UTF-8 (byte {err.start}): send it as UTF-8"
        ) from err
    return text[1:] if text.startswith("\ufeff") else text


def _require_form_or(content_type: ContentType, direct: str, operation: str, parameter: str) -> None:
    if content_type.media_type in (FORM, direct):
        _check_charset(content_type)
        return
    how = f"{FORM} ({parameter}=… in the body) or {direct} (the {operation} as the body)"
    if not content_type.media_type:
        raise ProtocolError(415, f"a POST {operation} request needs a Content-Type: {how}")
    hint = ""
    if content_type.media_type == UPDATE_TYPE and operation == "query":
        hint = "; updates go to /update"
    elif content_type.media_type == QUERY_TYPE and operation == "update":
        hint = "; queries go to /sparql"
    raise ProtocolError(415, f"Content-Type {content_type.media_type} is not accepted here; send {how}{hint}")


def parse_query_request(
    method: str, content_type_header: str | None, query_string: bytes | str, body: bytes
) -> QueryRequest | None:
    """A query request per the protocol, or None for a bare GET (the service description)."""
    url_params = parse_params(query_string, "query string")
    if method == "GET":
        params = url_params
        if not params:
            return None
    elif method == "POST":
        content_type = parse_content_type(content_type_header)
        _require_form_or(content_type, QUERY_TYPE, "query", "query")
        if content_type.media_type == FORM:
            params = url_params + parse_params(body, "request body")
        else:
            if _values(url_params, "query"):
                raise ProtocolError(
                    400,
                    "two queries: with Content-Type application/sparql-query the body is the query, so the "
                    "URL must not have a query= parameter",
                )
            params = [*url_params, ("query", _decode_body(body, "query"))]
    else:
        raise ProtocolError(
            405, f"{method} is not a SPARQL query operation: use GET or POST", {"Allow": "GET, POST"}
        )
    if _values(params, "update"):
        raise ProtocolError(400, "this is the query endpoint: send SPARQL updates to /update (POST)")
    queries = _values(params, "query")
    if not queries:
        raise ProtocolError(400, "missing query: send the SPARQL query as the query= parameter")
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} queries in one request: send exactly one query= parameter")
    if not queries[0].strip():
        raise ProtocolError(400, "the query is empty")
    return QueryRequest(
        queries[0], tuple(_values(params, "default-graph-uri")), tuple(_values(params, "named-graph-uri"))
    )


def parse_update_request(
    method: str, content_type_header: str | None, query_string: bytes | str, body: bytes
) -> UpdateRequest:
    """An update request per the protocol (POST only)."""
    if method != "POST":
        raise ProtocolError(
            405, f"{method} cannot carry an update: SPARQL updates are sent with POST", {"Allow": "POST"}
        )
    url_params = parse_params(query_string, "query string")
    content_type = parse_content_type(content_type_header)
    _require_form_or(content_type, UPDATE_TYPE, "update", "update")
    if content_type.media_type == FORM:
        params = url_params + parse_params(body, "request body")
    else:
        if _values(url_params, "update"):
            raise ProtocolError(
                400,
                "two updates: with Content-Type application/sparql-update the body is the update, so the "
                "URL must not have an update= parameter",
            )
        params = [*url_params, ("update", _decode_body(body, "update"))]
    if _values(params, "query"):
        raise ProtocolError(400, "this is the update endpoint: send SPARQL queries to /sparql")
    updates = _values(params, "update")
    if not updates:
        raise ProtocolError(400, "missing update: send the SPARQL update as the update= parameter")
    if len(updates) > 1:
        raise ProtocolError(400, f"{len(updates)} updates in one request: send exactly one update= parameter")
    return UpdateRequest(
        updates[0], tuple(_values(params, "using-graph-uri")), tuple(_values(params, "using-named-graph-uri"))
    )
