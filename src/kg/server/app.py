"""The FastAPI application: `create_app(settings)`.

Endpoints (OpenAPI documentation at `/docs`):

* `GET|POST /sparql`  SPARQL 1.1 Protocol query operation; without a query: the service description.
* `POST /update`      SPARQL 1.1 Protocol update operation, only with `Authorization: Bearer <token>`
                      when KG_UPDATE_TOKEN is set (403 when it is not, 401 for a wrong token).
* `GET /queries`, `GET /queries/{name}`  the named queries of queries/ and their results.
* `GET /healthz`      liveness and counters (JSON).
* HTML pages (`kg.server.pages`) and static files under `/static/`.

Every query is checked before it runs (`kg.server.sparql_text`): SERVICE (and LOAD in updates) is
refused with 400 because it would make the service connect to other hosts; FROM / FROM NAMED and the
protocol's dataset parameters may only name graphs of the store. Queries run in worker processes with a
time limit (`kg.server.engine`).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.rdf.named_queries import NamedQuery, default_queries_dir, load_named_queries
from kg.server import pages
from kg.server.description import SD_PREFIXES, service_description
from kg.server.engine import Engine, EngineError
from kg.server.negotiation import NotAcceptable, choose, prefers_html
from kg.server.protocol import ProtocolError, parse_params, parse_query_request, parse_update_request
from kg.server.results import graph_bytes
from kg.server.settings import Settings
from kg.server.sparql_text import SparqlTextError, add_using, inspect_query, inspect_update
from kg.server.worker import JobResult, QueryJob
from kg.store.oxigraph import QUERY_PREFIXES

log = logging.getLogger("kg.server")

STATIC_DIR = Path(__file__).parent / "static"
YASGUI_BUILD = Path("node_modules/@zazuko/yasgui/build")
SWAGGER_DIST = Path("node_modules/swagger-ui-dist")
RESERVED_PARAMS = ("format", "_format")


class HTTPError(Exception):
    """An error answer with a plain-text message (HTML for browsers on pages)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for `settings` (default: from the environment). The engine starts with the app."""
    settings = settings or Settings.from_env()
    engine = Engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await engine.start()
        except EngineError as err:
            log.error("kg serve: cannot start: %s", err)
            raise
        yield
        await engine.close()

    app = FastAPI(
        title="jixiao-kg",
        summary="绩效知识图谱：SPARQL 1.1 endpoint, named queries and pages over the performance-form graph",
        description=__doc__,
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # served below from the local Swagger UI (npm), never from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    cache: dict[str, Any] = {}
    queries_dir = str(settings.queries_dir or default_queries_dir())

    def named_queries() -> dict[str, NamedQuery]:
        """The named queries, read again whenever a .rq file was added, removed or changed (a stat of
        each file per call: os.scandir, as the call is on every named query's path)."""
        try:
            with os.scandir(queries_dir) as entries:
                signature = tuple(
                    sorted(
                        (entry.name, entry.stat().st_mtime_ns, entry.stat().st_size)
                        for entry in entries
                        if entry.name.endswith(".rq")
                    )
                )
            if cache.get("signature") != signature:
                cache["queries"] = load_named_queries(Path(queries_dir))
                cache["signature"] = signature
        except (OSError, ValueError) as err:
            raise HTTPError(500, f"cannot read the named queries: {err}") from err
        queries: dict[str, NamedQuery] = cache["queries"]
        return queries

    app.state.named_queries = named_queries

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Authorization", "Content-Type"],
            expose_headers=["X-SPARQL-MaxRows"],
        )

    # -- errors

    @app.exception_handler(HTTPError)
    async def _http_error(request: Request, err: HTTPError) -> Response:
        return _error_response(request, err.status, err.message, err.headers)

    @app.exception_handler(ProtocolError)
    async def _protocol_error(request: Request, err: ProtocolError) -> Response:
        return _error_response(request, err.status, err.message, err.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_error(request: Request, err: StarletteHTTPException) -> Response:
        message = str(err.detail)
        headers = dict(err.headers or {})
        if err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            if request.url.path == "/sparql":
                message += ": a SPARQL query is sent with GET or POST"
                headers["Allow"] = "GET, POST"
            elif request.url.path == "/update":
                message += ": a SPARQL update is sent with POST"
                headers["Allow"] = "POST"
        elif err.status_code == 404:
            message = f"not found: {request.url.path}"
        return _error_response(request, err.status_code, message, headers)

    # -- SPARQL protocol

    @app.api_route(
        "/sparql",
        methods=["GET", "POST"],
        summary="SPARQL 1.1 query (Protocol: GET, POST form, POST application/sparql-query)",
        description=(
            "The SPARQL 1.1 Protocol query operation. `query` (once), `default-graph-uri` and "
            "`named-graph-uri` "
            "(repeatable, graphs of this store only). POST as application/x-www-form-urlencoded or "
            "application/sparql-query. Results by content negotiation: application/sparql-results+json "
            "(default), application/sparql-results+xml, text/csv, text/tab-separated-values; CONSTRUCT and "
            "DESCRIBE: text/turtle (default), application/n-triples, application/ld+json, "
            "application/rdf+xml, text/csv. `format=csv` etc. overrides Accept. Without a query: the service "
            "description (sd:Service, Turtle). The default graph is the merge of all form graphs."
        ),
        response_class=Response,
        responses={
            200: {"content": {"application/sparql-results+json": {}, "text/turtle": {}, "text/csv": {}}}
        },
    )
    async def sparql(request: Request) -> Response:
        query_string = _query_string(request, settings)
        body = await _read_body(request, settings) if request.method == "POST" else b""
        parsed = parse_query_request(request.method, request.headers.get("content-type"), query_string, body)
        endpoint = _endpoint(request)
        if parsed is None:
            return _service_description(request, settings)
        try:
            info = inspect_query(parsed.query, base=endpoint, prefixes=QUERY_PREFIXES)
        except SparqlTextError as err:
            raise HTTPError(400, f"SPARQL syntax error: {err}") from err
        if info.form is None and info.update_keyword is not None:
            raise HTTPError(400, f"this is a SPARQL Update ({info.update_keyword} …): POST it to /update")
        if info.uses_service:
            raise HTTPError(
                400,
                "SERVICE is not allowed: this endpoint answers from its own store and never connects to "
                "other hosts (federated queries are refused)",
            )
        if parsed.has_dataset:
            required = (*parsed.default_graphs, *parsed.named_graphs)
            default_graph: tuple[str, ...] | None = parsed.default_graphs
            named_graphs: tuple[str, ...] | None = parsed.named_graphs
        else:
            required = (*info.from_graphs, *info.from_named_graphs)
            default_graph = named_graphs = None
        for iri in required:
            _check_iri(iri)
        format_name = _format_param(parse_params(query_string, "query string"))
        job = QueryJob(
            sparql=parsed.query,
            accept=request.headers.get("accept"),
            format=format_name,
            base_iri=endpoint,
            default_graph=default_graph,
            named_graphs=named_graphs,
            required_graphs=tuple(dict.fromkeys(required)),
            max_rows=settings.max_rows,
        )
        return _job_response(await engine.query(job))

    @app.api_route(
        "/update",
        methods=["POST"],
        summary="SPARQL 1.1 update (Protocol: POST form or application/sparql-update; Bearer token)",
        description=(
            "The SPARQL 1.1 Protocol update operation, enabled only when the service was started with "
            "KG_UPDATE_TOKEN; send `Authorization: Bearer <token>`. `update` (once), `using-graph-uri`, "
            "`using-named-graph-uri`. LOAD and SERVICE are refused (the service never connects to other "
            "hosts). "
            "Updates write exactly what they say: the default graph is stored (the merge of the form graphs "
            "that `kg ingest` maintains), so data written to a named graph is not added to it by itself."
        ),
        response_class=PlainTextResponse,
    )
    async def update(request: Request) -> Response:
        _authorize(request, settings)
        query_string = _query_string(request, settings)
        body = await _read_body(request, settings)
        parsed = parse_update_request(request.method, request.headers.get("content-type"), query_string, body)
        try:
            info = inspect_update(parsed.update)
        except SparqlTextError as err:
            raise HTTPError(400, f"SPARQL syntax error: {err}") from err
        if info.uses_load:
            raise HTTPError(400, "LOAD is not allowed: the service never fetches documents from other hosts")
        if info.uses_service:
            raise HTTPError(400, "SERVICE is not allowed: the service never connects to other hosts")
        if (parsed.using_graphs or parsed.using_named_graphs) and info.dataset_clauses:
            raise HTTPError(
                400,
                f"dataset given twice: the request has using-graph-uri / using-named-graph-uri and the "
                f"update "
                f"has {', '.join(sorted(set(info.dataset_clauses)))}; use one or the other",
            )
        try:
            text = add_using(parsed.update, parsed.using_graphs, parsed.using_named_graphs)
        except ValueError as err:
            raise HTTPError(400, f"not an IRI in using-graph-uri / using-named-graph-uri: {err}") from err
        result = await engine.update(text, _endpoint(request))
        if result.status == 200:
            return PlainTextResponse("update done\n", status_code=200)
        return _job_response(result)

    # -- named queries

    @app.get(
        "/queries",
        summary="List the named queries (name, description, parameters with types and examples)",
        response_class=JSONResponse,
    )
    async def list_queries(request: Request) -> Response:
        queries = named_queries()
        if prefers_html(request.headers.get("accept")):
            return pages.render(request, "queries.html", queries=list(queries.values()))
        return JSONResponse({"queries": [_query_json(q) for q in queries.values()]})

    @app.get(
        "/queries/{name}",
        summary="Run a named query; parameters as ?name=value (typed, bound as RDF terms)",
        description=(
            "Parameters are bound to the query's variables as typed RDF terms (integer, decimal, string, "
            "iri) "
            "before evaluation, never pasted into the query text; an empty value leaves the variable unbound "
            "(all rows). Formats as for /sparql (Accept, or format=json|xml|csv|tsv); format=csv downloads a "
            "CSV file; browsers get an HTML table."
        ),
        response_class=Response,
    )
    async def run_named_query(request: Request, name: str) -> Response:
        queries = named_queries()
        if name not in queries:
            raise HTTPError(
                404, f"no named query {name!r}; known: {', '.join(queries) or 'none'} (see /queries)"
            )
        named = queries[name]
        params = parse_params(_query_string(request, settings), "query string")
        values: dict[str, str] = {}
        known = {p.name for p in named.params}
        for key, value in params:
            if key in RESERVED_PARAMS and key not in known:
                continue
            if key not in known:
                raise HTTPError(
                    400,
                    f"query {name!r} has no parameter {key!r}; "
                    f"parameters: {', '.join(sorted(known)) or 'none'}",
                )
            if key in values:
                raise HTTPError(400, f"parameter {key!r} given twice")
            if value.strip():
                values[key] = value.strip()
        try:
            substitutions = tuple((v.value, term) for v, term in named.substitutions(values).items())
        except ValueError as err:
            raise HTTPError(400, str(err)) from err
        format_name = _format_param([(k, v) for k, v in params if k not in known])
        accept = request.headers.get("accept")
        as_html = format_name == "html" or (format_name is None and prefers_html(accept))
        job = QueryJob(
            sparql=named.text,
            accept=accept,
            format="json" if as_html else format_name,
            substitutions=substitutions,
            max_rows=settings.max_rows,
            columns=tuple(getattr(named, "columns", ())),
        )
        result = await engine.query(job)
        if as_html and result.status == 200 and result.kind in ("solutions", "boolean"):
            return pages.render_query_result(request, named, values, result)
        response = _job_response(result)
        if result.status == 200 and result.media_type.startswith("text/csv"):
            response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    @app.get("/healthz", summary="Liveness and counters", response_class=JSONResponse)
    async def healthz() -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "workers": settings.workers,
                "query_timeout": settings.query_timeout,
                "updates_enabled": settings.updates_enabled,
                **engine.stats,
            }
        )

    swagger = settings.web_dir / SWAGGER_DIST

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        if not (swagger / "swagger-ui-bundle.js").is_file():
            return PlainTextResponse(
                "The API documentation page needs Swagger UI in web/node_modules: run ./scripts/setup (npm). "
                "The OpenAPI description is at /openapi.json.\n",
                status_code=503,
            )
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="jixiao-kg API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    pages.add_routes(app)
    app.mount("/static/app", StaticFiles(directory=STATIC_DIR), name="static")
    yasgui = settings.web_dir / YASGUI_BUILD
    if (yasgui / "yasgui.min.js").is_file():
        app.mount("/static/yasgui", StaticFiles(directory=yasgui), name="yasgui")
    if (swagger / "swagger-ui-bundle.js").is_file():
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")
    return app


