"""The web pages (Chinese first, English beside): home, query editor, projects, forms, legal bases,
validation findings, named queries.

Every page reads the store through the same engine as /sparql (worker processes, time limit) with the
SPARQL below; parameters from the URL are bound as RDF terms, never pasted into the text. The pages use
the vocabulary of the other parts of the project when it is there, and say "暂无数据 / no data yet" when
it is not:

* lineages (`kg.link`): `?lineage a kg:Lineage ; kg:lineageMember ?form` joins a project's years;
* validation reports (`kg.validate`): named graphs holding `sh:ValidationResult`s with `kg:aboutForm`,
  `kg:ruleId`, `sh:resultSeverity`, `sh:resultMessage`, optionally `kg:aboutIndicator`,
  `kg:printedValue`.

Links to a form go to `/form/<file-stem>/<index>`, which shows the form's source lines when the source
file is found in a source folder (KG_SOURCE_DIRS) with the SHA-256 the catalog recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from kg.forms.text import decode_source, split_lines
from kg.model import FormParseError
from kg.rdf.named_queries import NamedQuery
from kg.rdf.namespaces import ID
from kg.server.charts import grouped_bars
from kg.server.worker import JobResult, QueryJob, json_rows
from kg.store.oxigraph import CATALOG_GRAPH

if TYPE_CHECKING:
    from fastapi import FastAPI

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

FORM_TYPES = {
    "https://w3id.org/jixiao-kg/ontology#TargetTable": ("绩效目标表", "target table"),
    "https://w3id.org/jixiao-kg/ontology#TargetDeclaration": ("绩效目标申报表", "target declaration"),
    "https://w3id.org/jixiao-kg/ontology#SelfEvaluation": ("绩效自评表", "self-evaluation"),
}
FUNDING_KINDS = {
    "project_total_budget": "项目总预算",
    "current_year_budget": "项目当年预算",
    "prev_year_same_name_budget": "同名项目上年预算额",
    "prev_year_same_name_executed": "同名项目上年预算执行数",
    "project_total": "项目资金总额",
    "project_total_fiscal": "财政资金",
    "project_other_funds": "其他资金（项目资金）",
    "other_funds": "其他资金（年度资金）",
    "annual_request_total": "年度资金申请总额",
    "annual_current_year_appropriation": "当年财政拨款",
    "annual_carryover": "上年结转资金",
    "initial_budget": "年初预算数",
    "full_year_budget": "全年预算数",
    "executed": "全年执行数",
}
SEVERITIES = {
    "http://www.w3.org/ns/shacl#Violation": ("违规", "violation"),
    "http://www.w3.org/ns/shacl#Warning": ("警告", "warning"),
    "http://www.w3.org/ns/shacl#Info": ("提示", "info"),
}
# Preference when several forms of one year print the same figure: the self-evaluation's is final.
FORM_RANK = {
    "https://w3id.org/jixiao-kg/ontology#SelfEvaluation": 0,
    "https://w3id.org/jixiao-kg/ontology#TargetDeclaration": 1,
    "https://w3id.org/jixiao-kg/ontology#TargetTable": 2,
}
FINDINGS_SHOWN = 500

# ----------------------------------------------------------------------------- page queries

FORM_CLASSES = "FILTER (?form_class IN (kg:TargetTable, kg:TargetDeclaration, kg:SelfEvaluation))"
UNIT = """
  OPTIONAL { ?form kg:responsibleUnit ?registered_unit . ?registered_unit skos:prefLabel ?unit0 }
  OPTIONAL { ?form kg:implementingUnitName ?unit1 }
  OPTIONAL { ?form kg:reportingUnitName ?unit2 }
  OPTIONAL { ?form kg:supervisingDepartmentName ?unit3 }
  BIND (COALESCE(?unit0, ?unit1, ?unit2, ?unit3) AS ?unit)"""
# A form's legal-basis citations, binding ?citation and ?cited (the document): the registry's
# (`kg link`: kg:hasBasisCitation, one per form and document) when the form has them, else those the
# mapping read from the form (kg:hasLegalCitation), taken to their registered document when there is one.
CITATION = """
  {
    ?form kg:hasBasisCitation ?citation . ?citation kg:basisDocument ?cited .
  } UNION {
    ?form kg:hasLegalCitation ?citation . ?citation kg:citesDocument ?printed_document .
    FILTER NOT EXISTS { ?form kg:hasBasisCitation ?registered_citation }
    OPTIONAL { ?printed_document kg:canonicalDocument ?canonical_document }
    BIND (COALESCE(?canonical_document, ?printed_document) AS ?cited)
  }
  OPTIONAL { ?citation kg:rawText ?raw }
  OPTIONAL { ?citation kg:lineStart ?line }
  OPTIONAL { ?cited kg:preferredTitle ?preferred_title }
  OPTIONAL { ?citation dcterms:title ?citation_title }
  BIND (COALESCE(?preferred_title, ?citation_title) AS ?title)
  OPTIONAL { ?cited eli:id_local ?number }
  OPTIONAL { ?cited rdfs:label ?label }"""
# The forms of ?project and of every lineage one of them belongs to (a subquery, so that Oxigraph finds
# these few forms first: 10-20x faster than joining the union into the rest of the pattern).
SCOPE = """
  { SELECT DISTINCT ?project ?form WHERE {
    { ?form kg:project ?project }
    UNION
    { ?lineage_of_project a kg:Lineage ; kg:lineageMember ?member , ?form . ?member kg:project ?project }
  } }"""

Q_COUNTS = f"""
SELECT (COUNT(DISTINCT ?form) AS ?forms) (COUNT(DISTINCT ?project) AS ?projects)
       (COUNT(DISTINCT ?source) AS ?files) (MIN(?year) AS ?first_year) (MAX(?year) AS ?last_year)
