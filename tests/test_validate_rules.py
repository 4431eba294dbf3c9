"""Every rule of RULES.md on small hand-made forms: one case that must raise it, one that must not.

The clean forms of tests/validation_forms.py give no finding at all (the Chaoyang one only the C-04
warning its template earns); each case changes one thing. X-01 and X-02 run over a store holding
hand-made lineages (`?lineage a kg:Lineage ; kg:lineageMember ?form`, as `kg link` writes them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.model import Field, Form, LegalCitation
from kg.rdf.mapping import form_iri, form_to_graph, form_to_named_graph
from kg.rdf.namespaces import ID, KG
from kg.store.oxigraph import OxigraphStore
from kg.validate import load_catalog, run_sparql_checks
from tests.validation_forms import (
    ENGINES,
    chaoyang,
    findings_of,
    measured,
    money,
    num,
    qualitative,
    row,
    self_evaluation,
    target,
    target_declaration,
    target_table,
    with_row,
)

RULES_MD = Path(__file__).resolve().parents[2] / "shared" / "RULES.md"


def without(form: Form, predicate: URIRef) -> Graph:
    """The form's graph without the form's own `predicate` triples."""
    graph = form_to_graph(form)
    graph.remove((form_iri(form), predicate, None))
    return graph


def citation(raw_number: str, year: int, field: str = "立项依据") -> LegalCitation:
    return LegalCitation(
        f"《通知》（{raw_number}）",
        9,
        field,
        doc_number=re.sub(r"[\[(（]", "〔", re.sub(r"[\])）]", "〕", raw_number)),
        doc_number_raw=raw_number,
        issuer_code="沪城管执",
        doc_year=year,
        doc_seq=58,
        title="通知",
    )


@dataclass(frozen=True)
class Case:
    rule: str
    build: Callable[[], Form | Graph]
    why: str
    severity: str = "violation"
    indicator: str | None = None
    value: str | None = None


SE, CY, TT, TD = self_evaluation, chaoyang, target_table, target_declaration
MET = measured("7.00(个)", "7.00", "个")

RAISES = [
    Case("C-01", lambda: SE(project_name=Field("  ", 3)), "no project name"),
    Case("C-01", lambda: without(SE(), KG.fiscalYear), "no fiscal year"),
    Case(
        "C-01", lambda: without(SE(), RDF.type), "no form type (a target as subject of prov:hadPrimarySource)"
    ),
    Case(
        "C-02",
        lambda: TT(narratives={k: v for k, v in TT().narratives.items() if k != "项目概况"}),
        "no 项目概况",
    ),
    Case("C-03", lambda: TD(project_nature=None), "no 项目性质"),
    Case("C-04", lambda: SE(grade=None), "Shanghai template prints a grade row"),
    Case("C-04", lambda: SE(funds=SE().funds[:2]), "no 全年执行数"),
    Case("C-04", CY, "Chaoyang template has no grade row: a warning", "warning"),
    Case(
        "C-05",
        lambda: with_row(TD(), 1, target=None, target_parsed=None),
        "a row without 指标值",
        indicator="采购及时性",
    ),
    Case("C-06", lambda: with_row(SE(), 0, score=None), "a row without 得分", indicator="课题数量"),
    Case("C-07", lambda: TD(indicators=TD().indicators[:2] + TD().indicators[3:]), "no 效益 row"),
    Case("C-07", lambda: SE(indicators=SE().indicators[:3]), "no 满意度 row: a warning", "warning"),
    Case("SE-01", lambda: SE(execution_rate=num("98.70")), "98.70 vs 98.636, ±0.01", value="98.70"),
    Case("SE-01", lambda: CY(execution_rate=num("97%")), "97 vs 99.34, ±1 on whole percents", value="97%"),
    Case(
        "SE-02", lambda: SE(funds_score=num("9.50"), total_score=num("99.50")), "9.50 vs 9.864", value="9.50"
    ),
    Case(
        "SE-02",
        lambda: CY(funds_score=num("10"), total_score=num("100")),
        "10 vs 9.9 on a whole-number form: a warning",
        "warning",
        value="10",
    ),
    Case(
        "SE-03",
        lambda: _weights(SE(), ["40.00", "20.00", "30.00", "10.00"]),
        "产出 60: a warning",
        "warning",
        value="60.00",
    ),
    Case("SE-04", lambda: SE(total_weight=num("96.00")), "总分 weight 96, weights sum to 100", value="96.00"),
    Case(
        "SE-04",
        lambda: _weights(SE(), ["30.00", "20.00", "35.00", "10.00"], total="105.00"),
        "weights sum to 105",
        value="105.00",
    ),
    Case("SE-05", lambda: SE(total_score=num("1000")), "总分 1000 vs 99.86", value="1000"),
    Case(
        "SE-06",
        lambda: _scores(_scores(SE(), 1, "18.00"), 0, "32.00"),
        "score 32 above weight 30",
        indicator="课题数量",
        value="32.00",
    ),
    Case("SE-06", lambda: _scores(SE(), 2, "-1.00"), "negative score", indicator="成果应用", value="-1.00"),
    Case(
        "SE-07",
        lambda: _scores(
            with_row(
                SE(),
                0,
                actual="2.00(个)",
                actual_parsed=measured("2.00(个)", "2.00", "个"),
                deviation_reason="未完成",
            ),
            0,
            "20.00",
        ),
        "≥5 missed with 2: proportional 12, scored 20: a warning",
        "warning",
        indicator="课题数量",
        value="20.00",
    ),
    Case(
        "SE-09",
        lambda: _scores(with_row(SE(), 1, deviation_reason="有扣分"), 1, "15.00"),
        "=100 met with 100 but 15 of 20",
        indicator="验收通过率",
        value="15.00",
    ),
    Case(
        "SE-10",
        lambda: with_row(SE(), 0, actual="4.00(个)", actual_parsed=measured("4.00(个)", "4.00", "个")),
        "≥5 missed with 4, yet 30 of 30",
        indicator="课题数量",
        value="30.00",
    ),
    Case(
        "SE-10",
        lambda: with_row(
            SE(),
            0,
            target="30-50节",
            target_parsed=target("30-50节", "range", "30", "节", "50"),
            actual="14节",
            actual_parsed=measured("14节", "14", "节"),
        ),
        "range 30–50 missed with 14, yet full marks",
        indicator="课题数量",
        value="30.00",
    ),
    Case(
        "SE-11",
        lambda: _scores(with_row(SE(), 2, deviation_reason="部分"), 2, "21.00"),
        "达成 scored 21 of 30 (< 0.8): a warning",
        "warning",
        indicator="成果应用",
        value="21.00",
    ),
    Case(
        "SE-11",
        lambda: with_row(
            SE(),
            2,
            actual="部分达成指标并具有一定效果",
            actual_parsed=qualitative("部分达成指标并具有一定效果"),
        ),
        "部分达成 with full marks: a warning",
        "warning",
        indicator="成果应用",
        value="30.00",
    ),
    Case(
        "SE-12",
        lambda: _scores(SE(), 2, "27.00"),
        "27 of 30 and no reason",
        indicator="成果应用",
        value="27.00",
    ),
    Case(
        "SE-12",
        lambda: with_row(_scores(SE(), 2, "27.00"), 1, deviation_reason="成果应用推广延后，下一步加强。"),
        "no reason on the row, the row above speaks of 成果应用: a warning",
        "warning",
        indicator="成果应用",
        value="27.00",
    ),
    Case(
        "SE-13",
        lambda: _rate(SE(), "12.32", "80.00", "8.00"),
        "执行率 80: a warning",
        "warning",
        value="80.00",
    ),
    Case("SE-15", lambda: _total(SE(), "88.86", grade="优"), "优 with 88.86", value="优"),
    Case("SE-15", lambda: SE(grade=Field("良", 21)), "良 with 99.86", value="良"),
    Case(
        "TG-03",
        lambda: TD(planned_start=date(2024, 1, 1), planned_start_raw=Field("2024-01-01", 6)),
        "start after end",
        value="2024-01-01",
    ),
    Case(
        "TG-04",
        lambda: _annual(TD(), "120,000.00"),
        "annual request above the project total",
        value="120,000.00",
    ),
    Case(
        "TG-04",
        lambda: _fund(TD(), "project_other_funds", "0.00"),
        "total ≠ fiscal + other",
        value="109,701.00",
    ),
    Case(
        "TG-04",
        lambda: _fund(TT(), "current_year_budget", "4,000,000"),
        "TT current year above total",
        value="4,000,000",
    ),
    Case(
        "TG-05",
        lambda: with_row(TD(), 2, l1="双星指标"),
        "garbled first level",
        indicator="提升整体城管形象",
        value="双星指标",
    ),
    Case(
        "TG-05",
        lambda: with_row(TT(), 0, l1="产出指标"),
        "a declaration's first level on a target table",
        indicator="预算执行率",
        value="产出指标",
    ),
    Case(
        "TG-06",
        lambda: with_row(TD(), 1, l2="社会效益"),
        "产出指标 / 社会效益",
        indicator="采购及时性",
        value="社会效益",
    ),
    Case(
        "TG-09",
        lambda: with_row(TD(), 0, target="=0.00(次)", target_parsed=target("=0.00(次)", "=", "0", "次")),
        "=0 on a count: a warning",
        "warning",
        indicator="服装购置数量",
        value="=0.00(次)",
    ),
    Case(
        "TG-09",
        lambda: with_row(TD(), 1, target="≥0.00(次)", target_parsed=target("≥0.00(次)", ">=", "0", "次")),
        "≥0 on a timeliness row: a warning",
        "warning",
        indicator="采购及时性",
        value="≥0.00(次)",
    ),
    Case(
        "TG-10",
        lambda: with_row(TD(), 3, target="满意", target_parsed=qualitative("满意")),
        "satisfaction target 满意: a warning",
        "warning",
        indicator="相关人员满意度",
        value="满意",
    ),
    Case(
        "TG-10",
        lambda: with_row(TD(), 3, target="=95(%)", target_parsed=target("=95(%)", "=", "95", "%")),
        "satisfaction target with =: a warning",
        "warning",
        indicator="相关人员满意度",
        value="=95(%)",
    ),
    Case(
        "TG-11",
        lambda: with_row(TD(), 0, target="100(套)", target_parsed=target("100(套)", None, "100", "套")),
        "no operator: a warning",
        "warning",
        indicator="服装购置数量",
        value="100(套)",
    ),
    Case(
        "TG-11",
        lambda: with_row(TD(), 0, target="=100", target_parsed=target("=100", "=", "100")),
        "no unit: a warning",
        "warning",
        indicator="服装购置数量",
        value="=100",
    ),
    Case(
        "DN-01",
        lambda: TT(legal_citations=[citation("沪城管执[2017]58号", 2017)]),
        "square brackets: a warning",
        "warning",
        value="沪城管执[2017]58号",
    ),
    Case(
        "DN-01",
        lambda: TT(legal_citations=[citation("沪城管执〔2017〕058号", 2017)]),
        "leading zero: a warning",
        "warning",
        value="沪城管执〔2017〕058号",
    ),
    Case(
        "DN-05",
        lambda: TT(legal_citations=[citation("沪城管执〔2022〕58号", 2022)]),
        "a 2022 document in a 2020 form: a warning",
        "warning",
        value="沪城管执〔2022〕58号",
    ),
    Case(
        "LB-01",
        lambda: TT(legal_citations=[citation("沪城管执〔2017〕58号", 2017, "项目设立的必要性")]),
        "cited only in 项目设立的必要性: a warning",
        "warning",
    ),
]

CLEAN = [
    Case("C-01", SE, "a complete form"),
    Case("C-02", TT, "every field of a target table"),
    Case("C-03", TD, "every field of a declaration"),
    Case("C-04", SE, "every field of a self-evaluation, grade printed"),
    Case("C-05", TT, "every row named on three levels with a target"),
    Case("C-06", TD, "declarations print no actual, weight or score"),
    Case("C-07", lambda: CY(indicators=CY().indicators[:1]), "Chaoyang 2020: before 2021, not checked"),
    Case("SE-01", lambda: CY(), "99 % vs 99.34 within ±1"),
    Case("SE-01", SE, "98.64 vs 98.636 within ±0.01"),
    Case(
        "SE-02", lambda: SE(funds_score=num("9.87"), total_score=num("99.87")), "9.87 vs 9.864 within ±0.01"
    ),
    Case("SE-03", SE, "产出 50, 效益 30, 满意度 10, funds 10"),
    Case("SE-04", SE, "10 + 90 = 100 = 总分 weight"),
    Case("SE-05", lambda: SE(total_score=num("99.87")), "99.87 vs 99.86 within ±0.01"),
    Case("SE-06", lambda: _scores(SE(), 0, "0.00"), "0 ≤ score"),
    Case(
        "SE-07",
        lambda: _scores(
            with_row(
                SE(),
                0,
                actual="2.00(个)",
                actual_parsed=measured("2.00(个)", "2.00", "个"),
                deviation_reason="未完成",
            ),
            0,
            "12.00",
        ),
        "missed ≥5 with 2, scored the proportional 12",
    ),
    Case("SE-09", SE, "met targets with full marks"),
    Case(
        "SE-10",
        lambda: _scores(
            with_row(
                SE(),
                0,
                actual="4.00(个)",
                actual_parsed=measured("4.00(个)", "4.00", "个"),
                deviation_reason="未完成",
            ),
            0,
            "24.00",
        ),
        "missed target with points off",
    ),
    Case(
        "SE-11",
        lambda: _scores(with_row(SE(), 2, deviation_reason="略有不足"), 2, "24.00"),
        "达成 with 24 of 30 = 0.8",
    ),
    Case(
        "SE-12",
        lambda: with_row(_scores(SE(), 2, "27.00"), 2, deviation_reason="成果推广延后"),
        "points off with the reason on the row",
    ),
    Case("SE-13", lambda: _rate(SE(), "13.86", "90.00", "9.00"), "执行率 exactly 90"),
    Case("SE-15", lambda: _total(SE(), "90.00", grade="优"), "优 with exactly 90"),
    Case("SE-15", lambda: _total(SE(), "89.99", grade="良"), "良 with 89.99"),
    Case(
        "TG-03",
        lambda: TD(planned_end=date(2023, 1, 1), planned_end_raw=Field("2023-01-01", 6)),
        "start = end",
    ),
    Case("TG-04", lambda: _annual(TD(), "109,701.00"), "annual request = project total"),
    Case("TG-05", TT, "the target table's own first levels"),
    Case("TG-06", lambda: with_row(TT(), 1, l2="社会效益"), "a target table keeps its own pairs"),
    Case(
        "TG-09",
        lambda: with_row(TD(), 0, target=">0(次)", target_parsed=target(">0(次)", ">", "0", "次")),
        "> 0 is not empty",
    ),
    Case("TG-10", TD, "≥95(%)"),
    Case("TG-11", TD, "numbers with operator and unit"),
    Case("DN-01", TT, "沪城管执〔2017〕58号"),
    Case(
        "DN-05",
        lambda: TT(legal_citations=[citation("沪城管执〔2020〕58号", 2020)]),
        "a document of the form's year",
    ),
    Case("LB-01", TT, "a legal basis in 立项依据"),
]


def _weights(form: Form, weights: list[str], total: str = "100.00") -> Form:
    rows = [replace(r, weight=num(w), score=num(w)) for r, w in zip(form.indicators, weights, strict=True)]
    score = sum((num(w).value for w in weights), num("9.86").value)
    return replace(form, indicators=rows, total_weight=num(total), total_score=num(f"{score:.2f}"))


def _scores(form: Form, index: int, score: str) -> Form:
    changed = with_row(form, index, score=num(score))
    total = changed.funds_score.value + sum(r.score.value for r in changed.indicators)  # type: ignore[union-attr]
    return replace(changed, total_score=num(f"{total:.2f}"))


def _rate(form: Form, executed: str, rate: str, score: str) -> Form:
    funds = [
        money("initial_budget", "15.40"),
        money("full_year_budget", "15.40"),
        money("executed", executed),
    ]
    return _total(replace(form, funds=funds, execution_rate=num(rate), funds_score=num(score)), None)


def _total(form: Form, total: str | None, grade: str | None = None) -> Form:
    if total is None:
        value = form.funds_score.value + sum(r.score.value for r in form.indicators)  # type: ignore[union-attr]
        total = f"{value:.2f}"
    return replace(form, total_score=num(total), grade=Field(grade, 21) if grade else form.grade)


def _annual(form: Form, amount: str) -> Form:
    form = _fund(form, "annual_request_total", amount)
    return _fund(form, "annual_current_year_appropriation", amount)


def _fund(form: Form, kind: str, amount: str) -> Form:
    return replace(form, funds=[money(kind, amount, "元") if m.kind == kind else m for m in form.funds])


def _label(case: Case) -> str:
    return f"{case.rule}:{case.why}"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Every rule case runs on both engines: pySHACL on the form graph, and the compiled SPARQL."""
    return str(request.param)


