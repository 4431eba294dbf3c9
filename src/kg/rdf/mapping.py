"""Map a parsed `Form` to the triples of its own named graph (ontology: `ontology/kg.ttl`).

IRI scheme (all under `ID` = https://w3id.org/jixiao-kg/id/, no blank nodes anywhere):

- named graph     graph/<file-stem>/<index>
- form            form/<file-stem>/<index>
- its parts       form/<file-stem>/<index>/indicator/<n> | fund/<kind>/<row> | citation/<n>
                  | narrative/<h(label)> | field/<h(label)>
- source file     source/<file base name>
- organization    org/<h(name)>
- project         project/<h(name + responsible unit)>     (unit = 实施单位, else 申报单位, else 主管部门)
- legal document  legal/<h("no:" + 文号)>, else legal/<h("title:" + title)>, else legal/<h("raw:" + raw)>
- unit (money)    kg:Yuan, kg:TenThousandYuan, else unit/<symbol>
- categories      scheme/indicator-category/<form_type>[/<h(l1)> | /<h(l1 + l2)>]
- derived facts   form/<file-stem>/<index>[/indicator/<n>]/profile | …/reckoning/<what>  (`kg.rdf.derived`:
                  computed for the SHACL shapes, on their own resources; printed values are not changed)

`<h(x)>` is the first 16 hex digits of the SHA-1 of the normalised text (`normalise_name`); path segments
are percent-encoded. Shared resources (organizations, projects, documents, categories) carry their
normalised name as label so they look the same from every form graph; the text as printed stays on the
form or part. Decimals are written in canonical lexical form (no exponent, no trailing zeros); integers
as xsd:integer, dates as xsd:date, text as plain (xsd:string) literals; blank texts are not written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import cast
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg.model import Comparison, Field, Form, FormType, Indicator, LegalCitation, Money, Number
from kg.rdf.namespaces import DCTERMS, ELI, ID, KG, ORG, PROV, RDF, RDFS, SKOS, XSD, bind_prefixes

FORM_CLASSES: dict[FormType, URIRef] = {
    FormType.TARGET_TABLE: KG.TargetTable,
    FormType.TARGET_DECLARATION: KG.TargetDeclaration,
    FormType.SELF_EVALUATION: KG.SelfEvaluation,
}

FUNDING_KINDS: tuple[str, ...] = (
    "project_total_budget",
    "current_year_budget",
    "prev_year_same_name_budget",
    "prev_year_same_name_executed",
    "project_total",
    "project_total_fiscal",
    "project_other_funds",
    "other_funds",
    "annual_request_total",
    "annual_current_year_appropriation",
    "annual_carryover",
    "initial_budget",
    "full_year_budget",
    "executed",
)

SCHEME_LABELS: dict[FormType, str] = {
    FormType.TARGET_TABLE: "绩效目标表指标体系",
    FormType.TARGET_DECLARATION: "绩效目标申报表指标体系",
    FormType.SELF_EVALUATION: "绩效自评表指标体系",
}

MONEY_UNITS: dict[str, URIRef] = {"元": KG.Yuan, "万元": KG.TenThousandYuan}

# Narrative labels (as printed, normalised) that also get a direct property on the form.
NARRATIVE_PROPERTIES: dict[str, URIRef] = {
    "项目概况": KG.projectOverview,
    "立项依据": KG.legalBasisText,
    "项目设立的必要性": KG.necessity,
    "保证项目实施的制度、措施": KG.implementationSafeguards,
    "项目实施计划": KG.implementationPlan,
    "总目标及阶段性目标": KG.overallAndPhasedGoals,
    "项目总目标": KG.projectOverallGoal,
    "年度总体目标": KG.annualOverallGoal,
    "预期目标": KG.expectedGoal,
    "实际完成情况": KG.actualCompletion,
}

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")


# ----------------------------------------------------------------------------- literals and keys


def decimal_literal(value: Decimal) -> Literal:
    """An xsd:decimal literal in canonical form: 38700000, 0, 15140223, 1514.0223 (never a float)."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        text = "0"
    return Literal(text, datatype=XSD.decimal)


def integer_literal(value: int) -> Literal:
    return Literal(str(int(value)), datatype=XSD.integer)