WHERE {{ ?form a ?form_class ; kg:project ?project ; kg:fiscalYear ?year ; prov:hadPrimarySource ?source .
        {FORM_CLASSES} }}"""
Q_COUNT_LINEAGES = "SELECT (COUNT(DISTINCT ?lineage) AS ?n) WHERE { ?lineage a kg:Lineage }"
Q_COUNT_FINDINGS = """PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT (COUNT(DISTINCT ?result) AS ?n) WHERE { GRAPH ?report { ?result a sh:ValidationResult } }"""

Q_PROJECTS = f"""
SELECT ?project (SAMPLE(?label) AS ?name) (GROUP_CONCAT(DISTINCT STR(?year); separator=" ") AS ?years)
       (COUNT(DISTINCT ?form) AS ?forms) (SAMPLE(?unit) AS ?unit_name) (SAMPLE(?lineage) AS ?lineage_iri)
WHERE {{
  ?form a ?form_class ; kg:project ?project ; kg:fiscalYear ?year .
  {FORM_CLASSES}
  OPTIONAL {{ ?project rdfs:label ?label }}
  {UNIT}
  OPTIONAL {{ ?lineage a kg:Lineage ; kg:lineageMember ?form }}
}} GROUP BY ?project"""
Q_LINEAGE_SIZES = """
SELECT ?lineage (COUNT(DISTINCT ?year) AS ?years) (COUNT(DISTINCT ?project) AS ?projects)
WHERE { ?lineage a kg:Lineage ; kg:lineageMember ?form . ?form kg:fiscalYear ?year ; kg:project ?project }
GROUP BY ?lineage"""

Q_PROJECT = "SELECT ?project ?label WHERE { ?project a kg:Project . OPTIONAL { ?project rdfs:label ?label } }"
Q_PROJECT_FORMS = f"""
SELECT DISTINCT ?project ?form ?form_class ?year ?title ?form_project ?project_label ?unit ?file
       ?line_start ?line_end ?total_score ?grade ?execution_rate ?lineage ?lineage_label ?confidence
