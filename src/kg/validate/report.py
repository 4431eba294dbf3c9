"""Validation reports as RDF (stored and `--format ttl`) and as text, JSON and HTML for people.

RDF: one `sh:ValidationReport` per form (`…/id/report/<file-stem>/<index>`) and one for the across-forms
checks (`…/id/report/across-forms`); results are IRIs `<report>/result/<n>` numbered in finding order, with
the standard SHACL properties plus `kg:ruleId`, `kg:rule`, `kg:aboutForm`, `kg:aboutIndicator` and
`kg:printedValue` (see the package documentation).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.rdf.namespaces import ID, KG, bind_prefixes
from kg.store.oxigraph import to_oxigraph
from kg.validate.catalog import SEVERITY_ORDER, Rule, rule_iri, rule_sort_key
from kg.validate.engine import to_rdflib
from kg.validate.findings import Finding, FormContext

SEVERITY_NODES: dict[str, URIRef] = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
SEVERITY_ZH = {"violation": "违规", "warning": "警告", "info": "提示"}
FORM_TYPE_ZH = {
    "target_table": "绩效目标表",
    "target_declaration": "绩效目标申报表",
    "self_evaluation": "绩效自评表",
}

ACROSS_FORMS = "across-forms"
REPORT_GRAPH_PREFIX = f"{ID}graph/report/"
RULES_GRAPH = URIRef(f"{REPORT_GRAPH_PREFIX}rules")


def form_key(form: str) -> str:
    """`<file-stem>/<index>` of a form IRI (`…/id/form/<file-stem>/<index>`)."""
    return form[len(f"{ID}form/") :]


def report_iri(key: str) -> URIRef:
    """The report of a form (key `<file-stem>/<index>`) or of the across-forms checks (`across-forms`)."""
    return ID[f"report/{key}"]


def report_graph_iri(key: str) -> URIRef:
    return URIRef(f"{REPORT_GRAPH_PREFIX}{key}")


@dataclass
class Report:
    """The findings of one report (one form, or the across-forms checks), in finding order."""

    key: str
    findings: list[Finding]
    validated_graph: str | None = None

    @property
    def iri(self) -> URIRef:
        return report_iri(self.key)

    def results(self) -> list[tuple[URIRef, Finding]]:
        return [(URIRef(f"{self.iri}/result/{n}"), finding) for n, finding in enumerate(self.findings)]


def report_to_graph(
    report: Report, created: datetime, graph: Graph | None = None, node: Node | None = None
) -> Graph:
    """The report's triples: `node` (default: the report's IRI) a sh:ValidationReport with its results."""
    graph = graph if graph is not None else bind_prefixes(Graph())
    cache: dict[object, Node] = {}
    for s, p, o in report_terms(report, created, node):
        graph.add((to_rdflib(s, cache), to_rdflib(p, cache), to_rdflib(o, cache)))
    return graph


OxTriple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


def _ox(term: URIRef) -> ox.NamedNode:
    return ox.NamedNode(str(term))


_TYPE, _FIRST, _REST, _NIL = _ox(RDF.type), _ox(RDF.first), _ox(RDF.rest), _ox(RDF.nil)
_REPORT, _RESULT_CLASS = _ox(SH.ValidationReport), _ox(SH.ValidationResult)
_CONFORMS, _GENERATED, _VALIDATED, _RESULT = (
    _ox(SH.conforms),
    _ox(PROV.generatedAtTime),
    _ox(KG.validatedGraph),
    _ox(SH.result),
)
_FOCUS, _SHAPE, _SEVERITY, _COMPONENT = (
    _ox(SH.focusNode),
    _ox(SH.sourceShape),
    _ox(SH.resultSeverity),
    _ox(SH.sourceConstraintComponent),
)
_PATH, _VALUE, _MESSAGE, _RULE_ID, _RULE = (
    _ox(SH.resultPath),
    _ox(SH.value),
    _ox(SH.resultMessage),
    _ox(KG.ruleId),
    _ox(KG.rule),
)
_ABOUT_FORM, _ABOUT_INDICATOR, _PRINTED = _ox(KG.aboutForm), _ox(KG.aboutIndicator), _ox(KG.printedValue)
_DATETIME = _ox(XSD.dateTime)
_SEVERITY_NODES = {name: _ox(node) for name, node in SEVERITY_NODES.items()}


def report_terms(report: Report, created: datetime, node: Node | None = None) -> Iterator[OxTriple]:
    """The triples of the report (`report_to_graph`) as pyoxigraph terms: what the store is written, in
    one update for all the reports of a validation (`kg.validate.run.save_reports`)."""
    subject = to_oxigraph(node) if node is not None else _ox(report.iri)
    assert not isinstance(subject, ox.Literal)
    yield subject, _TYPE, _REPORT
    yield subject, _CONFORMS, ox.Literal(not report.findings)
    yield subject, _GENERATED, ox.Literal(_timestamp(created), datatype=_DATETIME)
    if report.validated_graph is not None:
        yield subject, _VALIDATED, ox.NamedNode(report.validated_graph)
    for result, finding in report.results():
        node_of_result = _ox(result)
        yield subject, _RESULT, node_of_result
        yield from result_terms(node_of_result, finding)


def add_result(graph: Graph, result: URIRef, finding: Finding) -> None:
    """One sh:ValidationResult with the standard SHACL properties and the kg: links to form and row."""
    cache: dict[object, Node] = {}
    for s, p, o in result_terms(_ox(result), finding):
        graph.add((to_rdflib(s, cache), to_rdflib(p, cache), to_rdflib(o, cache)))


def result_terms(result: ox.NamedNode, finding: Finding) -> Iterator[OxTriple]:
    """The triples of one sh:ValidationResult (a path of several steps as an RDF list of blank nodes)."""
    yield result, _TYPE, _RESULT_CLASS
    yield result, _FOCUS, ox.NamedNode(finding.focus_node)
    yield result, _SHAPE, ox.NamedNode(finding.source_shape)
    yield result, _SEVERITY, _SEVERITY_NODES[finding.severity]
    if finding.constraint_component is not None:
        yield result, _COMPONENT, ox.NamedNode(finding.constraint_component)
    if finding.path is not None:
        if len(finding.path) == 1:
            yield result, _PATH, ox.NamedNode(finding.path[0])
        else:
            head = ox.BlankNode()
            yield result, _PATH, head
            yield from _list_terms(head, [ox.NamedNode(step) for step in finding.path])
    if finding.value_node is not None:
        yield result, _VALUE, to_oxigraph(finding.value_node)
    yield result, _MESSAGE, ox.Literal(finding.message, language="zh")
    yield result, _MESSAGE, ox.Literal(finding.message_en, language="en")
    yield result, _RULE_ID, ox.Literal(finding.rule)
    yield result, _RULE, _ox(rule_iri(finding.rule))
    yield result, _ABOUT_FORM, ox.NamedNode(finding.form)
    if finding.indicator_node is not None:
        yield result, _ABOUT_INDICATOR, ox.NamedNode(finding.indicator_node)
    if finding.value is not None:
        yield result, _PRINTED, ox.Literal(finding.value)


def _list_terms(head: ox.BlankNode, items: Sequence[ox.NamedNode]) -> Iterator[OxTriple]:
    """An RDF list as rdflib's Collection writes it: rdf:first / rdf:rest from `head`, ending in rdf:nil."""
    node = head
    for position, item in enumerate(items):
        yield node, _FIRST, item
        following: ox.NamedNode | ox.BlankNode = ox.BlankNode() if position + 1 < len(items) else _NIL
        yield node, _REST, following
        if isinstance(following, ox.BlankNode):
            node = following


