"""The dataset in a remote SPARQL store: Virtuoso (bulk loader + SPARQL over HTTP) or any SPARQL 1.1 endpoint.

`RemoteStore` keeps the layout and the semantics of `kg.store.oxigraph` (one named graph per form, the
catalog graph, derived graphs, the default graph as the merge of the form graphs) and answers with
pyoxigraph's result types, so that `kg` commands, the linker, validation and the HTTP service run on it
unchanged. Open it with `kg.store.open_store("virtuoso://127.0.0.1:1111")` (or an `http(s)://…/sparql`
endpoint); see `RemoteConfig.from_spec` for the addresses and environment variables.

Transport
---------

Queries and updates go through SPARQLWrapper as form-encoded POSTs (`query=` / `update=`; Virtuoso
hangs on `application/sparql-query` bodies), results as SPARQL JSON, converted to pyoxigraph terms:
Virtuoso's blank nodes `nodeID://b1` become `_:b1`, and values Virtuoso prints in another lexical form
than Oxigraph get Oxigraph's canonical one (`"1"^^xsd:boolean` -> `"true"`, doubles, decimals), so both
stores give equal rows. Credentials come from the environment (HTTP digest for Virtuoso's
`/sparql-auth`, basic or a bearer token for other endpoints), never from the command line.

The default graph
-----------------

Virtuoso's default graph, for a query without FROM, is the union of *all* graphs as a multiset (a triple
in k graphs matches k times, and Virtuoso's own graphs — virtrdf#, owl … — are in it); with several FROM
graphs it is a multiset too. Neither is the set union this project queries, so the merge of the form
graphs is *materialised* in the named graph `…/id/graph/merged` (`MERGE_GRAPH`) exactly as Oxigraph keeps
it in its default graph, and every query without its own FROM is sent with `default-graph-uri` = that
graph. `define input:named-graph-exclude <…/merged>` keeps it out of `GRAPH ?g`, which otherwise ranges
over the store's graphs (form graphs, catalog, derived graphs; on Virtuoso also Virtuoso's own system
graphs). A query's own FROM / FROM NAMED wins, as with Oxigraph; the protocol's dataset (`default_graph`,
`named_graphs`) replaces them. On a generic SPARQL 1.1 store (dialect `generic`) the endpoint's own
default graph holds the merge, as with Oxigraph, and queries are sent as they are.

Parameters (`substitutions`)
----------------------------

As on Oxigraph (`OxigraphStore.query`), the values become `VALUES ?a { … }` blocks placed first in the
query's WHERE group (`kg.store.sparql_text.with_bindings`), serialised as RDF terms with escaping
(`sparql_term`), never pasted as text: a parameter value cannot end the string it is in.

Result size limits (`ResultSetMaxRows`)
---------------------------------------

Virtuoso cuts every HTTP answer at `ResultSetMaxRows` rows silently, except for the header
`X-SPARQL-MaxRows` on SELECT answers; a CONSTRUCT is cut without any sign. So:

* a SELECT answer carrying `X-SPARQL-MaxRows: N` is fetched again in pages of N rows: the query as a
  subquery ordered by its own ORDER BY plus every projected variable (a total order, so pages neither
  overlap nor skip), `OFFSET k LIMIT N` outside (`sparql_text.paged`), until a page is short;
* a CONSTRUCT is sent as the SELECT of its WHERE part (paged as above) and its template is instantiated
  locally by pyoxigraph over those rows (`CONSTRUCT { template } WHERE { VALUES … }`), so it is never cut;
* DESCRIBE is sent as it is (the endpoint's own DESCRIBE, e.g. Virtuoso's concise bounded description);
  an answer of exactly `max_rows_seen` triples raises instead of being returned cut;
* an answer Virtuoso stopped at `MaxQueryExecutionTime` ("anytime" partial result, header
  `X-SQL-State`) raises `QueryError` instead of returning part of the rows.

Writing and atomicity
---------------------

On Virtuoso with isql access (`virtuoso://` and a load folder the server may read, `DirsAllowed`):

* **Replacing a source** (a file loaded before, a derived graph) is one call of the stored procedure
  `DB.DBA.KG_REPLACE_SOURCE` through `isql`, in two steps. (1) The new quads (form graphs, their merge
  copies, catalog entries), written as an N-Quads shard to the load folder under *staging* graph names
  (`urn:x-jixiao-kg:staging:…`), are loaded with Virtuoso's fast loader (`DB.DBA.TTLP`, which commits
  by itself; a failure removes the staging graphs and changes nothing else). (2) One transaction of
  set-based SQL with logging (`log_enable(1)`): delete the old graphs and catalog entries, copy the
  staging graphs to their real names and the merge copies into the merge graph, remove from the merge
  graph the old triples that no catalogued graph holds any more, drop the staging graphs. Any error in
  (2) rolls all of it back: readers see the old graphs or the new ones, never a mix, as with Oxigraph
  (tested by failing the procedure just before its commit). Readers may see the staging graphs through
  `GRAPH ?g` while (1) runs. Why not simpler: a multi-operation SPARQL Update over HTTP is *not* one
  transaction on Virtuoso (each operation commits by itself), and `DB.DBA.TTLP(…, transactional => 1)`
  of N-Quads runs the vectorised loader, which commits the caller's transaction when it ends (and on a
  syntax error); Virtuoso's one-threaded loader keeps the transaction but loads ~3,000 quads/s.
* **Loading new files in bulk** (`bulk()`, used by `kg ingest`): each new file becomes one N-Quads
  shard; the shards are registered with `ld_add` and loaded by one `rdf_loader_run()` (Virtuoso's bulk
  loader: no transaction log, row autocommit), followed by a `checkpoint` that makes them durable. A
  shard the loader reports failed (`LOAD_LIST.ll_error`) is removed again by `KG_REPLACE_SOURCE` and its
  file reported as failed, so after the ingest every file is loaded completely or not at all; *while*
  the loader runs, readers may see a file partly loaded, and a crash before the checkpoint loses the
  loads since the last one (re-run the ingest: it replaces). Files loaded before are replaced one
  transaction each, as above.

Without isql (an `http(s)://` endpoint), writes are SPARQL Updates over HTTP: the same operations as
the Oxigraph store, in as few requests as the endpoint takes (`KG_REMOTE_MAX_UPDATE_BYTES`); a generic
SPARQL 1.1 store that runs each request as a transaction replaces a file atomically when it fits one
request; Virtuoso over HTTP gives no atomicity across operations (see above).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from xml.etree import ElementTree

import pyoxigraph as ox
from rdflib import URIRef
from SPARQLWrapper import BASIC, DIGEST, POST, TURTLE, URLENCODED, XML, SPARQLWrapper
from SPARQLWrapper import SPARQLExceptions as sparql_errors

from kg.rdf.mapping import Triple, source_file_iri
from kg.rdf.namespaces import ID
from kg.store import sparql_text
from kg.store.oxigraph import (
    _K_DERIVED_FROM,
    _K_DERIVED_NAME,
    _K_SOURCE_FILE,
    _K_TRIPLE_COUNT,
    _XSD_INTEGER,
    CATALOG_GRAPH,
    EXPORT_FORMATS,
    EXPORT_PREFIXES,
    QUERY_PREFIXES,
    FileRecord,
    FormGraphRecord,
    OxTerm,
    QueryError,
    QueryResult,
    QuerySyntaxError,
    StoreError,
    _base_name,
    _file_entries,
    _graph_name,
    _natural_key,
    _term_text,
    catalog_files,
    catalog_form_graphs,
    graphs_to_quads,
    parameter_bindings,
)
from kg.store.sparql_text import SparqlTextError

MERGE_GRAPH = ID["graph/merged"]
EMPTY_GRAPH = "urn:x-jixiao-kg:empty-graph"  # names no graph: an empty default graph
BNODE_IRI = "urn:x-jixiao-kg:bnode:"  # blank nodes while a CONSTRUCT template is filled in locally
STAGING_GRAPH = "urn:x-jixiao-kg:staging:"  # a replacement's new triples, inside its transaction only
DEFAULT_HTTP_PORT = 8890
DEFAULT_ISQL_PORT = 1111
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_UPDATE_BYTES = 4_000_000
VIRTUOSO_INSERT_TRIPLES = 2_000  # Virtuoso compiles INSERT DATA to SQL text of bounded length

_XSD = "http://www.w3.org/2001/XMLSchema#"
_PROCEDURE_VERSION = "kg-1"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./\-]+$")

_MERGE = ox.NamedNode(str(MERGE_GRAPH))
_CAT = ox.NamedNode(str(CATALOG_GRAPH))

# Replace a source's graphs, Virtuoso side (see "Writing and atomicity" above). The shard holds the new
# quads under staging graph names (one staging graph per new graph, one for their merge copies, one for
# the catalog entries). Step 1 loads it with Virtuoso's fast loader (DB.DBA.TTLP, which commits by
# itself: only staging graphs are written, which nothing reads; on an error they are removed again).
# Step 2 is one transaction of set-based SQL: copy the old graphs' triples to a staging graph, delete the
# old graphs and catalog entries, copy the staging graphs to their real names (and the merge copies into
# the merge graph), remove from the merge graph the old triples that no catalogued graph holds any more,
# drop the staging graphs; any error rolls all of it back.
# The plan file: catalog graph, the predicate linking a graph to its source in the catalog, the source,
# the merge graph (empty: the graphs stay out of the default graph), the staging graph of the catalog
# entries, of the merge copies, of the old triples, then "<graph> <staging graph>" per new graph.
_REPLACE_PROCEDURE = r"""
create procedure DB.DBA.KG_REPLACE_SOURCE (in plan_path varchar, in shard_path varchar)
{
  declare v_plan, v_prior, v_pair, v_staged any;
  declare v_cat, v_link, v_src, v_merge, v_g, v_s, v_scat, v_snew, v_sold any;
  declare v_i int;
  v_plan := split_and_decode (file_to_string (plan_path), 0, '\0\0\n');
  v_staged := vector ();
  for (v_i := 4; v_i < length (v_plan); v_i := v_i + 1)
    {
      if (v_i < 7)
        v_staged := vector_concat (v_staged, vector (iri_to_id (v_plan[v_i])));
      else if (v_plan[v_i] <> '')
        {
          v_pair := split_and_decode (v_plan[v_i], 0, '\0\0 ');
          v_staged := vector_concat (v_staged, vector (iri_to_id (v_pair[1])));
        }
    }
  -- step 1: the shard into the staging graphs (fast loader, commits by itself)
  {
    declare exit handler for sqlstate '*' {
      rollback work;
      for (v_i := 0; v_i < length (v_staged); v_i := v_i + 1)
        delete from DB.DBA.RDF_QUAD where G = v_staged[v_i];
      commit work;
      resignal;
    };
    if (shard_path <> '')
      DB.DBA.TTLP (file_to_string_output (shard_path), '', v_plan[4], 255 + 512);
    commit work;
  }
  -- step 2: one transaction
  declare exit handler for sqlstate '*' {
    rollback work;
    for (v_i := 0; v_i < length (v_staged); v_i := v_i + 1)
      delete from DB.DBA.RDF_QUAD where G = v_staged[v_i];
    commit work;
    resignal;
  };
  log_enable (1, 1);
  v_cat := iri_to_id (v_plan[0]);
  v_link := iri_to_id (v_plan[1]);
  v_src := iri_to_id (v_plan[2]);
  v_merge := null;
  if (v_plan[3] <> '')
    v_merge := iri_to_id (v_plan[3]);
  v_scat := iri_to_id (v_plan[4]);
  v_snew := iri_to_id (v_plan[5]);
  v_sold := iri_to_id (v_plan[6]);
  v_prior := vector ();
  for (select S as v_prev from DB.DBA.RDF_QUAD where G = v_cat and P = v_link and O = v_src) do
    v_prior := vector_concat (v_prior, vector (v_prev));
  for (v_i := 7; v_i < length (v_plan); v_i := v_i + 1)
    {
      if (v_plan[v_i] <> '')
        {
          v_g := iri_to_id (split_and_decode (v_plan[v_i], 0, '\0\0 ')[0], 0);
          if (v_g is not null and position (v_g, v_prior) = 0)
            v_prior := vector_concat (v_prior, vector (v_g));
        }
    }
  for (v_i := 0; v_i < length (v_prior); v_i := v_i + 1)
    {
      v_g := v_prior[v_i];
      if (v_merge is not null)
        insert soft DB.DBA.RDF_QUAD (G, S, P, O) select v_sold, S, P, O from DB.DBA.RDF_QUAD where G = v_g;
      delete from DB.DBA.RDF_QUAD where G = v_g;
      delete from DB.DBA.RDF_QUAD where G = v_cat and S = v_g;
    }
  delete from DB.DBA.RDF_QUAD where G = v_cat and S = v_src;
  for (v_i := 7; v_i < length (v_plan); v_i := v_i + 1)
    {
      if (v_plan[v_i] <> '')
        {
          v_pair := split_and_decode (v_plan[v_i], 0, '\0\0 ');
          v_g := iri_to_id (v_pair[0]);
          v_s := iri_to_id (v_pair[1]);
          insert soft DB.DBA.RDF_QUAD (G, S, P, O) select v_g, S, P, O from DB.DBA.RDF_QUAD where G = v_s;
        }
    }
  insert soft DB.DBA.RDF_QUAD (G, S, P, O) select v_cat, S, P, O from DB.DBA.RDF_QUAD where G = v_scat;
  if (v_merge is not null)
    {
      insert soft DB.DBA.RDF_QUAD (G, S, P, O) select v_merge, S, P, O from DB.DBA.RDF_QUAD where G = v_snew;
      -- old triples neither written again nor held by another catalogued graph leave the merge graph
      for (select S as s1, P as p1, O as o1 from DB.DBA.RDF_QUAD where G = v_sold) do
        {
          if (not exists (select 1 from DB.DBA.RDF_QUAD k
                          where k.G = v_snew and k.S = s1 and k.P = p1 and k.O = o1)
              and not exists (select 1 from DB.DBA.RDF_QUAD q, DB.DBA.RDF_QUAD c
                              where q.S = s1 and q.P = p1 and q.O = o1 and q.G <> v_merge
                                and c.G = v_cat and c.P = v_link and c.S = q.G))
            delete from DB.DBA.RDF_QUAD where G = v_merge and S = s1 and P = p1 and O = o1;
        }
    }
  for (v_i := 0; v_i < length (v_staged); v_i := v_i + 1)
    delete from DB.DBA.RDF_QUAD where G = v_staged[v_i];
  commit work;
  return 'KG_REPLACE_OK';
}
"""


# ----------------------------------------------------------------------------- configuration


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name)
    return value if value else None


@dataclass(frozen=True)
class RemoteConfig:
    """How to reach a remote store (see `from_spec`)."""

    query_url: str
    update_url: str | None = None
    dialect: str = "virtuoso"  # virtuoso | generic
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "digest"  # digest | basic | bearer
    token: str | None = field(default=None, repr=False)
    isql_host: str | None = None  # Virtuoso's SQL port, for the bulk loader and transactional writes
    isql_port: int = DEFAULT_ISQL_PORT
    isql_binary: str = "isql-vt"
    load_dir: Path | None = None  # a folder both this process and the Virtuoso server read (DirsAllowed)
    timeout: float = DEFAULT_TIMEOUT
    max_update_bytes: int = DEFAULT_MAX_UPDATE_BYTES
    spec: str = ""

    @property
    def merge_graph(self) -> str | None:
        """The named graph holding the merge on Virtuoso; None: the endpoint's own default graph."""
        return str(MERGE_GRAPH) if self.dialect == "virtuoso" else None

    @property
    def bulk_capable(self) -> bool:
        return self.dialect == "virtuoso" and self.isql_host is not None and self.load_dir is not None

    @classmethod
    def from_spec(cls, spec: str, environ: Mapping[str, str] | None = None) -> RemoteConfig:
        """The configuration of a `--store` value naming a remote store.

        * `virtuoso://HOST[:PORT][?http=PORT_OR_URL&load_dir=PATH]`: Virtuoso; `isql` on HOST:PORT (SQL port,
          default 1111) for the bulk loader and transactional writes, SPARQL at `http://HOST:8890/sparql`
          (or `$KG_VIRTUOSO_HTTP`, or `http=`) for queries and `…/sparql-auth` (HTTP digest) for updates;
          shards are written to `load_dir` (or `$KG_VIRTUOSO_LOAD_DIR`), a folder Virtuoso may read.
        * `http(s)://HOST…/sparql`: any SPARQL endpoint; updates go to `$KG_REMOTE_UPDATE_URL` (default:
          the same URL, or `…/sparql-auth` on Virtuoso); the dialect is detected from the `Server` header
          (`$KG_REMOTE_DIALECT` = virtuoso | generic overrides).

        Environment: `KG_REMOTE_USER` (default `dba` for virtuoso://), `KG_REMOTE_PASSWORD` or
        `KG_REMOTE_PASSWORD_FILE`, `KG_REMOTE_AUTH` (digest | basic | bearer, with `KG_REMOTE_TOKEN`),
        `KG_REMOTE_TIMEOUT` (seconds), `KG_ISQL` (the isql program, default isql-vt),
        `KG_REMOTE_MAX_UPDATE_BYTES`.
        """
        env = os.environ if environ is None else environ
        parsed = urllib.parse.urlsplit(spec)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        password = _env("KG_REMOTE_PASSWORD", env)
        password_file = _env("KG_REMOTE_PASSWORD_FILE", env)
        if password is None and password_file is not None:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise StoreError(f"cannot read KG_REMOTE_PASSWORD_FILE {password_file}: {err}") from err
        common: dict[str, Any] = {
            "password": password,
            "auth": (_env("KG_REMOTE_AUTH", env) or "digest").lower(),
            "token": _env("KG_REMOTE_TOKEN", env),
            "timeout": float(_env("KG_REMOTE_TIMEOUT", env) or DEFAULT_TIMEOUT),
            "isql_binary": _env("KG_ISQL", env) or _default_isql(),
            "max_update_bytes": int(_env("KG_REMOTE_MAX_UPDATE_BYTES", env) or DEFAULT_MAX_UPDATE_BYTES),
            "spec": _without_secrets(spec),
        }
        if common["auth"] not in ("digest", "basic", "bearer"):
            raise StoreError(f"KG_REMOTE_AUTH must be digest, basic or bearer, not {common['auth']!r}")
        if parsed.scheme == "virtuoso":
            host = parsed.hostname or "127.0.0.1"
            port = parsed.port or DEFAULT_ISQL_PORT
            http = params.get("http") or _env("KG_VIRTUOSO_HTTP", env) or str(DEFAULT_HTTP_PORT)
            base = f"http://{_url_host(host)}:{http}" if http.isdigit() else http.rstrip("/")
            base = re.sub(r"/sparql(-auth)?$", "", base)
            load_dir = params.get("load_dir") or _env("KG_VIRTUOSO_LOAD_DIR", env)
            return cls(
                query_url=f"{base}/sparql",
                update_url=_env("KG_REMOTE_UPDATE_URL", env) or f"{base}/sparql-auth",
                dialect="virtuoso",
                user=_env("KG_REMOTE_USER", env) or "dba",
                isql_host=host,
                isql_port=port,
                load_dir=Path(load_dir) if load_dir else None,
                **common,
            )
        if parsed.scheme in ("http", "https"):
            dialect = (_env("KG_REMOTE_DIALECT", env) or "auto").lower()
            if dialect not in ("auto", "virtuoso", "generic"):
                raise StoreError(f"KG_REMOTE_DIALECT must be virtuoso or generic, not {dialect!r}")
            url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path, parsed.query, ""))
            if dialect == "auto":
                dialect = _detect_dialect(url, common["timeout"])
            update = _env("KG_REMOTE_UPDATE_URL", env)
            if update is None:
                update = re.sub(r"/sparql/?$", "/sparql-auth", url) if dialect == "virtuoso" else url
            return cls(
                query_url=url,
                update_url=update,
                dialect=dialect,
                user=_env("KG_REMOTE_USER", env),
                **common,
            )
        raise StoreError(
            f"not a remote store address: {spec!r} (expected virtuoso://HOST:PORT or http(s)://…)"
        )