WHERE {{
  {SCOPE}
  ?form a ?form_class ; kg:fiscalYear ?year ; kg:project ?form_project ; prov:hadPrimarySource ?source .
  {FORM_CLASSES}
  ?source dcterms:identifier ?file .
  OPTIONAL {{ ?form dcterms:title ?title }}
  OPTIONAL {{ ?form kg:lineStart ?line_start }}
  OPTIONAL {{ ?form kg:lineEnd ?line_end }}
  OPTIONAL {{ ?form_project rdfs:label ?project_label }}
  {UNIT}
  OPTIONAL {{ ?form kg:totalScore ?total_score }}
  OPTIONAL {{ ?form kg:grade ?grade }}
  OPTIONAL {{ ?form kg:executionRate ?execution_rate }}
  OPTIONAL {{
    ?lineage a kg:Lineage ; kg:lineageMember ?form .
    OPTIONAL {{ ?lineage rdfs:label ?lineage_label }}
    OPTIONAL {{ ?lineage kg:confidence ?confidence }}
  }}
}} ORDER BY ?year ?file ?form"""
Q_PROJECT_FUNDS = f"""
SELECT DISTINCT ?project ?form ?form_class ?year ?kind ?amount ?raw ?line
WHERE {{
  {SCOPE}
  ?form a ?form_class ; kg:fiscalYear ?year ; kg:hasFundingFigure ?figure .
  {FORM_CLASSES}
  ?figure kg:fundsRow "total" ; kg:fundingKindCode ?kind ; kg:amountYuan ?amount .
  OPTIONAL {{ ?figure kg:rawText ?raw }}
  OPTIONAL {{ ?figure kg:lineStart ?line }}
}} ORDER BY ?year ?form"""
Q_PROJECT_INDICATORS = f"""
SELECT DISTINCT ?project ?form ?form_class ?year ?index ?l1 ?l2 ?l3 ?target ?actual ?weight ?score ?line
WHERE {{
  {SCOPE}
  ?form a ?form_class ; kg:fiscalYear ?year ; kg:hasIndicator ?indicator .
  {FORM_CLASSES}
  ?indicator kg:indicatorIndex ?index .
  OPTIONAL {{ ?indicator kg:level1Name ?l1 }}
  OPTIONAL {{ ?indicator kg:level2Name ?l2 }}
  OPTIONAL {{ ?indicator kg:level3Name ?l3 }}
  OPTIONAL {{ ?indicator kg:targetRaw ?target }}
  OPTIONAL {{ ?indicator kg:actualRaw ?actual }}
  OPTIONAL {{ ?indicator kg:weight ?weight }}
  OPTIONAL {{ ?indicator kg:score ?score }}
  OPTIONAL {{ ?indicator kg:lineStart ?line }}
}} ORDER BY ?year ?form ?index"""
Q_COUNT_DOCUMENTS = f"SELECT (COUNT(DISTINCT ?cited) AS ?n) WHERE {{ {CITATION} }}"
Q_PROJECT_LEGAL = f"""
SELECT DISTINCT ?project ?form ?year ?cited ?label ?number ?title ?raw ?line
WHERE {{
  {SCOPE}
  ?form kg:fiscalYear ?year .
  {CITATION}
}} ORDER BY ?year ?form"""
FINDING = """
  GRAPH ?report {
    ?result a sh:ValidationResult ; kg:aboutForm ?form .
    OPTIONAL { ?result kg:ruleId ?rule_id }
    OPTIONAL { ?result sh:resultSeverity ?severity }
    OPTIONAL { ?result sh:resultMessage ?message }
    OPTIONAL { ?result kg:printedValue ?printed }
  }
  OPTIONAL { GRAPH ?report { ?result kg:aboutIndicator ?indicator } ?indicator kg:lineStart ?indicator_line }
  OPTIONAL { ?form kg:lineStart ?form_line }
  BIND (COALESCE(?indicator_line, ?form_line) AS ?line)
  OPTIONAL { ?form prov:hadPrimarySource ?finding_source . ?finding_source dcterms:identifier ?file }"""
Q_PROJECT_FINDINGS = f"""PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?project ?form ?year ?result ?rule_id ?severity ?message ?printed ?line ?file ?unit
WHERE {{
  {SCOPE}
  ?form kg:fiscalYear ?year .
  {FINDING}
  {UNIT}
}} ORDER BY ?year ?rule_id ?line"""

Q_FORM = f"""
SELECT ?form ?form_class ?year ?title ?project ?project_label ?unit ?file ?source ?line_start ?line_end
       ?layout ?total_score ?grade ?execution_rate ?money_unit ?lineage