@pytest.mark.parametrize("case", RAISES, ids=_label)
def test_rule_is_raised(case: Case, engine: str) -> None:
    found = [f for f in findings_of(case.build(), engine) if f.rule == case.rule]
    assert [(f.severity, f.indicator, f.value) for f in found] == [
        (case.severity, case.indicator, case.value)
    ]
    assert found[0].message.startswith(load_catalog().shapes[URIRef(found[0].source_shape)].message_zh)


@pytest.mark.parametrize("case", CLEAN, ids=_label)
def test_rule_is_not_raised(case: Case, engine: str) -> None:
    assert [f for f in findings_of(case.build(), engine) if f.rule == case.rule] == []


@pytest.mark.parametrize("build", [SE, TT, TD], ids=["self_evaluation", "target_table", "target_declaration"])
def test_clean_forms_have_no_finding_at_all(build: Callable[[], Form], engine: str) -> None:
    assert findings_of(build(), engine) == []


def test_a_raising_case_raises_nothing_else_it_does_not_mean(engine: str) -> None:
    """The completeness cases change one field: only their own rule fires."""
    assert {f.rule for f in findings_of(TD(project_nature=None), engine)} == {"C-03"}
    assert {f.rule for f in findings_of(SE(total_score=num("1000")), engine)} == {"SE-05", "SE-06"}