def normalise_name(text: str) -> str:
    """NFKC, no whitespace next to CJK characters, other whitespace runs collapsed to one space."""
    text = unicodedata.normalize("NFKC", text).strip()
    return re.sub(r"\s+", " ", _SPACE_NEAR_CJK.sub("", text))


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _segment(text: str) -> str:
    return quote(text, safe="-._~")


def _base_name(file: str) -> str:
    return re.split(r"[\\/]", file)[-1]


def _stem(file: str) -> str:
    name = _base_name(file)
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def _text(value: str | None) -> Literal | None:
    """A plain (xsd:string) literal, or None for a missing or blank value."""
    return Literal(value) if value is not None and value.strip() else None


def _field_text(field: Field | None) -> Literal | None:
    return _text(field.value) if field is not None else None


# ----------------------------------------------------------------------------- IRIs


def form_graph_iri(form: Form) -> URIRef:
    """The named graph of a form: from the file's base name (without extension) and the form's index."""
    return ID[f"graph/{_segment(_stem(form.file))}/{form.index_in_file}"]


def form_iri(form: Form) -> URIRef:
    return ID[f"form/{_segment(_stem(form.file))}/{form.index_in_file}"]


def source_file_iri(file: str) -> URIRef:
    return ID[f"source/{_segment(_base_name(file))}"]


def organization_iri(name: str) -> URIRef:
    return ID[f"org/{short_hash(normalise_name(name))}"]


def project_iri(name: str, unit: str | None) -> URIRef:
    key = normalise_name(name) + "\x1f" + (normalise_name(unit) if unit else "")
    return ID[f"project/{short_hash(key)}"]


def legal_document_iri(citation: LegalCitation) -> URIRef:
    if citation.doc_number:
        key = "no:" + re.sub(r"\s+", "", unicodedata.normalize("NFKC", citation.doc_number))
    elif citation.title:
        key = "title:" + normalise_name(citation.title)
    else:
        key = "raw:" + normalise_name(citation.raw)
    return ID[f"legal/{short_hash(key)}"]


def category_scheme_iri(form_type: FormType) -> URIRef:
    return ID[f"scheme/indicator-category/{form_type.value}"]


def category_iri(form_type: FormType, l1: str, l2: str | None = None) -> URIRef:
    key = normalise_name(l1) if l2 is None else normalise_name(l1) + "\x1f" + normalise_name(l2)
    return URIRef(f"{category_scheme_iri(form_type)}/{short_hash(key)}")


def responsible_unit(form: Form) -> Field | None:
    """实施单位, else 申报单位, else 主管部门 (the `unit` of outputs and of the project's identity)."""
    for field in (form.implementing_unit, form.reporting_unit, form.supervising_department):
        if field is not None and field.value.strip():
            return field
    return None


# ----------------------------------------------------------------------------- graph building


Triple = tuple[Node, Node, Node]


class TripleSet:
    """The triples of one form graph while they are made: a plain set. Adding to an rdflib `Graph` one
    triple at a time (it keeps indexes) cost most of the mapping's time, and ingest needs the triples, not
    a Graph. Like a Graph it takes `add((s, p, o))` (so `kg.rdf.derived` writes into it the same way);
    nothing else is offered: `form_to_graph` makes the Graph."""

    __slots__ = ("triples",)

    def __init__(self) -> None:
        self.triples: set[Triple] = set()

    def add(self, triple: Triple) -> TripleSet:
        self.triples.add(triple)
        return self


