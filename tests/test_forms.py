"""Parser behaviour on small hand-made forms, one damage pattern at a time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kg.forms import parse_text
from kg.model import Form, FormParseError, FormType

SE_HEAD = """财政项目支出绩效自评表
(2024年度)
项目名称\t\t测试项目
主管部门\t\t某委员会\t\t实施单位\t\t某执法局
项目资金 (万元)\t\t年初预算数\t全年预算数\t全年执行数\t分数\t执行率(%)\t得分
\t年度资金总额:\t10.00\t12.50\t12.00\t10.00\t96.00\t9.60
\t其中:当年财政拨款\t10.00\t12.50\t12.00\t-\t96.00\t-
年度总体目标\t预期目标\t\t\t实际完成情况
\t完成测试。\t\t\t已完成测试。
一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施
"""
SE_TAIL = """总分\t\t\t\t\t100.00\t99.60\t
评分等级\t优\t\t\t\t\t\t
"""

TD_HEAD = """# 财政项目支出绩效目标申报表
(2023年度)
项目名称\t测试申报\t项目性质\t其他一次性项目\t项目类别\t特定目标类
主管部门\t某委员会\t实施单位\t某执法局\t\t
计划开始日期\t2023-01-01\t计划完成日期\t2023-12-31\t\t
项目资金 (元)\t项目资金总额\t1,000.00\t年度资金申请总额\t600.00\t
\t其中：财政资金\t900.00\t其中：当年财政拨款\t500.00\t
\t\t\t上年结转资金\t100.00\t
\t其他资金\t100.00\t其他资金\t0.00\t
项目 绩效 目标\t项目总目标\t\t年度总体目标\t\t
\t总目标文字\t\t年度目标文字\t\t
\t一级指标\t二级指标\t三级指标\t年度(/项目)指标值\t
"""


def only(text: str) -> Form:
    forms = parse_text(text, "snippet.txt")
    assert len(forms) == 1
    return forms[0]


def rows(form: Form) -> list[tuple[str | None, str | None, str, str | None]]:
    return [(i.l1, i.l2, i.l3, i.target) for i in form.indicators]


def test_self_evaluation_header_funds_totals_and_provenance() -> None:
    form = only(SE_HEAD + "产出指标\t数量指标\t课题数量\t=5(个)\t5.00(个)\t90.00\t90.00\t\n" + SE_TAIL)
    assert (form.form_type, form.year, form.project_name.value) == (
        FormType.SELF_EVALUATION,
        2024,
        "测试项目",
    )
    assert form.supervising_department and form.supervising_department.value == "某委员会"
    assert form.implementing_unit and form.implementing_unit.value == "某执法局"
    full_year = form.fund("full_year_budget")
    assert full_year is not None and full_year.yuan == Decimal("125000.00") and full_year.raw == "12.50"
    appropriation = form.fund("executed", row="current_year_appropriation")
    assert appropriation is not None and appropriation.amount == Decimal("12.00")
    assert form.execution_rate and form.execution_rate.value == Decimal("96.00")
    assert form.funds_score and form.funds_score.value == Decimal("9.60")
    assert form.total_score and form.total_score.value == Decimal("99.60")
    assert form.grade and form.grade.value == "优"
    assert form.narratives["预期目标"].value == "完成测试。"
    assert form.narratives["实际完成情况"].value == "已完成测试。"
    (indicator,) = form.indicators
    assert (indicator.line_start, indicator.weight and indicator.weight.value) == (11, Decimal("90.00"))
    assert indicator.target_parsed and indicator.target_parsed.operator == "="


def test_label_split_over_lines_and_inside_cells() -> None:
    table = (
        "产出 指标\t数量 指标\t甲\t=1(个)\t1.00(个)\t40.00\t40.00\t\n"
        "满意 度指\t服务 对象\t乙\t≥85(%)\t90.00(%)\t50.00\t50.00\t\n"
        "\n"
        "标\t满意度指标\t\t\t\t\t\t\n"
    )
    form = only(SE_HEAD + table + SE_TAIL)
    assert rows(form) == [
        ("产出指标", "数量指标", "甲", "=1(个)"),
        ("满意度指标", "服务对象满意度指标", "乙", "≥85(%)"),
    ]
    assert form.indicators[1].line_end == 14


def test_label_tails_on_the_next_indicator_row() -> None:
    table = (
        "效益\t社会\t甲\t提升\t达成指标\t50.00\t50.00\t\n"
        "\n"
        "指标\t效益指标\t乙\t提高\t达成指标\t40.00\t40.00\t\n"
    )
    assert rows(only(SE_HEAD + table + SE_TAIL)) == [
        ("效益指标", "社会效益指标", "甲", "提升"),
        ("效益指标", "社会效益指标", "乙", "提高"),
    ]


def test_repeated_character_at_a_split_and_wrapped_target() -> None:
    table = "效益指标\t可持续\t甲\t符合我局长\t达成指标\t90.00\t90.00\t\n\n\t续影响指标\t\t三角规划\t\t\t\t\n"
    assert rows(only(SE_HEAD + table + SE_TAIL)) == [
        ("效益指标", "可持续影响指标", "甲", "符合我局长三角规划")
    ]


def test_rows_that_lost_leading_cells_carry_labels_down() -> None:
    table = "产出指标\t时效指标\t甲\t及时\t达成指标\t50.00\t50.00\t\n乙\t\t及时\t达成指标\t40.00\t40.00\t\t\n"
    assert rows(only(SE_HEAD + table + SE_TAIL)) == [
        ("产出指标", "时效指标", "甲", "及时"),
        ("产出指标", "时效指标", "乙", "及时"),
    ]


def test_rows_shifted_right_and_a_truncated_row() -> None:
    table = (
        "产出指标\t数量指标\t甲\t=1(个)\t1.00(个)\t80.00\t80.00\t\n"
        "\t生态效益指标\t\t乙\t是\t达成指标\t5.00\t5.00\t\n"
        "\t\t\t效益指标\t可持续影响指标\t丙\t逐步健全\t达成指标\t5.00\n"
    )
    form = only(SE_HEAD + table + SE_TAIL)
    assert rows(form) == [
        ("产出指标", "数量指标", "甲", "=1(个)"),
        ("效益指标", "生态效益指标", "乙", "是"),
        ("效益指标", "可持续影响指标", "丙", "逐步健全"),
    ]
    assert form.indicators[2].weight and form.indicators[2].weight.value == Decimal("5.00")
    assert form.indicators[2].score is None


def test_wrapped_third_level_name_after_a_page_break() -> None:
    table = "产出指标\t质量指标\t培训内容完整\t=100.00(%)\t100.00(%)\t90.00\t90.00\t\n\n\t\t率\t\t\t\t\t\n"
    assert rows(only(SE_HEAD + table + SE_TAIL)) == [("产出指标", "质量指标", "培训内容完整率", "=100.00(%)")]


def test_deviation_reason_continues_on_a_later_line() -> None:
    table = "产出指标\t数量指标\t甲\t=2(次)\t1.00(次)\t90.00\t45.00\t未按计划\n\n\t\t\t\t\t\t\t完成。\n"
    (indicator,) = only(SE_HEAD + table + SE_TAIL).indicators
    assert indicator.deviation_reason == "未按计划完成。"


def test_html_tags_and_full_width_punctuation() -> None:
    table = "产出指标\t数量指标\t<p>甲</p>\t＞３(人)\t4.00(人)\t90.00\t90.00\t\n"
    form = only(SE_HEAD.replace("项目名称\t\t测试项目", "项目名称：\t\t<p>测试项目</p>") + table + SE_TAIL)
    assert form.project_name.value == "测试项目"
    (indicator,) = form.indicators
    assert indicator.l3 == "甲" and indicator.target == "＞３(人)"
    assert indicator.target_parsed and (indicator.target_parsed.operator, indicator.target_parsed.value) == (
        ">",
        Decimal("3"),
    )


def test_centred_labels_in_merged_cells() -> None:
    """Labels printed in the vertical middle of their merged cell: rows above belong to them."""
    body = [f"\t\t\t量{i}\t={i}(个)" for i in range(2)]
    body.append("绩效 指标\t产出指标\t数量指标\t量2\t=2(个)")
    body += [f"\t\t\t量{i}\t={i}(个)" for i in range(3, 5)]
    body += ["\t\t\t质0\t=0(%)", "\t\t质量指标\t质1\t=1(%)", "\t\t\t质2\t=2(%)"]
    body += ["\t效益指标\t社会效益指标\t益0\t提升"]
    form = only(TD_HEAD + "\n".join(body))
    assert [i.l2 for i in form.indicators] == ["数量指标"] * 5 + ["质量指标"] * 3 + ["社会效益指标"]
    assert {i.l1 for i in form.indicators[:8]} == {"产出指标"}


def test_declaration_funds_and_last_line_without_newline() -> None:
    form = only(TD_HEAD + "绩效 指标\t产出指标\t数量指标\t甲\t≥3.00(人)\n\t\t\t乙\t及时")
    funds = {(m.kind, m.amount) for m in form.funds}
    assert funds == {
        ("project_total", Decimal("1000.00")),
        ("project_total_fiscal", Decimal("900.00")),
        ("project_other_funds", Decimal("100.00")),
        ("annual_request_total", Decimal("600.00")),
        ("annual_current_year_appropriation", Decimal("500.00")),
        ("annual_carryover", Decimal("100.00")),
        ("other_funds", Decimal("0.00")),
    }
    assert rows(form) == [("产出指标", "数量指标", "甲", "≥3.00(人)"), ("产出指标", "数量指标", "乙", "及时")]
    assert form.narratives["项目总目标"].value == "总目标文字"
    assert form.line_end == 14


def test_garbled_first_level_keeps_the_carried_one() -> None:
    body = "\t效益指标\t社会效益指标\t甲\t提升\n\t双星指标\t可持续影响指标\t乙\t健全"
    assert [(i.l1, i.l2) for i in only(TD_HEAD + body).indicators] == [
        ("效益指标", "社会效益指标"),
        ("效益指标", "可持续影响指标"),
    ]


def test_target_table_row_that_lost_its_first_cell() -> None:
    text = (
        "财政项目支出绩效目标表\t\t\t\n(2020年度)\t\t\t\n申报单位名称：某局\t\t\t\n"
        "项目名称：\t测试\t项目类别：\t其他一次性项目\n"
        "项目总预算（元）：\t3,870,000\t项目当年预算（元）：\t3,870,000\n"
        "立项依据：\t《某办法》（沪某发[2017]5号）\t\t\n"
        "一级目标\t二级目标\t三级目标\t指标目标值\n"
        "投入与管理\t实施管理\t甲\t健全\n"
        "\t乙\t合规\t\n"
        "产出目标\t数量\t丙\t=100%\n"
    )
    form = only(text)
    assert form.reporting_unit and form.reporting_unit.value == "某局"
    assert rows(form) == [
        ("投入与管理", "实施管理", "甲", "健全"),
        ("投入与管理", "实施管理", "乙", "合规"),
        ("产出目标", "数量", "丙", "=100%"),
    ]
    budget = form.fund("project_total_budget")
    assert budget is not None and (budget.yuan, budget.unit) == (Decimal("3870000"), "元")
    (citation,) = form.legal_citations
    assert (citation.doc_number, citation.title) == ("沪某发〔2017〕5号", "某办法")


def test_vertical_layout_one_cell_per_line() -> None:
    text = (
        "附件\n\t朝阳区项目支出绩效自评表\n\n\t（2020年度）\n\n\t项目名称\n\t测试\n\n"
        "\t主管部门\n\t某局\n\t实施单位\n\t某局\n\n"
        "\t项目资金\n（万元）\n\t\n\t年初预算数\n\t全年预算数\n\t全年执行数\n\t分值\n\t执行率\n\t得分\n\n"
        "\t\n\t年度资金总额\n\t10\n\t10\n\t9\n\t10\n\t90%\n\t9\n\n"
        "\t绩\n效\n指\n标\n\t一级指标\n\t二级指标\n\t三级指标\n\t年度\n指标值\n\t实际\n完成值\n\t分值\n\t得分\n\t偏差\n\n"
        "\t\n\t产出指标\n\t数量指标\n\t指标1：人数\n\t6人\n\t到位\n\t50\n\t50\n\t\n\n"
        "\t\n\t\n\t\n\t指标2：\n\t\n\t\n\t\n\t\n\t\n\n"
        "\t\n\t效益指标\n\t经济效益\n指标\n\t指标1：\n\t\n\t\n\t\n\t\n\t\n\n"
        "\t\n\t\n\t社会效益\n指标\n\t指标1：效果\n\t好\n\t好\n\t40\n\t40\n\t\n\n"
        "\t总分\n\t100\n\t99\n"
    )
    form = only(text)
    assert form.layout == "vertical-self-evaluation" and form.line_start == 2
    assert form.money_unit == "万元" and form.execution_rate and form.execution_rate.value == Decimal("90")
    assert rows(form) == [("产出指标", "数量指标", "人数", "6人"), ("效益指标", "社会效益指标", "效果", "好")]
    assert form.total_score and form.total_score.value == Decimal("99")


def test_several_forms_in_one_file_get_indexes_and_line_spans() -> None:
    one = SE_HEAD + "产出指标\t数量指标\t甲\t=1(个)\t1.00(个)\t90.00\t90.00\t\n" + SE_TAIL
    forms = parse_text(one + "\n" + one.replace("测试项目", "第二项目"), "two.txt")
    assert [(f.index_in_file, f.project_name.value, f.line_start) for f in forms] == [
        (0, "测试项目", 1),
        (1, "第二项目", 15),
    ]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("一些文字\n没有表格\n", 1, "form title"),
        ("财政项目支出绩效自评表\n项目名称\t甲\n", 2, "fiscal year"),
        (SE_HEAD.replace("一级指标", "一级"), 10, "indicator table heading"),
        (SE_HEAD + "产出指标\t数量指标\t甲\t=1(个)\t1.00(个)\t90.00\t90.00\t\n", 11, "总分"),
        (SE_HEAD.replace("项目名称\t\t测试项目", "备注\t无") + SE_TAIL, 1, "项目名称"),
    ],
)
def test_unreadable_forms_name_line_and_expectation(text: str, line: int, expected: str) -> None:
    with pytest.raises(FormParseError) as caught:
        parse_text(text, "bad.txt")
    assert caught.value.file == "bad.txt" and caught.value.line == line
    assert expected in str(caught.value)