# ----------------------------------------------------------------------------- across years (store)


def _lineage_store(*forms: Form) -> OxigraphStore:
    store = OxigraphStore.in_memory()
    for form in forms:
        store.replace_file(form.file, [form_to_named_graph(form)])
    lineage = Graph()
    node = ID["lineage/test"]
    lineage.add((node, RDF.type, KG.Lineage))
    for form in forms:
        lineage.add((node, KG.lineageMember, form_iri(form)))
    store.replace_derived("lineages", [(ID["graph/lineages"], lineage)], in_default_graph=True)
    return store


def _declaration(name: str, year: int, goal: str, operator: str, file: str) -> Form:
    return TD(
        file=file,
        year=year,
        project_name=Field(name, 3),
        indicators=[row("产出指标", "数量指标", "代理诉讼案件次数", target(goal, operator, "4", "次"), 20)],
    )


def test_x01_raised_when_the_name_differs_from_the_previous_year() -> None:
    store = _lineage_store(
        _declaration("依法行政辅助服务工作", 2023, "≥4(次)", ">=", "a.txt"),
        _declaration("依法行政辅助工作服务", 2024, "≥4(次)", ">=", "b.txt"),
    )
    found = run_sparql_checks(store)
    assert [(f.rule, f.severity, f.file, f.indicator, f.value) for f in found] == [
        ("X-01", "info", "b.txt", None, "依法行政辅助工作服务")
    ]
    assert "依法行政辅助服务工作" in found[0].message and "2023" in found[0].message


