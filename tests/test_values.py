"""Reading printed values: comparisons, decimals, money units, dates, years, 是/否."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kg.forms.values import (
    money_unit_from_label,
    parse_bool_cn,
    parse_comparison,
    parse_date,
    parse_decimal,
    parse_year,
    to_yuan,
)
from kg.model import Comparison

D = Decimal


@pytest.mark.parametrize(
    ("raw", "operator", "value", "unit"),
    [
        ("≥85%", ">=", D("85"), "%"),
        ("=100%", "=", D("100"), "%"),
        (">=80", ">=", D("80"), None),
        (">=85%", ">=", D("85"), "%"),
        ("≥90(%)", ">=", D("90"), "%"),
        ("=100(%)", "=", D("100"), "%"),
        ("=2.00(份)", "=", D("2.00"), "份"),
        ("≥120(天)", ">=", D("120"), "天"),
        (">4(次)", ">", D("4"), "次"),
        ("≤20(%)", "<=", D("20"), "%"),
        ("＞90", ">", D("90"), None),
        ("≧95%", ">=", D("95"), "%"),
        ("＝1(份)", "=", D("1"), "份"),
        ("=0.00(次)", "=", D("0.00"), "次"),
        ("≥0.00(次)", ">=", D("0.00"), "次"),
        (">85.00(百分比)", ">", D("85.00"), "百分比"),
        ("=49.00(人/次/天)", "=", D("49.00"), "人/次/天"),
        ("≥100000(人次)", ">=", D("100000"), "人次"),
        ("=10(分钟)", "=", D("10"), "分钟"),
        ("≥4.00(次)", ">=", D("4.00"), "次"),
        ("≥90（%）", ">=", D("90"), "%"),
        ("＞＝85", ">=", D("85"), None),
        ("≤ 3 次", "<=", D("3"), "次"),
        ("大于 90%", ">", D("90"), "%"),
        ("大于90%", ">", D("90"), "%"),
        ("大于 10%", ">", D("10"), "%"),
        ("不低于95%", ">=", D("95"), "%"),
        ("不少于 800 条", ">=", D("800"), "条"),
        ("不超过3次", "<=", D("3"), "次"),
        ("小于5%", "<", D("5"), "%"),
        ("高于80%", ">", D("80"), "%"),
        ("低于5%", "<", D("5"), "%"),
        ("至少3个", ">=", D("3"), "个"),
        ("大于等于90%", ">=", D("90"), "%"),
        ("小于或等于2次", "<=", D("2"), "次"),
        ("90%以上", ">=", D("90"), "%"),
        ("5次以内", "<=", D("5"), "次"),
        ("120", None, D("120"), None),
        ("100", None, D("100"), None),
        ("90%", None, D("90"), "%"),
        ("2.00(人)", None, D("2.00"), "人"),
        ("100.00(%)", None, D("100.00"), "%"),
        ("98.00(%)", None, D("98.00"), "%"),
        ("88.90(分)", None, D("88.90"), "分"),
        ("49.00(人/次/天)", None, D("49.00"), "人/次/天"),
        ("100.00(百分比)", None, D("100.00"), "百分比"),
        ("2.00(月)", None, D("2.00"), "月"),
        ("6人", None, D("6"), "人"),
        ("14节", None, D("14"), "节"),
        ("1,000人", None, D("1000"), "人"),
        ("３０人", None, D("30"), "人"),
    ],
)
def test_comparison(raw: str, operator: str | None, value: Decimal, unit: str | None) -> None:
    parsed = parse_comparison(raw)
    assert parsed == Comparison(raw=raw, operator=operator, value=value, unit=unit)
    assert parsed is not None and str(parsed.value) == str(value)  # digits kept as printed


@pytest.mark.parametrize(
    ("raw", "low", "high", "unit"),
    [
        ("30-50节", D("30"), D("50"), "节"),
        ("30～50节", D("30"), D("50"), "节"),
        ("30~50节", D("30"), D("50"), "节"),
        ("30—50", D("30"), D("50"), None),
        ("30节-50节", D("30"), D("50"), "节"),
        ("60%-90%", D("60"), D("90"), "%"),
        ("1.5 至 2.5 小时", D("1.5"), D("2.5"), "小时"),
    ],
)
def test_range(raw: str, low: Decimal, high: Decimal, unit: str | None) -> None:
    assert parse_comparison(raw) == Comparison(raw=raw, operator="range", value=low, upper=high, unit=unit)


@pytest.mark.parametrize(
    "raw",
    [
        "3-11月开展",
        "112人（上半年）     85人（下半年）",
        "及时",
        "达成指标",
        "合理",
        "80%合格",
        "降低60%-90%",
        "满意率达90%",
        "在19年现有基础上提升3%-10%",
        "2021年11月底完成预算经费100%",
        "10月完成",
        "12月份",
        "12月",
        "9月前完成",
        "8月和次年1月",
        "30节-50个",
        "2020-12",
        "≥85%以上",
        "—",
        "≥",
        "100(2020年)",
    ],
)
def test_qualitative(raw: str) -> None:
    assert parse_comparison(raw) == Comparison(raw=raw, qualitative=raw)


def test_qualitative_is_stripped_but_raw_kept() -> None:
    assert parse_comparison("  及时 ") == Comparison(raw="  及时 ", qualitative="及时")


def test_raw_is_unchanged_when_parsed() -> None:
    parsed = parse_comparison(" ≥ 90(%) ")
    assert parsed == Comparison(raw=" ≥ 90(%) ", operator=">=", value=D("90"), unit="%")


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_comparison_of_nothing(raw: str | None) -> None:
    assert parse_comparison(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3,870,000", "3870000"),
        ("800,000.00", "800000.00"),
        ("1514.0223", "1514.0223"),
        ("40.00", "40.00"),
        ("0", "0"),
        ("0.00", "0.00"),
        ("99%", "99"),
        ("86.75", "86.75"),
        (" 1142.8 ", "1142.8"),
        ("-3.5", "-3.5"),
    ],
)
def test_parse_decimal(raw: str, expected: str) -> None:
    parsed = parse_decimal(raw)
    assert parsed == Decimal(expected)
    assert str(parsed) == expected


@pytest.mark.parametrize("raw", ["—", "-", "", "  ", "–", "abc", "1,00", "1.2.3", "十", None])
def test_parse_decimal_none(raw: str | None) -> None:
    assert parse_decimal(raw) is None


def test_to_yuan() -> None:
    assert to_yuan(D("40.00"), "万元") == D("400000.00")
    assert to_yuan(D("1514.0223"), "万元") == D("15140223.0000")
    assert to_yuan(D("3870000"), "元") == D("3870000")


@pytest.mark.parametrize("unit", ["千元", "亿元", "", "yuan"])
def test_to_yuan_refuses_other_units(unit: str) -> None:
    with pytest.raises(ValueError, match="unknown money unit"):
        to_yuan(D("1"), unit)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("项目资金 (万元)", "万元"),
        ("项目资金\n（万元）", "万元"),
        ("项目总预算（元）：", "元"),
        ("同名项目上年预算执行数（元）：", "元"),
        ("(元)", "元"),
        ("项目资金 (元)", "元"),
        ("单位：万元", "万元"),
        ("项目资金", None),
        ("年初预算数", None),
    ],
)
def test_money_unit_from_label(label: str, expected: str | None) -> None:
    assert money_unit_from_label(label) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-01-01", date(2020, 1, 1)),
        ("2020/1/1", date(2020, 1, 1)),
        ("2020年1月1日", date(2020, 1, 1)),
        ("2020.2.24", date(2020, 2, 24)),
        ("2021.2.24", date(2021, 2, 24)),
        (" 2023-12-31 ", date(2023, 12, 31)),
        ("2020-02-30", None),
        ("2020-01", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: str | None, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(2020年度)", 2020),
        ("（2020年度）", 2020),
        ("(2024 年度)", 2024),
        ("2020年绩效目标", 2020),
        ("## 2020年绩效目标", 2020),
        ("上海市城市管理行政执法局2023年度项目绩效目标汇总表", 2023),
        ("(2023年 -2024年度)", 2024),
        ("2020", 2020),
        ("财政项目支出绩效目标表", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_year(raw: str | None, expected: int | None) -> None:
    assert parse_year(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("否", False), (" 否 ", False), ("是/否", None), ("", None), (None, None)],
)
def test_parse_bool_cn(raw: str | None, expected: bool | None) -> None:
    assert parse_bool_cn(raw) is expected