# ----------------------------------------------------------------------------- helpers


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jixiao-kg")
    except PackageNotFoundError:
        return "0"


def _endpoint(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


def _query_string(request: Request, settings: Settings) -> bytes:
    raw: bytes = request.scope.get("query_string", b"")
    if len(raw) > settings.max_request_bytes:
        raise HTTPError(
            414,
            f"the query string is {len(raw)} bytes, more than the limit of {settings.max_request_bytes}: "
            "send long queries with POST",
        )
    return raw


async def _read_body(request: Request, settings: Settings) -> bytes:
    limit = settings.max_request_bytes
    declared = request.headers.get("content-length")
    too_large = f"the request body is larger than the limit of {limit} bytes (KG_MAX_REQUEST_BYTES)"
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _authorize(request: Request, settings: Settings) -> None:
    if request.method != "POST":
        return  # the protocol check answers 405 first
    if not settings.updates_enabled:
        raise HTTPError(
            403,
            "updates are disabled: this service is read-only (start it with KG_UPDATE_TOKEN set to enable "
            "SPARQL Update with a bearer token)",
        )
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    assert settings.update_token is not None
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), settings.update_token.encode()
    ):
        raise HTTPError(
            401,
            "updates need the header Authorization: Bearer <token> with the service's update token",
            {"WWW-Authenticate": 'Bearer realm="kg-update"'},
        )


