"""Decoding source files, splitting lines and cleaning cells/labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.forms.text import clean_cell, decode_source, fold_width, normalize_label, split_lines
from kg.model import FormParseError

SEED = Path(__file__).resolve().parents[1] / "data" / "000_bb01accd19b494dd.txt"

SNIPPET = "财政项目支出绩效目标表\n(2020年度)\n项目名称：\t城管执法监督考核\n"


def test_utf8() -> None:
    assert decode_source(SNIPPET.encode("utf-8"), "a.txt") == SNIPPET


def test_utf8_bom_is_dropped() -> None:
    assert decode_source(b"\xef\xbb\xbf" + SNIPPET.encode("utf-8"), "a.txt") == SNIPPET


def test_gb18030() -> None:
    assert decode_source(SNIPPET.encode("gb18030"), "a.txt") == SNIPPET


def test_gb18030_with_crlf() -> None:
    data = "项目名称：\t课题研究\r\n是否含有政府购买服务：\t否\r\n".encode("gb18030")
    assert decode_source(data, "a.txt") == "项目名称：\t课题研究\n是否含有政府购买服务：\t否\n"


def test_utf16_with_bom() -> None:
    assert decode_source(SNIPPET.encode("utf-16"), "a.txt") == SNIPPET


def test_crlf_and_cr_become_lf() -> None:
    data = "一\r\n二\r三\n四".encode()
    assert decode_source(data, "a.txt") == "一\n二\n三\n四"


def test_tabs_are_kept() -> None:
    assert decode_source(b"a\t\tb\t\n", "a.txt") == "a\t\tb\t\n"


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf", "\u3000\n".encode()])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(FormParseError) as info:
        decode_source(data, "empty.txt")
    assert info.value.file == "empty.txt"
    assert info.value.line == 1
    assert info.value.expected == "a performance form (the file is empty)"
    assert str(info.value) == "empty.txt:1: expected a performance form (the file is empty)"


def test_nul_bytes_are_binary() -> None:
    with pytest.raises(FormParseError) as info:
        decode_source(b"abc\ndef\x00\x01\x02", "x.bin")
    assert info.value.expected == "a text file"
    assert info.value.found == "binary data (NUL byte at offset 7)"
    assert info.value.line == 2


def test_control_bytes_are_binary() -> None:
    data = bytes(range(1, 9)) * 20 + b"text"
    with pytest.raises(FormParseError) as info:
        decode_source(data, "x.bin")
    assert info.value.expected == "a text file"
    assert info.value.found == "binary data (160 control bytes)"


def test_form_feed_is_text() -> None:
    assert decode_source("第一页\f第二页".encode(), "a.txt") == "第一页\f第二页"


def test_undecodable_bytes_name_offset_and_line() -> None:
    data = b"abc\ndef\n\xff\xfe\xfd rest"  # neither UTF-8 nor GB18030 with CJK
    with pytest.raises(FormParseError) as info:
        decode_source(data, "bad.txt")
    assert info.value.line == 3
    assert info.value.expected == "UTF-8 or GB18030 text"
    assert info.value.found == "undecodable byte 0xff at offset 8"


def test_latin1_is_not_accepted_as_gb18030() -> None:
    # Valid GB18030 byte-wise, but the result holds no CJK: refuse rather than produce mojibake.
    with pytest.raises(FormParseError):
        decode_source("café au lait".encode("latin-1"), "a.txt")


def test_split_lines_without_trailing_newline() -> None:
    assert split_lines("a\nb") == ["a", "b"]


def test_split_lines_trailing_newline_adds_no_line() -> None:
    assert split_lines("a\nb\n") == ["a", "b"]


def test_split_lines_keeps_blank_lines() -> None:
    assert split_lines("\n\na\n\nb\n") == ["", "", "a", "", "b"]


def test_split_lines_empty() -> None:
    assert split_lines("") == []
    assert split_lines("\n") == [""]


def test_split_lines_only_breaks_on_newlines() -> None:
    assert split_lines("a\fb\u2028c\x85d\ne") == ["a\fb\u2028c\x85d", "e"]


def test_split_lines_crlf() -> None:
    assert split_lines("a\r\nb\rc") == ["a", "b", "c"]


def test_seed_line_numbers_match_the_file() -> None:
    data = SEED.read_bytes()
    lines = split_lines(decode_source(data, SEED.name))
    assert len(lines) == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    assert lines[2].startswith("财政项目支出绩效目标表")  # line 3
    assert lines[3].startswith("(2020年度)")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "<p>课题研究成果全部得到应用。</p> <p>下半年完成汇编。</p>",
            "课题研究成果全部得到应用。 下半年完成汇编。",
        ),
        ("第一行<br>第二行<br/>第三行<br />", "第一行第二行第三行"),
        ("[bookmark: _GoBack]上年结转资金", "上年结转资金"),
        ("  大于 90%  ", "大于 90%"),
        ("112人（上半年）     85人（下半年）", "112人（上半年）     85人（下半年）"),
        ("A&amp;B&nbsp;C &lt;5", "A&B C <5"),
        ('<span style="x">≥85(%)</span>', "≥85(%)"),
        ("<5 且 >3", "<5 且 >3"),
        ("\t合理\t", "合理"),
        ("", ""),
    ],
)
def test_clean_cell(raw: str, expected: str) -> None:
    assert clean_cell(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("项目名称：", "项目名称"),
        ("项目名称:", "项目名称"),
        ("满意 度指 标", "满意度指标"),
        ("项目资金\n（万元）", "项目资金(万元)"),
        ("执行率（％）", "执行率(%)"),
        ("ＡＢ０１", "AB01"),
        ("其中：当年财政拨款", "其中:当年财政拨款"),
        ("计划开始日期：\u3000", "计划开始日期"),
        ("[bookmark: _GoBack]上年结转资金", "上年结转资金"),
        ("⼀级指标", "一级指标"),
    ],
)
def test_normalize_label(raw: str, expected: str) -> None:
    assert normalize_label(raw) == expected


def test_fold_width_keeps_length() -> None:
    raw = "（沪城管执［2017］58号）＞９０％\u3000"
    assert fold_width(raw) == "(沪城管执[2017]58号)>90% "
    assert len(fold_width(raw)) == len(raw)
