"""Across years on the seed corpus: lineages against a hand-made list, and every named cross-year query with
its exact rows.

The store is made once per module the way a user makes it: `kg ingest data/` (which links at the end, with
the curated data/lineage-overrides.csv), in-process through `kg.cli.main` on a temporary on-disk store, and
the named queries run through `kg query --name … --format csv`, the CLI's own code path (parameter hooks,
typed substitutions, output columns). Amounts are in 元 as the store returns them (canonical decimals).

Expected lineages: tests/fixtures/expected-lineages.csv (read from the forms, reasons in its comments).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from itertools import combinations
from pathlib import Path

import pytest

from kg.cli import main
from kg.link import link_forms
from kg.link.records import read_forms
from kg.rdf.mapping import short_hash
from kg.rdf.namespaces import ID
from kg.store import OxigraphStore

REPO = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).resolve().parent / "fixtures" / "expected-lineages.csv"
TT, SE, TD, CY = (
    "000_bb01accd19b494dd",
    "001_5d49eaeac9110deb",
    "002_0ba3e1b3e0c621eb",
    "003_f95dcf2be13289f4",
)
SHANGHAI = "上海市城市管理行政执法局"
CHAOYANG = "朝阳区城管执法局"


def lineage(stem: str, index: int) -> str:
    """The IRI of the lineage whose earliest form is <stem>#<index> (kg.link.lineage.Lineage.iri)."""
    return str(ID[f"lineage/{short_hash(str(ID[f'form/{stem}/{index}']))}"])


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("link") / "store"
    status, out, err = run_cli("--store", str(path), "ingest", str(REPO / "data"))
    assert status == 0, err
    assert (
        "linked 31 forms: 17 lineages (13 across years, 14 links, 2 confirmed), 3 units (1 aliases), " in out
    )
    assert "warning" not in err
    return path


