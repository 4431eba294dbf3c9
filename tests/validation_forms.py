"""Small hand-made forms for the validation tests: one clean form of each type (no finding at all), and
helpers to validate a form and to change one thing in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, PROV

from kg.model import Comparison, Field, Form, FormType, Indicator, LegalCitation, Money, Number
from kg.rdf.mapping import form_to_graph
from kg.rdf.namespaces import KG
from kg.store.oxigraph import OxigraphStore
from kg.validate import Finding, load_catalog, validate_form_graph
from kg.validate.compiled import validate_graphs
from kg.validate.findings import graph_of_form

BUREAU = "上海市城市管理行政执法局"
COMMISSION = "上海市住房和城乡建设管理委员会"


def num(raw: str, line: int = 1) -> Number:
    return Number(raw, Decimal(raw.replace(",", "").rstrip("%")), line)


def money(kind: str, raw: str, unit: str = "万元", row: str = "total", line: int = 10) -> Money:
    return Money(kind, raw, Decimal(raw.replace(",", "")), unit, line, row)


def target(
    raw: str, operator: str | None, value: str | None, unit: str | None = None, upper: str | None = None
) -> Comparison:
    return Comparison(
        raw,
        operator,
        Decimal(value) if value is not None else None,
        Decimal(upper) if upper is not None else None,
        unit,
    )


def qualitative(raw: str) -> Comparison:
    return Comparison(raw, qualitative=raw)


def measured(raw: str, value: str, unit: str | None = None) -> Comparison:
    return Comparison(raw, None, Decimal(value), None, unit)


def row(
    l1: str,
    l2: str,
    l3: str,
    goal: Comparison | None,
    line: int,
    actual: Comparison | None = None,
    weight: str | None = None,
    score: str | None = None,
    reason: str | None = None,
) -> Indicator:
    return Indicator(
        l1,
        l2,
        l3,
        goal.raw if goal is not None else None,
        line,
        line,
        actual=actual.raw if actual is not None else None,
        weight=num(weight, line) if weight is not None else None,
        score=num(score, line) if score is not None else None,
        deviation_reason=reason,
        target_parsed=goal,
        actual_parsed=actual,
    )


def self_evaluation(**changes: object) -> Form:
    """A 2024 Shanghai self-evaluation whose every figure adds up (no finding)."""
    form = Form(
        file="se.txt",
        index_in_file=0,
        form_type=FormType.SELF_EVALUATION,
        layout="tabular-self-evaluation",
        line_start=1,
        line_end=40,
        year=2024,
        project_name=Field("课题研究", 3),
        supervising_department=Field(COMMISSION, 4),
        implementing_unit=Field(BUREAU, 4),
        money_unit="万元",
        funds=[
            money("initial_budget", "15.40"),
            money("full_year_budget", "15.40"),
            money("executed", "15.19"),
        ],
        execution_rate=num("98.64", 10),  # 15.19 / 15.40 × 100 = 98.636…
        funds_weight=num("10.00", 10),
        funds_score=num("9.86", 10),  # min(10, 9.864) × 10 / 10
        narratives={"预期目标": Field("完成课题研究。", 12), "实际完成情况": Field("完成课题研究。", 12)},
        indicators=[
            row(
                "产出指标",
                "数量指标",
                "课题数量",
                target("≥5(个)", ">=", "5", "个"),
                15,
                measured("7.00(个)", "7.00", "个"),
                "30.00",
                "30.00",
            ),
            row(
                "产出指标",
                "质量指标",
                "验收通过率",
                target("=100(%)", "=", "100", "%"),
                16,
                measured("100.00(%)", "100.00", "%"),
                "20.00",
                "20.00",
            ),
            row(
                "效益指标",
                "社会效益指标",
                "成果应用",
                qualitative("有效应用"),
                17,
                qualitative("达成指标"),
                "30.00",
                "30.00",
            ),
            row(
                "满意度指标",
                "服务对象满意度指标",
                "牵头处室满意度",
                target("≥90(%)", ">=", "90", "%"),
                18,
                measured("95.00(%)", "95.00", "%"),
                "10.00",
                "10.00",
            ),
        ],
        total_weight=num("100.00", 20),
        total_score=num("99.86", 20),
        grade=Field("优", 21),
    )
    return replace(form, **changes)  # type: ignore[arg-type]


def chaoyang(**changes: object) -> Form:
    """A 2020 Beijing Chaoyang self-evaluation (whole numbers, no 评分等级 row) that adds up."""
    form = self_evaluation(
        file="cy.txt",
        layout="vertical-self-evaluation",
        year=2020,
        project_name=Field("城管以奖促治经费", 3),
        supervising_department=Field("朝阳区城管执法局", 4),
        implementing_unit=Field("朝阳区城管执法局", 4),
        funds=[
            money("initial_budget", "1514.0223"),
            money("full_year_budget", "1150.3927"),
            money("executed", "1142.8"),
        ],
        execution_rate=num("99%", 10),  # 99.34 % printed as a whole percent
        funds_weight=num("10", 10),
        funds_score=num("9.9", 10),
        total_score=num("99.9", 20),
        grade=None,
    )
    return replace(form, **changes)  # type: ignore[arg-type]


def target_table(**changes: object) -> Form:
    """A 2020 Shanghai 绩效目标表 with every field (no finding)."""
    form = Form(
        file="tt.txt",
        index_in_file=0,
        form_type=FormType.TARGET_TABLE,
        layout="tabular-target-table",
        line_start=1,
        line_end=40,
        year=2020,
        project_name=Field("城管执法监督考核", 3),
        reporting_unit=Field(BUREAU, 4),
        project_category=Field("其他一次性项目", 5),
        performance_type=Field("事业/专业类", 5),
        includes_government_purchase=False,
        includes_government_purchase_raw=Field("否", 5),
        planned_start=date(2020, 1, 1),
        planned_end=date(2020, 12, 31),
        planned_start_raw=Field("2020-01-01", 6),
        planned_end_raw=Field("2020-12-31", 6),
        money_unit="元",
        funds=[
            money("project_total_budget", "3,870,000", "元"),
            money("current_year_budget", "3,870,000", "元"),
        ],
        narratives={
            "项目概况": Field("开展测评。", 8),
            "立项依据": Field("《关于开展评选活动的通知》（沪城管执〔2017〕58号）", 9),
            "项目设立的必要性": Field("必要。", 10),
            "保证项目实施的制度、措施": Field("制度健全。", 11),
            "项目实施计划": Field("全年实施。", 12),
            "总目标及阶段性目标": Field("提高执法水平。", 13),
        },
        indicators=[
            row("投入与管理", "投入管理", "预算执行率", target("=100%", "=", "100", "%"), 20),
            row("产出目标", "数量", "按计划完成测评次数", target("=100%", "=", "100", "%"), 21),
            row("效果目标", "满意度", "市民满意度", target(">=85%", ">=", "85", "%"), 22),
            row("影响力目标", "长效管理", "立项依据充分性", qualitative("充分"), 23),
        ],
        legal_citations=[
            LegalCitation(
                "《关于开展评选活动的通知》（沪城管执〔2017〕58号）",
                9,
                "立项依据",
                doc_number="沪城管执〔2017〕58号",
                doc_number_raw="沪城管执〔2017〕58号",
                issuer_code="沪城管执",
                doc_year=2017,
                doc_seq=58,
                title="关于开展评选活动的通知",
            )
        ],
    )
    return replace(form, **changes)  # type: ignore[arg-type]


def target_declaration(**changes: object) -> Form:
    """A 2023 绩效目标申报表 whose funds add up (no finding)."""
    form = Form(
        file="td.txt",
        index_in_file=0,
        form_type=FormType.TARGET_DECLARATION,
        layout="tabular-target-declaration",
        line_start=1,
        line_end=30,
        year=2023,
        project_name=Field("城管执法装备建设", 3),
        supervising_department=Field(COMMISSION, 4),
        implementing_unit=Field(BUREAU, 4),
        project_category=Field("特定目标类", 5),
        project_nature=Field("其他一次性项目", 5),
        planned_start=date(2023, 1, 1),
        planned_end=date(2023, 12, 31),
        planned_start_raw=Field("2023-01-01", 6),
        planned_end_raw=Field("2023-12-31", 6),
        money_unit="元",
        funds=[
            money("project_total", "109,701.00", "元"),
            money("project_total_fiscal", "103,288.00", "元"),
            money("project_other_funds", "6,413.00", "元"),
            money("annual_request_total", "109,701.00", "元"),
            money("annual_current_year_appropriation", "109,701.00", "元"),
            money("annual_carryover", "0.00", "元"),
            money("other_funds", "0.00", "元"),
        ],
        narratives={"项目总目标": Field("完成服装购置。", 8), "年度总体目标": Field("完成服装购置。", 9)},
        indicators=[
            row("产出指标", "数量指标", "服装购置数量", target("=100(套)", "=", "100", "套"), 20),
            row("产出指标", "时效指标", "采购及时性", qualitative("及时"), 21),
            row("效益指标", "社会效益指标", "提升整体城管形象", qualitative("良好"), 22),
            row("满意度指标", "服务对象满意度指标", "相关人员满意度", target("≥95(%)", ">=", "95", "%"), 23),
        ],
    )
    return replace(form, **changes)  # type: ignore[arg-type]


def with_row(form: Form, index: int, **changes: object) -> Form:
    """The form with one indicator row changed."""
    rows = list(form.indicators)
    rows[index] = replace(rows[index], **changes)  # type: ignore[arg-type]
    return replace(form, indicators=rows)


ENGINES = ("pyshacl", "compiled")


def findings_of(form: Form | Graph, engine: str = "pyshacl") -> list[Finding]:
    """The Core findings of one form (or form graph): pySHACL on the graph, or the compiled engine on a
    store holding only that graph as a form graph."""
    graph = form if isinstance(form, Graph) else form_to_graph(form)
    if engine == "pyshacl":
        return validate_form_graph(graph).findings
    return compiled_findings(graph)


def compiled_findings(graph: Graph) -> list[Finding]:
    [form] = [s for s in graph.subjects(KG.formIndex, None) if isinstance(s, URIRef)]
    source = graph.value(graph.value(form, PROV.hadPrimarySource), DCTERMS.identifier)
    graph_iri = URIRef(graph_of_form(str(form)))
    store = OxigraphStore.in_memory()
    store.replace_file(str(source or "form.txt"), [(graph_iri, graph)])
    run = validate_graphs(store.query, [str(graph_iri)], load_catalog(), whole_store=True)
    return run.outcomes[0].findings


def rules_of(findings: list[Finding], severity: str | None = None) -> set[str]:
    return {f.rule for f in findings if severity is None or f.severity == severity}