def rules_graph(rules: Iterable[Rule]) -> Graph:
    """The rule catalogue (ids, titles, severities) for queries next to the reports."""
    graph = bind_prefixes(Graph())
    for rule in rules:
        graph.add((rule.iri, RDF.type, KG.ComplianceRule))
        graph.add((rule.iri, DCTERMS.identifier, Literal(rule.id)))
        graph.add((rule.iri, RDFS.label, Literal(rule.title_zh, lang="zh")))
        graph.add((rule.iri, RDFS.label, Literal(rule.title_en, lang="en")))
        if rule.comment:
            graph.add((rule.iri, RDFS.comment, Literal(rule.comment, lang="zh")))
        graph.add((rule.iri, KG.ruleSeverity, SEVERITY_NODES[rule.severity]))
    return graph


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- outputs


def grouped(findings: Iterable[Finding], attribute: str) -> dict[str, list[Finding]]:
    """Findings by the value of one attribute (form, rule …), in order of first appearance."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(getattr(finding, attribute), []).append(finding)
    return groups


def severity_counts(findings: Iterable[Finding]) -> Counter[str]:
    counts: Counter[str] = Counter({severity: 0 for severity in SEVERITY_ORDER})
    counts.update(finding.severity for finding in findings)
    return counts


def counts_text(counts: Counter[str]) -> str:
    names = {"violation": "violations", "warning": "warnings", "info": "info"}
    return ", ".join(f"{counts[s]} {names[s]}" for s in SEVERITY_ORDER)


def render_json(findings: Sequence[Finding]) -> str:
    """A JSON list of findings, each with exactly the keys of `kg.validate.findings.JSON_KEYS`."""
    return json.dumps([finding.json() for finding in findings], ensure_ascii=False, indent=2) + "\n"


def render_ttl(reports: Sequence[Report], created: datetime, keep: set[int] | None = None) -> str:
    """One standard sh:ValidationReport holding the results of `reports` (only findings whose id() is in
    `keep`, when given), with the result IRIs they have in the store."""
    graph = bind_prefixes(Graph())
    graph.bind("sh", SH)
    node = BNode()
    selected = 0
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, PROV.generatedAtTime, Literal(_timestamp(created), datatype=XSD.dateTime)))
    for report in reports:
        for result, finding in report.results():
            if keep is None or id(finding) in keep:
                graph.add((node, SH.result, result))
                add_result(graph, result, finding)
                selected += 1
    graph.add((node, SH.conforms, Literal(selected == 0)))
    return graph.serialize(format="turtle")


def render_text(
    findings: Sequence[Finding], forms: Sequence[FormContext], rules: dict[str, Rule], limit: int = 5
) -> str:
    """Grouped by form, then rule; counts per severity first; at most `limit` findings per rule and form."""
    by_form = grouped(findings, "form")
    counts = severity_counts(findings)
    lines = [
        f"{len(forms)} forms validated, {len(by_form)} with findings: {counts_text(counts)}",
    ]
    contexts = {context.form: context for context in forms}
    for form, form_findings in by_form.items():
        first = form_findings[0]
        context = contexts.get(form)
        form_type = FORM_TYPE_ZH.get(context.form_type or "", "") if context else ""
        lines.append("")
        lines.append(
            f"{first.file} #{first.form_index}  {first.year or ''}  {first.project}  {form_type}".rstrip()
        )
        lines.append(f"  {counts_text(severity_counts(form_findings))}")
        by_rule = grouped(form_findings, "rule")
        for rule_id in sorted(by_rule, key=rule_sort_key):
            group = by_rule[rule_id]
            rule = rules.get(rule_id)
            per_severity = ", ".join(f"{n} {s}" for s, n in severity_counts(group).items() if n)
            title = f"  {rule.title_zh} / {rule.title_en}" if rule else ""
            lines.append(f"  {rule_id}{title}  ({per_severity})")
            for finding in group[:limit]:
                where = finding.indicator or "表单"
                line = f", line {finding.line}" if finding.line is not None else ""
                value = f"  [{finding.value}]" if finding.value is not None else ""
                lines.append(f"    - {finding.severity}: {where}{line}: {finding.message}{value}")
            if len(group) > limit:
                lines.append(f"    … {len(group) - limit} more")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2rem;
color:#1f2328;line-height:1.5;max-width:72rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.muted{color:#59636e}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f6f8fa}.sev{font-weight:600;white-space:nowrap}.violation{color:#b42318}
.warning{color:#9a6700}.info{color:#0969da}.count{text-align:right;white-space:nowrap}
.pill{display:inline-block;border-radius:1rem;padding:0 .6rem;margin-right:.4rem;background:#f6f8fa}
code{font-family:ui-monospace,monospace;font-size:.85rem}
"""