def query(store: Path, name: str, /, **params: str) -> list[tuple[str, ...]]:
    args = ["--store", str(store), "query", "--name", name, "--format", "csv"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    status, out, err = run_cli(*args)
    assert status == 0, err
    return [tuple(row) for row in csv.reader(io.StringIO(out, newline=""))]


# ----------------------------------------------------------------------------- lineages vs the hand-made list


def expected_lineages() -> dict[str, set[str]]:
    lines = [line for line in EXPECTED.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    groups: dict[str, set[str]] = {}
    for row in csv.DictReader(lines):
        file, index = row["form"].split("#")
        groups.setdefault(row["lineage"], set()).add(str(ID[f"form/{file.removesuffix('.txt')}/{index}"]))
    return groups


def pairs(groups: list[set[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for group in groups for pair in combinations(sorted(group), 2)}


def precision_recall(found: set[frozenset[str]], expected: set[frozenset[str]]) -> tuple[float, float]:
    hits = len(found & expected)
    return hits / len(found) if found else 1.0, hits / len(expected) if expected else 1.0


def test_expected_list_covers_every_form_once(store: Path) -> None:
    groups = expected_lineages()
    members = [form for group in groups.values() for form in group]
    with OxigraphStore(store, create=False) as opened:
        forms = {form.iri for form in read_forms(opened)}
    assert sorted(members) == sorted(forms)  # 31 forms, each in one expected lineage
    assert len(groups) == 17 and len(pairs(list(groups.values()))) == 15


def test_lineages_have_full_precision_and_recall_on_the_seeds(store: Path) -> None:
    expected = pairs(list(expected_lineages().values()))
    stored: dict[str, set[str]] = {}
    with OxigraphStore(store, create=False) as opened:
        rows = opened.query("SELECT ?l ?f WHERE { ?l a kg:Lineage ; kg:lineageMember ?f }")
        for row in rows:  # type: ignore[union-attr]
            stored.setdefault(row["l"].value, set()).add(row["f"].value)
        forms = read_forms(opened)
    # as stored (algorithm + the curated overrides of data/lineage-overrides.csv)
    assert precision_recall(pairs(list(stored.values())), expected) == (1.0, 1.0)
    # the algorithm alone, without the overrides
    alone = link_forms(forms, [])
    found = pairs([{form.iri for form in lineage.members} for lineage in alone.lineages])
    assert precision_recall(found, expected) == (1.0, 1.0)
    assert all(link.method == "algorithm" for lineage in alone.lineages for link in lineage.links)
    # every renamed project is joined, and with a clear margin over the best wrong candidate
    wrong = [c for c in alone.result.candidates if frozenset((c.earlier.iri, c.later.iri)) not in expected]
    assert max(c.score for c in wrong) < 0.5
    assert min(link.confidence for lineage in alone.lineages for link in lineage.links) >= 0.75


def test_lineages_query(store: Path) -> None:
    rows = query(store, "lineages")
    assert rows[0] == ("lineage", "year", "project", "unit", "confidence")
    assert rows[1:] == [
        (lineage(TD, 5), "2023", "依法行政辅助服务工作", SHANGHAI, "0.81"),
        (lineage(TD, 5), "2024", "依法行政辅助工作服务", SHANGHAI, "0.81"),
        (lineage(TD, 4), "2023", "城管执法分赛区立功竞赛活动", SHANGHAI, "0.89"),
        (lineage(TD, 4), "2024", "城管执法分赛区立功竞赛活动", SHANGHAI, "0.89"),
        (lineage(TD, 8), "2023", "城管执法工作标准、规范、制度研究", SHANGHAI, "0.84"),
        (lineage(TD, 8), "2024", "城管执法工作标准、规范、制度研究", SHANGHAI, "0.84"),
        (lineage(TD, 10), "2023", "城管执法应急保障", SHANGHAI, "0.76"),
        (lineage(TD, 10), "2024", "城管执法应急保障", SHANGHAI, "0.76"),
        (lineage(TT, 1), "2020", "城管执法人员教育培训", SHANGHAI, "1"),  # confirmed by the overrides
        (lineage(TT, 1), "2024", "城管执法教育培训", SHANGHAI, "1"),
        (lineage(TD, 3), "2023", "城管执法普法宣传", SHANGHAI, "1"),
        (lineage(TD, 3), "2024", "城管执法普法宣传", SHANGHAI, "1"),
        (lineage(TT, 0), "2020", "城管执法监督考核", SHANGHAI, "0.9"),  # 2020-2023 confirmed, 2023-2024: 0.90
        (lineage(TT, 0), "2023", "城管执法监督考核辅助工作", SHANGHAI, "0.9"),
        (lineage(TT, 0), "2024", "城管执法监督考核辅助工作", SHANGHAI, "0.9"),
        (lineage(TD, 2), "2023", "城管执法社会宣传", SHANGHAI, "0.96"),
        (lineage(TD, 2), "2024", "城管执法社会宣传", SHANGHAI, "0.96"),
        (lineage(TD, 6), "2023", "城管执法装备建设", SHANGHAI, "0.9"),
        (lineage(TD, 6), "2024", "城管执法装备建设", SHANGHAI, "0.9"),
        (lineage(TD, 9), "2023", "城管执法队伍规范化建设", SHANGHAI, "0.97"),
        (lineage(TD, 9), "2024", "城管执法队伍规范化建设", SHANGHAI, "0.97"),
        (lineage(SE, 6), "2024", "徐家汇路579号外墙排险维修", SHANGHAI, "1"),
        (lineage(TD, 11), "2023", "行政复议受理和行政诉讼应诉工作", SHANGHAI, "0.97"),
        (lineage(TD, 11), "2024", "行政复议受理和行政诉讼应诉工作", SHANGHAI, "0.97"),
        (lineage(TD, 1), "2023", "课题研究", SHANGHAI, "1"),
        (lineage(TD, 1), "2024", "课题研究", SHANGHAI, "1"),
        (lineage(SE, 9), "2024", "金丽大厦维修维护费", SHANGHAI, "1"),
        (lineage(TD, 0), "2023", "长三角一体化城市管理综合执法协调工作", SHANGHAI, "0.91"),
        (lineage(TD, 0), "2024", "长三角一体化城市管理综合工作", SHANGHAI, "0.91"),
        (lineage(CY, 0), "2020", "公共事务协管经费", CHAOYANG, "1"),  # printed 朝阳城管执法局: an alias
        (lineage(CY, 1), "2020", "城管以奖促治经费", CHAOYANG, "1"),
    ]
    # any name of the lineage, in any spacing or width
    expected = [rows[0], *(row for row in rows[1:] if row[0] == lineage(TD, 5))]
    assert query(store, "lineages", name="依法行政辅助服务工作") == expected
    assert query(store, "lineages", name=" 依法行政辅助工作服务 ") == expected
    assert query(store, "lineages", name="没有这个项目") == [rows[0]]


SUPERVISION_SERIES = [
    ("2019", "target_table", "prev_year_same_name_budget", "4050000", "2020"),
    ("2019", "target_table", "prev_year_same_name_executed", "4050000", "2020"),
    ("2020", "target_table", "project_total_budget", "3870000", "2020"),
    ("2020", "target_table", "current_year_budget", "3870000", "2020"),
    ("2023", "target_declaration", "project_total", "4371000", "2023"),
    ("2023", "target_declaration", "annual_request_total", "3653100", "2023"),
    ("2023", "target_declaration", "project_total_fiscal", "4371000", "2023"),
    ("2023", "target_declaration", "annual_current_year_appropriation", "3653100", "2023"),
    ("2023", "target_declaration", "annual_carryover", "0", "2023"),
    ("2023", "target_declaration", "other_funds", "0", "2023"),
    ("2024", "self_evaluation", "initial_budget", "3625000", "2024"),
    ("2024", "self_evaluation", "full_year_budget", "4480000", "2024"),
    ("2024", "self_evaluation", "executed", "3616100", "2024"),
]


@pytest.mark.parametrize(
    "name", ["城管执法监督考核辅助工作", "城管执法监督考核", "城管执法 监督考核辅助工作"]
)
def test_budget_series_of_the_supervision_lineage_2019_to_2024(store: Path, name: str) -> None:
    rows = query(store, "budget-series", project=name)
    assert rows[0] == ("lineage", "year", "form_type", "kind", "amount_yuan", "reported_by_year")
    assert rows[1:] == [(lineage(TT, 0), *row) for row in SUPERVISION_SERIES]
    assert {row[1] for row in rows[1:]} == {"2019", "2020", "2023", "2024"}


def test_budget_series_of_the_training_lineage_and_of_all(store: Path) -> None:
    assert query(store, "budget-series", project="城管执法教育培训")[1:] == [
        (lineage(TT, 1), "2019", "target_table", "prev_year_same_name_budget", "6446022", "2020"),
        (lineage(TT, 1), "2019", "target_table", "prev_year_same_name_executed", "6446022", "2020"),
        (lineage(TT, 1), "2020", "target_table", "project_total_budget", "5780460", "2020"),
        (lineage(TT, 1), "2020", "target_table", "current_year_budget", "5780460", "2020"),
        (lineage(TT, 1), "2024", "self_evaluation", "initial_budget", "4404900", "2024"),
        (lineage(TT, 1), "2024", "self_evaluation", "full_year_budget", "4449900", "2024"),
        (lineage(TT, 1), "2024", "self_evaluation", "executed", "4385900", "2024"),
    ]
    # without a parameter: every lineage (2 TT x (2 + 2) + 12 TD x 6 + 17 SE x 3)
    assert len(query(store, "budget-series")) == 1 + 8 + 72 + 51


def test_indicator_history_of_research(store: Path) -> None:
    rows = query(store, "indicator-history", project="课题研究")
    assert rows[0] == ("lineage", "l3", "year", "form_type", "target", "actual", "weight", "score")
    td, se = ("2023", "target_declaration"), ("2024", "self_evaluation")
    assert [row[1:] for row in rows[1:]] == [
        ("人员到位及时性", *td, "及时", "", "", ""),
        ("人员到位及时性", *se, "及时", "达成指标", "10", "10"),
        ("人员配置数量", *td, "≥2(人)", "", "", ""),
        ("人员配置数量", *se, "=2(人)", "2.00(人)", "10", "10"),
        ("工作开展天数", *td, "120", "", "", ""),
        ("工作开展天数", *se, "≥120(天)", "120.00(天)", "10", "10"),
        ("牵头处室满意度", *td, "90", "", "", ""),
        ("牵头处室满意度", *se, "≥90(%)", "98.00(%)", "10", "10"),
        ("课题完成及时性", *td, "及时", "", "", ""),
        ("课题完成及时性", *se, "及时", "达成指标", "10", "10"),
        ("课题数量", *td, "=7.00(个)", "", "", ""),
        ("课题数量", *se, "=5.00(个)", "5.00(个)", "10", "10"),
        ("课题验收通过率", *td, "100", "", "", ""),
        ("课题验收通过率", *se, "=100(%)", "100.00(%)", "10", "10"),
        ("长效管理机制健全性", *td, "建立健全", "", "", ""),
        ("长效管理机制健全性", *se, "建立健全", "达成指标", "10", "8"),
        ("项目成果共享", *td, "汇编共享", "", "", ""),
        ("项目成果共享", *se, "汇编共享", "达成指标", "10", "10"),
    ]
    assert {row[0] for row in rows[1:]} == {lineage(TD, 1)}


FINE_TUNING = "关于评选上海市城市管理执法精细化工作先进集体和先进个人的通知"


@pytest.mark.parametrize(
    "doc", ["沪城管执[2018]83号", "沪城管执〔2018〕83号", "（沪城管执【2018】第83号）", f"《{FINE_TUNING}》"]
)
def test_projects_by_legal_basis_finds_the_2020_project_and_its_later_years(store: Path, doc: str) -> None:
    rows = query(store, "projects-by-legal-basis", doc=doc)
    assert rows[0] == (
        "doc_number",
        "title",
        "project",
        "year",
        "citation_raw",
        "later_year",
        "later_project",
    )
    cited = (
        "沪城管执〔2018〕83号",
        FINE_TUNING,
        "城管执法监督考核",
        "2020",
        f"{FINE_TUNING}》（沪城管执〔2018〕83号）",
    )
    assert rows[1:] == [
        (*cited, "2023", "城管执法监督考核辅助工作"),
        (*cited, "2024", "城管执法监督考核辅助工作"),
    ]


def test_projects_by_legal_basis_for_documents_cited_without_number(store: Path) -> None:
    # an un-bracketed title split out of the run-on 立项依据 of the 2020 form, also cited in 《》 elsewhere
    assert query(store, "projects-by-legal-basis", doc="《上海市城市管理行政执法条例》")[1:] == [
        (
            "",
            "上海市城市管理行政执法条例",
            "城管执法监督考核",
            "2020",
            "上海市城市管理行政执法条例",
            "2023",
            "城管执法监督考核辅助工作",
        ),
        (
            "",
            "上海市城市管理行政执法条例",
            "城管执法监督考核",
            "2020",
            "上海市城市管理行政执法条例",
            "2024",
            "城管执法监督考核辅助工作",
        ),
    ]
    # a 《plan》 named in a 2023 declaration's goals, found through any bracket style; its 2024 successor
    plan = "长三角地区一体化发展三年行动计划（2021-2023年）"
    assert query(store, "projects-by-legal-basis", doc="长三角地区一体化发展三年行动计划(2021-2023年)")[
        1:
    ] == [
        (
            "",
            plan,
            "长三角一体化城市管理综合执法协调工作",
            "2023",
            f"《{plan}》",
            "2024",
            "长三角一体化城市管理综合工作",
        ),
    ]
    # a 2020 citation whose lineage has no later year in the seeds is still listed (later columns empty)
    everything = query(store, "projects-by-legal-basis")
    assert len(everything) == 1 + 21
    assert len({row[0] or row[1] for row in everything[1:]}) == 14


def test_execution_rate(store: Path) -> None:
    rows = query(store, "execution-rate", year="2024")
    assert rows == [
        ("project", "year", "full_year_budget", "executed", "rate"),
        ("城管执法队伍规范化建设", "2024", "272000", "191700", "70.48"),
        ("长三角一体化城市管理综合工作", "2024", "450000", "349900", "77.76"),
        ("城管执法监督考核辅助工作", "2024", "4480000", "3616100", "80.72"),
        ("行政复议受理和行政诉讼应诉工作", "2024", "302000", "262000", "86.75"),
        ("城管执法社会宣传", "2024", "1800000", "1648800", "91.6"),
        ("城管执法装备建设", "2024", "128600", "118400", "92.07"),
        ("城管执法教育培训", "2024", "4449900", "4385900", "98.56"),
        ("城管执法分赛区立功竞赛活动", "2024", "154000", "151900", "98.64"),
        ("徐家汇路579号外墙排险维修", "2024", "198400", "197900", "99.75"),
        ("城管执法工作标准、规范、制度研究", "2024", "792000", "791000", "99.87"),
    ]
    assert query(store, "execution-rate", year="2024", below="90") == rows[:5]
    assert query(store, "execution-rate", year="2020") == [
        rows[0],
        ("城管以奖促治经费", "2020", "7036300", "4195215", "59.62"),
        ("公共事务协管经费", "2020", "11503927", "11428000", "99.34"),
    ]


def test_missed_targets(store: Path) -> None:
    rows = query(store, "missed-targets", year="2024")
    assert rows[0] == ("project", "l3", "target", "actual", "weight", "score", "deviation_reason")
    assert rows[1:] == [
        (
            "课题研究",
            "长效管理机制健全性",
            "建立健全",
            "达成指标",
            "10",
            "8",
            "进一步加强项目成果的转化率,强化长效管理机制。",
        ),
        ("行政复议受理和行政诉讼应诉工作", "代理诉讼案件次数", "≥4.00(次)", "0.00(次)", "4", "0", ""),
        (
            "城管执法分赛区立功竞赛活动",
            "长效管理机制健全性",
            "建立健全",
            "达成指标",
            "10",
            "8",
            "进一步完善长效机制,年度重点工作纳入赛道内容。",
        ),
        (
            "城管执法装备建设",
            "预算执行率",
            "≥95.00(%)",
            "92.06(%)",
            "10",
            "8",
            "根据服装按需申领规定,机关人员根据自身意愿进行当年度服装申领,部分人员未用足申领额度,导致执行率不及预期。"
            "今后将加强对机关人员的工作指导,提升执行率。",
        ),
        (
            "依法行政辅助工作服务",
            "权责清单公开透明",
            "及时公布",
            "部分达成指标并具有一定效果",
            "10",
            "6",
            "因本市机构改革, 权责清单需增加水务执法内容, 因此发布时间延后。下一步, 将加强部门沟通, "
            "组织专门力量进行权责清单动态调整工作。",
        ),
        (
            "城管执法工作标准、规范、制度研究",
            "工作完成及时性",
            "及时",
            "部分达成指标并具有一定效果",
            "3",
            "2",
            "因招标周期截止时间为3月，项目启动时间延后，导致第一期刊发时间同步延后，后续从第三期开始，已按照2个月一期准时发行。",
        ),
        (
            "徐家汇路579号外墙排险维修",
            "高空坠物风险",
            "消除高坠风险",
            "部分达成指标并具有一定效果",
            "10",
            "8",
            "因立项安排问题,2024年只能完成高风险的7处抢险工作,已申请2025年排险项目,力争在2025年上半年完成整体排险工作。",
        ),
        (
            "长三角一体化城市管理综合工作",
            "工作内容完成率",
            "=100(%)",
            "100.00(%)",
            "10",
            "8",
            "下一步针对预算计划做好全年预算支出计划明细,明确与重点工作相结合,严格按照计划执行,做到实际成果与年初计划相符合。",
        ),
        (
            "城管执法社会宣传",
            "拍摄数量",
            "≥8.00(次)",
            "5.00(次)",
            "1",
            "0.5",
            "未能按计划执行；下一步针对预算，细化全年预算支出，做到与重点工作相结合，严格落实计划，做到成果与年初计划相符合。",
        ),
        (
            "城管执法社会宣传",
            "城管文化优秀案例展示参与人数",
            "≥1000.00(人次)",
            "500.00(人次)",
            "1",
            "0",
            "未按要求做好计划与执行；下一步针对预算计划做好全年预算支出计划明细，明确与重点工作相结合，"
            "严格落实按照执行计划予以落实，做到结果与年初计划相符合",
        ),
        (
            "城管执法社会宣传",
            "城管文化优秀案例展示媒体发布指标",
            "≥5.00(个)",
            "4.00(个)",
            "1",
            "0.5",
            "未按要求做好计划与执行；下一步针对预算计划做好全年预算支出计划明细，明确与重点工作相结合，"
            "严格落实按照执行计划予以落实，做到结果与年初计划相符合",
        ),
        (
            "金丽大厦维修维护费",
            "金丽大厦办公环境",
            "安全运行",
            "部分达成指标并具有一定效果",
            "10",
            "8",
            "金丽大厦2024年9月发生高空坠物,造成一定的安全隐患。已申报2025年大修项目,2025年上半年完成整改。",
        ),
        (
            "城管执法教育培训",
            "城管执法队伍教育培训天数",
            "=85.00(天)",
            "63.00(天)",
            "5",
            "3",
            "85 天为预算评审前预估天数(含新进人员培训项目天数), "
            "实际执行 63 天(预算下达的时候已剔除新进人员初任上岗培训项目), 今后及时调整指标数据。",
        ),
        (
            "城管执法教育培训",
            "青年干部班培训人员合格人数",
            "=55(人次)",
            "55.00(人次)",
            "1",
            "0",
            "实际合格 113 名",
        ),
        (
            "城管执法应急保障",
            "信访群众满意度",
            "提升",
            "部分达成指标并具有一定效果",
            "4",
            "2.4",
            "群众对违法建筑等诉求较高，矛盾纠纷化解还缺乏力度。",
        ),
        (
            "城管执法监督考核辅助工作",
            "街面环境实效专项整治评查不少于 800 条街道",
            "=1450.00(条)",
            "1450.00(条)",
            "2",
            "1",
            "问题点位反馈时效性有待于进一步提升，通过定期沟通，阶段性反馈执行进度及问题点，提高问题反馈的灵活性和机动性。",
        ),
        (
            "城管执法队伍规范化建设",
            "视频制作及时完成",
            "9月前完成",
            "未达成指标且效果较差",
            "2",
            "0",
            "未按计划完成工作;下一步针对预算,细化全年预算支出,将项目与重点工作相结合,严格按照计划予以落实,做到成果与年初计划相一致",
        ),
        (
            "城管执法队伍规范化建设",
            "铭牌制作及时性",
            "10月底完成",
            "部分达成指标并具有一定效果",
            "2",
            "1.5",
            "比计划时间晚1个月完成铭牌制作,为符合为基层减负工作要求,与人社部门积极沟通项目改进措施。",
        ),
        (
            "城管执法普法宣传",
            "制作、发放宣传资料数量",
            "≥17500(份)",
            "6017.00(份)",
            "20",
            "15",
            "为了增强普法宣传效果,缩减纸质宣传资料的数量,通过制作群众喜闻乐见的微视频的方式,提高了普法宣传受众面,"
            "在市法宣办开展的普法宣传智能评估中也得到了肯定。下一步将科学规划年度计划,避免偏差的情况发生。",
        ),
    ]
    assert query(store, "missed-targets", year="2020") == [rows[0]]  # Chaoyang: every row at full score


def test_unit_totals(store: Path) -> None:
    assert query(store, "unit-totals") == [
        ("unit", "year", "form_type", "kind", "amount_yuan"),
        (SHANGHAI, "2020", "target_table", "project_total_budget", "9650460"),
        (SHANGHAI, "2020", "target_table", "current_year_budget", "9650460"),
        (SHANGHAI, "2020", "target_table", "prev_year_same_name_budget", "10496022"),
        (SHANGHAI, "2020", "target_table", "prev_year_same_name_executed", "10496022"),
        (SHANGHAI, "2023", "target_declaration", "project_total", "12294288"),
        (SHANGHAI, "2023", "target_declaration", "project_total_fiscal", "12294288"),
        (SHANGHAI, "2023", "target_declaration", "annual_request_total", "8987700"),
        (SHANGHAI, "2023", "target_declaration", "annual_current_year_appropriation", "8987700"),
        (SHANGHAI, "2023", "target_declaration", "annual_carryover", "0"),
        (SHANGHAI, "2023", "target_declaration", "other_funds", "0"),
        (SHANGHAI, "2024", "self_evaluation", "initial_budget", "13441500"),
        (SHANGHAI, "2024", "self_evaluation", "full_year_budget", "14864900"),
        (SHANGHAI, "2024", "self_evaluation", "executed", "13551600"),
        # 朝阳城管执法局 (form 0) and 朝阳区城管执法局 (form 1): one unit, summed
        (CHAOYANG, "2020", "self_evaluation", "initial_budget", "22176523"),
        (CHAOYANG, "2020", "self_evaluation", "full_year_budget", "18540227"),
        (CHAOYANG, "2020", "self_evaluation", "executed", "15623215"),
    ]
    assert len(query(store, "unit-totals", year="2023")) == 1 + 6


def test_named_query_json_has_only_the_output_columns(store: Path) -> None:
    status, out, err = run_cli(
        "--store",
        str(store),
        "query",
        "--name",
        "budget-series",
        "--param",
        "project=课题研究",
        "--format",
        "json",
    )
    assert status == 0, err
    document = json.loads(out)
    columns = ["lineage", "year", "form_type", "kind", "amount_yuan", "reported_by_year"]
    assert document["head"]["vars"] == columns
    assert len(document["results"]["bindings"]) == 6 + 3
    assert all("project" not in binding for binding in document["results"]["bindings"])


# ----------------------------------------------------------------------------- units, documents, evidence


def select(store: Path, sparql: str) -> list[tuple[str, ...]]:
    with OxigraphStore(store, create=False) as opened:
        result = opened.query(sparql)
        names = [v.value for v in result.variables]  # type: ignore[union-attr]
        return sorted(
            tuple(row[n].value if row[n] is not None else "" for n in names)
            for row in result  # type: ignore[union-attr]
        )


def test_units_registry_merges_aliases_and_links_departments(store: Path) -> None:
    assert select(
        store,
        "SELECT ?name ?alias WHERE { ?u a kg:RegisteredUnit ; skos:prefLabel ?name . "
        "OPTIONAL { ?u skos:altLabel ?alias } }",
    ) == [
        ("上海市住房和城乡建设管理委员会", ""),
        (SHANGHAI, ""),
        (CHAOYANG, "朝阳城管执法局"),
    ]
    assert select(
        store,
        "SELECT ?unit ?department WHERE { ?u a kg:RegisteredUnit ; skos:prefLabel ?unit ; "
        "org:subOrganizationOf/skos:prefLabel ?department }",
    ) == [(SHANGHAI, "上海市住房和城乡建设管理委员会")]
    # every printed organization points to its registered unit; every form has its responsible unit
    assert select(
        store,
        "SELECT ?printed ?unit WHERE { ?o a org:Organization ; rdfs:label ?printed ; "
        "kg:canonicalOrganization/skos:prefLabel ?unit }",
    ) == [
        ("上海市住房和城乡建设管理委员会", "上海市住房和城乡建设管理委员会"),
        (SHANGHAI, SHANGHAI),
        ("朝阳区城管执法局", CHAOYANG),
        ("朝阳城管执法局", CHAOYANG),
    ]
    assert select(store, "SELECT (COUNT(?f) AS ?n) WHERE { ?f kg:responsibleUnit ?u }") == [("31",)]


def test_legal_registry_documents(store: Path) -> None:
    rows = select(
        store,
        "SELECT ?number ?issuer ?year ?seq ?kind ?title WHERE { ?d a kg:LegalBasisDocument ; "
        "kg:documentKind ?kind ; kg:preferredTitle ?title . OPTIONAL { ?d eli:id_local ?number ; "
        "kg:documentIssuerCode ?issuer ; kg:documentYear ?year ; kg:documentSequence ?seq } }",
    )
    assert len(rows) == 14
    assert ("沪城管执〔2018〕83号", "沪城管执", "2018", "83", "通知", FINE_TUNING) in rows
    assert ("国发〔2016〕1号", "国发", "2016", "1", "纲要", "法治政府建设实施纲要（2015 - 2020年）") in rows
    untitled = [row[4:] for row in rows if not row[0]]
    assert untitled == [
        ("意见", "中共中央 国务院关于深入推进城市执法体制改革改进城市管理工作的指导意见"),
        ("条例", "上海市城市管理行政执法条例"),
        ("计划", "关于加强本市城管执法精细化三年行动计划（2018-2020）"),
        ("计划", "长三角区域一体化发展2021年度工作计划"),
        ("计划", "长三角地区一体化发展三年行动计划（2021-2023年）"),
    ]
    # the run-on 立项依据 of the 2020 supervision form is split into its seven citations
    assert select(
        store,
        f"SELECT ?field ?raw WHERE {{ <{ID[f'form/{TT}/0']}> kg:hasBasisCitation ?c . "
        "?c kg:citationField ?field ; kg:rawText ?raw }",
    ) == sorted(
        ("立项依据", raw)
        for raw in (
            "上海市城市管理行政执法条例",
            "《关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知》（沪城管执[2017]58号）",
            "关于表彰全市城管执法系统第六届“文明规范执法标兵”和第七届“优秀中队长”的决定》（沪城管执[2017]89号）",
            f"{FINE_TUNING}》（沪城管执〔2018〕83号）",
            "关于表彰上海市城市管理执法精细化工作先进集体、先进个人的决定》（沪城管执〔2018〕129号）",
            "中共中央 国务院关于深入推进城市执法体制改革改进城市管理工作的指导意见",
            "关于加强本市城管执法精细化三年行动计划（2018-2020）",
        )
    )


def test_links_carry_evidence_and_prior_year_facts_are_marked_as_reported(store: Path) -> None:
    link = f"{ID}lineage-link/{short_hash(str(ID[f'form/{TD}/5']) + '|' + str(ID[f'form/{SE}/4']))}"
    assert select(
        store,
        f"SELECT ?signal ?value ?weight WHERE {{ <{link}> kg:linkMethod 'algorithm' ; kg:confidence 0.81 ; "
        "kg:hasEvidence ?e . ?e kg:signal ?signal ; kg:signalWeight ?weight . "
        "OPTIONAL { ?e kg:signalValue ?value } }",
    ) == [
        ("core_name", "1", "0.15"),
        ("funds", "1", "0.15"),
        ("indicators", "0.43", "0.3"),
        ("name", "1", "0.3"),
        ("same_unit", "1", "0"),
    ]
    assert select(
        store,
        "SELECT ?year ?kind ?amount ?reported WHERE { ?l kg:hasPriorYearFunding ?f . "
        "?f kg:fundingYear ?year ; kg:reportedBy/kg:fiscalYear ?reported ; kg:reportedFigure ?fig . "
        "?fig kg:fundingKindCode ?kind ; kg:amountYuan ?amount }",
    ) == [
        ("2019", "prev_year_same_name_budget", "4050000", "2020"),
        ("2019", "prev_year_same_name_budget", "6446022", "2020"),
        ("2019", "prev_year_same_name_executed", "4050000", "2020"),
        ("2019", "prev_year_same_name_executed", "6446022", "2020"),
    ]
    # no owl:sameAs anywhere
    assert select(store, "SELECT ?s WHERE { ?s owl:sameAs ?o }") == []


def test_kg_link_prints_links_and_is_idempotent(store: Path) -> None:
    with OxigraphStore(store, create=False) as opened:
        before = opened.export("nq")
    status, out, err = run_cli("--store", str(store), "link", "--evidence")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["earlier", "later", "confidence", "method"]
    assert any("2020 城管执法监督考核" in line and "confirmed" in line for line in lines)
    assert any("2023 依法行政辅助服务工作" in line and "indicators=0.43" in line for line in lines)
    assert lines[-1].startswith("linked 31 forms: 17 lineages")
    with OxigraphStore(store, create=False) as opened:
        assert opened.export("nq") == before
    status, out, err = run_cli("--store", str(store), "link", "--no-overrides")
    assert status == 0 and "confirmed" not in out
    status, out, err = run_cli("--store", str(store), "link")  # back to the curated state
    assert status == 0


def test_a_curated_add_across_units_keeps_one_row_per_form(store: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "action,form_a,form_b,comment\nadd,003_f95dcf2be13289f4.txt#0,2024:金丽大厦维修维护费,test\n",
        encoding="utf-8",
    )
    try:
        status, out, err = run_cli("--store", str(store), "link", "--overrides", str(overrides))
        assert status == 0, err
        assert "16 lineages" in out and "added" in out
        rows = query(store, "lineages", name="金丽大厦维修维护费")
        assert rows[1:] == [
            (lineage(CY, 0), "2020", "公共事务协管经费", CHAOYANG, "1"),
            (lineage(CY, 0), "2024", "金丽大厦维修维护费", SHANGHAI, "1"),
        ]
        assert len(query(store, "lineages")) == 1 + 31
    finally:
        assert run_cli("--store", str(store), "link")[0] == 0
    status, _, err = run_cli("--store", str(store), "link", "--overrides", str(tmp_path / "missing.csv"))
    assert status == 2 and "overrides file not found" in err
