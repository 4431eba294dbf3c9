"""Form -> RDF mapping, and the four named queries over the mapped quads (pyoxigraph, in memory)."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg.model import Comparison, Field, Form, FormType, Indicator, LegalCitation, Money, Number
from kg.rdf import mapping as m
from kg.rdf.named_queries import QueryParam, load_named_queries, parse_named_query, to_term
from kg.rdf.namespaces import ELI, ID, KG
from kg.rdf.ontology import load_ontology

ROOT = Path(__file__).resolve().parents[1]
TT_FILE, TD_FILE, SE_FILE = "000_bb01accd19b494dd.txt", "002_0ba3e1b3e0c621eb.txt", "003_f95dcf2be13289f4.txt"
SH_BUREAU = "上海市城市管理行政执法局"


# ----------------------------------------------------------------------------- hand-built forms


def num(raw: str, line: int) -> Number:
    return Number(raw, Decimal(raw.rstrip("%")), line)


def money(kind: str, raw: str, unit: str, line: int, row: str = "total") -> Money:
    return Money(kind, raw, Decimal(raw.replace(",", "")), unit, line, row)


def cmp(raw: str, op: str | None, value: str | None, unit: str | None = None) -> Comparison:
    return Comparison(raw, op, Decimal(value) if value is not None else None, None, unit)


def target_table() -> Form:
    return Form(
        file=TT_FILE,
        index_in_file=0,
        form_type=FormType.TARGET_TABLE,
        layout="sh-tt-2020",
        line_start=3,
        line_end=43,
        year=2020,
        project_name=Field("城管执法监督考核", 6),
        reporting_unit=Field(SH_BUREAU, 5),
        project_category=Field("其他一次性项目", 6),
        performance_type=Field("事业/专业类", 8),
        includes_government_purchase=False,
        includes_government_purchase_raw=Field("否", 8),
        planned_start=date(2020, 1, 1),
        planned_end=date(2020, 12, 31),
        planned_start_raw=Field("2020-01-01", 7),
        planned_end_raw=Field("2020-12-31", 7),
        funds=[
            money("project_total_budget", "3,870,000", "元", 19),
            money("current_year_budget", "3,870,000", "元", 19),
            money("prev_year_same_name_budget", "4,050,000", "元", 20),
            money("prev_year_same_name_executed", "4,050,000", "元", 20),
        ],
        narratives={
            "项目概况": Field("年初第一季度开展无违建居（村）创建。", 9),
            "总目标及阶段性目标：": Field("总目标：通过第三方测评和评比，提高城管执法工作水平。", 14),
        },
        indicators=[
            Indicator(
                "投入与管理",
                "投入管理",
                "预算编制合理性",
                "合理",
                25,
                25,
                target_parsed=Comparison("合理", qualitative="合理"),
            ),
            Indicator(
                "投入与管理",
                "投入管理",
                "预算执行率",
                "=100%",
                26,
                26,
                target_parsed=cmp("=100%", "=", "100", "%"),
            ),
            Indicator(
                "效果目标",
                "满意度",
                "市民满意度",
                ">=85%",
                42,
                42,
                target_parsed=cmp(">=85%", ">=", "85", "%"),
            ),
        ],
        legal_citations=[
            LegalCitation(
                "《关于开展评选活动的通知》（沪城管执[2017]58号）",
                10,
                "立项依据",
                "沪城管执〔2017〕58号",
                "沪城管执[2017]58号",
                "沪城管执",
                2017,
                58,
                "关于开展评选活动的通知",
            ),
            LegalCitation(
                "关于表彰先进个人的决定》（沪城管执〔2018〕129号）",
                10,
                "立项依据",
                "沪城管执〔2018〕129号",
                "沪城管执〔2018〕129号",
                "沪城管执",
                2018,
                129,
                "关于表彰先进个人的决定",
            ),
            LegalCitation(
                "《上海市城市管理行政执法条例》", 11, "项目设立的必要性", title="上海市城市管理行政执法条例"
            ),
        ],
    )


def target_declaration() -> Form:
    return Form(
        file=TD_FILE,
        index_in_file=1,
        form_type=FormType.TARGET_DECLARATION,
        layout="td-2023",
        line_start=31,
        line_end=56,
        year=2023,
        project_name=Field("课题研究", 35),
        supervising_department=Field("上海市住房和城乡建设管理委员会", 36),
        implementing_unit=Field(SH_BUREAU, 36),
        project_category=Field("特定目标类", 35),
        project_nature=Field("其他一次性项目", 35),
        funds=[
            money("project_total", "400,000.00", "元", 38),
            money("annual_request_total", "400,000.00", "元", 38),
            money("project_total_fiscal", "400,000.00", "元", 39),
            money("annual_current_year_appropriation", "400,000.00", "元", 39),
            money("annual_carryover", "0.00", "元", 40),
            money("project_other_funds", "0.00", "元", 41),
            money("other_funds", "0.00", "元", 41),
        ],
        narratives={
            "项目总目标 (2023年 -2023年)": Field("开展课题研究。", 43),
            "年度总体目标": Field("完成7项课题研究。", 43),
        },
        indicators=[
            Indicator(
                "产出指标",
                "数量指标",
                "人员配置数量",
                "≥2(人)",
                45,
                45,
                target_parsed=cmp("≥2(人)", ">=", "2", "人"),
            ),
            Indicator(
                "产出指标", "数量指标", "工作开展天数", "120", 47, 47, target_parsed=cmp("120", None, "120")
            ),
            Indicator(
                "满意度指标",
                "服务对象满意度指标",
                "牵头处室满意度",
                "≥90(%)",
                53,
                54,
                target_parsed=cmp("≥90(%)", ">=", "90", "%"),
            ),
        ],
    )


def self_evaluation() -> Form:
    return Form(
        file=SE_FILE,
        index_in_file=0,
        form_type=FormType.SELF_EVALUATION,
        layout="bj-chaoyang-se",
        line_start=2,
        line_end=120,
        year=2020,
        project_name=Field("公共事务协管经费", 7),
        supervising_department=Field("朝阳城管执法局", 10),
        implementing_unit=Field("朝阳城管执法局", 12),
        money_unit="万元",
        funds=[
            money("initial_budget", "1514.0223", "万元", 31),
            money("full_year_budget", "1150.3927", "万元", 32),
            money("executed", "1142.8", "万元", 33),
            money("initial_budget", "1514.0223", "万元", 41, row="current_year_appropriation"),
        ],
        execution_rate=num("99%", 35),
        funds_weight=num("10", 34),
        funds_score=num("10", 36),
        narratives={
            "预期目标": Field("协助完成2020年度环境秩序保障。", 68),
            "实际完成情况": Field("完成。", 69),
        },
        extra_fields={"项目负责人": Field("唐云梅、季鲁卿", 15), "联系电话": Field("87710550", 17)},
        indicators=[
            Indicator(
                "产出指标",
                "数量指标",
                "协管人数",
                "112人（上半年）     85人（下半年）",
                80,
                83,
                actual="到位",
                weight=num("10", 84),
                score=num("10", 85),
            ),
            Indicator(
                "产出指标",
                "数量指标",
                "临时工人数",
                "6人",
                87,
                88,
                actual="到位",
                weight=num("10", 89),
                score=num("10", 90),
                target_parsed=cmp("6人", None, "6", "人"),
                actual_parsed=Comparison("到位", qualitative="到位"),
            ),
            Indicator(
                "满意度\n指标",
                "服务对象满意度指标",
                "群众满意度",
                "≥90%",
                100,
                101,
                actual="88%",
                weight=num("10.00", 102),
                score=num("9.50", 103),
                deviation_reason="宣传不足",
                target_parsed=cmp("≥90%", ">=", "90", "%"),
                actual_parsed=cmp("88%", None, "88", "%"),
            ),
        ],
        total_weight=num("100", 118),
        total_score=num("1000", 118),
    )


FORMS = (target_table, target_declaration, self_evaluation)


def form_node(form: Form, suffix: str = "") -> URIRef:
    return URIRef(f"{m.form_iri(form)}{suffix}")


def dec(lexical: str) -> Literal:
    return Literal(lexical, datatype=XSD.decimal)


def integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


# ----------------------------------------------------------------------------- IRIs and determinism


def test_graph_and_form_iris_come_from_file_stem_and_index_only() -> None:
    form = target_table()
    assert m.form_graph_iri(form) == URIRef(f"{ID}graph/000_bb01accd19b494dd/0")
    assert m.form_iri(form) == URIRef(f"{ID}form/000_bb01accd19b494dd/0")
    other = replace(form, project_name=Field("别的项目", 1), year=2021, file=f"some/dir/{TT_FILE}")
    assert m.form_graph_iri(other) == m.form_graph_iri(form)
    assert m.form_graph_iri(replace(form, index_in_file=1)) == URIRef(f"{ID}graph/000_bb01accd19b494dd/1")
    assert m.form_graph_iri(replace(form, file="项目 表.txt")) == URIRef(
        f"{ID}graph/%E9%A1%B9%E7%9B%AE%20%E8%A1%A8/0"
    )


@pytest.mark.parametrize("build", FORMS)
def test_mapping_twice_gives_equal_graphs_without_blank_nodes(build: object) -> None:
    assert callable(build)
    first, second = m.form_to_graph(build()), m.form_to_graph(build())
    assert set(first) == set(second)
    assert isomorphic(first, second)
    assert not [t for triple in first for t in triple if isinstance(t, BNode)]
    assert m.graph_to_nquads(*m.form_to_named_graph(build())) == m.graph_to_nquads(
        *m.form_to_named_graph(build())
    )


def test_quads_are_all_in_the_form_graph() -> None:
    form = target_declaration()
    quads = m.form_to_quads(form)
    assert {q[3] for q in quads} == {m.form_graph_iri(form)}
    assert len(quads) == len(m.form_to_graph(form))


# ----------------------------------------------------------------------------- form resource


def test_form_resource() -> None:
    form = target_table()
    g, s = m.form_to_graph(form), form_node(form)
    source = URIRef(f"{ID}source/{TT_FILE}")
    org = m.organization_iri(SH_BUREAU)
    expected = {
        (s, RDF.type, KG.TargetTable),
        (s, KG.fiscalYear, integer(2020)),
        (s, KG.formIndex, integer(0)),
        (s, KG.layout, Literal("sh-tt-2020")),
        (s, KG.lineStart, integer(3)),
        (s, KG.lineEnd, integer(43)),
        (s, DCTERMS.title, Literal("城管执法监督考核")),
        (s, PROV.wasDerivedFrom, source),
        (s, PROV.hadPrimarySource, source),
        (source, RDF.type, KG.SourceFile),
        (source, DCTERMS.identifier, Literal(TT_FILE)),
        (s, KG.reportingUnit, org),
        (s, KG.reportingUnitName, Literal(SH_BUREAU)),
        (org, RDF.type, ORG.Organization),
        (org, RDFS.label, Literal(SH_BUREAU, lang="zh")),
        (s, KG.projectCategory, Literal("其他一次性项目")),
        (s, KG.performanceType, Literal("事业/专业类")),
        (s, KG.includesGovernmentPurchase, Literal("false", datatype=XSD.boolean)),
        (s, KG.includesGovernmentPurchaseRaw, Literal("否")),
        (s, KG.plannedStart, Literal("2020-01-01", datatype=XSD.date)),
        (s, KG.plannedEnd, Literal("2020-12-31", datatype=XSD.date)),
        (s, KG.plannedStartRaw, Literal("2020-01-01")),
        (s, KG.moneyUnit, Literal("元")),
        (s, KG.projectOverview, Literal("年初第一季度开展无违建居（村）创建。")),
        (s, KG.overallAndPhasedGoals, Literal("总目标：通过第三方测评和评比，提高城管执法工作水平。")),
    }
    assert expected <= set(g)
    assert g.value(s, KG.project) == m.project_iri("城管执法监督考核", SH_BUREAU)
    for absent in (KG.executionRate, KG.totalScore, KG.grade, KG.implementingUnit, KG.projectNature):
        assert g.value(s, absent) is None


def test_narratives_and_extra_fields_are_parts_with_lines() -> None:
    form = self_evaluation()
    g, s = m.form_to_graph(form), form_node(form)
    narratives = {str(g.value(n, KG.fieldLabel)): n for n in g.objects(s, KG.hasNarrative)}
    assert set(narratives) == {"预期目标", "实际完成情况"}
    goal = narratives["预期目标"]
    assert goal == URIRef(f"{m.form_iri(form)}/narrative/{m.short_hash('预期目标')}")
    assert (goal, RDF.type, KG.FormField) in g
    assert g.value(goal, KG.fieldValue) == Literal("协助完成2020年度环境秩序保障。")
    assert (g.value(goal, KG.lineStart), g.value(goal, KG.lineEnd)) == (integer(68), integer(68))
    assert g.value(s, KG.expectedGoal) == Literal("协助完成2020年度环境秩序保障。")
    extras = {
        str(g.value(f, KG.fieldLabel)): str(g.value(f, KG.fieldValue)) for f in g.objects(s, KG.hasExtraField)
    }
    assert extras == {"项目负责人": "唐云梅、季鲁卿", "联系电话": "87710550"}
    td = target_declaration()
    td_graph = m.form_to_graph(td)
    assert td_graph.value(form_node(td), KG.projectOverallGoal) == Literal("开展课题研究。")


def test_units_projects_and_sub_organizations() -> None:
    td, se, tt = (m.form_to_graph(build()) for build in (target_declaration, self_evaluation, target_table))
    bureau, commission = m.organization_iri(SH_BUREAU), m.organization_iri("上海市住房和城乡建设管理委员会")
    assert (bureau, ORG.subOrganizationOf, commission) in td
    assert (form_node(target_declaration()), KG.implementingUnit, bureau) in td
    assert (form_node(target_table()), KG.reportingUnit, bureau) in tt
    assert not list(se.triples((None, ORG.subOrganizationOf, None)))  # 主管部门 = 实施单位
    assert m.organization_iri("上海市 城市管理 行政执法局") == bureau
    assert m.project_iri("课题研究", SH_BUREAU) == m.project_iri("课题 研究", " 上海市城市管理行政执法局")
    assert m.project_iri("课题研究", SH_BUREAU) != m.project_iri("课题研究", "朝阳城管执法局")
    project = td.value(form_node(target_declaration()), KG.project)
    assert project == m.project_iri("课题研究", SH_BUREAU)
    assert set(td.objects(project, RDFS.label)) == {Literal("课题研究", lang="zh")}


# ----------------------------------------------------------------------------- indicators


def test_indicator_names_target_and_provenance() -> None:
    form = target_table()
    g = m.form_to_graph(form)
    rate = form_node(form, "/indicator/1")
    assert (form_node(form), KG.hasIndicator, rate) in g
    assert {
        (p, o) for p, o in g.predicate_objects(rate) if p != KG.level1Category and p != KG.level2Category
    } == {
        (RDF.type, KG.Indicator),
        (PROV.wasDerivedFrom, URIRef(f"{ID}source/{TT_FILE}")),
        (KG.lineStart, integer(26)),
        (KG.lineEnd, integer(26)),
        (KG.indicatorIndex, integer(1)),
        (KG.level1Name, Literal("投入与管理")),
        (KG.level2Name, Literal("投入管理")),
        (KG.level3Name, Literal("预算执行率")),
        (KG.targetRaw, Literal("=100%")),
        (KG.targetOperator, Literal("=")),
        (KG.targetValue, dec("100")),
        (KG.targetUnit, Literal("%")),
    }
    qualitative = form_node(form, "/indicator/0")
    assert g.value(qualitative, KG.targetQualitative) == Literal("合理")
    assert g.value(qualitative, KG.targetValue) is None


def test_indicator_categories_form_a_skos_tree_per_form_type() -> None:
    form = target_table()
    g = m.form_to_graph(form)
    satisfaction = form_node(form, "/indicator/2")
    scheme = URIRef(f"{ID}scheme/indicator-category/target_table")
    l1, l2 = g.value(satisfaction, KG.level1Category), g.value(satisfaction, KG.level2Category)
    assert l1 == m.category_iri(FormType.TARGET_TABLE, "效果目标")
    assert l2 == m.category_iri(FormType.TARGET_TABLE, "效果目标", "满意度")
    assert {
        (scheme, RDF.type, SKOS.ConceptScheme),
        (scheme, SKOS.prefLabel, Literal("绩效目标表指标体系", lang="zh")),
        (l1, RDF.type, SKOS.Concept),
        (l1, RDF.type, KG.IndicatorCategory),
        (l1, SKOS.prefLabel, Literal("效果目标", lang="zh")),
        (l1, SKOS.inScheme, scheme),
        (l1, SKOS.topConceptOf, scheme),
        (l1, KG.categoryLevel, integer(1)),
        (l2, SKOS.prefLabel, Literal("满意度", lang="zh")),
        (l2, SKOS.broader, l1),
        (l2, SKOS.inScheme, scheme),
        (l2, KG.categoryLevel, integer(2)),
    } <= set(g)
    assert len(set(g.subjects(RDF.type, SKOS.Concept))) == 4  # 投入与管理, 投入管理, 效果目标, 满意度
    se = self_evaluation()
    se_l1 = m.form_to_graph(se).value(form_node(se, "/indicator/2"), KG.level1Category)
    assert se_l1 == m.category_iri(FormType.SELF_EVALUATION, "满意度指标")  # "满意度\n指标" normalised
    assert se_l1 != m.category_iri(FormType.TARGET_DECLARATION, "满意度指标")


def test_self_evaluation_results_weights_and_scores() -> None:
    form = self_evaluation()
    g, s = m.form_to_graph(form), form_node(form)
    row = form_node(form, "/indicator/2")
    assert {
        (row, KG.actualRaw, Literal("88%")),
        (row, KG.actualValue, dec("88")),
        (row, KG.actualUnit, Literal("%")),
        (row, KG.weight, dec("10")),
        (row, KG.weightRaw, Literal("10.00")),
        (row, KG.score, dec("9.5")),
        (row, KG.scoreRaw, Literal("9.50")),
        (row, KG.deviationReason, Literal("宣传不足")),
        (form_node(form, "/indicator/1"), KG.actualQualitative, Literal("到位")),
        (s, KG.executionRate, dec("99")),
        (s, KG.executionRateRaw, Literal("99%")),
        (s, KG.fundsWeight, dec("10")),
        (s, KG.fundsScore, dec("10")),
        (s, KG.totalWeight, dec("100")),
        (s, KG.totalScore, dec("1000")),
        (s, KG.totalScoreRaw, Literal("1000")),
    } <= set(g)
    unparsed = form_node(form, "/indicator/0")
    assert g.value(unparsed, KG.targetRaw) == Literal("112人（上半年）     85人（下半年）")
    assert g.value(unparsed, KG.targetOperator) is None and g.value(unparsed, KG.targetValue) is None


# ----------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("value", "lexical"),
    [
        (Decimal("38700000"), "38700000"),
        (Decimal("0.00"), "0"),
        (Decimal("-0.00"), "0"),
        (Decimal("1514.0223") * 10000, "15140223"),
        (Decimal("419.5215") * 10000, "4195215"),
        (Decimal("1514.02235") * 10000, "15140223.5"),
        (Decimal("86.75"), "86.75"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.50"), "-0.5"),
    ],
)
def test_decimal_literals_are_exact_and_canonical(value: Decimal, lexical: str) -> None:
    literal = m.decimal_literal(value)
    assert (str(literal), literal.datatype) == (lexical, XSD.decimal)
    assert literal.toPython() == value
    line = Graph()
    line.add((ID.s, KG.amountYuan, literal))
    assert f'"{lexical}"^^<{XSD.decimal}>' in line.serialize(format="nt")


def test_decimal_literal_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="not a finite decimal"):
        m.decimal_literal(Decimal("NaN"))


def test_funding_figures_by_kind_and_row() -> None:
    form = self_evaluation()
    g = m.form_to_graph(form)
    total = form_node(form, "/fund/initial_budget/total")
    row = form_node(form, "/fund/initial_budget/current_year_appropriation")
    assert {(p, o) for p, o in g.predicate_objects(total)} == {
        (RDF.type, KG.FundingFigure),
        (PROV.wasDerivedFrom, URIRef(f"{ID}source/{SE_FILE}")),
        (KG.lineStart, integer(31)),
        (KG.lineEnd, integer(31)),
        (KG.figureIndex, integer(0)),
        (KG.fundingKind, KG.FundingKind_initial_budget),
        (KG.fundingKindCode, Literal("initial_budget")),
        (KG.fundsRow, Literal("total")),
        (KG.amountYuan, dec("15140223")),
        (KG.amountInSourceUnit, dec("1514.0223")),
        (KG.sourceUnit, KG.TenThousandYuan),
        (KG.rawText, Literal("1514.0223")),
    }
    assert g.value(row, KG.fundsRow) == Literal("current_year_appropriation")
    assert len(set(g.objects(form_node(form), KG.hasFundingFigure))) == 4
    td = target_declaration()
    carryover = m.form_to_graph(td).value(form_node(td, "/fund/annual_carryover/total"), KG.amountYuan)
    assert isinstance(carryover, Literal)
    assert carryover == dec("0") and carryover.toPython() == Decimal(0)


def test_unknown_money_unit_is_refused_with_its_line() -> None:
    form = replace(target_table(), funds=[money("project_total_budget", "3.87", "亿元", 19)])
    with pytest.raises(ValueError, match="line 19: cannot convert money unit '亿元'"):
        m.form_to_graph(form)


# ----------------------------------------------------------------------------- legal citations


def test_legal_citations_and_documents() -> None:
    form = target_table()
    g = m.form_to_graph(form)
    first = form_node(form, "/citation/0")
    document = m.legal_document_iri(form.legal_citations[0])
    assert {(p, o) for p, o in g.predicate_objects(first)} == {
        (RDF.type, KG.LegalCitation),
        (PROV.wasDerivedFrom, URIRef(f"{ID}source/{TT_FILE}")),
        (KG.lineStart, integer(10)),
        (KG.lineEnd, integer(10)),
        (KG.citationIndex, integer(0)),
        (KG.rawText, Literal("《关于开展评选活动的通知》（沪城管执[2017]58号）")),
        (KG.sourceField, Literal("立项依据")),
        (KG.docNumber, Literal("沪城管执〔2017〕58号")),
        (KG.docNumberRaw, Literal("沪城管执[2017]58号")),
        (KG.issuerCode, Literal("沪城管执")),
        (KG.docYear, integer(2017)),
        (KG.docSequence, integer(58)),
        (DCTERMS.title, Literal("关于开展评选活动的通知")),
        (KG.citesDocument, document),
    }
    assert {
        (document, RDF.type, ELI.LegalResource),
        (document, ELI.id_local, Literal("沪城管执〔2017〕58号")),
        (document, ELI.title, Literal("关于开展评选活动的通知")),
    } <= set(g)
    # The same 文号 cited elsewhere (other title, spacing) is the same document;
    # a citation without 文号 is keyed by its title.
    again = replace(form.legal_citations[0], doc_number=" 沪城管执〔2017〕 58号", title="另一标题")
    assert m.legal_document_iri(again) == document
    untitled = g.value(form_node(form, "/citation/2"), KG.citesDocument)
    assert untitled == URIRef(f"{ID}legal/{m.short_hash('title:上海市城市管理行政执法条例')}")
    assert g.value(untitled, ELI.id_local) is None


# ----------------------------------------------------------------------------- ontology coherence


def test_mapping_uses_only_declared_terms_with_their_declared_kinds() -> None:
    onto = load_ontology()  # every module: the mapping also writes derived facts (kg-validation.ttl)
    kinds = {
        kind: set(onto.subjects(RDF.type, kind))
        for kind in (
            OWL.Class,
            OWL.ObjectProperty,
            OWL.DatatypeProperty,
            OWL.AnnotationProperty,
            OWL.NamedIndividual,
        )
    }
    problems = []
    for build in FORMS:
        for _, p, o in m.form_to_graph(build()):
            if p == RDF.type:
                ok = o in kinds[OWL.Class]
            elif p in kinds[OWL.ObjectProperty]:
                ok = isinstance(o, URIRef)
            elif p in kinds[OWL.DatatypeProperty]:
                expected = onto.value(p, RDFS.range)
                actual = (o.datatype or XSD.string) if isinstance(o, Literal) and not o.language else None
                ok = actual is not None and (expected is None or actual == expected)
            else:
                ok = p in kinds[OWL.AnnotationProperty] or p == RDFS.label
            if not ok:
                problems.append((p, o))
    assert problems == []


def test_mapped_forms_are_consistent_with_the_ontology_under_hermit(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("java not found on PATH: owlready2 needs it to run HermiT")
    graph = load_ontology()
    for build in FORMS:
        graph += m.form_to_graph(build())
    path = tmp_path / "data.owl"
    graph.serialize(path, format="xml")
    owlready2.reasoning.JAVA_MEMORY = 512
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    # xsd:date (planned dates) is outside the OWL 2 datatype map: HermiT is told to ignore it.
    owlready2.sync_reasoner(world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True)


# ----------------------------------------------------------------------------- named queries


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    data = m.forms_to_nquads(build() for build in FORMS)
    store.load(data.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    return store


def run(store: ox.Store, name: str, union: bool = True, **params: str) -> list[list[str]]:
    query = load_named_queries()[name]
    result = store.query(
        query.text, use_default_graph_as_union=union, substitutions=query.substitutions(params)
    )
    assert isinstance(result, ox.QuerySolutions)
    data = result.serialize(format=ox.QueryResultsFormat.CSV)
    assert data is not None
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_forms_query(store: ox.Store) -> None:
    assert run(store, "forms") == [
        [
            "file",
            "form_index",
            "form_type",
            "year",
            "project",
            "unit",
            "indicator_count",
            "execution_rate",
            "funds_weight",
            "funds_score",
            "total_weight",
            "total_score",
            "grade",
        ],
        [TT_FILE, "0", "target_table", "2020", "城管执法监督考核", SH_BUREAU, "3", "", "", "", "", "", ""],
        [TD_FILE, "1", "target_declaration", "2023", "课题研究", SH_BUREAU, "3", "", "", "", "", "", ""],
        [
            SE_FILE,
            "0",
            "self_evaluation",
            "2020",
            "公共事务协管经费",
            "朝阳城管执法局",
            "3",
            "99",
            "10",
            "10",
            "100",
            "1000",
            "",
        ],
    ]


def test_indicators_query(store: ox.Store) -> None:
    rows = run(store, "indicators")
    assert rows[0] == [
        "file",
        "form_index",
        "project",
        "year",
        "form_type",
        "l1",
        "l2",
        "l3",
        "target",
        "actual",
        "weight",
        "score",
        "deviation_reason",
        "target_operator",
        "target_value",
        "target_unit",
    ]
    tt = [TT_FILE, "0", "城管执法监督考核", "2020", "target_table"]
    td = [TD_FILE, "1", "课题研究", "2023", "target_declaration"]
    se = [SE_FILE, "0", "公共事务协管经费", "2020", "self_evaluation"]
    assert rows[1:] == [
        [*tt, "投入与管理", "投入管理", "预算编制合理性", "合理", "", "", "", "", "", "", ""],
        [*tt, "投入与管理", "投入管理", "预算执行率", "=100%", "", "", "", "", "=", "100", "%"],
        [*tt, "效果目标", "满意度", "市民满意度", ">=85%", "", "", "", "", ">=", "85", "%"],
        [*td, "产出指标", "数量指标", "人员配置数量", "≥2(人)", "", "", "", "", ">=", "2", "人"],
        [*td, "产出指标", "数量指标", "工作开展天数", "120", "", "", "", "", "", "120", ""],
        [
            *td,
            "满意度指标",
            "服务对象满意度指标",
            "牵头处室满意度",
            "≥90(%)",
            "",
            "",
            "",
            "",
            ">=",
            "90",
            "%",
        ],
        [
            *se,
            "产出指标",
            "数量指标",
            "协管人数",
            "112人（上半年）     85人（下半年）",
            "到位",
            "10",
            "10",
            "",
            "",
            "",
            "",
        ],
        [*se, "产出指标", "数量指标", "临时工人数", "6人", "到位", "10", "10", "", "", "6", "人"],
        [
            *se,
            "满意度\n指标",
            "服务对象满意度指标",
            "群众满意度",
            "≥90%",
            "88%",
            "10",
            "9.5",
            "宣传不足",
            ">=",
            "90",
            "%",
        ],
    ]


def test_funds_query(store: ox.Store) -> None:
    tt = [TT_FILE, "0", "城管执法监督考核", "2020"]
    td = [TD_FILE, "1", "课题研究", "2023"]
    se = [SE_FILE, "0", "公共事务协管经费", "2020"]
    assert run(store, "funds") == [
        ["file", "form_index", "project", "year", "kind", "amount_yuan", "raw"],
        [*tt, "project_total_budget", "3870000", "3,870,000"],
        [*tt, "current_year_budget", "3870000", "3,870,000"],
        [*tt, "prev_year_same_name_budget", "4050000", "4,050,000"],
        [*tt, "prev_year_same_name_executed", "4050000", "4,050,000"],
        [*td, "project_total", "400000", "400,000.00"],
        [*td, "annual_request_total", "400000", "400,000.00"],
        [*td, "project_total_fiscal", "400000", "400,000.00"],
        [*td, "annual_current_year_appropriation", "400000", "400,000.00"],
        [*td, "annual_carryover", "0", "0.00"],
        [*td, "other_funds", "0", "0.00"],
        [*se, "initial_budget", "15140223", "1514.0223"],
        [*se, "full_year_budget", "11503927", "1150.3927"],
        [*se, "executed", "11428000", "1142.8"],
    ]


def test_legal_bases_query(store: ox.Store) -> None:
    tt = [TT_FILE, "0", "城管执法监督考核", "2020"]
    assert run(store, "legal-bases") == [
        ["file", "form_index", "project", "year", "doc_number", "title", "raw"],
        [
            *tt,
            "沪城管执〔2017〕58号",
            "关于开展评选活动的通知",
            "《关于开展评选活动的通知》（沪城管执[2017]58号）",
        ],
        [
            *tt,
            "沪城管执〔2018〕129号",
            "关于表彰先进个人的决定",
            "关于表彰先进个人的决定》（沪城管执〔2018〕129号）",
        ],
        [*tt, "", "上海市城市管理行政执法条例", "《上海市城市管理行政执法条例》"],
    ]


def test_query_parameters_filter_and_unbound_means_all(store: ox.Store) -> None:
    assert [r[0] for r in run(store, "forms", year="2020")[1:]] == [TT_FILE, SE_FILE]
    assert [r[0] for r in run(store, "forms", form_type="target_declaration")[1:]] == [TD_FILE]
    assert len(run(store, "indicators", file=SE_FILE)) == 1 + 3
    assert run(store, "funds", kind="executed", year="2020")[1:] == [
        [SE_FILE, "0", "公共事务协管经费", "2020", "executed", "11428000", "1142.8"]
    ]
    assert run(store, "legal-bases", project="课题研究") == [
        ["file", "form_index", "project", "year", "doc_number", "title", "raw"]
    ]


def test_forms_of_one_file_sharing_resources_are_not_duplicated() -> None:
    # Both graphs hold the source file, the unit and the categories: the union default graph repeats them.
    first = target_table()
    second = replace(first, index_in_file=1, line_start=45, line_end=90)
    store = ox.Store()
    store.load(m.forms_to_nquads([first, second]).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    assert [row[:2] + row[6:7] for row in run(store, "forms")[1:]] == [
        [TT_FILE, "0", "3"],
        [TT_FILE, "1", "3"],
    ]
    assert [len(run(store, name)) - 1 for name in ("indicators", "funds", "legal-bases")] == [6, 8, 6]
    assert len(m.form_to_graph(first)) == len(m.form_to_graph(second))


def test_queries_give_the_same_rows_on_a_merged_default_graph(store: ox.Store) -> None:
    merged = ox.Store()
    for quad in store:
        merged.add(ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph()))
    for name in load_named_queries():
        assert run(merged, name, union=False) == run(store, name), name


def test_reingesting_a_form_replaces_its_graph(store: ox.Store) -> None:
    local = ox.Store()
    for quad in store:
        local.add(quad)
    changed = replace(target_declaration(), indicators=target_declaration().indicators[:1])
    graph_iri = ox.NamedNode(str(m.form_graph_iri(changed)))
    local.clear_graph(graph_iri)
    local.load(m.forms_to_nquads([changed]).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    counts = {row[0]: row[6] for row in run(local, "forms")[1:]}
    assert counts == {TT_FILE: "3", TD_FILE: "1", SE_FILE: "3"}


# ----------------------------------------------------------------------------- query headers


def test_named_queries_load_with_headers() -> None:
    queries = load_named_queries()
    form_queries = ["forms", "funds", "indicators", "legal-bases"]
    assert set(form_queries) <= set(queries)  # the cross-year queries of kg link: tests/test_link_seeds.py
    for name, query in queries.items():
        assert query.path.name == f"{name}.rq"
        assert query.description
        if name in form_queries:
            assert [p.name for p in query.params][:2] == ["file", "year"]
    assert queries["forms"].param("year") == QueryParam("year", "integer", "2024")
    assert queries["funds"].param("kind") == QueryParam("kind", "string", "annual_request_total")


def test_queries_dir_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "q.rq").write_text(
        "# name: q\n# description: first\n# description: second\n"
        "# param: ?n decimal 1.5 or more\n#\nSELECT ?n {}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KG_QUERIES_DIR", str(tmp_path))
    query = load_named_queries()["q"]
    assert (query.description, query.params) == ("first second", (QueryParam("n", "decimal", "1.5 or more"),))
    assert query.substitutions({"n": "2.50"}) == {
        ox.Variable("n"): ox.Literal("2.50", datatype=ox.NamedNode(str(XSD.decimal)))
    }


def test_malformed_headers_and_values_are_reported() -> None:
    with pytest.raises(ValueError, match=r"x\.rq: no `# name:` line"):
        parse_named_query("# description: d\nSELECT * {}\n", Path("x.rq"))
    with pytest.raises(ValueError, match=r"x\.rq:2: expected `# param:"):
        parse_named_query("# name: x\n# param: year number 2020\n", Path("x.rq"))
    with pytest.raises(ValueError, match="'year': 'MMXX' is not of type integer"):
        to_term(QueryParam("year", "integer", "2020"), "MMXX")
    with pytest.raises(ValueError, match="has no parameter 'grade'"):
        load_named_queries()["forms"].substitutions({"grade": "优"})