class _Builder:
    """The form's triples plus its IRIs; `add` skips triples whose object is None."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.graph = TripleSet()
        self.form_iri = form_iri(form)
        self.source = source_file_iri(form.file)

    def add(self, subject: URIRef, predicate: URIRef, obj: Node | None) -> None:
        if obj is not None:
            self.graph.triples.add((subject, predicate, obj))

    def add_number(
        self, subject: URIRef, predicate: URIRef, raw_predicate: URIRef, number: Number | None
    ) -> None:
        if number is not None:
            self.add(subject, predicate, decimal_literal(number.value))
            self.add(subject, raw_predicate, _text(number.raw))

    def add_part(self, part: URIRef, cls: URIRef, link: URIRef, line_start: int, line_end: int) -> None:
        """Type a part, link it from the form, and give it its provenance."""
        self.add(self.form_iri, link, part)
        self.add(part, RDF.type, cls)
        self.add(part, PROV.wasDerivedFrom, self.source)
        self.add(part, KG.lineStart, integer_literal(line_start))
        self.add(part, KG.lineEnd, integer_literal(line_end))


def _add_form(b: _Builder) -> None:
    form, s = b.form, b.form_iri
    b.add(s, RDF.type, FORM_CLASSES[form.form_type])
    b.add(s, KG.fiscalYear, integer_literal(form.year))
    b.add(s, KG.formIndex, integer_literal(form.index_in_file))
    b.add(s, KG.layout, _text(form.layout))
    b.add(s, KG.lineStart, integer_literal(form.line_start))
    b.add(s, KG.lineEnd, integer_literal(form.line_end))
    b.add(s, PROV.wasDerivedFrom, b.source)
    b.add(s, PROV.hadPrimarySource, b.source)
    b.add(b.source, RDF.type, KG.SourceFile)
    b.add(b.source, DCTERMS.identifier, Literal(_base_name(form.file)))
    b.add(s, DCTERMS.title, _field_text(form.project_name))
    b.add(s, KG.moneyUnit, _text(form.money_unit))
    for predicate, field in (
        (KG.projectCategory, form.project_category),
        (KG.projectNature, form.project_nature),
        (KG.performanceType, form.performance_type),
        (KG.grade, form.grade),
        (KG.includesGovernmentPurchaseRaw, form.includes_government_purchase_raw),
        (KG.plannedStartRaw, form.planned_start_raw),
        (KG.plannedEndRaw, form.planned_end_raw),
    ):
        b.add(s, predicate, _field_text(field))
    if form.includes_government_purchase is not None:
        b.add(s, KG.includesGovernmentPurchase, Literal(form.includes_government_purchase))
    b.add(s, KG.plannedStart, _date(form.planned_start))
    b.add(s, KG.plannedEnd, _date(form.planned_end))
    b.add_number(s, KG.executionRate, KG.executionRateRaw, form.execution_rate)
    b.add_number(s, KG.fundsWeight, KG.fundsWeightRaw, form.funds_weight)
    b.add_number(s, KG.fundsScore, KG.fundsScoreRaw, form.funds_score)
    b.add_number(s, KG.totalWeight, KG.totalWeightRaw, form.total_weight)
    b.add_number(s, KG.totalScore, KG.totalScoreRaw, form.total_score)


def _date(value: date | None) -> Literal | None:
    return Literal(value.isoformat(), datatype=XSD.date) if value is not None else None


def _add_project(b: _Builder) -> None:
    name = b.form.project_name.value
    unit = responsible_unit(b.form)
    project = project_iri(name, unit.value if unit else None)
    b.add(b.form_iri, KG.project, project)
    b.add(project, RDF.type, KG.Project)
    b.add(project, RDFS.label, Literal(normalise_name(name), lang="zh"))


def _add_organizations(b: _Builder) -> None:
    form = b.form
    iris: dict[URIRef, URIRef] = {}
    for link, name_property, field in (
        (KG.reportingUnit, KG.reportingUnitName, form.reporting_unit),
        (KG.supervisingDepartment, KG.supervisingDepartmentName, form.supervising_department),
        (KG.implementingUnit, KG.implementingUnitName, form.implementing_unit),
    ):
        if field is None or not field.value.strip():
            continue
        org = iris[link] = organization_iri(field.value)
        b.add(b.form_iri, link, org)
        b.add(b.form_iri, name_property, Literal(field.value))
        b.add(org, RDF.type, ORG.Organization)
        b.add(org, RDFS.label, Literal(normalise_name(field.value), lang="zh"))
    unit, department = iris.get(KG.implementingUnit), iris.get(KG.supervisingDepartment)
    if unit is not None and department is not None and unit != department:
        b.add(unit, ORG.subOrganizationOf, department)


def narrative_property(label: str) -> URIRef | None:
    """The direct property of a known narrative label: 项目总目标 (2023年-2023年) -> kg:projectOverallGoal."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", label)).rstrip(":")
    for known, predicate in NARRATIVE_PROPERTIES.items():
        if key.startswith(unicodedata.normalize("NFKC", known)):
            return predicate
    return None


