"""The rules on the 31 seed forms (data/): what a careful reader finds, exactly, and nothing else.

Each expected finding says why it is there (the gold notes of ../shared/gold/forms.json describe the same
inconsistencies). Forms are named FILE#INDEX by the first three characters of the file: 000 = the two
2020 target tables, 001 = the fifteen 2024 Shanghai self-evaluations, 002 = the twelve 2023 declarations,
003 = the two 2020 Chaoyang self-evaluations. X-01/X-02 need lineages and are tested on hand-made forms
(test_validate_rules.py) and through the CLI (test_validate_cli.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kg.forms import parse_source
from kg.rdf.mapping import form_to_graph
from kg.validate import Finding, validate_form_graph

DATA = Path(__file__).resolve().parents[1] / "data"

# (rule, severity, form, indicator, value as printed) for every finding of these rules on the seeds.
EXPECTED = [
    # DN-01: the 2020 target tables cite 文号 in square brackets (gold: normalised from [2017] / [2016]).
    ("DN-01", "warning", "000#0", None, "沪城管执[2017]58号"),
    ("DN-01", "warning", "000#0", None, "沪城管执[2017]89号"),
    ("DN-01", "warning", "000#1", None, "国发[2016]1号"),
    ("DN-01", "warning", "000#1", None, "沪建城管联[2016]712号"),
    # SE-12 (warning): 0 of 4 with no reason on the row; the reason sits on the row above and speaks of
    # 代理诉讼 (gold: "semantically explains the next row").
    ("SE-12", "warning", "001#1", "代理诉讼案件次数", "0.00"),
    ("SE-13", "warning", "001#1", None, "86.75"),  # 26.20 / 30.20
    # SE-11: 部分达成 scored 8 of 10, the band is 6 ≤ score < 8.
    ("SE-11", "warning", "001#6", "高空坠物风险", "8.00"),
    # SE-09: =100(%) met with 100.00(%) yet 8 of 10 (gold: "met yet scored 8/10").
    ("SE-09", "violation", "001#7", "工作内容完成率", "8.00"),
    ("SE-13", "warning", "001#7", None, "77.75"),
    ("SE-11", "warning", "001#9", "金丽大厦办公环境", "8.00"),  # 部分达成 with 8 of 10
    # SE-09: 55 = 55 yet 0 of 1 (gold: "met yet scored 0/1").
    ("SE-09", "violation", "001#10", "青年干部班培训人员合格人数", "0.00"),
    # C-06: the 得分 cell of line 548 is missing in the text (gold infers 1.00); SE-05 is then not reckoned.
    ("C-06", "violation", "001#12", "长效管理机制健全性", None),
    # SE-09: =1450.00(条) met with 1450.00(条) yet 1 of 2 (gold: "met yet scored 1/2").
    ("SE-09", "violation", "001#12", "街面环境实效专项整治评查不少于 800 条街道", "1.00"),
    ("SE-13", "warning", "001#12", None, "80.71"),
    ("SE-13", "warning", "001#13", None, "70.47"),
    # SE-07: ≥17500 with 6017 (34 %) still scored 15 of 20; proportional 6.88 (gold: "still scored 15/20").
    ("SE-07", "warning", "001#14", "制作、发放宣传资料数量", "15.00"),
    # TG-06: line 26 prints 社会效益 as the second level of an 产出指标 row (gold: an OCR artefact).
    ("TG-06", "violation", "002#0", "人员到位及时性", "社会效益"),
    # C-05: line 120 has no target value (gold: "NO target value -> target null").
    ("C-05", "violation", "002#2", "新媒体宣传合作项目社会影响力", None),
    # TG-04: 年度资金申请总额 109,701.00 above 项目资金总额 103,288.00 (gold: "exceeds").
    ("TG-04", "violation", "002#6", None, "109,701.00"),
    ("C-04", "warning", "003#0", None, None),  # the Chaoyang template has no 评分等级 row
    # SE-02 (warning, whole numbers): 99 % gives 9.9, printed 10 (gold: "得分 10 (10×0.99 = 9.9)").
    ("SE-02", "warning", "003#0", None, "10"),
    # SE-05 and SE-06: the 总分 row reads 100 / 1000 (gold: "得分 should be 100").
    ("SE-05", "violation", "003#0", None, "1000"),
    ("SE-06", "violation", "003#0", None, "1000"),
    ("C-04", "warning", "003#1", None, None),
    # SE-04: the 总分 row's weight reads 96, the weights add up to 100 (gold: "should be 100").
    ("SE-04", "violation", "003#1", None, "96"),
    # SE-07 and SE-10: 30-50节 with 14节 yet 10 of 10 (gold: "not met yet full score").
    ("SE-07", "warning", "003#1", "完成课程数", "10"),
    ("SE-10", "violation", "003#1", "完成课程数", "10"),
    ("SE-13", "warning", "003#1", None, "60%"),  # 419.5215 / 703.63
]

# Rules that fire on many rows; per form counts.
BULK_COUNTS = {
    # SE-03 [local practice]: every self-evaluation departs from 产出 50 / 效益 30 / 满意度 10 somewhere.
    "SE-03": {
        "001#0": 2,
        "001#1": 3,
        "001#2": 2,
        "001#3": 2,
        "001#4": 3,
        "001#5": 3,
        "001#6": 2,
        "001#7": 2,
        "001#8": 3,
        "001#9": 2,
        "001#10": 3,
        "001#11": 3,
        "001#12": 3,
        "001#13": 2,
        "001#14": 2,
        "003#0": 2,
        "003#1": 2,
    },
    # TG-09: placeholder targets =0.00(次) / ≥0.00(次) (gold: "many targets are placeholders").
    "TG-09": {"002#2": 20, "002#7": 2},
    # TG-10: satisfaction targets 提升, 不断提高, 满意, prose, or =85(分).
    "TG-10": {
        "001#2": 1,
        "001#11": 1,
        "001#12": 1,
        "001#13": 1,
        "002#4": 1,
        "002#6": 1,
        "002#10": 1,
        "003#0": 2,
        "003#1": 1,
    },
    # TG-11: bare 120 / 100 / 90 / 85 (no operator, no unit: two each), >=80 without %, 6人, 90%.
    "TG-11": {"000#1": 1, "002#1": 6, "002#7": 10, "003#0": 1, "003#1": 1},
}

ARITHMETIC = {"SE-01", "SE-02", "SE-04", "SE-05", "SE-06", "SE-15", "TG-04"}
# Forms whose printed figures add up (gold: "Totals consistent" on every 001 form; 98.63 vs 98.636 on
# 001#2 is within ±0.01); 001#12's total is not reckoned for want of a score (C-06 says so).
ARITHMETIC_CLEAN = [
    "000#0",
    "000#1",
    *(f"001#{i}" for i in range(15)),
    *(f"002#{i}" for i in range(12) if i != 6),
]
ARITHMETIC_FLAGGED = {"002#6": {"TG-04"}, "003#0": {"SE-02", "SE-05", "SE-06"}, "003#1": {"SE-04"}}


def key(finding: Finding) -> str:
    return f"{finding.file[:3]}#{finding.form_index}"


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    found = []
    for path in sorted(DATA.glob("*.txt")):
        for form in parse_source(path.read_bytes(), path.name):
            found.extend(validate_form_graph(form_to_graph(form)).findings)
    return sorted(found, key=Finding.sort_key)


def test_the_seeds_give_exactly_the_expected_findings(findings: list[Finding]) -> None:
    got = [(f.rule, f.severity, key(f), f.indicator, f.value) for f in findings if f.rule not in BULK_COUNTS]
    assert got == EXPECTED


@pytest.mark.parametrize("rule", sorted(BULK_COUNTS))
def test_bulk_rules_per_form(findings: list[Finding], rule: str) -> None:
    counts = Counter(key(f) for f in findings if f.rule == rule)
    assert dict(counts) == BULK_COUNTS[rule]
    assert {f.severity for f in findings if f.rule == rule} == {"warning"}


def test_the_issue_examples(findings: list[Finding]) -> None:
    by = {(f.rule, key(f), f.indicator): f for f in findings}
    five = by["SE-05", "003#0", None]
    assert (five.project, five.value) == ("公共事务协管经费", "1000")
    twelve = by["SE-12", "001#1", "代理诉讼案件次数"]
    assert (twelve.project, twelve.year, twelve.value) == ("行政复议受理和行政诉讼应诉工作", 2024, "0.00")
    nine = by["SE-09", "001#10", "青年干部班培训人员合格人数"]
    assert (nine.project, nine.year) == ("城管执法教育培训", 2024) and "55" in nine.message
    ten = by["SE-10", "003#1", "完成课程数"]
    assert ten.project == "城管以奖促治经费" and "30-50节" in ten.message and "14节" in ten.message
    four = by["TG-04", "002#6", None]
    assert (four.project, four.year) == ("城管执法装备建设", 2023) and "上限 103,288 元" in four.message
    brackets = {f.value for f in findings if f.rule == "DN-01" and f.year == 2020}
    assert brackets >= {"沪城管执[2017]58号", "国发[2016]1号"}


def test_forms_whose_arithmetic_adds_up_get_no_arithmetic_finding(findings: list[Finding]) -> None:
    flagged: dict[str, set[str]] = {}
    for finding in findings:
        if finding.rule in ARITHMETIC:
            flagged.setdefault(key(finding), set()).add(finding.rule)
    assert flagged == ARITHMETIC_FLAGGED
    assert not set(flagged) & set(ARITHMETIC_CLEAN)
    assert len(ARITHMETIC_CLEAN) + len(ARITHMETIC_FLAGGED) == 31


def test_every_finding_names_its_form(findings: list[Finding]) -> None:
    for finding in findings:
        assert finding.file and finding.project and finding.year in (2020, 2023, 2024)
        assert finding.focus_node.startswith("https://w3id.org/jixiao-kg/id/form/")
        assert set(finding.json()) == {
            "rule",
            "severity",
            "file",
            "form_index",
            "project",
            "year",
            "indicator",
            "message",
            "value",
            "focus_node",
        }