WHERE {{
  ?form a ?form_class ; kg:fiscalYear ?year ; prov:hadPrimarySource ?source .
  {FORM_CLASSES}
  ?source dcterms:identifier ?file .
  OPTIONAL {{ ?form dcterms:title ?title }}
  OPTIONAL {{ ?form kg:project ?project . OPTIONAL {{ ?project rdfs:label ?project_label }} }}
  OPTIONAL {{ ?form kg:lineStart ?line_start }}
  OPTIONAL {{ ?form kg:lineEnd ?line_end }}
  OPTIONAL {{ ?form kg:layout ?layout }}
  OPTIONAL {{ ?form kg:totalScore ?total_score }}
  OPTIONAL {{ ?form kg:grade ?grade }}
  OPTIONAL {{ ?form kg:executionRate ?execution_rate }}
  OPTIONAL {{ ?form kg:moneyUnit ?money_unit }}
  OPTIONAL {{ ?lineage a kg:Lineage ; kg:lineageMember ?form }}
  {UNIT}
}}"""
Q_FORM_SHA = f"""SELECT ?source ?sha WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?source kgcat:sha256 ?sha }} }}"""
Q_FORM_INDICATORS = """
SELECT ?form ?index ?l1 ?l2 ?l3 ?target ?actual ?weight ?score ?deviation ?line WHERE {
  ?form kg:hasIndicator ?indicator . ?indicator kg:indicatorIndex ?index .
  OPTIONAL { ?indicator kg:level1Name ?l1 } OPTIONAL { ?indicator kg:level2Name ?l2 }
  OPTIONAL { ?indicator kg:level3Name ?l3 } OPTIONAL { ?indicator kg:targetRaw ?target }
  OPTIONAL { ?indicator kg:actualRaw ?actual } OPTIONAL { ?indicator kg:weight ?weight }
  OPTIONAL { ?indicator kg:score ?score } OPTIONAL { ?indicator kg:deviationReason ?deviation }
  OPTIONAL { ?indicator kg:lineStart ?line }
} ORDER BY ?index"""
Q_FORM_FUNDS = """
SELECT ?form ?index ?kind ?row ?amount ?raw ?line WHERE {
  ?form kg:hasFundingFigure ?figure . ?figure kg:figureIndex ?index ; kg:fundingKindCode ?kind ;
        kg:amountYuan ?amount .
  OPTIONAL { ?figure kg:fundsRow ?row } OPTIONAL { ?figure kg:rawText ?raw }
  OPTIONAL { ?figure kg:lineStart ?line }
} ORDER BY ?index"""
Q_FORM_CITATIONS = f"""
SELECT DISTINCT ?form ?cited ?label ?number ?title ?raw ?line WHERE {{ {CITATION} }} ORDER BY ?line"""
Q_FORM_FINDINGS = f"""PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?form ?result ?rule_id ?severity ?message ?printed ?line ?file ?year ?unit
WHERE {{ {FINDING} OPTIONAL {{ ?form kg:fiscalYear ?year }} {UNIT} }} ORDER BY ?rule_id ?line"""

Q_LEGAL_LIST = f"""
SELECT ?cited (SAMPLE(?label) AS ?name) (SAMPLE(?number) AS ?doc_number) (SAMPLE(?title) AS ?doc_title)
       (COUNT(DISTINCT ?form) AS ?forms) (COUNT(DISTINCT ?project) AS ?projects)
WHERE {{
  ?form kg:project ?project .
  {CITATION}
}} GROUP BY ?cited ORDER BY DESC(?forms) ?name"""
Q_LEGAL_DOC = """
SELECT ?doc ?label ?local_id ?title ?preferred_title ?kind ?type WHERE {
  ?doc a ?type . OPTIONAL { ?doc rdfs:label ?label } OPTIONAL { ?doc eli:id_local ?local_id }
  OPTIONAL { ?doc eli:title ?title } OPTIONAL { ?doc kg:preferredTitle ?preferred_title }
  OPTIONAL { ?doc kg:documentKind ?kind }
}"""
Q_LEGAL_CITING = f"""
SELECT DISTINCT ?doc ?form ?form_class ?year ?project ?project_label ?unit ?file ?raw ?line WHERE {{
  {CITATION}
  FILTER (?cited = ?doc)
  ?form a ?form_class ; kg:fiscalYear ?year ; prov:hadPrimarySource ?source .
  {FORM_CLASSES}
  ?source dcterms:identifier ?file .
  OPTIONAL {{ ?form kg:project ?project . OPTIONAL {{ ?project rdfs:label ?project_label }} }}
  {UNIT}
}} ORDER BY ?year ?file"""

Q_FINDINGS = f"""PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?result ?rule_id ?severity ?message ?printed ?form ?year ?unit ?file ?line
       ?project ?project_label