def _default_isql() -> str:
    for name in ("isql-vt", "isql-v", "isql"):
        if shutil.which(name):
            return name
    return "isql-vt"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _without_secrets(spec: str) -> str:
    parsed = urllib.parse.urlsplit(spec)
    if parsed.password is None:
        return spec
    netloc = (parsed.hostname or "") + (f":{parsed.port}" if parsed.port else "")
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, parsed.query, parsed.fragment))


def _detect_dialect(url: str, timeout: float) -> str:
    """`virtuoso` when the endpoint's `Server` header says Virtuoso, else `generic`."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode({"query": "ASK {}"}).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("Accept", "application/sparql-results+json")
    try:
        with urllib.request.urlopen(request, timeout=min(timeout, 30)) as response:
            server = response.headers.get("Server", "")
    except urllib.error.HTTPError as err:
        server = err.headers.get("Server", "") if err.headers else ""
    except (urllib.error.URLError, OSError) as err:
        raise StoreError(f"cannot reach the SPARQL endpoint {url}: {err}") from err
    return "virtuoso" if "virtuoso" in server.lower() else "generic"


# ----------------------------------------------------------------------------- terms from results


def _canonical_decimal(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    formatted = format(number, "f")
    if "." in formatted:
        formatted = formatted.rstrip("0").rstrip(".")
    return "0" if formatted in ("-0", "") else formatted


def _normal_value(datatype: str, value: str) -> str:
    """Oxigraph's canonical lexical form for the datatypes it stores by value (as the embedded store
    answers), where Virtuoso prints another form of the same value."""
    if datatype == _XSD + "boolean":
        return {"1": "true", "0": "false"}.get(value, value)
    if datatype in (_XSD + "double", _XSD + "float"):
        try:
            return str(ox.Literal(float(value)).value)
        except ValueError:
            return value
    if datatype == _XSD + "decimal":
        return _canonical_decimal(value)
    return value


def _bnode_label(value: str) -> str:
    label = value.removeprefix("nodeID://").removeprefix("_:")
    label = re.sub(r"[^A-Za-z0-9_]", "_", label)
    return label if label and not label[0].isdigit() else f"b{label}"


def _normal_binding(binding: Mapping[str, Any]) -> dict[str, str]:
    """A SPARQL JSON term from Virtuoso as standard SPARQL JSON pyoxigraph reads."""
    kind = binding.get("type")
    value = str(binding.get("value", ""))
    if kind == "uri":
        return {"type": "uri", "value": value}
    if kind == "bnode" or (kind == "uri" and value.startswith("nodeID://")):
        return {"type": "bnode", "value": _bnode_label(value)}
    if kind in ("literal", "typed-literal"):
        term: dict[str, str] = {"type": "literal"}
        language = binding.get("xml:lang")
        datatype = binding.get("datatype")
        if language:
            term["xml:lang"] = str(language).lower()
        elif datatype and datatype != _XSD + "string":
            term["datatype"] = str(datatype)
            value = _normal_value(str(datatype), value)
        term["value"] = value
        return term
    raise QueryError(f"the endpoint answered a term of unknown type {kind!r}")


def _solutions(variables: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> ox.QuerySolutions:
    document = {
        "head": {"vars": list(variables)},
        "results": {"bindings": [{k: _normal_binding(v) for k, v in row.items()} for row in rows]},
    }
    data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    result = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    assert isinstance(result, ox.QuerySolutions)
    return result


def _boolean(value: bool) -> ox.QueryBoolean:
    data = json.dumps({"head": {}, "boolean": bool(value)}).encode()
    result = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    assert isinstance(result, ox.QueryBoolean)
    return result


def _triples_result(triples: Iterable[ox.Triple]) -> ox.QueryTriples:
    """A pyoxigraph QueryTriples holding exactly these triples (through an in-memory store)."""
    memory = ox.Store()
    memory.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    result = memory.query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(result, ox.QueryTriples)
    return result


def _json_term(term: ox.NamedNode | ox.Literal) -> dict[str, str]:
    """A term as SPARQL JSON."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    result = {"type": "literal", "value": term.value}
    if term.language:
        result["xml:lang"] = term.language
    elif term.datatype.value != _XSD + "string":
        result["datatype"] = term.datatype.value
    return result