def render_html(
    findings: Sequence[Finding],
    forms: Sequence[FormContext],
    rules: dict[str, Rule],
    created: datetime,
    title: str = "绩效表合规检查报告 · Compliance report",
) -> str:
    """One self-contained page for reviewers: totals, findings by rule, then each form's findings."""
    e = html.escape
    counts = severity_counts(findings)
    by_form = grouped(findings, "form")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="muted">生成时间 Generated {e(_timestamp(created))} · 共检查 {len(forms)} 张表 '
        f"({len(forms)} forms checked), {len(by_form)} 张表有问题 (with findings)</p>",
        "<p>"
        + "".join(f'<span class="pill {s}">{SEVERITY_ZH[s]} {s}: {counts[s]}</span>' for s in SEVERITY_ORDER)
        + "</p>",
        '<p class="muted">违规 = 表单不合规；警告 = 值得复核（含地方惯例）；提示 = 供参考。'
        "Violation: the form is not compliant; warning: worth a reviewer's look; info: for reference.</p>",
        "<h2>按规则 · By rule</h2>",
        "<table><tr><th>规则 Rule</th><th>说明 Meaning</th><th>违规 violations</th><th>警告 warnings</th>"
        "<th>提示 info</th></tr>",
    ]
    by_rule = grouped(findings, "rule")
    for rule_id in sorted(by_rule, key=rule_sort_key):
        rule = rules.get(rule_id)
        rule_counts = severity_counts(by_rule[rule_id])
        meaning = f"{e(rule.title_zh)}<br><span class=muted>{e(rule.title_en)}</span>" if rule else ""
        parts.append(
            f"<tr><td><code>{e(rule_id)}</code></td><td>{meaning}</td>"
            + "".join(f'<td class="count">{rule_counts[s] or ""}</td>' for s in SEVERITY_ORDER)
            + "</tr>"
        )
    parts.append("</table>")
    parts.append("<h2>按表单 · By form</h2>")
    contexts = {context.form: context for context in forms}
    for form, form_findings in by_form.items():
        first = form_findings[0]
        context = contexts.get(form)
        form_type = FORM_TYPE_ZH.get(context.form_type or "", "") if context else ""
        form_counts = severity_counts(form_findings)
        parts.append(
            f"<h3>{e(first.project)} <span class=muted>· {first.year or ''} · {e(form_type)} · "
            f"{e(first.file)} 第 {first.form_index + 1} 张表 (#{first.form_index})</span></h3>"
        )
        parts.append(
            '<p class="muted">'
            + "，".join(f"{SEVERITY_ZH[s]} {form_counts[s]}" for s in SEVERITY_ORDER)
            + "</p>"
        )
        parts.append(
            "<table><tr><th>规则</th><th>严重程度</th><th>指标 Indicator</th><th>原文值 Value</th>"
            "<th>说明 Finding</th><th>行 Line</th></tr>"
        )
        for finding in form_findings:
            parts.append(
                f"<tr><td><code>{e(finding.rule)}</code></td>"
                f'<td class="sev {finding.severity}">{SEVERITY_ZH[finding.severity]}</td>'
                f"<td>{e(finding.indicator or '（整张表）')}</td>"
                f"<td>{e(finding.value or '—')}</td>"
                f"<td>{e(finding.message)}<br><span class=muted>{e(finding.message_en)}</span></td>"
                f'<td class="count">{finding.line if finding.line is not None else ""}</td></tr>'
            )
        parts.append("</table>")
    clean = [context for context in forms if context.form not in by_form]
    if clean:
        parts.append("<h2>无问题的表单 · Forms without findings</h2><ul>")
        for context in clean:
            parts.append(
                f"<li>{e(context.project)} <span class=muted>· {context.year or ''} · "
                f"{e(FORM_TYPE_ZH.get(context.form_type or '', ''))} · "
                f"{e(context.file)} #{context.index}</span></li>"
            )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