WHERE {{
  {FINDING}
  OPTIONAL {{ ?form kg:fiscalYear ?year }}
  OPTIONAL {{ ?form kg:project ?project . OPTIONAL {{ ?project rdfs:label ?project_label }} }}
  {UNIT}
}} ORDER BY ?rule_id ?year ?file"""

# The rule catalogue kg.validate stores with the reports: id -> title (Chinese).
Q_RULES = """
SELECT ?rule_id ?title WHERE {
  GRAPH ?catalogue { ?rule a kg:ComplianceRule ; dcterms:identifier ?rule_id ; rdfs:label ?title }
  FILTER (LANGMATCHES(LANG(?title), "zh") || LANG(?title) = "")
}"""


# ----------------------------------------------------------------------------- helpers


Row = dict[str, dict[str, str]]


def value(row: Row, name: str, default: str = "") -> str:
    term = row.get(name)
    return term["value"] if term else default


def number(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def local_path(iri: str) -> str | None:
    """The page path of a resource of ours: …/id/form/x/0 -> /form/x/0 (None for other IRIs)."""
    base = str(ID)
    if not iri.startswith(base):
        return None
    rest = iri[len(base) :]
    kind = rest.split("/", 1)[0]
    return f"/{rest}" if kind in ("form", "project", "legal") else None


def form_type(iri: str) -> str:
    return FORM_TYPES.get(iri, (iri.rsplit("#", 1)[-1], ""))[0]


def money(text: str) -> str:
    amount = number(text)
    if amount is None:
        return text
    return f"{amount:,.2f}"


def _severity(iri: str) -> tuple[str, str]:
    return SEVERITIES.get(iri, (iri.rsplit("#", 1)[-1] or "—", ""))


ENV.globals.update(local_path=local_path, form_type=form_type, money=money, FUNDING_KINDS=FUNDING_KINDS)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    html = ENV.get_template(template).render(
        request=request,
        yasgui=(settings.web_dir / "node_modules/@zazuko/yasgui/build/yasgui.min.js").is_file(),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, status: int, message: str, headers: dict[str, str] | None) -> HTMLResponse:
    response = render(request, "error.html", status=status, status_code=status, message=message)
    for key, item in (headers or {}).items():
        response.headers[key] = item
    return response


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def select(request: Request, sparql: str, **params: ox.NamedNode | ox.Literal) -> list[Row]:
    """Rows of a page query (bindings as in SPARQL results JSON); PageError when it fails."""
    engine = request.app.state.engine
    settings = request.app.state.settings
    job = QueryJob(
        sparql=sparql, format="json", substitutions=tuple(params.items()), max_rows=settings.max_rows
    )
    result: JobResult = await engine.query(job)
    if result.status != 200:
        raise PageError(result.status, result.body.decode("utf-8", "replace"))
    return json_rows(result)


def _iri(kind: str, key: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(str(ID[f"{kind}/{quote(key, safe='/-._~%')}"]))
    except ValueError as err:
        raise PageError(404, f"not a {kind}: {key!r}") from err


# ----------------------------------------------------------------------------- routes


def add_routes(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def _page_error(request: Request, err: PageError) -> HTMLResponse:
        return render_error(
            request, err.status, err.message, {"Retry-After": "5"} if err.status == 503 else None
        )

    @app.get("/", response_class=HTMLResponse, summary="Home page", tags=["pages"])
    async def home(request: Request) -> HTMLResponse:
        counts, documents, lineages, findings = await asyncio.gather(
            select(request, Q_COUNTS),
            select(request, Q_COUNT_DOCUMENTS),
            select(request, Q_COUNT_LINEAGES),
            select(request, Q_COUNT_FINDINGS),
        )
        row = counts[0] if counts else {}
        return render(
            request,
            "home.html",
            forms=value(row, "forms", "0"),
            projects=value(row, "projects", "0"),
            files=value(row, "files", "0"),
            years=(value(row, "first_year"), value(row, "last_year")),
            documents=value(documents[0], "n", "0") if documents else "0",
            lineages=value(lineages[0], "n", "0") if lineages else "0",
            findings=value(findings[0], "n", "0") if findings else "0",
            endpoint=str(request.base_url) + "sparql",
        )

    @app.get("/query", response_class=HTMLResponse, summary="SPARQL query editor (YASGUI)", tags=["pages"])
    async def query_page(request: Request) -> HTMLResponse:
        queries = request.app.state.named_queries()
        examples = [{"name": q.name, "description": q.description, "query": q.text} for q in queries.values()]
        return render(
            request,
            "query.html",
            examples=examples,
            examples_json=Markup(json.dumps(examples, ensure_ascii=False).replace("</", "<\\/")),
            endpoint=str(request.base_url) + "sparql",
        )

    @app.get("/projects", response_class=HTMLResponse, summary="All projects", tags=["pages"])
    async def projects(request: Request) -> HTMLResponse:
        rows, lineage_rows = await asyncio.gather(
            select(request, Q_PROJECTS), select(request, Q_LINEAGE_SIZES)
        )
        sizes = {value(r, "lineage"): (value(r, "years"), value(r, "projects")) for r in lineage_rows}
        items = sorted(
            (
                {
                    "path": local_path(value(r, "project")),
                    "name": value(r, "name") or value(r, "project"),
                    "unit": value(r, "unit_name"),
                    "years": sorted(set(value(r, "years").split())),
                    "forms": value(r, "forms"),
                    "lineage": sizes.get(value(r, "lineage_iri")),
                }
                for r in rows
            ),
            key=lambda item: (item["name"], item["unit"]),
        )
        return render(request, "projects.html", projects=items, has_lineages=bool(lineage_rows))

    @app.get(
        "/project/{key:path}", response_class=HTMLResponse, summary="A project across years", tags=["pages"]
    )
    async def project(request: Request, key: str) -> HTMLResponse:
        iri = _iri("project", key)
        head = await select(request, Q_PROJECT, project=iri)
        if not head:
            raise PageError(404, f"no project {iri.value} in the store")
        forms, funds, indicators, legal, findings, rules = await asyncio.gather(
            select(request, Q_PROJECT_FORMS, project=iri),
            select(request, Q_PROJECT_FUNDS, project=iri),
            select(request, Q_PROJECT_INDICATORS, project=iri),
            select(request, Q_PROJECT_LEGAL, project=iri),
            select(request, Q_PROJECT_FINDINGS, project=iri),
            select(request, Q_RULES),
        )
        name = value(head[0], "label") or iri.value
        lineages = sorted(
            {
                (value(r, "lineage_label") or value(r, "lineage"), value(r, "confidence"))
                for r in forms
                if value(r, "lineage")
            }
        )
        return render(
            request,
            "project.html",
            iri=iri.value,
            name=name,
            forms=_forms(forms),
            lineage=bool(lineages),
            lineages=lineages,
            related=_related_queries(request, name),
            funds=_funds(funds),
            indicators=_indicators(indicators),
            documents=_documents(legal),
            findings=_findings(findings, _titles(rules)),
        )

    @app.get(
        "/form/{key:path}",
        response_class=HTMLResponse,
        summary="One printed form and its source lines",
        tags=["pages"],
    )
    async def form(request: Request, key: str) -> HTMLResponse:
        iri = _iri("form", key)
        head = await select(request, Q_FORM, form=iri)
        if not head:
            raise PageError(404, f"no form {iri.value} in the store")
        row = head[0]
        indicators, funds, citations, findings, shas, rules = await asyncio.gather(
            select(request, Q_FORM_INDICATORS, form=iri),
            select(request, Q_FORM_FUNDS, form=iri),
            select(request, Q_FORM_CITATIONS, form=iri),
            select(request, Q_FORM_FINDINGS, form=iri),
            select(request, Q_FORM_SHA, source=ox.NamedNode(value(row, "source"))),
            select(request, Q_RULES),
        )
        start, end = int(value(row, "line_start", "0") or 0), int(value(row, "line_end", "0") or 0)
        source = _source_lines(request, value(row, "file"), value(shas[0], "sha") if shas else "", start, end)
        return render(
            request,
            "form.html",
            iri=iri.value,
            form=_plain(row),
            type_label=FORM_TYPES.get(value(row, "form_class"), ("", "")),
            indicators=[_plain(r) for r in indicators],
            funds=[
                _plain(r) | {"kind_label": FUNDING_KINDS.get(value(r, "kind"), value(r, "kind"))}
                for r in funds
            ],
            citations=[_plain(r) for r in citations],
            findings=_findings(findings, _titles(rules)),
            source=source,
        )

    @app.get("/legal", response_class=HTMLResponse, summary="Documents cited as legal basis", tags=["pages"])
    async def legal_list(request: Request) -> HTMLResponse:
        rows = await select(request, Q_LEGAL_LIST)
        return render(request, "legal_list.html", documents=[_plain(r) for r in rows])

    @app.get(
        "/legal/{key:path}",
        response_class=HTMLResponse,
        summary="A legal document and who cites it",
        tags=["pages"],
    )
    async def legal(request: Request, key: str) -> HTMLResponse:
        iri = _iri("legal", key)
        head, citing = await asyncio.gather(
            select(request, Q_LEGAL_DOC, doc=iri), select(request, Q_LEGAL_CITING, doc=iri)
        )
        if not head and not citing:
            raise PageError(404, f"no legal document {iri.value} in the store")
        labels = sorted({value(r, "label") for r in head if value(r, "label")})
        return render(
            request,
            "legal.html",
            iri=iri.value,
            name=labels[0] if labels else iri.value,
            local_id=next((value(r, "local_id") for r in head if value(r, "local_id")), ""),
            title=next((value(r, "preferred_title") for r in head if value(r, "preferred_title")), "")
            or next((value(r, "title") for r in head if value(r, "title")), ""),
            kind=next((value(r, "kind") for r in head if value(r, "kind")), ""),
            types=sorted({value(r, "type") for r in head}),
            citing=[_plain(r) for r in citing],
            projects=len({value(r, "project") for r in citing}),
        )

    @app.get(
        "/validation",
        response_class=HTMLResponse,
        summary="Validation findings by rule, unit and year",
        tags=["pages"],
    )
    async def validation(
        request: Request, rule: str = "", unit: str = "", year: str = "", severity: str = ""
    ) -> HTMLResponse:
        rows, rules = await asyncio.gather(select(request, Q_FINDINGS), select(request, Q_RULES))
        findings = _findings(rows, _titles(rules))
        by_rule: Counter[tuple[str, str]] = Counter()
        by_unit: Counter[str] = Counter()
        by_year: Counter[str] = Counter()
        severity_of: dict[str, Counter[str]] = defaultdict(Counter)
        titles: dict[str, str] = {}
        for f in findings:
            by_rule[(f["rule_id"], f["severity"][0])] += 1
            by_unit[f["unit"]] += 1
            by_year[f["year"]] += 1
            severity_of[f["rule_id"]][f["severity"][0]] += 1
            if f["rule_title"]:
                titles[f["rule_id"]] = f["rule_title"]
        chosen = [
            f
            for f in findings
            if (not rule or f["rule_id"] == rule)
            and (not unit or f["unit"] == unit)
            and (not year or f["year"] == year)
            and (not severity or f["severity"][0] == severity or f["severity"][1] == severity)
        ]
        return render(
            request,
            "validation.html",
            total=len(findings),
            rules=sorted(by_rule.items()),
            titles=titles,
            units=sorted(by_unit.items(), key=lambda item: (-item[1], item[0])),
            years=sorted(by_year.items()),
            findings=chosen[:FINDINGS_SHOWN],
            shown_limit=FINDINGS_SHOWN,
            chosen=len(chosen),
            filters={
                k: v for k, v in (("rule", rule), ("unit", unit), ("year", year), ("severity", severity)) if v
            },
            link=lambda **kw: "/validation?" + urlencode({k: v for k, v in kw.items() if v}),
        )


RELATED_QUERIES = ("lineages", "budget-series", "indicator-history")


def _related_queries(request: Request, project_name: str) -> list[tuple[str, str]]:
    """Links to the named queries about one project (`kg link`'s), with the project's name bound."""
    queries = request.app.state.named_queries()
    links = []
    for name in RELATED_QUERIES:
        query = queries.get(name)
        param = next((p for p in query.params if p.type in ("name-key", "string")), None) if query else None
        if query is not None and param is not None:
            links.append((name, f"/queries/{name}?" + urlencode({param.name: project_name})))
    return links


def render_query_result(
    request: Request, named: NamedQuery, values: dict[str, str], result: JobResult
) -> HTMLResponse:
    """A named query's answer as an HTML table with its parameter form and download links."""
    document = json.loads(result.body)
    rows: list[list[tuple[str, str | None]]]
    if "boolean" in document:
        columns, rows = ["boolean"], [[("true" if document["boolean"] else "false", None)]]
    else:
        columns = document["head"]["vars"]
        rows = [
            [
                (
                    binding[c]["value"],
                    local_path(binding[c]["value"]) if binding[c]["type"] == "uri" else None,
                )
                if c in binding
                else ("", None)
                for c in columns
            ]
            for binding in document["results"]["bindings"]
        ]
    query_string = urlencode(values)
    return render(
        request,
        "query_result.html",
        query=named,
        values=values,
        columns=columns,
        rows=rows,
        truncated=result.truncated,
        downloads=[
            (label, f"/queries/{named.name}?" + urlencode({**values, "format": fmt}))
            for label, fmt in (("CSV", "csv"), ("JSON", "json"), ("XML", "xml"), ("TSV", "tsv"))
        ],
        query_string=query_string,
    )


# ----------------------------------------------------------------------------- shaping rows


def _plain(row: Row) -> dict[str, str]:
    return {name: term["value"] for name, term in row.items()}


def _forms(rows: Sequence[Row]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        iri = value(r, "form")
        if iri in seen:
            continue
        seen[iri] = _plain(r) | {"type_label": form_type(value(r, "form_class")), "path": local_path(iri)}
    return sorted(seen.values(), key=lambda f: (f["year"], FORM_RANK.get(f["form_class"], 9) * -1, f["form"]))


@dataclass
class FundsView:
    years: list[str]
    kinds: list[tuple[str, str]]
    table: dict[tuple[str, str], Decimal]
    sources: list[dict[str, str]]
    chart: Markup


def _funds(rows: Sequence[Row]) -> FundsView:
    chosen: dict[tuple[str, str], tuple[int, Decimal]] = {}
    sources = []
    for r in rows:
        amount = number(value(r, "amount"))
        if amount is None:
            continue
        key = (value(r, "year"), value(r, "kind"))
        rank = FORM_RANK.get(value(r, "form_class"), 9)
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, amount)
        sources.append(
            _plain(r)
            | {
                "kind_label": FUNDING_KINDS.get(value(r, "kind"), value(r, "kind")),
                "type_label": form_type(value(r, "form_class")),
            }
        )
    years = sorted({year for year, _ in chosen})
    order = list(FUNDING_KINDS)
    kinds = sorted({kind for _, kind in chosen}, key=lambda k: order.index(k) if k in order else len(order))
    series = [(kind, FUNDING_KINDS.get(kind, kind)) for kind in kinds]
    table = {key: amount for key, (_, amount) in chosen.items()}
    chart = Markup(grouped_bars(years, series, table, title="资金 funds by year and kind"))
    return FundsView(years, series, table, sources, chart)


def _indicators(rows: Sequence[Row]) -> dict[str, Any]:
    """Indicators pivoted: one row per (l1, l2, l3), one cell per year with target / actual / score."""
    years = sorted({value(r, "year") for r in rows})
    cells: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in sorted(rows, key=lambda r: FORM_RANK.get(value(r, "form_class"), 9), reverse=True):
        key = (value(r, "l1"), value(r, "l2"), value(r, "l3"))
        cell = cells[key].setdefault(value(r, "year"), {})
        for name in ("target", "actual", "weight", "score"):
            if value(r, name):
                cell[name] = value(r, name)
        cell["form"] = local_path(value(r, "form"))
        cell["line"] = value(r, "line")
    return {"years": years, "rows": sorted(cells.items())}


def _documents(rows: Sequence[Row]) -> list[dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for r in rows:
        doc = documents.setdefault(
            value(r, "cited"),
            {
                "path": local_path(value(r, "cited")),
                "label": value(r, "label"),
                "number": value(r, "number"),
                "title": value(r, "title"),
                "citations": [],
            },
        )
        doc["citations"].append(
            {
                "year": value(r, "year"),
                "path": local_path(value(r, "form")),
                "line": value(r, "line"),
                "raw": value(r, "raw"),
            }
        )
    return sorted(documents.values(), key=lambda d: d["label"])


def _titles(rows: Sequence[Row]) -> dict[str, str]:
    return {value(r, "rule_id"): value(r, "title") for r in rows}


def _findings(rows: Sequence[Row], titles: dict[str, str] | None = None) -> list[dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = value(r, "result") or json.dumps(r, sort_keys=True)
        message = value(r, "message")
        lang = r.get("message", {}).get("xml:lang", "")
        found = results.get(key)
        if found is not None:
            if lang.startswith("zh") and message:
                found["message"] = message
            continue
        results[key] = {
            "rule_id": value(r, "rule_id") or "—",
            "rule_title": (titles or {}).get(value(r, "rule_id"), ""),
            "severity": _severity(value(r, "severity")),
            "message": message,
            "printed": value(r, "printed"),
            "year": value(r, "year"),
            "unit": value(r, "unit"),
            "file": value(r, "file"),
            "project": local_path(value(r, "project")),
            "project_label": value(r, "project_label"),
            "form": local_path(value(r, "form")),
            "line": value(r, "line"),
        }
    return list(results.values())


@dataclass
class SourceView:
    file: str
    available: bool
    note: str
    lines: list[tuple[int, str]]


def _source_lines(request: Request, file: str, sha: str, start: int, end: int) -> SourceView:
    """The form's lines of its source file, when a source folder has the file the catalog recorded."""
    settings = request.app.state.settings
    for folder in settings.source_dirs:
        path = Path(folder) / file
        if not path.is_file() or "/" in file or "\\" in file or file.startswith("."):
            continue
        data = path.read_bytes()
        if sha and hashlib.sha256(data).hexdigest() != sha:
            return SourceView(file, False, f"{path} differs from the file that was loaded (SHA-256)", [])
        try:
            lines = split_lines(decode_source(data, file))
        except FormParseError as err:
            return SourceView(file, False, str(err), [])
        first, last = max(1, start), min(len(lines), end or len(lines))
        return SourceView(file, True, str(path), [(n, lines[n - 1]) for n in range(first, last + 1)])
    folders = ", ".join(str(f) for f in settings.source_dirs) or "none"
    return SourceView(
        file, False, f"source file not found in the source folders ({folders}; KG_SOURCE_DIRS)", []
    )
