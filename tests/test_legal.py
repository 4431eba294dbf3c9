"""Legal-basis citations: document numbers, titles and their pairing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.forms.legal import extract_citations, find_doc_numbers, normalize_doc_number, title_kind
from kg.forms.text import clean_cell, decode_source, split_lines
from kg.model import LegalCitation

SEED = Path(__file__).resolve().parents[1] / "data" / "000_bb01accd19b494dd.txt"


def _legal_basis_lines() -> list[tuple[int, str]]:
    """(line number, value) of every '立项依据：' row of the seed, found by its label."""
    lines = split_lines(decode_source(SEED.read_bytes(), SEED.name))
    found = []
    for number, line in enumerate(lines, start=1):
        label, _, rest = line.partition("\t")
        if label.strip() == "立项依据：":
            found.append((number, clean_cell(rest)))
    return found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("沪城管执[2017]58号", ("沪城管执〔2017〕58号", "沪城管执", 2017, 58)),
        ("国发[2016]1号", ("国发〔2016〕1号", "国发", 2016, 1)),
        ("沪建城管联〔2016〕712号", ("沪建城管联〔2016〕712号", "沪建城管联", 2016, 712)),
        ("财预〔2020〕10号", ("财预〔2020〕10号", "财预", 2020, 10)),
        ("沪府发［2016］33号", ("沪府发〔2016〕33号", "沪府发", 2016, 33)),
        ("沪府发（2016）33号", ("沪府发〔2016〕33号", "沪府发", 2016, 33)),
        ("沪府发(2016)33号", ("沪府发〔2016〕33号", "沪府发", 2016, 33)),
        ("沪府发【2016】33号", ("沪府发〔2016〕33号", "沪府发", 2016, 33)),
        ("沪府发〖2016〗33号", ("沪府发〔2016〕33号", "沪府发", 2016, 33)),
        ("国发〔2016〕第012号", ("国发〔2016〕12号", "国发", 2016, 12)),
        ("国发 〔 2016 〕 第 1 号", ("国发〔2016〕1号", "国发", 2016, 1)),
        ("（沪城管执[2017]89号）", ("沪城管执〔2017〕89号", "沪城管执", 2017, 89)),
        ("沪城管执［２０１７］５８号", ("沪城管执〔2017〕58号", "沪城管执", 2017, 58)),
    ],
)
def test_normalize_doc_number(raw: str, expected: tuple[str, str, int, int]) -> None:
    assert normalize_doc_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "徐家汇路579号外墙排险维修",
        "徐家汇路579号",
        "〔2016〕1号",
        "国发〔16〕1号",
        "国发〔2016〕",
        "国发〔1066〕1号",
        "",
    ],
)
def test_not_a_doc_number(raw: str) -> None:
    assert normalize_doc_number(raw) is None


def test_find_doc_numbers_in_running_text() -> None:
    text = "根据国发[2016]1号和关于加强管理的通知沪府发〔2016〕33号，修缮徐家汇路579号外墙"
    assert find_doc_numbers(text) == [("国发[2016]1号", 2, 12), ("沪府发〔2016〕33号", 22, 34)]
    for raw, start, end in find_doc_numbers(text):
        assert text[start:end] == raw


@pytest.mark.parametrize("number", ["沪规划资源〔2020〕1号", "发改规划〔2019〕2号", "沪府办规〔2018〕3号"])
def test_issuer_codes_containing_kind_words(number: str) -> None:
    assert find_doc_numbers(f"依据{number}执行") == [(number, 2, 2 + len(number))]


def test_find_doc_numbers_after_closing_bracket() -> None:
    text = "《上海市法治政府建设“十三五”规划》（沪府发〔2016〕33号）"
    assert find_doc_numbers(text) == [("沪府发〔2016〕33号", 19, 31)]


def test_seed_form_0_legal_basis() -> None:
    number, text = _legal_basis_lines()[0]
    citations = extract_citations(text, number, "立项依据")
    assert [(c.title, c.doc_number) for c in citations] == [
        (
            "关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知",
            "沪城管执〔2017〕58号",
        ),
        (
            "关于表彰全市城管执法系统第六届“文明规范执法标兵”和第七届“优秀中队长”的决定",
            "沪城管执〔2017〕89号",
        ),
        ("关于评选上海市城市管理执法精细化工作先进集体和先进个人的通知", "沪城管执〔2018〕83号"),
        ("关于表彰上海市城市管理执法精细化工作先进集体、先进个人的决定", "沪城管执〔2018〕129号"),
    ]
    first, second = citations[0], citations[1]
    assert first == LegalCitation(
        raw="《关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知》（沪城管执[2017]58号）",
        line=number,
        source_field="立项依据",
        doc_number="沪城管执〔2017〕58号",
        doc_number_raw="沪城管执[2017]58号",
        issuer_code="沪城管执",
        doc_year=2017,
        doc_seq=58,
        title="关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知",
    )
    assert second.raw == (
        "关于表彰全市城管执法系统第六届“文明规范执法标兵”和第七届“优秀中队长”的决定》（沪城管执[2017]89号）"
    )
    assert citations[3].doc_number_raw == "沪城管执〔2018〕129号"
    assert all(c.line == number and c.source_field == "立项依据" for c in citations)


def test_seed_form_1_legal_basis() -> None:
    number, text = _legal_basis_lines()[1]
    citations = extract_citations(text, number, "立项依据")
    assert [(c.title, c.doc_number, c.doc_number_raw) for c in citations] == [
        ("法治政府建设实施纲要（2015 - 2020年）", "国发〔2016〕1号", "国发[2016]1号"),
        ("上海市法治政府建设“十三五”规划", "沪府发〔2016〕33号", "沪府发〔2016〕33号"),
        ("上海市城管执法系统“十三五”规划", "沪建城管联〔2016〕712号", "沪建城管联[2016]712号"),
        ("关于贯彻落实“谁执法谁普法”普法责任制的实施意见", "沪城管执〔2018〕55号", "沪城管执〔2018〕55号"),
        ("上海市城管执法系统重大行政执法决定法制审核办法", "沪城管执〔2017〕31号", "沪城管执〔2017〕31号"),
    ]
    assert citations[0].raw == "《法治政府建设实施纲要（2015 - 2020年）》（国发[2016]1号）"
    assert [c.issuer_code for c in citations] == ["国发", "沪府发", "沪建城管联", "沪城管执", "沪城管执"]


def test_title_without_number_and_number_without_title() -> None:
    text = "依据《上海市非机动车安全管理条例》和财预〔2020〕10号文件"
    assert extract_citations(text, 7, "立项依据") == [
        LegalCitation(
            raw="《上海市非机动车安全管理条例》",
            line=7,
            source_field="立项依据",
            title="上海市非机动车安全管理条例",
        ),
        LegalCitation(
            raw="财预〔2020〕10号",
            line=7,
            source_field="立项依据",
            doc_number="财预〔2020〕10号",
            doc_number_raw="财预〔2020〕10号",
            issuer_code="财预",
            doc_year=2020,
            doc_seq=10,
        ),
    ]


def test_duplicates_are_dropped() -> None:
    text = "《关于X的通知》（国发[2016]1号）、《关于X的通知》（国发〔2016〕1号）、《关于X的通知》"
    citations = extract_citations(text, 1, "立项依据")
    assert [(c.title, c.doc_number) for c in citations] == [
        ("关于X的通知", "国发〔2016〕1号"),
        ("关于X的通知", None),
    ]


def test_unbracketed_works_are_not_citations() -> None:
    text = "上海市城市管理行政执法条例中共中央 国务院关于深入推进城市执法体制改革改进城市管理工作的指导意见"
    assert extract_citations(text, 1, "立项依据") == []


def test_lost_closing_bracket_before_number() -> None:
    citations = extract_citations("《关于加强管理的通知（沪府发〔2016〕33号）", 1, "立项依据")
    assert [(c.title, c.doc_number, c.raw) for c in citations] == [
        ("关于加强管理的通知", "沪府发〔2016〕33号", "《关于加强管理的通知（沪府发〔2016〕33号）")
    ]


def test_nested_title_is_one_citation() -> None:
    citations = extract_citations("《关于印发《上海市X办法》的通知》（沪府发〔2016〕33号）", 1, "立项依据")
    assert [(c.title, c.doc_number) for c in citations] == [
        ("关于印发《上海市X办法》的通知", "沪府发〔2016〕33号")
    ]


def test_lost_opening_bracket_after_separator() -> None:
    citations = extract_citations("项目依据：关于开展评选活动的通知》", 3, "立项依据")
    assert [(c.title, c.raw) for c in citations] == [("关于开展评选活动的通知", "关于开展评选活动的通知》")]


def test_address_is_not_a_citation() -> None:
    assert extract_citations("徐家汇路579号外墙排险维修", 1, "项目名称") == []


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("关于开展评选活动的通知", "通知"),
        ("关于表彰先进个人的决定", "决定"),
        ("关于贯彻落实普法责任制的实施意见", "意见"),
        ("上海市城市管理行政执法条例", "条例"),
        ("上海市城管执法系统重大行政执法决定法制审核办法", "办法"),
        ("上海市市级机关采购事项管理办法（试行）", "办法"),
        ("上海市法治政府建设“十三五”规划", "规划"),
        ("法治政府建设实施纲要（2015 - 2020年）", "纲要"),
        ("上海市机关合同管理规定", "规定"),
        ("实施细则", "细则"),
        ("专项整治工作方案", "方案"),
        ("关于加强本市城管执法精细化三年行动计划（2018-2020）", "计划"),
        ("城市道路养护技术标准", "标准"),
        ("执法工作指引", "指引"),
        ("关于加强法治建设的决议", "决议"),
        ("关于调整收费的公告", "公告"),
        ("中华人民共和国行政处罚法", "法"),
        ("中华人民共和国民法典", "法典"),
        ("上海城管执法", None),
        ("城管执法队伍规范化建设规范研究", None),
        ("", None),
    ],
)
def test_title_kind(title: str, kind: str | None) -> None:
    assert title_kind(title) == kind
