"""Print a `FormSpec` in one of the four seed layouts, with the seeds' export damage.

Each layout has its own small renderer that reproduces the seed template line by line (tabs, trailing
tabs, blank lines, headings) and applies damage the way the seeds show it: labels split by the PDF layer
and continued on a later line, rows that lost or shifted their leading cells, page breaks (a blank line)
with a cell wrapped onto the next line, labels printed in the vertical middle of merged cells, a row
truncated after its 分值, HTML paragraph tags in cells, full- and half-width punctuation. A renderer
returns the lines of the form (title first), the damage it applied, and the few expected values that the
damage changes (a truncated row has no 得分, a target printed as a bare number reads as that number).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kg.forms.vocabulary import LEVEL1_NAMES, LEVEL2_PARENT
from kg.synth.plan import FormSpec, Row
from kg.synth.pools import CY, NATIONAL_TREE, SE, TD, TT

LABEL_WORDS = frozenset(LEVEL1_NAMES) | frozenset(LEVEL2_PARENT) | {"绩效指标"}
GARBLED_L1 = ("双星指标",)  # seed 002 line 180: 效益指标 read by OCR as 双星指标

# Damage patterns each renderer can apply (the names used in expected.json "damage").
PATTERNS: dict[str, tuple[str, ...]] = {
    TT: ("lost-leading-cells", "half-width-colons", "page-break", "trailing-tabs"),
    SE: (
        "spaced-labels",
        "lost-leading-cells",
        "lost-one-leading-cell",
        "shifted-right",
        "truncated-row",
        "label-in-l1-column",
        "repeated-l1",
        "gap-after-label",
        "split-label",
        "split-label-dup-char",
        "split-label-next-row",
        "wrapped-reason",
        "wrapped-l3",
        "wrapped-target",
        "page-break",
        "html-tags",
        "split-narrative-heading",
        "narrative-spill",
        "extra-column",
        "trailing-tabs",
        "grade-column",
        "year-space",
        "full-width-colons",
    ),
    TD: (
        "spaced-labels",
        "centred-labels",
        "centred-l1",
        "lost-leading-cells",
        "shifted-right",
        "missing-target",
        "bare-target",
        "page-break",
        "split-caption",
        "label-in-l1-column",
        "garbled-l1",
        "separator-line",
        "extra-column",
        "html-tags",
    ),
    CY: ("bookmark", "wrapped-cell", "half-width-colons", "half-width-brackets", "missing-colon"),
}
FILE_PATTERNS = ("gb18030", "no-final-newline", "utf8-bom", "crlf")


@dataclass
class Rendered:
    """The printed form: `lines[0]` is its title line unless `title_index` says otherwise."""

    lines: list[str]
    title_index: int = 0
    damage: list[str] = field(default_factory=list)
    row_patches: dict[int, dict[str, Any]] = field(default_factory=dict)


class _Damage:
    """Decides which patterns a form gets: the featured ones when they apply, others by chance."""

    def __init__(self, rng: random.Random, featured: Sequence[str], rate: float) -> None:
        self.rng = rng
        self.featured = list(featured)
        self.rate = rate
        self.applied: list[str] = []

    def want(self, name: str, chance: float) -> bool:
        """Apply `name` here? Featured patterns until they have been applied once, others by chance."""
        if name in self.featured and name not in self.applied:
            return True
        return self.rng.random() < chance * self.rate

    def did(self, name: str) -> None:
        if name not in self.applied:
            self.applied.append(name)


def pdf_spaces(rng: random.Random, label: str, count: int | None = None) -> str:
    """Spaces the PDF text layer puts inside a label: '满意度指标' -> '满意 度指 标'."""
    if len(label) < 3:
        return label
    positions = sorted(rng.sample(range(1, len(label)), min(len(label) - 1, count or rng.randint(1, 3))))
    out, last = [], 0
    for position in positions:
        out.append(label[last:position])
        last = position
    out.append(label[last:])
    return " ".join(out)


def _join(cells: Sequence[str]) -> str:
    return "\t".join(cells)


def _split_text(rng: random.Random, text: str, low: int = 2) -> tuple[str, str] | None:
    """Cut a cell's text in two where neither part starts or ends with a space."""
    cuts = [
        i
        for i in range(low, len(text) - 1)
        if not text[i - 1].isspace()
        and not text[i].isspace()
        and _open_value(text[:i])
        and _open_value(text[i:])
    ]
    if not cuts:
        return None
    cut = rng.choice(cuts)
    return text[:cut], text[cut:]


