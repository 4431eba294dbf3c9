"""Label vocabularies of the form templates.

Cells are recognised by what they say, not where they sit: exports shift cells left and right, so
a label's column is only a hint. All keys here are in `normalize_label` form (no whitespace,
half-width punctuation, no trailing colon).
"""

from __future__ import annotations

import re

from kg.model import FormType

# Title fragments, most specific first (绩效目标申报表 contains 绩效目标表's words but not the string).
FORM_TITLES: tuple[tuple[str, FormType], ...] = (
    ("绩效目标申报表", FormType.TARGET_DECLARATION),
    ("绩效自评表", FormType.SELF_EVALUATION),
    ("绩效目标表", FormType.TARGET_TABLE),
)

# First- and second-level indicator names of the 2021+ national scheme (TD, SE, Chaoyang SE).
LEVEL1_NAMES = frozenset({"产出指标", "效益指标", "满意度指标", "成本指标"})
LEVEL2_PARENT = {
    "数量指标": "产出指标",
    "质量指标": "产出指标",
    "时效指标": "产出指标",
    "成本指标": "产出指标",
    "经济效益指标": "效益指标",
    "社会效益指标": "效益指标",
    "生态效益指标": "效益指标",
    "可持续影响指标": "效益指标",
    "服务对象满意度指标": "满意度指标",
}
# First-level names of the 2020 Shanghai target table; its second level is open (投入管理, 数量 ...).
TARGET_TABLE_LEVEL1 = frozenset({"投入与管理", "产出目标", "效果目标", "影响力目标"})
# Row-group captions printed in the label columns that are not indicator levels.
TABLE_CAPTIONS = frozenset({"绩效指标", "项目绩效目标", "年度绩效目标"})

INDICATOR_HEADER_L1 = frozenset({"一级指标", "一级目标"})
INDICATOR_HEADER_L3 = frozenset({"三级指标", "三级目标"})

# Placeholder rows of empty templates: "指标2：", "……".
PLACEHOLDER = re.compile(r"^(指标\d*[:：]?|[…\.。]+|-+)$")
# "指标1：协管人数" -> "协管人数"
INDICATOR_NUMBER_PREFIX = re.compile(r"^指标\s*\d+\s*[:：]\s*")

# Printed field label -> Form attribute (header fields that hold one short value).
HEADER_FIELDS = {
    "项目名称": "project_name",
    "申报单位名称": "reporting_unit",
    "申报单位": "reporting_unit",
    "主管部门": "supervising_department",
    "主管部门名称": "supervising_department",
    "实施单位": "implementing_unit",
    "实施单位名称": "implementing_unit",
    "项目类别": "project_category",
    "项目性质": "project_nature",
    "绩效类型": "performance_type",
    "是否含有政府购买服务": "includes_government_purchase_raw",
    "计划开始日期": "planned_start_raw",
    "计划完成日期": "planned_end_raw",
}
# Long text fields, kept by their printed label.
NARRATIVE_FIELDS = frozenset(
    {
        "项目概况",
        "立项依据",
        "项目设立的必要性",
        "保证项目实施的制度、措施",
        "保证项目实施的制度,措施",
        "项目实施计划",
        "总目标及阶段性目标",
    }
)
# Small label/value pairs worth keeping although the model has no slot for them.
EXTRA_FIELDS = frozenset({"项目负责人", "联系电话", "填表人", "填写日期", "填报日期", "联系人"})
LEGAL_BASIS_FIELD = "立项依据"

# 2020 target table: money label (unit stripped) -> funds kind.
TARGET_TABLE_FUNDS = {
    "项目总预算": "project_total_budget",
    "项目当年预算": "current_year_budget",
    "同名项目上年预算额": "prev_year_same_name_budget",
    "同名项目上年预算执行数": "prev_year_same_name_executed",
}
# 2023 target declaration: left half is the project, right half the year.
DECLARATION_PROJECT_FUNDS = {
    "项目资金总额": "project_total",
    "财政资金": "project_total_fiscal",
    "其他资金": "project_other_funds",
}
DECLARATION_ANNUAL_FUNDS = {
    "年度资金申请总额": "annual_request_total",
    "当年财政拨款": "annual_current_year_appropriation",
    "上年结转资金": "annual_carryover",
    "上年结转": "annual_carryover",
    "其他资金": "other_funds",
}
# Self-evaluation funds table: row label -> row key; column label -> what the column holds.
EVALUATION_FUNDS_ROWS = {
    "年度资金总额": "total",
    "当年财政拨款": "current_year_appropriation",
    "上年结转资金": "carryover",
    "其他资金": "other",
}
EVALUATION_FUNDS_COLUMNS = {
    "年初预算数": "initial_budget",
    "全年预算数": "full_year_budget",
    "全年执行数": "executed",
    "分数": "funds_weight",
    "分值": "funds_weight",
    "执行率": "execution_rate",
    "执行率(%)": "execution_rate",
    "得分": "funds_score",
}
TOTAL_ROW = "总分"
GRADE_ROW = "评分等级"


def strip_label_prefix(label: str) -> str:
    """'其中:当年财政拨款' -> '当年财政拨款'; '项目总预算(元)' -> '项目总预算'."""
    label = re.sub(r"^其中[:：]?", "", label)
    return re.sub(r"[\(（][^\)）]*[\)）]$", "", label)