def _add_fields(b: _Builder, fields: dict[str, Field], kind: str, link: URIRef, direct: bool) -> None:
    for label, field in fields.items():
        value = _text(field.value)
        if value is None:
            continue
        part = URIRef(f"{b.form_iri}/{kind}/{short_hash(normalise_name(label))}")
        b.add_part(part, KG.FormField, link, field.line, field.line)
        b.add(part, KG.fieldLabel, Literal(label))
        b.add(part, KG.fieldValue, value)
        predicate = narrative_property(label) if direct else None
        if predicate is not None:
            b.add(b.form_iri, predicate, value)


def _add_comparison(b: _Builder, s: URIRef, prefix: str, comparison: Comparison | None) -> None:
    if comparison is None:
        return
    b.add(s, KG[f"{prefix}Operator"], _text(comparison.operator))
    if comparison.value is not None:
        b.add(s, KG[f"{prefix}Value"], decimal_literal(comparison.value))
    if comparison.upper is not None:
        b.add(s, KG[f"{prefix}UpperValue"], decimal_literal(comparison.upper))
    b.add(s, KG[f"{prefix}Unit"], _text(comparison.unit))
    b.add(s, KG[f"{prefix}Qualitative"], _text(comparison.qualitative))


def _add_categories(b: _Builder, s: URIRef, indicator: Indicator) -> None:
    """Link the indicator to its first/second-level concepts (in the form type's scheme)."""
    l1, l2 = (name if name is not None and name.strip() else None for name in (indicator.l1, indicator.l2))
    if l1 is None:
        return
    form_type = b.form.form_type
    scheme = category_scheme_iri(form_type)
    b.add(scheme, RDF.type, SKOS.ConceptScheme)
    b.add(scheme, SKOS.prefLabel, Literal(SCHEME_LABELS[form_type], lang="zh"))
    top = category_iri(form_type, l1)
    _add_concept(b, top, scheme, l1, 1)
    b.add(top, SKOS.topConceptOf, scheme)
    b.add(scheme, SKOS.hasTopConcept, top)
    b.add(s, KG.level1Category, top)
    if l2 is not None:
        second = category_iri(form_type, l1, l2)
        _add_concept(b, second, scheme, l2, 2)
        b.add(second, SKOS.broader, top)
        b.add(s, KG.level2Category, second)


def _add_concept(b: _Builder, concept: URIRef, scheme: URIRef, name: str, level: int) -> None:
    b.add(concept, RDF.type, SKOS.Concept)
    b.add(concept, RDF.type, KG.IndicatorCategory)
    b.add(concept, SKOS.inScheme, scheme)
    b.add(concept, SKOS.prefLabel, Literal(normalise_name(name), lang="zh"))
    b.add(concept, KG.categoryLevel, integer_literal(level))


def _add_indicator(b: _Builder, index: int, indicator: Indicator) -> None:
    s = URIRef(f"{b.form_iri}/indicator/{index}")
    b.add_part(s, KG.Indicator, KG.hasIndicator, indicator.line_start, indicator.line_end)
    b.add(s, KG.indicatorIndex, integer_literal(index))
    b.add(s, KG.level1Name, _text(indicator.l1))
    b.add(s, KG.level2Name, _text(indicator.l2))
    b.add(s, KG.level3Name, _text(indicator.l3))
    _add_categories(b, s, indicator)
    target = indicator.target if indicator.target is not None else _raw(indicator.target_parsed)
    actual = indicator.actual if indicator.actual is not None else _raw(indicator.actual_parsed)
    b.add(s, KG.targetRaw, _text(target))
    b.add(s, KG.actualRaw, _text(actual))
    _add_comparison(b, s, "target", indicator.target_parsed)
    _add_comparison(b, s, "actual", indicator.actual_parsed)
    b.add_number(s, KG.weight, KG.weightRaw, indicator.weight)
    b.add_number(s, KG.score, KG.scoreRaw, indicator.score)
    b.add(s, KG.deviationReason, _text(indicator.deviation_reason))


def _raw(comparison: Comparison | None) -> str | None:
    return comparison.raw if comparison is not None else None