def _html(rng: random.Random, text: str) -> str:
    parts = [p for p in re.split(r"(?<=。)", text) if p]
    if len(parts) < 2:
        return f"<p>{text}</p>"
    cut = rng.randint(1, len(parts) - 1)
    return f"<p>{''.join(parts[:cut])}</p> <p>{''.join(parts[cut:])}</p>"


# ----------------------------------------------------------------------------- shared helpers


def _first_flags(rows: Sequence[Row]) -> list[tuple[bool, bool]]:
    """(first row of its first level, first row of its second level) for every row."""
    flags = []
    previous: Row | None = None
    for row in rows:
        new_l1 = previous is None or row.l1 != previous.l1
        new_l2 = new_l1 or previous is None or row.l2 != previous.l2
        flags.append((new_l1, new_l2))
        previous = row
    return flags


def _groups(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """(start, end exclusive) of each run of rows sharing (l1, l2)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or (rows[index].l1, rows[index].l2) != (rows[start].l1, rows[start].l2):
            spans.append((start, index))
            start = index
    return spans


# ----------------------------------------------------------------------------- self-evaluation (Shanghai)


def render_se(spec: FormSpec, rng: random.Random, featured: Sequence[str], rate: float) -> Rendered:
    """The 2024 Shanghai 财政项目支出绩效自评表 (8 tab-separated columns, seed 001)."""
    dmg = _Damage(rng, featured, rate)
    out = Rendered([])
    extra = dmg.want("extra-column", 0.12)
    pad = 1 if extra or dmg.want("trailing-tabs", 0.12) else 0
    width = 8 + pad
    spaced = dmg.want("spaced-labels", 0.5)
    for name, on in (
        ("extra-column", extra),
        ("trailing-tabs", pad and not extra),
        ("spaced-labels", spaced),
    ):
        if on:
            dmg.did(name)

    def line(*cells: str) -> str:
        values = list(cells)
        return _join(values + [""] * (width - len(values)))

    def label(text: str) -> str:
        return pdf_spaces(rng, text) if spaced else text

    lines = out.lines
    year = f"({spec.year} 年度)" if dmg.want("year-space", 0.3) else f"({spec.year}年度)"
    if " 年度" in year:
        dmg.did("year-space")
    lines += ["财政项目支出绩效自评表", "", year, ""]
    if rng.random() < 0.6:
        lines.append(line("项目名称", "", spec.name))
        lines.append(line("主管部门", "", spec.department or "", "", "实施单位", "", spec.unit or ""))
    else:
        lines.append(line("项目名称", spec.name))
        lines.append(line("主管部门", spec.department or "", "", "", "实施单位", spec.unit or ""))
    funds = spec.funds_text
    lines.append(
        line("项目资金 (万元)", "", "年初预算数", "全年预算数", "全年执行数", "分数", "执行率(%)", "得分")
    )
    full_width = dmg.want("full-width-colons", 0.15)
    colon = "：" if full_width else ":"
    if full_width:
        dmg.did("full-width-colons")
    money = (funds["initial_budget"], funds["full_year_budget"], funds["executed"])
    rate_text = funds["execution_rate_percent"]
    lines.append(
        line("", f"年度资金总额{colon}", *money, funds["funds_weight"], rate_text, funds["funds_score"])
    )
    lines.append(line("", f"其中{colon}{rng.choice(('', ' '))}当年财政拨款", *money, "-", rate_text, "-"))
    lines.append(line("", "上年结转资金", "0.00", "0.00", "0.00", "-", "0.00", "-"))
    lines.append(line("", "其他资金", "0.00", "0.00", "0.00", "-", "0.00", "-"))
    _se_narratives(spec, rng, dmg, lines, line, label)
    header = [label("一级指标"), label("二级指标"), "三级指标", "年度指标值", "实际完成值", "分值", "得分"]
    if extra:
        header.insert(3, "")
    lines.append(line(*header, "偏差原因分析及改进措施"))
    _se_table(spec, rng, dmg, out, width, extra, label)
    lines.append(line("总分", "", "", "", "", spec.total_weight_text or "", spec.total_score_text or ""))
    if spec.grade is not None:
        if dmg.want("grade-column", 0.1):
            lines.append(line("评分等级", "", spec.grade))
            dmg.did("grade-column")
        else:
            lines.append(line("评分等级", spec.grade))
    out.damage = dmg.applied
    return out


def _se_narratives(
    spec: FormSpec, rng: random.Random, dmg: _Damage, lines: list[str], line: Any, label: Any
) -> None:
    expected, actual = spec.narratives["预期目标"], spec.narratives["实际完成情况"]
    if dmg.want("html-tags", 0.3):
        expected, actual = _html(rng, expected), _html(rng, actual)
        dmg.did("html-tags")
    spill = None
    if dmg.want("narrative-spill", 0.08) and len(expected) > 30:
        parts = _split_text(rng, expected, 10)
        if parts:
            expected, spill = parts
            dmg.did("narrative-spill")
    if dmg.want("split-narrative-heading", 0.1):
        lines.append(line("年度", "预期目标", "", "", "实际完成情况"))
        lines.append(line("总体目标", expected, "", "", actual))
        dmg.did("split-narrative-heading")
    else:
        lines.append(line(label("年度总体目标"), "预期目标", "", "", "实际完成情况"))
        lines.append(line("", expected, "", "", actual))
    if spill is not None:
        lines += ["", line("", spill)]


def _se_table(
    spec: FormSpec, rng: random.Random, dmg: _Damage, out: Rendered, width: int, extra: bool, label: Any
) -> None:
    """Indicator rows with their damage; continuation rows go after the row they continue."""
    rows = spec.rows
    target_col = 4 if extra else 3
    flags = _first_flags(rows)
    groups = _groups(rows)
    cells_of: list[list[str]] = []
    for row, (new_l1, new_l2) in zip(rows, flags, strict=True):
        cells = [label(row.l1) if new_l1 else "", label(row.l2) if new_l2 else "", row.l3]
        if extra:
            cells.append("")
        cells += [row.target, row.actual or "", row.weight_text or "", row.score_text or "", row.reason or ""]
        cells_of.append(cells)
    touched: set[int] = set()
    after: dict[int, list[list[str]]] = {}  # rows printed (after a page break) below row i
    reason_col = target_col + 4

    def pad(cells: list[str]) -> list[str]:
        return cells + [""] * (width - len(cells))

    def free(index: int) -> bool:
        return index not in touched and index not in after

    # Split labels (a page break inside a merged label cell), as in seed 001 lines 25, 59/61, 86/88, 233/235.
    for start, end in groups:
        row = rows[start]
        new_l1 = flags[start][0]
        if not free(start):
            continue
        if row.l2 == "服务对象满意度指标" and new_l1 and dmg.want("split-label", 0.25):
            head1, tail1 = _label_cut(rng, row.l1)
            head2, tail2 = _label_cut(rng, row.l2)
            cells_of[start][0], cells_of[start][1] = pdf_spaces(rng, head1, 1), pdf_spaces(rng, head2, 1)
            after[start] = [pad([tail1, tail2])]
            touched.add(start)
            dmg.did("split-label")
        elif row.l2 == "可持续影响指标" and not new_l1 and dmg.want("split-label-dup-char", 0.2):
            head, tail = row.l2[:3], row.l2[2:]  # '可持续' + '续影响指标' (seed line 233/235)
            continuation = ["", tail]
            parts = (
                _split_text(rng, row.target, 3) if _open_value(row.target) and len(row.target) >= 6 else None
            )
            if parts:
                cells_of[start][target_col] = parts[0]
                continuation += [""] * (target_col - 2) + [parts[1]]
            cells_of[start][1] = head
            after[start] = [pad(continuation)]
            touched.add(start)
            dmg.did("split-label-dup-char")
            if parts:
                dmg.did("wrapped-target")
        elif not new_l1 and flags[start][1] and dmg.want("split-label", 0.06):
            head, tail = _label_cut(rng, row.l2)
            cells_of[start][1] = head
            after[start] = [pad(["", tail])]
            touched.add(start)
            dmg.did("split-label")
        elif (
            end - start >= 2
            and row.l2.endswith("指标")
            and free(start + 1)
            and rows[start + 1].reason is None
            and dmg.want("split-label-next-row", 0.12)
        ):
            # '质量' | … then, after a page break, '' | '指标' | next row (seed 001 lines 177/179);
            # with the first level too: '效益' | '社会' then '指标' | '效益指标' (lines 610/612).
            if new_l1 and row.l1.endswith("指标") and len(row.l2) > 4:
                cut = len(row.l2) - 4
                cells_of[start][0], cells_of[start][1] = row.l1[:-2], row.l2[:cut]
                cells_of[start + 1][0], cells_of[start + 1][1] = "指标", row.l2[cut:]
            elif not new_l1:
                cells_of[start][0], cells_of[start][1] = row.l2[:-2], ""
                cells_of[start + 1][1] = "指标"
            else:
                continue
            touched.update((start, start + 1))
            after.setdefault(start, [])  # a page break (blank line) after the row, nothing continued
            dmg.did("split-label-next-row")

    # Row damage.
    truncated_done = False
    shifted_run = 0
    for index, row in enumerate(rows):
        if not free(index):
            continue
        new_l1, new_l2 = flags[index]
        cells = cells_of[index]
        if shifted_run > 0:
            cells_of[index] = ["", *cells]
            shifted_run -= 1
            touched.add(index)
            continue
        if not new_l1 and not new_l2 and dmg.want("lost-leading-cells", 0.03):
            # The name moves to the first column; the other cells keep or lose their place (seed 001
            # lines 22, 549 and 481).
            values = cells[target_col:]
            shape = rng.random()
            if shape < 0.6:
                cells_of[index] = pad([row.l3, "", *values])
            elif shape < 0.8:
                cells_of[index] = pad([row.l3, values[0], "", "", *values[1:]])
            else:
                cells_of[index] = pad([row.l3] + [""] * (target_col - 1) + values)
            dmg.did("lost-leading-cells")
        elif not new_l1 and dmg.want("lost-one-leading-cell", 0.03):
            cells_of[index] = pad(cells[1:])
            dmg.did("lost-one-leading-cell")
        elif not new_l1 and new_l2 and dmg.want("label-in-l1-column", 0.08):
            cells[0], cells[1] = cells[1], ""  # seed 001 line 275: '质量 指标' | '' | name
            dmg.did("label-in-l1-column")
        elif not new_l1 and new_l2 and dmg.want("repeated-l1", 0.05):
            cells[0] = label(row.l1)  # seed 001 line 308: the first level printed again
            dmg.did("repeated-l1")
        elif not new_l1 and new_l2 and dmg.want("gap-after-label", 0.03):
            cells_of[index] = [*cells[:2], "", *cells[2:]]  # seed 001 line 477: l2 | '' | name …
            dmg.did("gap-after-label")
        elif dmg.want("shifted-right", 0.01):
            cells_of[index] = ["", *cells]
            shifted_run = rng.randint(0, 4)
            dmg.did("shifted-right")
        elif not truncated_done and row.reason is None and dmg.want("truncated-row", 0.01):
            weight_col = target_col + 2
            cells_of[index] = ["", "", *cells[:weight_col + 1]]
            out.row_patches[index] = {"score": None, "alt": {"score": [_number(row.score_text)]}}
            truncated_done = True
            dmg.did("truncated-row")
        else:
            continue
        touched.add(index)

    # Page breaks, with a wrapped cell on the next line.
    for index, row in enumerate(rows):
        if index in after:
            continue
        if row.reason and len(row.reason) >= 8 and dmg.want("wrapped-reason", 0.15):
            parts = _split_text(rng, row.reason, 4)
            if parts is None:
                continue
            at = _cell_index(cells_of[index], row.reason)
            if at is None:
                continue
            cells_of[index][at] = parts[0]
            # The tail sits in the reason column of the page (seed 001 lines 583/585), or further right
            # when the row itself was shifted right.
            after[index] = [pad([""] * max(reason_col, at) + [parts[1]])]
            dmg.did("wrapped-reason")
        elif (
            index not in touched
            and cells_of[index][2] == row.l3
            and len(row.l3) >= 6
            and dmg.want("wrapped-l3", 0.02)
        ):
            parts = _split_text(rng, row.l3, 3)
            if parts is None or _makes_label(parts[0], parts[1]):
                continue
            cells_of[index][2] = parts[0]
            after[index] = [pad(["", "", parts[1]])]
            dmg.did("wrapped-l3")
        elif (
            index not in touched
            and _open_value(row.target)
            and len(row.target) >= 6
            and cells_of[index][target_col] == row.target
            and dmg.want("wrapped-target", 0.02)
        ):
            parts = _split_text(rng, row.target, 3)
            if parts is None:
                continue
            cells_of[index][target_col] = parts[0]
            after[index] = [pad([""] * target_col + [parts[1]])]
            dmg.did("wrapped-target")
    for index, cells in enumerate(cells_of):
        out.lines.append(_join(pad(cells) if len(cells) < width else cells))
        if index in after:
            out.lines.append("")
            out.lines.extend(_join(c) for c in after[index])
        elif dmg.want("page-break", 0.02):
            out.lines.append("")
            dmg.did("page-break")


def _label_cut(rng: random.Random, label: str) -> tuple[str, str]:
    """Cut a label where the PDF layer does: the head is at least two characters and no whole label."""
    cuts = [i for i in range(2, len(label)) if label[:i] not in LABEL_WORDS]
    cut = rng.choice(cuts)
    return label[:cut], label[cut:]


def _makes_label(head: str, tail: str) -> bool:
    return (head + tail).replace(" ", "") in LABEL_WORDS


def _open_value(text: str) -> bool:
    """A cell a wrapped fragment may continue: not a finished number/result band (cf. kg.forms)."""
    return not re.match(r"^[=≥≤<>＜＞≧≦]*\s*\d+(?:\.\d+)?\s*(?:\([^)]*\)|（[^）]*）|%)?$", text.strip())


def _cell_index(cells: Sequence[str], text: str) -> int | None:
    return next((i for i in range(len(cells) - 1, -1, -1) if cells[i] == text), None)


def _number(text: str | None) -> Any:
    from decimal import Decimal

    return _json_number(Decimal(text)) if text else None


def _json_number(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


# ----------------------------------------------------------------------------- target table (2020)


def render_tt(spec: FormSpec, rng: random.Random, featured: Sequence[str], rate: float) -> Rendered:
    """The 2020 Shanghai 财政项目支出绩效目标表 (4 tab-separated columns, seed 000)."""
    dmg = _Damage(rng, featured, rate)
    out = Rendered([])
    half = dmg.want("half-width-colons", 0.2)
    colon = ":" if half else "："
    if half:
        dmg.did("half-width-colons")
    trailing = dmg.want("trailing-tabs", 0.3)
    if trailing:
        dmg.did("trailing-tabs")
    lines = out.lines
    lines.append("财政项目支出绩效目标表\t\t\t")
    lines.append(f"({spec.year}年度)\t\t\t")
    lines.append(f"申报单位名称{colon}{spec.reporting_unit}\t\t\t")
    lines.append(f"项目名称{colon}\t{spec.name}\t项目类别{colon}\t{spec.category}")
    start = spec.planned_start.isoformat() if spec.planned_start else ""
    end = spec.planned_end.isoformat() if spec.planned_end else ""
    lines.append(f"计划开始日期{colon}\t{start}\t计划完成日期{colon}\t{end}")
    purchase = "是" if spec.purchase else "否"
    lines.append(f"是否含有政府购买服务{colon}\t{purchase}\t绩效类型{colon}\t{spec.performance_type}")
    for label_text in (
        "项目概况",
        "立项依据",
        "项目设立的必要性",
        "保证项目实施的制度、措施",
        "项目实施计划",
        "总目标及阶段性目标",
    ):
        tail = "\t\t" if trailing or rng.random() < 0.5 else ""
        lines.append(f"{label_text}{colon}\t{spec.narratives[label_text]}{tail}")
    lines.append("")
    lines.append("本项目上年度市级财政资金使用情况\t\t\t")
    funds = spec.funds_text
    lines.append(
        f"项目总预算（元）{colon}\t{funds['project_total_budget']}\t项目当年预算（元）{colon}\t"
        f"{funds['current_year_budget']}"
    )
    lines.append(
        f"同名项目上年预算额（元）{colon}\t{funds['prev_year_same_name_budget']}\t"
        f"同名项目上年预算执行数（元）{colon}\t{funds['prev_year_same_name_executed']}"
    )
    lines += ["", f"## {spec.year}年绩效目标", "", "一级目标\t二级目标\t三级目标\t指标目标值"]
    for row, (new_l1, new_l2) in zip(spec.rows, _first_flags(spec.rows), strict=True):
        if not new_l2 and dmg.want("lost-leading-cells", 0.04):
            lines.append(f"\t{row.l3}\t{row.target}\t")  # seed 000 line 36
            dmg.did("lost-leading-cells")
        else:
            lines.append(_join([row.l1 if new_l1 else "", row.l2 if new_l2 else "", row.l3, row.target]))
        if dmg.want("page-break", 0.01):
            lines.append("")
            dmg.did("page-break")
    out.damage = dmg.applied
    return out


# ----------------------------------------------------------------------------- target declaration (2023)


def render_td(
    spec: FormSpec, rng: random.Random, featured: Sequence[str], rate: float, first_in_file: bool
) -> Rendered:
    """The 2023 财政项目支出绩效目标申报表 (6 tab-separated columns, seed 002)."""
    dmg = _Damage(rng, featured, rate)
    out = Rendered([])
    spaced = dmg.want("spaced-labels", 0.6)
    if spaced:
        dmg.did("spaced-labels")
    lines = out.lines
    lines += [("## " if first_in_file else "# ") + "财政项目支出绩效目标申报表", "", f"({spec.year}年度)", ""]
    lines.append(
        _join(["项目名称", spec.name, "项目性质", spec.nature or "", "项目类别", spec.category or ""])
    )
    lines.append(_join(["主管部门", spec.department or "", "实施单位", spec.unit or "", "", ""]))
    start = spec.planned_start.isoformat() if spec.planned_start else ""
    end = spec.planned_end.isoformat() if spec.planned_end else ""
    lines.append(_join(["计划开始日期", start, "计划完成日期", end, "", ""]))
    f = spec.funds_text
    lines.append(
        _join(
            [
                "项目资金 (元)",
                "项目资金总额",
                f["project_total"],
                "年度资金申请总额",
                f["annual_request_total"],
                "",
            ]
        )
    )
    lines.append(
        _join(
            [
                "",
                "其中：财政资金",
                f["project_total_fiscal"],
                "其中：当年财政拨款",
                f["annual_current_year_appropriation"],
                "",
            ]
        )
    )
    lines.append(_join(["", "", "", "上年结转资金", f["annual_carryover"], ""]))
    lines.append(_join(["", "其他资金", f["project_other_funds"], "其他资金", f["other_funds"], ""]))
    period = (
        f"项目总目标 ({spec.year}年 -{spec.year}年)"
        if rng.random() < 0.8
        else f"项目总目标 ({spec.year}年-{spec.year}年)"
    )
    goal, annual = spec.narratives["项目总目标"], spec.narratives["年度总体目标"]
    if dmg.want("html-tags", 0.1):
        goal, annual = _html(rng, goal), _html(rng, annual)
        dmg.did("html-tags")
    heading = pdf_spaces(rng, "项目绩效目标", 2) if spaced else "项目绩效目标"
    compact = rng.random() < 0.2
    if compact:
        lines += ["", _join([heading, period, "年度总体目标"]), _join(["", goal, annual]), ""]
    else:
        lines += [_join([heading, period, "", "年度总体目标", "", ""]), _join(["", goal, "", annual, "", ""])]
    extra = dmg.want("extra-column", 0.08)
    header = ["", "一级指标", "二级指标", "三级指标", "年度(/项目)指标值"]
    if extra:
        header.insert(4, "")
        dmg.did("extra-column")
    lines.append(_join(header + ([] if compact else [""])))
    _td_table(spec, rng, dmg, out, spaced, extra)
    if dmg.want("separator-line", 0.05):
        lines.append("--\t-------\t---------------\t---------\t----")
        dmg.did("separator-line")
    out.damage = dmg.applied
    return out


def _td_table(
    spec: FormSpec, rng: random.Random, dmg: _Damage, out: Rendered, spaced: bool, extra: bool
) -> None:
    rows = spec.rows
    flags = _first_flags(rows)
    groups = _groups(rows)
    caption = pdf_spaces(rng, "绩效指标", 1) if spaced else "绩效指标"
    l1_at: dict[int, str] = {}
    l2_at: dict[int, str] = {}
    centred = False
    first = groups[0]
    if first[1] - first[0] >= 5 and dmg.want("centred-labels", 0.2):
        # Labels printed in the vertical middle of their merged cells (seed 002 forms 2 and 10): a run of
        # groups from the first; a group with an even number of rows ends the run.
        centred = True
        position = 0
        for start, end in groups:
            size = end - start
            l2_at[start + size // 2] = rows[start].l2
            position += 1
            if size % 2 == 0 or size == 1 or rng.random() < 0.4:
                break
        for start, _ in groups[position:]:
            l2_at[start] = rows[start].l2
        dmg.did("centred-labels")
    else:
        for start, _ in groups:
            l2_at[start] = rows[start].l2
    blocks: list[tuple[int, int]] = []
    for index, (new_l1, _) in enumerate(flags):
        if new_l1:
            blocks.append((index, index))
        blocks[-1] = (blocks[-1][0], index + 1)
    for start, end in blocks:
        if (centred and start == 0) or dmg.want("centred-l1", 0.08):
            l1_at[start + (end - start) // 2] = rows[start].l1
            if not (centred and start == 0):
                dmg.did("centred-l1")
        else:
            l1_at[start] = rows[start].l1
    caption_at = min(l2_at) if l2_at else 0
    # The caption 绩效指标 split by a page break: '绩效' on its row, '指标' on the first row of the next page
    # (seed 002 lines 197/207).
    tail_at = caption_at + 3 if dmg.want("split-caption", 0.05) and len(rows) > caption_at + 4 else None
    missing_done = False
    for index, row in enumerate(rows):
        target = row.target
        if row.quant is not None and row.quant.op.strip() and dmg.want("bare-target", 0.02):
            target = _bare(row.quant.value)  # seed 002 line 47: '120' where the 2024 form prints ≥120(天)
            out.row_patches[index] = {"target": target}
            dmg.did("bare-target")
        l1 = l1_at.get(index)
        l2 = l2_at.get(index)
        if l1 == "效益指标" and l2 and dmg.want("garbled-l1", 0.1):
            l1 = GARBLED_L1[0]
            dmg.did("garbled-l1")
        if spaced and l2 and rng.random() < 0.2:
            l2 = pdf_spaces(rng, l2, 1)
        cap = caption if index == caption_at else ""
        if tail_at is not None and index == caption_at:
            cap = "绩效"
        if index == tail_at:
            cap = "指标"
            out.lines.append("")
            dmg.did("split-caption")
        cells = [cap, l1 or "", l2 or "", row.l3]
        if extra:
            cells.append("")
        cells.append(target)
        if cap:
            cells.append("")
        elif not missing_done and l1 and l2 and index > 0 and dmg.want("missing-target", 0.02):
            # seed 002 line 120: labels shifted right and no target value
            cells = [l1, "", l2, row.l3]
            out.row_patches[index] = {"target": None}
            missing_done = True
            dmg.did("missing-target")
        elif not l1 and l2 and dmg.want("label-in-l1-column", 0.05):
            cells = [l2, row.l3, target, ""]  # seed 002 line 284
            dmg.did("label-in-l1-column")
        elif not l1 and not l2 and dmg.want("shifted-right", 0.02):
            cells = ["", row.l3, "", target]  # seed 002 line 121: name in the second-level slot
            dmg.did("shifted-right")
        elif dmg.want("lost-leading-cells", 0.15):
            while cells and cells[0] == "":
                cells.pop(0)
                if rng.random() < 0.5:
                    break
            cells += [""] * rng.randint(0, 2)
            dmg.did("lost-leading-cells")
        elif rng.random() < 0.7:
            cells.append("")
        out.lines.append(_join(cells))
        if index + 1 != tail_at and dmg.want("page-break", 0.03):
            out.lines.append("")
            dmg.did("page-break")


def _bare(value: Any) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ----------------------------------------------------------------------------- Chaoyang (vertical)


def render_cy(
    spec: FormSpec, rng: random.Random, featured: Sequence[str], rate: float, first_in_file: bool
) -> Rendered:
    """The Beijing Chaoyang 项目支出绩效自评表: one cell per line, blank lines between rows (seed 003)."""
    dmg = _Damage(rng, featured, rate)
    out = Rendered([])
    lines = out.lines
    colon = "："
    if dmg.want("half-width-colons", 0.15):
        colon = ":"
        dmg.did("half-width-colons")
    brackets = ("（", "）")
    if dmg.want("half-width-brackets", 0.15):
        brackets = ("(", ")")
        dmg.did("half-width-brackets")

    def row(*cells: str) -> None:
        for cell in cells:
            lines.extend(_vertical_cell(cell))
        lines.append("")

    if first_in_file:
        lines.append("附件")
        out.title_index = 1
    lines += ["\t朝阳区项目支出绩效自评表", "", f"\t{brackets[0]}{spec.year}年度{brackets[1]}", ""]
    row("项目名称", spec.name)
    row("主管部门", spec.department or "", "实施单位", spec.unit or "")
    row("项目负责人", spec.people or "", "联系电话", spec.phone or "")
    lines += ["\t项目资金", f"{brackets[0]}万元{brackets[1]}"]
    row("", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
    f = spec.funds_text
    money = (f["initial_budget"], f["full_year_budget"], f["executed"])
    rate_text = f["execution_rate_percent"]
    row("", "年度资金总额", *money, f["funds_weight"], rate_text, f["funds_score"])
    row("", f"其中{colon}当年财政拨款", *money, "—", rate_text, "—")
    carry = "上年结转资金"
    if dmg.want("bookmark", 0.3):
        carry = "[bookmark: _GoBack]" + carry
        dmg.did("bookmark")
    row("", carry, "", "", "", "—", "", "—")
    row("", "其他资金", "", "", "", "—", "", "—")
    row("年度总体目标", "预期目标", "实际完成情况")
    lines += ["\t", f"\t{spec.narratives['预期目标']}\t", f"\t{spec.narratives['实际完成情况']}", ""]
    lines += [
        "\t绩",
        "效",
        "指",
        "标",
        "\t一级指标",
        "\t二级指标",
        "\t三级指标",
        "\t年度",
        "指标值",
        "\t实际",
        "完成值",
    ]
    lines += ["\t分值", "\t得分", "\t偏差原因分析及改进措施", ""]
    by_l2: dict[str, list[tuple[int, Row]]] = {}
    for index, indicator in enumerate(spec.rows):
        by_l2.setdefault(indicator.l2, []).append((index, indicator))
    wrapped = False
    for l1, l2s in NATIONAL_TREE:
        for position, l2 in enumerate(l2s):
            filled = by_l2.get(l2, [])
            for slot in range(3):
                cells = [""]
                cells.append(_cy_label(l1) if position == 0 and slot == 0 else "")
                cells.append(_cy_label(l2) if slot == 0 else "")
                if slot == 2:
                    cells += ["……", "", "", "", "", ""]
                elif slot < len(filled):
                    _, indicator = filled[slot]
                    prefix = f"指标{slot + 1}{colon}"
                    target = indicator.target
                    if not wrapped and len(target) >= 12 and dmg.want("wrapped-cell", 0.2):
                        parts = _split_text(rng, target, 6)
                        if parts:
                            target = parts[0] + "\n" + parts[1]
                            wrapped = True
                            dmg.did("wrapped-cell")
                    cells += [
                        prefix + indicator.l3,
                        target,
                        indicator.actual or "",
                        indicator.weight_text or "",
                        indicator.score_text or "",
                        indicator.reason or "",
                    ]
                else:
                    placeholder = f"指标{slot + 1}{colon}"
                    if slot == 1 and dmg.want("missing-colon", 0.05):
                        placeholder = "指标2"  # seed 003 line 314: an empty slot printed without colon
                        dmg.did("missing-colon")
                    cells += [placeholder, "", "", "", "", ""]
                row(*cells)
    row("总分", spec.total_weight_text or "", spec.total_score_text or "", "")
    lines.append("")
    lines.append(
        f"填表人{colon}{spec.filler}          联系电话{colon}{spec.phone}"
        f"        填写日期{colon}{spec.fill_date}"
    )
    out.damage = dmg.applied
    return out


def _cy_label(label: str) -> str:
    """Labels the Chaoyang template prints on two lines ('经济效益' / '指标', '满意度' / '指标')."""
    if label in ("经济效益指标", "社会效益指标", "生态效益指标", "满意度指标"):
        return label[:-2] + "\n指标"
    return label


def _vertical_cell(cell: str) -> list[str]:
    """A cell's lines: the first starts with a tab, wrapped parts continue without one."""
    first, *rest = cell.split("\n")
    return [f"\t{first}", *rest]