def test_x01_not_raised_for_the_same_name_or_across_a_gap() -> None:
    same = _lineage_store(
        _declaration("依法行政 辅助服务工作", 2022, "≥4(次)", ">=", "a.txt"),
        _declaration("依法行政辅助服务工作", 2023, "≥4(次)", ">=", "b.txt"),
    )
    assert run_sparql_checks(same) == []  # whitespace is not a change of name


def test_x02_raised_when_an_indicator_turns_from_at_most_to_at_least() -> None:
    store = _lineage_store(
        _declaration("行政复议受理和行政诉讼应诉工作", 2023, "≤4.00(件)", "<=", "a.txt"),
        _declaration("行政复议受理和行政诉讼应诉工作", 2024, "≥4.00(次)", ">=", "b.txt"),
    )
    found = run_sparql_checks(store)
    assert [(f.rule, f.severity, f.file, f.indicator, f.value) for f in found] == [
        ("X-02", "warning", "b.txt", "代理诉讼案件次数", "≥4.00(次)")
    ]
    assert "≤4.00(件)" in found[0].message


def test_x02_compares_with_the_latest_earlier_year_only() -> None:
    store = _lineage_store(
        _declaration("代理工作", 2022, "≤4(次)", "<=", "a.txt"),
        _declaration("代理工作", 2023, "≥4(次)", ">=", "b.txt"),
        _declaration("代理工作", 2024, "≥5(次)", ">=", "c.txt"),
    )
    found = run_sparql_checks(store)
    assert [(f.rule, f.file) for f in found] == [("X-02", "b.txt")]  # 2024 follows 2023 (≥), not 2022