def _check_iri(iri: str) -> None:
    try:
        ox.NamedNode(iri)
    except ValueError as err:
        raise HTTPError(400, f"not an IRI: {iri!r} ({err})") from err


def _format_param(params: Sequence[tuple[str, str]]) -> str | None:
    values = [v for k, v in params if k in RESERVED_PARAMS and v.strip()]
    if len(values) > 1:
        raise HTTPError(400, "format given twice")
    return values[0].strip().lower() if values else None


def _job_response(result: JobResult) -> Response:
    headers = dict(result.headers)
    headers["Vary"] = "Accept"
    if result.status == 503:
        headers["Retry-After"] = "5"
    return Response(result.body, status_code=result.status, media_type=result.media_type, headers=headers)


def _error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if prefers_html(request.headers.get("accept")) and not request.url.path.startswith(
        ("/sparql", "/update")
    ):
        return pages.render_error(request, status, message, headers)
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


def _service_description(request: Request, settings: Settings) -> Response:
    accept = request.headers.get("accept")
    if prefers_html(accept):
        return RedirectResponse("/query", status_code=303)
    base = str(request.base_url).rstrip("/")
    triples = service_description(base + "/sparql", base + "/update" if settings.updates_enabled else None)
    try:
        fmt = choose(
            "graph", accept, _format_param(parse_params(request.scope.get("query_string", b""), "URL"))
        )
    except NotAcceptable as err:
        raise HTTPError(406, str(err)) from err
    body = graph_bytes(triples, fmt, SD_PREFIXES)
    media_type = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


def _query_json(query: NamedQuery) -> dict[str, Any]:
    example = urlencode([(p.name, p.example) for p in query.params[:1]])
    return {
        "name": query.name,
        "description": query.description,
        "parameters": [{"name": p.name, "type": p.type, "example": p.example} for p in query.params],
        "url": f"/queries/{query.name}",
        "example_url": f"/queries/{query.name}" + (f"?{example}" if example else ""),
        "csv_url": f"/queries/{query.name}?format=csv",
        "sparql": query.text,
    }


__all__ = ["HTTPError", "create_app"]