def _add_money(b: _Builder, index: int, money: Money) -> None:
    s = URIRef(f"{b.form_iri}/fund/{_segment(money.kind)}/{_segment(money.row)}")
    b.add_part(s, KG.FundingFigure, KG.hasFundingFigure, money.line, money.line)
    b.add(s, KG.figureIndex, integer_literal(index))
    if money.kind in FUNDING_KINDS:
        b.add(s, KG.fundingKind, KG[f"FundingKind_{money.kind}"])
    b.add(s, KG.fundingKindCode, Literal(money.kind))
    b.add(s, KG.fundsRow, Literal(money.row))
    b.add(s, KG.amountYuan, decimal_literal(money.yuan))
    b.add(s, KG.amountInSourceUnit, decimal_literal(money.amount))
    b.add(s, KG.rawText, _text(money.raw))
    b.add(s, KG.sourceUnit, MONEY_UNITS[money.unit])  # money.yuan above refused any other unit


def _add_citation(b: _Builder, index: int, citation: LegalCitation) -> None:
    s = URIRef(f"{b.form_iri}/citation/{index}")
    b.add_part(s, KG.LegalCitation, KG.hasLegalCitation, citation.line, citation.line)
    b.add(s, KG.citationIndex, integer_literal(index))
    b.add(s, KG.rawText, _text(citation.raw))
    b.add(s, KG.sourceField, _text(citation.source_field))
    b.add(s, KG.docNumber, _text(citation.doc_number))
    b.add(s, KG.docNumberRaw, _text(citation.doc_number_raw))
    b.add(s, KG.issuerCode, _text(citation.issuer_code))
    if citation.doc_year is not None:
        b.add(s, KG.docYear, integer_literal(citation.doc_year))
    if citation.doc_seq is not None:
        b.add(s, KG.docSequence, integer_literal(citation.doc_seq))
    b.add(s, DCTERMS.title, _text(citation.title))
    document = legal_document_iri(citation)
    b.add(s, KG.citesDocument, document)
    b.add(document, RDF.type, ELI.LegalResource)
    b.add(document, ELI.id_local, _text(citation.doc_number))
    b.add(document, ELI.title, _text(citation.title))
    label = citation.doc_number or citation.title or citation.raw
    b.add(document, RDFS.label, Literal(normalise_name(label), lang="zh"))


def form_to_graph(form: Form) -> Graph:
    """The triples of the form's named graph (see `form_graph_iri`)."""
    graph = bind_prefixes(Graph())
    for triple in form_triples(form):
        graph.add(triple)
    return graph


def form_triples(form: Form) -> set[Triple]:
    """The triples of the form's named graph as a set (what `form_to_graph` holds, without building a
    Graph: the quicker way for ingest)."""
    b = _Builder(form)
    _add_form(b)
    _add_project(b)
    _add_organizations(b)
    _add_fields(b, form.narratives, "narrative", KG.hasNarrative, direct=True)
    _add_fields(b, form.extra_fields, "field", KG.hasExtraField, direct=False)
    for index, indicator in enumerate(form.indicators):
        _add_indicator(b, index, indicator)
    for index, money in enumerate(form.funds):
        _add_money(b, index, money)
    for index, citation in enumerate(form.legal_citations):
        _add_citation(b, index, citation)
    from kg.rdf.derived import add_derived  # derived facts for the shapes; derived imports this module

    add_derived(cast(Graph, b.graph), form, b.form_iri)  # derived only adds triples (TripleSet.add)
    return b.graph.triples


# ----------------------------------------------------------------------------- quads


Quad = tuple[Node, Node, Node, URIRef]


def form_to_named_graph(form: Form) -> tuple[URIRef, Graph]:
    """(graph IRI, triples): what a store replaces when the form is (re-)ingested."""
    return form_graph_iri(form), form_to_graph(form)


def form_to_quads(form: Form) -> list[Quad]:
    """The form's triples as quads in its named graph, in a stable order."""
    graph_iri, graph = form_to_named_graph(form)
    return sorted(((s, p, o, graph_iri) for s, p, o in graph), key=lambda q: tuple(t.n3() for t in q))


def graph_to_nquads(graph_iri: URIRef, graph: Graph) -> str:
    """N-Quads text of one named graph, lines sorted (deterministic; loads into pyoxigraph or any store)."""
    lines = graph.serialize(format="nt").splitlines()
    quads = sorted(f"{line[:-2].rstrip()} {graph_iri.n3()} ." for line in lines if line.strip())
    return "".join(f"{quad}\n" for quad in quads)


def forms_to_nquads(forms: Iterable[Form]) -> str:
    """N-Quads of several forms, each in its own named graph."""
    return "".join(graph_to_nquads(*form_to_named_graph(form)) for form in forms)