def test_x02_not_raised_when_the_direction_stays() -> None:
    store = _lineage_store(
        _declaration("代理工作", 2023, "≥4(次)", ">=", "a.txt"),
        _declaration("代理工作", 2024, ">5(次)", ">", "b.txt"),
    )
    assert run_sparql_checks(store) == []


def test_x_checks_need_a_lineage() -> None:
    store = OxigraphStore.in_memory()
    for form in (
        _declaration("甲", 2023, "≤4(次)", "<=", "a.txt"),
        _declaration("乙", 2024, "≥4(次)", ">=", "b.txt"),
    ):
        store.replace_file(form.file, [form_to_named_graph(form)])
    assert run_sparql_checks(store) == []


X_CASES = {"X-01": "test_x01_", "X-02": "test_x02_"}


# ----------------------------------------------------------------------------- coverage of RULES.md


def rules_md_ids() -> list[str]:
    if not RULES_MD.is_file():
        pytest.skip(f"{RULES_MD} not found (the shared rules live beside the repository)")
    return re.findall(r"^\| ([A-Z]{1,2}-\d\d) \|", RULES_MD.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_rule_of_rules_md_has_shapes_a_rule_resource_and_both_tests() -> None:
    ids = rules_md_ids()
    assert len(ids) == 32 and len(set(ids)) == 32
    catalog = load_catalog()
    assert sorted(catalog.rules) == sorted(ids)
    shaped = {info.rule for info in catalog.shapes.values()}
    assert shaped == set(ids)
    raised = {case.rule for case in RAISES} | {rule for rule in X_CASES}
    clean = {case.rule for case in CLEAN} | {rule for rule in X_CASES}
    assert raised == set(ids) and clean == set(ids)
    names = [name for name in globals() if name.startswith("test_x0")]
    for prefix in X_CASES.values():
        assert any("raised" in n and n.startswith(prefix) for n in names)
        assert any("not_raised" in n and n.startswith(prefix) for n in names)


def test_severities_in_the_shapes_follow_rules_md() -> None:
    """Each rule's shapes have its RULES.md severity; only the documented variants are lighter."""
    text = RULES_MD.read_text(encoding="utf-8") if RULES_MD.is_file() else pytest.skip("no RULES.md")
    letters = {"V": "violation", "W": "warning", "I": "info"}
    given = {
        m[0]: letters[m[1]]
        for m in re.findall(r"^\| ([A-Z]{1,2}-\d\d) \| ([VWI]) \|", str(text), re.MULTILINE)
    }
    catalog = load_catalog()
    variants = {("C-04", "warning"), ("C-07", "warning"), ("SE-02", "warning"), ("SE-12", "warning")}
    for info in catalog.shapes.values():
        assert catalog.rules[info.rule].severity == given[info.rule]
        assert info.severity == given[info.rule] or (info.rule, info.severity) in variants, info.iri


def test_every_shape_has_zh_and_en_messages_and_is_core_or_across_years() -> None:
    catalog = load_catalog()
    for info in catalog.shapes.values():
        assert re.search(r"[\u4e00-\u9fff]", info.message_zh) and info.message_en.strip()
    assert sorted(check.shape.rule for check in catalog.checks) == ["X-01", "X-02", "X-02"]  # X-02 both ways
    assert [path.name for path in catalog.files] == [
        "across-years.ttl",
        "completeness.ttl",
        "legal-bases.ttl",
        "self-evaluation-arithmetic.ttl",
        "target-forms.ttl",
    ]
    assert (None, DCTERMS.identifier, Literal("SE-05")) in catalog.graph
