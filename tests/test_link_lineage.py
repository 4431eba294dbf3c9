"""The lineage linker on small hand-made forms: renamed projects joined, look-alikes kept apart, the unit
gate, one target form and one evaluation per year, prior-year figures, and curated overrides winning."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from rdflib import Literal, URIRef

from kg.link import link_forms
from kg.link.lineage import (
    THRESHOLD,
    Scorer,
    build_lineages,
    char_dice,
    containment,
    core_name,
    lineages_graph,
)
from kg.link.overrides import FormRef, OverrideError, parse_overrides
from kg.link.records import FigureRecord, FormRecord, IndicatorRecord
from kg.link.units import UnitRegistry
from kg.rdf.namespaces import KG, RDF

BUREAU = "上海市城市管理行政执法局"
OTHER = "上海市绿化和市容管理局"


def form(
    key: str,
    year: int,
    title: str,
    form_type: str = "target_declaration",
    unit: str = BUREAU,
    indicators: tuple[str, ...] = (),
    figures: dict[str, str] | None = None,
) -> FormRecord:
    iri = f"https://example.org/form/{key}"
    return FormRecord(
        iri=iri,
        form_type=form_type,
        year=year,
        title=title,
        file=f"{key}.txt",
        index=0,
        implementing_unit=unit,
        indicators=[IndicatorRecord(f"{iri}/indicator/{n}", None, l3) for n, l3 in enumerate(indicators)],
        figures=[
            FigureRecord(f"{iri}/fund/{kind}/total", kind, Decimal(amount), n)
            for n, (kind, amount) in enumerate((figures or {}).items())
        ],
    )


# A pool of other projects, so that indicator and character rarity look like a real unit's.
FILLER = [
    form(f"pool{n}", 2023, name, indicators=("长效管理机制健全性", "项目验收通过率", f"指标{n}"))
    for n, name in enumerate(("城管执法装备建设", "城管执法应急保障", "课题研究", "城管执法队伍规范化建设"))
]
LEGAL_INDICATORS = (
    "活动参与人数",
    "工作内容完成率",
    "权责清单公开透明",
    "项目覆盖率",
    "活动参与程度",
    "裁量基准使用",
)


def lineages_of(forms: list[FormRecord], overrides: str = "") -> list[set[str]]:
    parsed = parse_overrides(overrides, "overrides.csv") if overrides else []
    result = link_forms(forms, parsed).result
    return [{f.iri.rsplit("/", 1)[1] for f in lineage.members} for lineage in result.lineages]


def together(groups: list[set[str]], *keys: str) -> bool:
    return any(set(keys) <= group for group in groups)


def test_similarity_helpers() -> None:
    assert char_dice("依法行政辅助服务工作", "依法行政辅助工作服务") == 1.0  # reordered
    assert containment("城管执法监督考核", "城管执法监督考核辅助工作") == 1.0  # words added
    assert containment("城管执法教育培训", "城管执法人员教育培训") == 1.0  # a word dropped
    assert core_name("依法行政辅助服务工作") == "依法行政" == core_name(" 依法行政辅助工作服务")
    assert char_dice("城管执法社会宣传", "城管执法普法宣传") == 0.75


def test_a_renamed_project_is_joined() -> None:
    forms = [
        *FILLER,
        form(
            "a",
            2023,
            "依法行政辅助服务工作",
            indicators=LEGAL_INDICATORS,
            figures={"annual_request_total": "500000"},
        ),
        form(
            "b",
            2024,
            "依法行政辅助工作服务",
            "self_evaluation",
            indicators=LEGAL_INDICATORS[:4],
            figures={"initial_budget": "500000", "full_year_budget": "500000", "executed": "500000"},
        ),
    ]
    result = link_forms(forms).result
    [joined] = [lineage for lineage in result.lineages if len(lineage.members) == 2]
    assert [f.title for f in joined.members] == ["依法行政辅助服务工作", "依法行政辅助工作服务"]
    [link] = joined.links
    assert link.method == "algorithm" and link.confidence >= THRESHOLD
    signals = {s.code: s.value for s in link.candidate.signals}
    assert signals["same_unit"] == signals["name"] == signals["core_name"] == signals["funds"] == 1
    assert signals["indicators"] == 1  # all four of the smaller form's indicators are shared


def test_look_alike_projects_are_not_joined() -> None:
    publicity = (
        "拍摄数量",
        "视频号发布数量",
        "在线访谈栏目活动数量",
        "城管公众开放日活动数量",
        "长效管理机制健全性",
    )
    law = ("制作、发放宣传资料数量", "优化法治环境", "提高全社会遵法守法意识", "长效管理机制健全性")
    forms = [
        *FILLER,
        form(
            "social",
            2023,
            "城管执法社会宣传",
            indicators=publicity,
            figures={"annual_request_total": "1801600"},
        ),
        form(
            "law",
            2024,
            "城管执法普法宣传",
            "self_evaluation",
            indicators=law,
            figures={"initial_budget": "200000", "full_year_budget": "200000", "executed": "200000"},
        ),
    ]
    assert not together(lineages_of(forms), "social", "law")
    scorer = Scorer(forms, UnitRegistry.build(forms))
    assert scorer.candidate(forms[-2], forms[-1], full=True).score < Decimal("0.5")


def test_the_same_name_in_another_unit_is_another_project() -> None:
    forms = [form("a", 2023, "课题研究"), form("b", 2024, "课题研究", "self_evaluation", unit=OTHER)]
    assert lineages_of(forms) == [{"a"}, {"b"}]
    # unit aliases are one unit
    forms = [
        form("a", 2023, "课题研究", unit="朝阳城管执法局"),
        form("b", 2024, "课题研究", "self_evaluation", unit="朝阳区城管执法局"),
    ]
    assert lineages_of(forms) == [{"a", "b"}]


def test_one_target_form_and_one_evaluation_per_year() -> None:
    forms = [
        form("td", 2024, "课题研究"),
        form("se1", 2024, "课题研究", "self_evaluation"),
        form("se2", 2024, "课题研究", "self_evaluation"),
    ]
    groups = lineages_of(forms)
    assert sorted(map(len, groups)) == [1, 2]  # the target form joins one evaluation of its year
    assert not together(groups, "se1", "se2")


def test_the_best_match_wins_when_a_look_alike_exists_too() -> None:
    forms = [
        *FILLER,
        form("social23", 2023, "城管执法社会宣传", figures={"annual_request_total": "1801600"}),
        form("law23", 2023, "城管执法普法宣传", figures={"annual_request_total": "200000"}),
        form("social24", 2024, "城管执法社会宣传", "self_evaluation", figures={"initial_budget": "1800000"}),
        form("law24", 2024, "城管执法普法宣传", "self_evaluation", figures={"initial_budget": "200000"}),
    ]
    groups = lineages_of(forms)
    assert together(groups, "social23", "social24") and together(groups, "law23", "law24")
    assert not together(groups, "social23", "law24")


def test_prior_year_figures_are_a_signal_and_become_facts_of_the_previous_year() -> None:
    earlier = form(
        "y2019",
        2019,
        "城管执法监督考核",
        "self_evaluation",
        figures={"initial_budget": "4050000", "full_year_budget": "4050000", "executed": "4050000"},
    )
    later = form(
        "y2020",
        2020,
        "城管执法监督考核",
        "target_table",
        figures={
            "current_year_budget": "3870000",
            "prev_year_same_name_budget": "4050000",
            "prev_year_same_name_executed": "4050000",
        },
    )
    report = link_forms([earlier, later])
    [lineage] = report.lineages
    [link] = lineage.links
    assert {s.code: s.value for s in link.candidate.signals}["prior_year"] == 1
    graph = lineages_graph(report.result, report.units)
    facts = sorted(graph.subjects(RDF.type, KG.PriorYearFunding))
    assert len(facts) == 2
    for fact in facts:
        assert graph.value(fact, KG.fundingYear) == Literal(2019)
        assert graph.value(fact, KG.reportedBy) == URIRef(later.iri)
        assert (lineage.iri, KG.hasPriorYearFunding, fact) in graph
    assert (lineage.iri, KG.lineageMember, URIRef(earlier.iri)) in graph
    # forward navigation: every later form of the lineage, and nothing backwards
    assert list(graph.subject_objects(KG.continuedBy)) == [(URIRef(earlier.iri), URIRef(later.iri))]
    evidence = {str(graph.value(e, KG.signal)) for e in graph.subjects(RDF.type, KG.LinkEvidence)}
    assert evidence == {"same_unit", "name", "core_name", "funds", "prior_year"}


def test_sort_orders_rank_forms_by_file_and_lineages_by_label() -> None:
    """kg:sortOrder stands in for ORDER BY ?file ?form_index (and ?label ?lineage) in the named queries:
    the ranks must follow exactly those strings, whatever the year or the order the forms came in."""
    forms = [
        form("c", 2023, "乙项目"),
        form("a", 2024, "乙项目", "self_evaluation"),
        form("b", 2022, "甲项目", unit="另一单位"),
    ]
    second = dataclasses.replace(forms[0], iri=forms[0].iri + "-1", index=1)
    report = link_forms([*forms, second])
    graph = lineages_graph(report.result, report.units)

    def rank(node: URIRef) -> int:
        value = graph.value(node, KG.sortOrder)
        assert isinstance(value, Literal)
        return int(value)

    by_rank = sorted([*forms, second], key=lambda record: rank(URIRef(record.iri)))
    assert [(record.file, record.index) for record in by_rank] == [
        ("a.txt", 0),
        ("b.txt", 0),
        ("c.txt", 0),
        ("c.txt", 1),
    ]
    lineages = sorted(report.lineages, key=lambda lineage: rank(lineage.iri))
    assert [lineage.label for lineage in lineages] == sorted(lineage.label for lineage in report.lineages)
    assert [rank(lineage.iri) for lineage in lineages] == list(range(len(report.lineages)))


OVERRIDES_HEADER = "action,form_a,form_b,comment\n"


def test_reject_wins_over_the_algorithm_even_through_other_forms() -> None:
    forms = [
        form("a", 2022, "课题研究"),
        form("b", 2023, "课题研究"),
        form("c", 2024, "课题研究", "self_evaluation"),
    ]
    assert lineages_of(forms) == [{"a", "b", "c"}]
    # a and c are never joined, not even through b: b joins one of them
    groups = lineages_of(forms, OVERRIDES_HEADER + "reject,2022:课题研究,2024:课题研究,two projects\n")
    assert not together(groups, "a", "c")
    assert together(groups, "a", "b") != together(groups, "b", "c")
    groups = lineages_of(forms, OVERRIDES_HEADER + "reject,a.txt#0,b.txt#0,\nreject,b.txt#0,c.txt#0,\n")
    assert groups == [{"a", "c"}, {"b"}]  # b is kept apart; a and c may still continue each other


def test_add_and_confirm_win_over_the_algorithm() -> None:
    forms = [
        *FILLER,
        form("repair", 2023, "徐家汇路579号外墙排险维修"),
        form("upkeep", 2024, "金丽大厦维修维护费", "self_evaluation", unit=OTHER),
    ]
    assert not together(lineages_of(forms), "repair", "upkeep")
    overrides = (
        OVERRIDES_HEADER
        + "add,徐家汇路579号外墙排险维修,2024:金丽大厦维修维护费@上海市绿化和市容管理局,moved\n"
    )
    result = link_forms(forms, parse_overrides(overrides, "o.csv")).result
    [joined] = [lineage for lineage in result.lineages if len(lineage.members) == 2]
    [link] = joined.links
    assert (link.method, link.confidence, link.comment, link.source) == ("added", 1, "moved", "o.csv:2")
    assert {s.code: s.value for s in link.candidate.signals}["same_unit"] == 0
    confirmed = link_forms(
        [form("a", 2023, "课题研究"), form("b", 2024, "课题研究", "self_evaluation")],
        parse_overrides(OVERRIDES_HEADER + "confirm,a.txt#0,b.txt#0,checked\n"),
    )
    assert [link.method for link in confirmed.lineages[0].links] == ["confirmed"]
    assert confirmed.lineages[0].confidence == 1


def test_overrides_that_conflict_or_name_no_form_are_warnings() -> None:
    forms = [form("a", 2023, "课题研究"), form("b", 2024, "课题研究", "self_evaluation")]
    overrides = parse_overrides(
        OVERRIDES_HEADER + "reject,a.txt#0,b.txt#0,\nconfirm,a.txt#0,b.txt#0,\nadd,2019:没有,a.txt#0,\n",
        "o.csv",
    )
    result = build_lineages(forms, UnitRegistry.build(forms), overrides)
    assert [len(lineage.members) for lineage in result.lineages] == [1, 1]
    assert result.warnings == [
        "o.csv:4: add ignored: no loaded form matches '2019:没有'",
        "o.csv:3: confirm 2023 课题研究 (target_declaration, a.txt#0) - "
        "2024 课题研究 (self_evaluation, b.txt#0) ignored: it would join forms that a reject keeps apart",
    ]


def test_overrides_file_format() -> None:
    text = (
        '\ufeff# comment\n\naction,form_a,form_b,comment\nConfirm, 2020：城管执法监督考核 ,f.txt#3,"a, b"\n'
    )
    [override] = parse_overrides(text, "x.csv")
    assert (override.action, override.line, override.comment) == ("confirm", 4, "a, b")
    assert override.a == FormRef("2020：城管执法监督考核", year=2020, name="城管执法监督考核")
    assert override.b == FormRef("f.txt#3", file="f.txt", index=3)
    assert FormRef.parse("课题研究@朝阳区城管执法局") == FormRef(
        "课题研究@朝阳区城管执法局", name="课题研究", unit="朝阳区城管执法局"
    )
    with pytest.raises(OverrideError, match=r"x\.csv:1: expected the header"):
        parse_overrides("form_a,form_b\n", "x.csv")
    with pytest.raises(OverrideError, match=r"x\.csv:2: action must be one of confirm, reject, add"):
        parse_overrides("action,form_a,form_b,comment\nmerge,a,b,\n", "x.csv")
    with pytest.raises(OverrideError, match=r"x\.csv:2: not a form reference"):
        parse_overrides("action,form_a,form_b,comment\nadd,a,,\n", "x.csv")


def test_a_name_reference_that_spans_units_is_ignored() -> None:
    forms = [
        form("a", 2023, "课题研究"),
        form("b", 2024, "课题研究", "self_evaluation", unit=OTHER),
        form("c", 2024, "课题研究", "self_evaluation"),
    ]
    overrides = parse_overrides(
        OVERRIDES_HEADER + "reject,课题研究,2024:课题研究@上海市城管执法局,\n", "o.csv"
    )
    result = build_lineages(forms, UnitRegistry.build(forms), overrides)
    assert result.warnings == [
        "o.csv:2: reject ignored: '课题研究' names forms of several units (add @UNIT, or use FILE#INDEX)"
    ]
    assert [len(lineage.members) for lineage in result.lineages] == [2, 1]  # a-c joined, b apart


def test_names_alone_need_a_higher_bar() -> None:
    # a 2020 target table and a 2023 declaration: no indicator system in common, no prior-year figures
    earlier = form("tt", 2020, "城管执法监督考核", "target_table", figures={"current_year_budget": "3870000"})
    later = form("td", 2023, "城管执法监督考核辅助", figures={"annual_request_total": "1000000"})
    candidate = Scorer([earlier, later], UnitRegistry.build([earlier, later])).candidate(earlier, later)
    assert {s.code for s in candidate.signals} == {"same_unit", "name", "core_name", "funds"}
    assert THRESHOLD <= candidate.score < candidate.threshold  # 0.6 <= score < 0.75: not linked
    assert not candidate.accepted
    assert lineages_of([earlier, later]) == [{"tt"}, {"td"}]