def _term_from_json(binding: Mapping[str, Any]) -> OxTerm:
    term = _normal_binding(binding)
    if term["type"] == "uri":
        return ox.NamedNode(term["value"])
    if term["type"] == "bnode":
        return ox.BlankNode(term["value"])
    if "xml:lang" in term:
        return ox.Literal(term["value"], language=term["xml:lang"])
    if "datatype" in term:
        return ox.Literal(term["value"], datatype=ox.NamedNode(term["datatype"]))
    return ox.Literal(term["value"])


# ----------------------------------------------------------------------------- the store


@dataclass
class _PendingFile:
    """A file written to a shard inside `bulk()`, loaded when the block ends."""

    name: str
    source: ox.NamedNode
    shard: Path
    graphs: list[ox.NamedNode]
    triples: int
    nquads: bytes = b""
    kept: bytes = b""
    catalog: Sequence[tuple[ox.NamedNode, ox.NamedNode, OxTerm]] = ()


@dataclass
class BulkOutcome:
    """What a `bulk()` block loaded: per file, the error that kept it out (None: loaded)."""

    errors: dict[str, str] = field(default_factory=dict)
    loaded: int = 0
    seconds: float = 0.0


class RemoteStore:
    """The project's dataset in a remote SPARQL store (see the module documentation)."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.path: Path | None = None  # no local directory (as OxigraphStore.path for a store in memory)
        self.read_only = False
        self._closed = False
        self._procedure_ready = False
        self._pending: list[_PendingFile] | None = None
        self._bulk_dir: Path | None = None
        self.max_rows_seen: int | None = None  # the endpoint's ResultSetMaxRows, once an answer showed it
        self.last_bulk: BulkOutcome | None = None

    @classmethod
    def open(cls, spec: str, environ: Mapping[str, str] | None = None) -> RemoteStore:
        """Open the store at a `virtuoso://…` or `http(s)://…` address (see `RemoteConfig.from_spec`) and
        check that it answers."""
        store = cls(RemoteConfig.from_spec(spec, environ))
        store.ping()
        return store

    @property
    def location(self) -> str:
        config = self.config
        if config.dialect == "virtuoso" and config.isql_host is not None:
            return f"{config.spec} ({config.query_url})"
        return config.spec or config.query_url

    def __repr__(self) -> str:
        return f"<RemoteStore {self.location}{' closed' if self._closed else ''}>"

    # -- life cycle

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ping(self) -> None:
        """Raise StoreError unless the endpoint answers a query (and, with isql, the SQL port a statement)."""
        self._check_open()
        self._request("ASK {}", kind="query")

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    # -- HTTP

    def _wrapper(self, url: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(url)
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setTimeout(int(self.config.timeout))
        wrapper.setOnlyConneg(True)  # Accept header only: Virtuoso answers 406 to some format= values
        config = self.config
        if config.auth == "bearer" and config.token:
            wrapper.addCustomHttpHeader("Authorization", f"Bearer {config.token}")
        elif config.user and config.password:
            wrapper.setHTTPAuth(DIGEST if config.auth == "digest" else BASIC)
            wrapper.setCredentials(config.user, config.password)
        return wrapper

    def _request(
        self,
        text: str,
        *,
        kind: str,
        accept: str = XML,
        params: Sequence[tuple[str, str]] = (),
    ) -> tuple[bytes, Mapping[str, str]]:
        """POST a query (`kind` query) or an update, form-encoded; returns the body and the headers."""
        self._check_open()
        if kind == "update":
            if self.config.update_url is None:
                raise StoreError(f"{self.location} has no update endpoint (set KG_REMOTE_UPDATE_URL)")
            wrapper = self._wrapper(self.config.update_url)
            wrapper.setQuery(text)
            wrapper.queryType = "INSERT"  # an update, whatever SPARQLWrapper's guess from the text
        else:
            wrapper = self._wrapper(self.config.query_url)
            wrapper.setReturnFormat(accept)
            wrapper.setQuery(text)
            wrapper.queryType = "SELECT" if accept == XML else "CONSTRUCT"
        for name, value in params:
            wrapper.addParameter(name, value)
        try:
            result = wrapper.query()
            body = result.response.read()
            headers = {key.lower(): value for key, value in result.info().items()}
        except sparql_errors.QueryBadFormed as err:
            raise QuerySyntaxError(self._message(err)) from err
        except sparql_errors.Unauthorized as err:
            raise StoreError(
                f"{self.location} refused the credentials (set KG_REMOTE_USER and KG_REMOTE_PASSWORD): "
                f"{self._message(err)}"
            ) from err
        except sparql_errors.SPARQLWrapperException as err:
            message = self._message(err)
            if re.search(r"\b(SP030|SP031|37000)\b|syntax error", message, re.IGNORECASE):
                raise QuerySyntaxError(message) from err
            raise QueryError(message) from err
        except urllib.error.HTTPError as err:
            raise QueryError(f"{self.location} answered HTTP {err.code}: {err.read()[:500]!r}") from err
        except (urllib.error.URLError, OSError) as err:
            raise StoreError(f"cannot reach the SPARQL endpoint {self.config.query_url}: {err}") from err
        if headers.get("x-sql-state") and kind != "update":
            raise QueryError(
                f"the endpoint stopped the query at its time limit ({headers.get('x-sql-state')}: "
                f"{headers.get('x-sql-message', '')}); its partial answer is not used"
            )
        return body, headers

    @staticmethod
    def _message(err: Exception) -> str:
        text = str(err)
        match = re.search(r"Response:\s*b?['\"](.*)", text, re.DOTALL)
        if match:
            text = match.group(1)
        text = text.replace("\\n", "\n").strip().strip("'\"")
        return re.sub(r"\n\s*SPARQL query:.*", "", text, flags=re.DOTALL).strip()[:2000]

    # -- queries

    def query(
        self,
        sparql: str,
        substitutions: Mapping[str, object] | None = None,
        *,
        base_iri: str | None = None,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query with the semantics of `OxigraphStore.query` (see the module documentation)."""
        try:
            text = sparql_text.with_prefixes(sparql, QUERY_PREFIXES)
            parsed = sparql_text.analyse(text)
            bindings = parameter_bindings(substitutions)
            if bindings:
                parsed = sparql_text.analyse(sparql_text.with_bindings(parsed, bindings))
        except SparqlTextError as err:
            raise QuerySyntaxError(f"SPARQL syntax error: {err}") from err
        params: list[tuple[str, str]] = []
        hidden: list[str] = []
        try:
            if default_graph is not None or named_graphs is not None:
                parsed = sparql_text.analyse(sparql_text.without_dataset(parsed))
                params += [("default-graph-uri", g) for g in (default_graph or [EMPTY_GRAPH])]
                params += [("named-graph-uri", g) for g in (named_graphs or [])]
            elif not parsed.has_dataset and self.config.merge_graph is not None:
                params.append(("default-graph-uri", self.config.merge_graph))
                text, hidden = sparql_text.with_graph_filters(parsed.text, self.config.merge_graph)
                parsed = sparql_text.analyse(text)
            conditions = sparql_text.order_conditions(parsed)
            if self.config.dialect == "virtuoso" and parsed.order_by is not None:
                parsed = sparql_text.analyse(sparql_text.with_text_order(parsed))
            if base_iri is not None:
                parsed = sparql_text.analyse(f"BASE <{ox.NamedNode(base_iri).value}>\n{parsed.text}")
        except SparqlTextError as err:
            raise QuerySyntaxError(f"SPARQL syntax error: {err}") from err
        if parsed.form == "SELECT":
            variables, rows = self._select(parsed, params, hidden, conditions)
            if bindings:  # a bound variable answers the term bound, whatever form the endpoint returns
                bound = {name: _json_term(term) for name, term in bindings.items() if name in variables}
                rows = [{**row, **bound} for row in rows]
            return _solutions(variables, rows)
        if parsed.form == "ASK":
            body, _ = self._request(parsed.text, kind="query", params=params)
            return _boolean(bool(_load_results(body).get("boolean")))
        if parsed.form == "CONSTRUCT" and not re.search(
            r"\bGROUP\s+BY\b", parsed.text[parsed.modifiers[0] : parsed.modifiers[1]], re.IGNORECASE
        ):
            return self._construct(parsed, params, hidden)
        return self._graph_query(parsed, params)

    def _select(
        self,
        parsed: sparql_text.QueryText,
        params: Sequence[tuple[str, str]],
        hidden: Sequence[str] = (),
        conditions: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """A SELECT's variables and rows, complete: paged when the endpoint cut the answer; the `hidden`
        variables (added by `with_graph_filters`) left out."""
        variables, rows = self._select_all(parsed, params, conditions)
        if hidden:
            variables = [name for name in variables if name not in hidden]
            rows = [{k: v for k, v in row.items() if k not in hidden} for row in rows]
        return variables, rows

    def _select_all(
        self,
        parsed: sparql_text.QueryText,
        params: Sequence[tuple[str, str]],
        conditions: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        body, headers = self._request(parsed.text, kind="query", params=params)
        document = _load_results(body)
        variables = list(document.get("head", {}).get("vars", []))
        rows = list(document.get("results", {}).get("bindings", []))
        cut = headers.get("x-sparql-maxrows")
        if not cut:
            return variables, rows
        page = int(cut) if cut.isdigit() and int(cut) > 0 else len(rows)
        self.max_rows_seen = page
        if page <= 0:
            raise QueryError("the endpoint cut the answer to no rows (X-SPARQL-MaxRows)")
        rows = []
        offset = 0
        while True:
            virtuoso = self.config.dialect == "virtuoso"
            text_key: Callable[[str, str], str] = sparql_text.text_order_key
            if conditions is not None and len(conditions) > sparql_text.MAX_TEXT_ORDER_CONDITIONS:
                text_key = _plain_order
            text = sparql_text.paged(
                parsed,
                variables,
                offset,
                page,
                conditions=conditions,
                key=text_key if virtuoso else _plain_order,
                row_key=virtuoso,
            )
            body, headers = self._request(text, kind="query", params=params)
            chunk = list(_load_results(body).get("results", {}).get("bindings", []))
            rows.extend(chunk)
            if len(chunk) < page:
                return variables, rows
            offset += page

    def _construct(
        self, parsed: sparql_text.QueryText, params: Sequence[tuple[str, str]], hidden: Sequence[str] = ()
    ) -> ox.QueryTriples:
        """CONSTRUCT as the (paged) SELECT of its WHERE part, the template filled in locally."""
        select_text, template = sparql_text.construct_as_select(parsed)
        select = sparql_text.analyse(select_text)
        variables, rows = self._select(select, params, hidden)
        prologue = parsed.text[: parsed.form_start]
        prologue = re.sub(r"(?is)^\s*(define\s+\S+\s+(\"[^\"]*\"|<[^>]*>|\S+)\s*)+", "", prologue)
        has_bnodes = False
        lines = []
        for row in rows:
            cells = []
            for name in variables:
                if name not in row:
                    cells.append("UNDEF")
                    continue
                term = _term_from_json(row[name])
                if isinstance(term, ox.BlankNode):
                    has_bnodes = True
                    cells.append(f"<{BNODE_IRI}{term.value}>")
                else:
                    cells.append(sparql_text.sparql_term(term))
            lines.append("(" + " ".join(cells) + ")")
        names = " ".join(f"?{name}" for name in variables)
        local = (
            f"{prologue}\nCONSTRUCT {template} WHERE {{ VALUES ({names}) {{\n" + "\n".join(lines) + "\n} }"
        )
        try:
            result = ox.Store().query(local, prefixes=QUERY_PREFIXES)
        except (SyntaxError, ValueError, RuntimeError) as err:
            raise QueryError(f"filling in the CONSTRUCT template failed: {err}") from err
        assert isinstance(result, ox.QueryTriples)
        if not has_bnodes:
            return result

        def back(term: Any) -> Any:
            if isinstance(term, ox.NamedNode) and term.value.startswith(BNODE_IRI):
                return ox.BlankNode(term.value[len(BNODE_IRI) :])
            return term

        return _triples_result(ox.Triple(back(t.subject), t.predicate, back(t.object)) for t in result)

    def _graph_query(
        self, parsed: sparql_text.QueryText, params: Sequence[tuple[str, str]]
    ) -> ox.QueryTriples:
        """DESCRIBE (and CONSTRUCT with GROUP BY) as the endpoint answers it, in Turtle."""
        body, _ = self._request(parsed.text, kind="query", accept=TURTLE, params=params)
        try:
            triples = [q.triple for q in ox.parse(body, ox.RdfFormat.TURTLE)]
        except SyntaxError as err:
            raise QueryError(f"the endpoint's answer is not Turtle: {err}") from err
        if self.max_rows_seen is not None and len(triples) >= self.max_rows_seen:
            raise QueryError(
                f"the answer has {len(triples)} triples, the endpoint's row limit: it may be cut "
                "(raise ResultSetMaxRows, or use CONSTRUCT, which is paged)"
            )
        return _triples_result(triples)

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """A SPARQL 1.1 Update request as given (low level; see `OxigraphStore.update`). On Virtuoso a
        request is not one transaction: each operation commits by itself, and operations must name their
        graphs (Virtuoso has no default graph to write to)."""
        text = sparql_text.with_prefixes(sparql, QUERY_PREFIXES)
        if base_iri is not None:
            text = f"BASE <{ox.NamedNode(base_iri).value}>\n{text}"
        try:
            self._request(text, kind="update")
        except QuerySyntaxError:
            raise
        except QueryError as err:
            raise QueryError(f"the update failed: {err}") from err

    # -- reading the catalog

    def files(self) -> list[FileRecord]:
        return catalog_files(self.query)

    def form_graphs(self) -> list[FormGraphRecord]:
        return catalog_form_graphs(self.query)

    _STORE_GRAPHS = f"""
        {{ BIND (<{CATALOG_GRAPH}> AS ?g) }}
        UNION {{ SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g kgcat:sourceFile ?any }} }} }}
        UNION {{ SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g kgcat:derivedFrom ?any }} }} }}
    """

    def count_triples(self, graph: URIRef | None = None) -> int:
        """Triples in the store's named graphs (form, derived and catalog graphs: what `export("nq")`
        writes), or in one named graph."""
        if graph is not None:
            text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        else:
            text = f"SELECT (COUNT(*) AS ?n) WHERE {{ {self._STORE_GRAPHS} GRAPH ?g {{ ?s ?p ?o }} }}"
        return self._count(text)

    def count_default_graph(self) -> int:
        return self._count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")

    def _count(self, text: str) -> int:
        rows = self.query(text)
        assert isinstance(rows, ox.QuerySolutions)
        return sum(int(_term_text(row["n"])) for row in rows)

    def contains_graph(self, graph: str) -> bool:
        if self.config.merge_graph is not None and graph == self.config.merge_graph:
            return False
        result = self.query(f"ASK {{ GRAPH <{ox.NamedNode(graph).value}> {{ ?s ?p ?o }} }}")
        return bool(result)

    def export(self, format: str, output: IO[bytes] | None = None) -> bytes | None:
        """As `OxigraphStore.export`: `nq`, `trig`, `jsonld` write the store's named graphs (form graphs,
        derived graphs, catalog), `ttl` the default graph (the merge of the form and derived graphs that
        join it). Read graph by graph (short answers, no deep paging); the merge is made here."""
        if format not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
        rdf_format = EXPORT_FORMATS[format][0]
        prefixes = EXPORT_PREFIXES if format in ("ttl", "trig") else None
        memory = ox.Store()
        for graph, in_default in self._store_graphs():
            if format == "ttl" and not in_default:
                continue
            rows = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
            assert isinstance(rows, ox.QuerySolutions)
            target: ox.NamedNode | ox.DefaultGraph = (
                ox.DefaultGraph() if format == "ttl" else ox.NamedNode(graph)
            )
            memory.extend(ox.Quad(r["s"], r["p"], r["o"], target) for r in rows)
        if format == "ttl":
            return memory.dump(output, rdf_format, from_graph=ox.DefaultGraph(), prefixes=prefixes)
        return ox.serialize(iter(memory), output, rdf_format, prefixes=prefixes)

    def _store_graphs(self) -> list[tuple[str, bool]]:
        """The store's named graphs and whether each joins the default graph: the catalog (no), the graphs
        of source files and derived graphs catalogued with kgcat:sourceFile (yes), kgcat:derivedFrom (no)."""
        rows = self.query(
            f"SELECT DISTINCT ?g ?p WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g ?p ?source }} "
            f"VALUES ?p {{ kgcat:sourceFile kgcat:derivedFrom }} }}"
        )
        assert isinstance(rows, ox.QuerySolutions)
        graphs = {str(CATALOG_GRAPH): False}
        for row in rows:
            graphs[_term_text(row["g"])] = _term_text(row["p"]) == _K_SOURCE_FILE.value
        return sorted(graphs.items(), key=lambda item: _natural_key(item[0]))

    # -- writing

    def replace_file(
        self,
        file: str,
        graphs: Sequence[tuple[URIRef, Iterable[Triple]]],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        """Replace everything loaded from source file `file` by `graphs` (see the module documentation for
        the transaction this is)."""
        return self.replace_file_quads(file, graphs_to_quads(graphs), sha256=sha256, ingested_at=ingested_at)

    def replace_file_quads(
        self,
        file: str,
        quads: Iterable[ox.Quad],
        *,
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        name = _base_name(file)
        quads = list(quads)
        counts: dict[str, int] = {}
        for quad in quads:
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise ValueError(f"every quad of {name} must be in a named graph, got {quad}")
            counts[_graph_name(quad.graph_name).value] = counts.get(quad.graph_name.value, 0) + 1
        distinct = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
        return self.replace_file_nquads(
            name,
            ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b"",
            default_triples=ox.serialize(distinct, None, ox.RdfFormat.N_TRIPLES) or b"",
            graphs=counts,
            sha256=sha256,
            ingested_at=ingested_at,
        )

    def replace_file_nquads(
        self,
        file: str,
        nquads: bytes,
        *,
        default_triples: bytes,
        graphs: Mapping[str, int],
        sha256: str | None = None,
        ingested_at: datetime | None = None,
    ) -> int:
        """`replace_file` for quads as N-Quads text (see `OxigraphStore.replace_file_nquads`). Inside
        `bulk()` a file new to the store is only written to a shard here and loaded when the block ends."""
        name = _base_name(file)
        source, catalog = _file_entries(name, sha256, ingested_at)
        graph_nodes = [_graph_name(ox.NamedNode(iri)) for iri in graphs]
        for graph_name, count in zip(graph_nodes, graphs.values(), strict=True):
            catalog.append((graph_name, _K_SOURCE_FILE, source))
            catalog.append((graph_name, _K_TRIPLE_COUNT, ox.Literal(str(count), datatype=_XSD_INTEGER)))
        total = sum(graphs.values())
        self._write_source(
            source,
            _K_SOURCE_FILE,
            graph_nodes,
            nquads,
            default_triples,
            catalog,
            in_default=True,
            name=name,
            triples=total,
        )
        return total

    def compact(self) -> None:
        """Nothing to do: the server maintains its own indexes."""

    def replace_derived(
        self, name: str, graphs: Sequence[tuple[URIRef, Iterable[Triple]]], *, in_default_graph: bool
    ) -> int:
        """As `OxigraphStore.replace_derived`: graphs computed from the forms, replaced as a whole."""
        node = ox.NamedNode(str(ID[f"derived/{name}"]))
        quads = graphs_to_quads(graphs)
        counts: dict[ox.NamedNode, int] = {}
        for quad in quads:
            assert isinstance(quad.graph_name, ox.NamedNode)
            counts[quad.graph_name] = counts.get(quad.graph_name, 0) + 1
        for graph, _ in graphs:  # empty graphs still replace their predecessors
            counts.setdefault(_graph_name(graph), 0)
        nquads = ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b""
        catalog: list[tuple[ox.NamedNode, ox.NamedNode, OxTerm]] = []
        if in_default_graph:
            if any(isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) for q in quads):
                raise StoreError(f"derived graphs {name!r} join the default graph but hold blank nodes")
            distinct = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
            default = ox.serialize(distinct, None, ox.RdfFormat.N_TRIPLES) or b""
            catalog.append((node, _K_DERIVED_NAME, ox.Literal(name)))
            for graph_name, count in counts.items():
                catalog.append((graph_name, _K_SOURCE_FILE, node))
                catalog.append((graph_name, _K_TRIPLE_COUNT, ox.Literal(str(count), datatype=_XSD_INTEGER)))
            link = _K_SOURCE_FILE
        else:
            default = b""
            catalog.extend((graph_name, _K_DERIVED_FROM, node) for graph_name in counts)
            link = _K_DERIVED_FROM
        self._write_source(
            node,
            link,
            list(counts),
            nquads,
            default,
            catalog,
            in_default=in_default_graph,
            name=name,
            triples=len(quads),
            bulk=False,
        )
        return len(quads)

    def remove_file(self, file: str) -> int:
        """Remove the graphs loaded from `file`, their catalog entries and their merge triples (one
        transaction on Virtuoso with isql); returns the number of triples removed."""
        source = ox.NamedNode(str(source_file_iri(_base_name(file))))
        graphs = [URIRef(g.value) for g in self._graphs_of(source, _K_SOURCE_FILE)]
        removed = sum(self.count_triples(g) for g in graphs)
        self._write_source(
            source, _K_SOURCE_FILE, [], b"", b"", [], in_default=True, name=file, triples=0, bulk=False
        )
        return removed

    def _graphs_of(self, source: ox.NamedNode, link: ox.NamedNode) -> list[ox.NamedNode]:
        rows = self.query(
            f"SELECT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{link.value}> <{source.value}> }} }}"
        )
        assert isinstance(rows, ox.QuerySolutions)
        return [row["g"] for row in rows if isinstance(row["g"], ox.NamedNode)]

    # .. the shard: form graphs, their merge copies, catalog entries

    def _shard_bytes(
        self,
        nquads: bytes,
        default_triples: bytes,
        catalog: Sequence[tuple[ox.NamedNode, ox.NamedNode, OxTerm]],
        in_default: bool,
    ) -> bytes:
        parts = [nquads if nquads.endswith(b"\n") or not nquads else nquads + b"\n"]
        if in_default and default_triples:
            parts.append(_triples_into_graph(default_triples, self.config.merge_graph))
        parts.append(
            ox.serialize([ox.Quad(s, p, o, _CAT) for s, p, o in catalog], None, ox.RdfFormat.N_QUADS) or b""
        )
        return b"".join(parts)

    def _write_source(
        self,
        source: ox.NamedNode,
        link: ox.NamedNode,
        graphs: Sequence[ox.NamedNode],
        nquads: bytes,
        default_triples: bytes,
        catalog: Sequence[tuple[ox.NamedNode, ox.NamedNode, OxTerm]],
        *,
        in_default: bool,
        name: str,
        triples: int,
        bulk: bool = True,
    ) -> None:
        self._check_open()
        if not self.config.bulk_capable:
            self._write_over_http(
                source, link, graphs, nquads, default_triples, catalog, in_default=in_default
            )
            return
        shard = self._new_shard_path(name)
        if bulk and self._pending is not None and not any(p.source == source for p in self._pending):
            shard.write_bytes(self._shard_bytes(nquads, default_triples, catalog, in_default))
            self._pending.append(
                _PendingFile(name, source, shard, list(graphs), triples, nquads, default_triples, catalog)
            )
            return
        self._replace_transaction(
            source,
            link,
            graphs,
            shard,
            in_default=in_default,
            nquads=nquads,
            kept=default_triples,
            catalog=catalog,
        )

    def _new_shard_path(self, name: str) -> Path:
        folder = self._bulk_dir or self._load_dir()
        digest = hashlib.sha1(f"{name}\0{os.getpid()}\0{datetime.now().isoformat()}".encode()).hexdigest()[
            :16
        ]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
        path = folder / f"{safe}.{digest}.nq"
        return path

    def _load_dir(self) -> Path:
        folder = self.config.load_dir
        assert folder is not None
        folder = folder.resolve()
        if not _SAFE_PATH.match(str(folder)):
            raise StoreError(
                f"the Virtuoso load folder {folder} must be an ASCII path without spaces or quotes"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot create the Virtuoso load folder {folder}: {err}") from err
        return folder

    def _replace_transaction(
        self,
        source: ox.NamedNode,
        link: ox.NamedNode,
        graphs: Sequence[ox.NamedNode],
        shard: Path,
        *,
        in_default: bool,
        nquads: bytes = b"",
        kept: bytes = b"",
        catalog: Sequence[tuple[ox.NamedNode, ox.NamedNode, OxTerm]] = (),
    ) -> None:
        """`DB.DBA.KG_REPLACE_SOURCE` through isql (see `_REPLACE_PROCEDURE`): the new quads (`nquads`, their
        distinct triples `kept` for the merge graph, the `catalog` entries) go to `shard` under staging
        graph names; the replacement itself is one transaction."""
        self._ensure_procedure()
        run = uuid.uuid4().hex
        staging = {graph.value: f"{STAGING_GRAPH}{run}/{number}" for number, graph in enumerate(graphs)}
        staged_catalog, staged_merge, staged_old = (
            f"{STAGING_GRAPH}{run}/{part}" for part in ("cat", "new", "old")
        )
        merge = (self.config.merge_graph or "") if in_default else ""
        parts = [_rename_graphs(nquads, staging)]
        if merge and kept:
            parts.append(_triples_into_graph(kept, staged_merge))
        staged_entries = [ox.Quad(s, p, o, ox.NamedNode(staged_catalog)) for s, p, o in catalog]
        parts.append(ox.serialize(staged_entries, None, ox.RdfFormat.N_QUADS) or b"")
        shard.write_bytes(b"".join(parts) or b"# nothing to load\n")
        plan = shard.with_suffix(".plan")
        lines = [
            str(CATALOG_GRAPH),
            link.value,
            source.value,
            merge,
            staged_catalog,
            staged_merge,
            staged_old,
        ]
        lines += [f"{graph} {staged}" for graph, staged in staging.items()]
        plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            output = self._isql(f"select DB.DBA.KG_REPLACE_SOURCE ('{plan}', '{shard}');\n")
        except StoreError as err:
            raise StoreError(f"writing to the store failed, nothing was changed: {err}") from err
        finally:
            plan.unlink(missing_ok=True)
            shard.unlink(missing_ok=True)
        if "KG_REPLACE_OK" not in output:
            raise StoreError(f"writing to the store failed, nothing was changed: {output.strip()[:1000]}")

    # .. isql

    def _isql(self, sql: str, *, timeout: float | None = None) -> str:
        """Run SQL statements with isql on Virtuoso's SQL port; returns the output; StoreError for an error.

        The password is passed on isql's command line (isql reads it nowhere else)."""
        config = self.config
        if config.isql_host is None:
            raise StoreError(f"{self.location}: no SQL port configured (use a virtuoso:// address)")
        command = [
            config.isql_binary,
            f"{config.isql_host}:{config.isql_port}",
            config.user or "dba",
            config.password or "",
            "VERBOSE=OFF",
            "BANNER=OFF",
            "PROMPT=OFF",
            "ECHO=OFF",
            "ERRORS=STDOUT",
        ]
        try:
            completed = subprocess.run(
                command,
                input=sql,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout or config.timeout,
                check=False,
            )
        except FileNotFoundError as err:
            raise StoreError(
                f"{config.isql_binary} not found: install Virtuoso's isql (Debian: virtuoso-opensource) or "
                "set KG_ISQL"
            ) from err
        except subprocess.TimeoutExpired as err:
            raise StoreError(f"isql did not finish within {timeout or config.timeout:g} s") from err
        output = completed.stdout + completed.stderr
        if "*** Error" in output or completed.returncode != 0:
            if "28000" in output or "Bad login" in output:
                raise StoreError(
                    f"Virtuoso refused the login of {config.user!r} on {config.isql_host}:{config.isql_port} "
                    "(set KG_REMOTE_USER and KG_REMOTE_PASSWORD)"
                )
            error = output[output.find("*** Error") :] if "*** Error" in output else output
            raise StoreError(f"isql: {error.strip()[:1500]}")
        return output

    def _ensure_procedure(self) -> None:
        if self._procedure_ready:
            return
        self._isql(_REPLACE_PROCEDURE + ";\n")
        self._procedure_ready = True

    # .. bulk loading

    @contextlib.contextmanager
    def bulk(self) -> Iterator[BulkOutcome]:
        """Within the block, files new to the store are written as shards and loaded together at its end
        by Virtuoso's bulk loader (see the module documentation); `replace_file*` return their triple counts
        at once. The outcome (failed files by name) is filled in when the block ends. Without isql and a
        load folder this changes nothing: every file is written at once."""
        outcome = BulkOutcome()
        if not self.config.bulk_capable or self._pending is not None:
            yield outcome
            return
        self._pending = []
        self._bulk_dir = Path(tempfile.mkdtemp(prefix="bulk-", dir=self._load_dir()))
        self._bulk_dir.chmod(0o755)
        try:
            yield outcome
            pending, self._pending = self._pending, None
            self._load_pending(pending, outcome)
        finally:
            self._pending = None
            shutil.rmtree(self._bulk_dir, ignore_errors=True)
            self._bulk_dir = None
            self.last_bulk = outcome

    def _load_pending(self, pending: list[_PendingFile], outcome: BulkOutcome) -> None:
        if not pending:
            return
        import time

        started = time.perf_counter()
        existing = self._existing(pending)
        fresh = [p for p in pending if p.source.value not in existing]
        for item in pending:
            if item.source.value in existing:  # loaded before: replace in one transaction
                try:
                    self._replace_transaction(
                        item.source,
                        _K_SOURCE_FILE,
                        item.graphs,
                        item.shard,
                        in_default=True,
                        nquads=item.nquads,
                        kept=item.kept,
                        catalog=item.catalog,
                    )
                    outcome.loaded += 1
                except StoreError as err:
                    outcome.errors[item.name] = str(err)
        if fresh:
            errors = self.bulk_load([p.shard for p in fresh])
            for item in fresh:
                error = errors.get(str(item.shard))
                if error is None:
                    outcome.loaded += 1
                    continue
                outcome.errors[item.name] = f"the bulk loader failed: {error}"
                with contextlib.suppress(StoreError):  # take out what the loader may have written
                    self._replace_transaction(
                        item.source,
                        _K_SOURCE_FILE,
                        item.graphs,
                        self._new_shard_path("remove"),
                        in_default=True,
                    )
        outcome.seconds = time.perf_counter() - started

    def _existing(self, pending: Sequence[_PendingFile]) -> set[str]:
        """Sources of `pending` that are catalogued or whose graphs exist (they need replacing)."""
        sources = " ".join(f"<{p.source.value}>" for p in pending)
        rows = self.query(
            f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {sources} }} GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}"
        )
        assert isinstance(rows, ox.QuerySolutions)
        found = {row["s"].value for row in rows}
        graph_owner = {g.value: p.source.value for p in pending for g in p.graphs}
        if graph_owner:
            for chunk in _chunks(sorted(graph_owner), 500):
                values = " ".join(f"<{g}>" for g in chunk)
                rows = self.query(
                    f"SELECT DISTINCT ?g WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
                )
                assert isinstance(rows, ox.QuerySolutions)
                found.update(graph_owner[row["g"].value] for row in rows)
        return found

    def bulk_load(self, shards: Sequence[Path]) -> dict[str, str]:
        """Load N-Quads shards (in the load folder) with `ld_add` + `rdf_loader_run()`, then `checkpoint`;
        returns the error of each shard the loader reported failed, by path."""
        for shard in shards:
            if not _SAFE_PATH.match(str(shard)):
                raise StoreError(f"shard path {shard} must be ASCII without spaces or quotes")
        paths = ", ".join(f"'{shard}'" for shard in shards)
        sql = "".join(f"ld_add ('{shard}', '{CATALOG_GRAPH}');\n" for shard in shards)
        sql += "rdf_loader_run ();\ncheckpoint;\n"
        sql += (
            "select concat ('KGROW|', ll_file, '|', coalesce (ll_error, '')) from DB.DBA.LOAD_LIST "
            f"where ll_file in ({paths});\n"
            f"delete from DB.DBA.LOAD_LIST where ll_file in ({paths});\n"
        )
        output = self._isql(sql, timeout=max(self.config.timeout, 3600))
        errors: dict[str, str] = {}
        seen = set()
        for line in output.splitlines():
            if line.startswith("KGROW|"):
                _, path, error = line.split("|", 2)
                seen.add(path)
                if error.strip():
                    errors[path] = error.strip()
        for shard in shards:
            if str(shard) not in seen:
                errors[str(shard)] = "not in Virtuoso's load list (is the load folder in DirsAllowed?)"
        return errors

    # .. over HTTP (no isql)

    def _write_over_http(
        self,
        source: ox.NamedNode,
        link: ox.NamedNode,
        graphs: Sequence[ox.NamedNode],
        nquads: bytes,
        default_triples: bytes,
        catalog: Sequence[tuple[ox.NamedNode, ox.NamedNode, OxTerm]],
        *,
        in_default: bool,
    ) -> None:
        """SPARQL Update requests: removal, then INSERT DATA in chunks the endpoint takes."""
        merge = self.config.merge_graph
        previous = set(self._graphs_of(source, link)) | set(graphs)
        operations: list[str] = []
        ordered = sorted(previous, key=lambda g: g.value)
        if ordered and in_default:
            listed = " ".join(f"<{g.value}>" for g in ordered)
            target = f"GRAPH <{merge}> {{ ?s ?p ?o }}" if merge else "?s ?p ?o"
            operations.append(
                f"DELETE {{ {target} }} WHERE {{ VALUES ?g {{ {listed} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} "
                f"GRAPH <{CATALOG_GRAPH}> {{ ?other <{_K_SOURCE_FILE.value}> ?file }} "
                f"FILTER (?other NOT IN ({', '.join(f'<{g.value}>' for g in ordered)})) }} }}"
            )
        for graph_name in ordered:
            operations.append(f"DROP SILENT GRAPH <{graph_name.value}>")
            operations.append(
                f"DELETE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph_name.value}> ?p ?o }} }} "
                f"WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph_name.value}> ?p ?o }} }}"
            )
        operations.append(
            f"DELETE {{ GRAPH <{CATALOG_GRAPH}> {{ <{source.value}> ?p ?o }} }} "
            f"WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{source.value}> ?p ?o }} }}"
        )
        blocks: list[str] = []
        for quad in ox.parse(nquads, ox.RdfFormat.N_QUADS) if nquads else []:
            blocks.append(f"GRAPH {quad.graph_name} {{ {quad.subject} {quad.predicate} {quad.object} }}")
        if in_default and default_triples:
            for triple in ox.parse(default_triples, ox.RdfFormat.N_TRIPLES):
                t = triple.triple
                blocks.append(
                    f"GRAPH <{merge}> {{ {t.subject} {t.predicate} {t.object} }}"
                    if merge
                    else f"{t.subject} {t.predicate} {t.object} ."
                )
        for s, p, o in catalog:
            blocks.append(f"GRAPH <{CATALOG_GRAPH}> {{ {s} {p} {o} }}")
        per_insert = VIRTUOSO_INSERT_TRIPLES if self.config.dialect == "virtuoso" else len(blocks) or 1
        for chunk in _chunks(blocks, per_insert):
            operations.append("INSERT DATA {\n" + "\n".join(chunk) + "\n}")
        request: list[str] = []
        size = 0
        for operation in operations:
            if request and size + len(operation) > self.config.max_update_bytes:
                self._request(" ;\n".join(request), kind="update")
                request, size = [], 0
            request.append(operation)
            size += len(operation)
        if request:
            self._request(" ;\n".join(request), kind="update")


def _plain_order(variable: str, direction: str) -> str:
    return f"{direction}({variable})"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


_RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _load_results(body: bytes) -> dict[str, Any]:
    """SPARQL results (XML, asked for because Virtuoso writes XML several times faster than JSON; or
    JSON from an endpoint that prefers it) as a SPARQL-JSON-shaped dict."""
    start = body.lstrip()[:1]
    if start == b"{":
        try:
            return json.loads(body.decode("utf-8"), parse_int=str, parse_float=str)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise QueryError(f"the endpoint's answer is not SPARQL JSON: {body[:300]!r}") from err
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as err:
        raise QueryError(f"the endpoint's answer is not SPARQL results: {body[:300]!r}") from err
    head = root.find(f"{_RESULTS_NS}head")
    variables = [v.get("name", "") for v in head.iter(f"{_RESULTS_NS}variable")] if head is not None else []
    boolean = root.find(f"{_RESULTS_NS}boolean")
    if boolean is not None:
        return {"head": {}, "boolean": (boolean.text or "").strip() in ("true", "1")}
    rows: list[dict[str, dict[str, str]]] = []
    results = root.find(f"{_RESULTS_NS}results")
    for result in results.iter(f"{_RESULTS_NS}result") if results is not None else []:
        row: dict[str, dict[str, str]] = {}
        for binding in result.iter(f"{_RESULTS_NS}binding"):
            term = next(iter(binding), None)
            if term is None:
                continue
            kind = term.tag.removeprefix(_RESULTS_NS)
            value = term.text or ""
            if kind == "literal":
                item = {"type": "literal", "value": value}
                if term.get(_XML_LANG):
                    item["xml:lang"] = term.get(_XML_LANG, "")
                elif term.get("datatype"):
                    item["datatype"] = term.get("datatype", "")
                row[binding.get("name", "")] = item
            elif kind in ("uri", "bnode"):
                row[binding.get("name", "")] = {"type": kind, "value": value}
        rows.append(row)
    return {"head": {"vars": variables}, "results": {"bindings": rows}}


def _rename_graphs(nquads: bytes, names: Mapping[str, str]) -> bytes:
    """N-Quads (one quad a line, as pyoxigraph writes them) with the graph names `names` maps renamed."""
    for graph, staged in names.items():
        nquads = nquads.replace(f" <{graph}> .\n".encode(), f" <{staged}> .\n".encode())
    return nquads if nquads.endswith(b"\n") or not nquads else nquads + b"\n"


def _triples_into_graph(ntriples: bytes, graph: str | None) -> bytes:
    """N-Triples lines as N-Quads lines of `graph` (None: left as triples, the default graph)."""
    if graph is None:
        return ntriples if ntriples.endswith(b"\n") else ntriples + b"\n"
    suffix = f" <{graph}> .".encode()
    lines = []
    for line in ntriples.splitlines():
        stripped = line.rstrip()
        if not stripped:
            continue
        if not stripped.endswith(b"."):
            raise ValueError(f"not an N-Triples line: {line[:200]!r}")
        lines.append(stripped[:-1].rstrip() + suffix)
    return b"\n".join(lines) + b"\n"


__all__ = ["MERGE_GRAPH", "BulkOutcome", "RemoteConfig", "RemoteStore"]
