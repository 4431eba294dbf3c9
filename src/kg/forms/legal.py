"""Legal-basis citations (立项依据 and similar narrative fields): 《titles》 and 文号.

The narratives are run-on text exported from PDFs: citations are glued together, year brackets
come in every style ([2017], 〔2018〕, （2016）...) and opening 《 are sometimes lost. Document
numbers are normalised to the official 'issuer〔yyyy〕n号' form so that the same document cited
differently on two forms becomes one node in the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kg.forms.text import fold_width
from kg.model import LegalCitation

# Patterns run on fold_width(text), which maps one character to one character, so match
# offsets are offsets into the original text as well. After folding, ［］（） are [] ().
_CJK_RUN = r"[\u3400-\u4dbf\u4e00-\u9fff]+"
_DOC_NUMBER = re.compile(
    rf"(?P<issuer>{_CJK_RUN})\s*[\[(〔【〖]\s*(?P<year>\d{{4}})\s*[\])〕】〗]\s*第?\s*(?P<seq>\d+)\s*号"
)
_MIN_YEAR, _MAX_YEAR = 1900, 2099
_MAX_ISSUER = 10
# Text glued in front of an issuer code in running prose: an un-bracketed title ending in a
# document kind ('…的通知沪城管执[2017]58号') or a connective ('根据国发[2016]1号'). Kinds that
# occur inside real issuer codes (规划 in 沪规划资源, 发改规划; 计划) are not used as cut points.
_ISSUER_LEAD = re.compile(r"^(?:.*(?:通知|决定|意见|办法|条例|规定|细则|方案|文件|批复|通报))?")
_ISSUER_CONNECTIVES = re.compile(r"^(?:根据|依据|按照|参照|依照|详见|参见|见|以及|及|和|与|即)+")

_CLOSE_AFTER_NUMBER = re.compile(r"\s*[)\]】〕]")
# Characters that end one citation's text in running prose (not '、' or '，', which occur
# inside titles such as '…先进集体、先进个人的决定').
_SEPARATORS = frozenset("；;。:：\n\t")
_TITLE_LEAD_JUNK = " 、，,;；:：)）]】〕\u3000"

_KINDS = (
    "条例",
    "办法",
    "通知",
    "决定",
    "意见",
    "规划",
    "纲要",
    "规定",
    "细则",
    "方案",
    "计划",
    "标准",
    "指引",
    "指南",
    "决议",
    "公告",
    "通告",
    "通报",
    "规则",
    "章程",
    "批复",
    "报告",
    "要点",
    "清单",
    "目录",
    "制度",
    "守则",
    "规范",
    "导则",
    "准则",
    "纪要",
    "函",
    "令",
    "法典",
    "法",
)
# Words ending in 法 that are not laws ('《上海城管执法》' is a periodical).
_NOT_LAWS = (
    "执法",
    "方法",
    "做法",
    "说法",
    "看法",
    "想法",
    "用法",
    "司法",
    "守法",
    "普法",
    "违法",
    "合法",
    "依法",
)
_TRAILING_BRACKET = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def normalize_doc_number(raw: str) -> tuple[str, str, int, int] | None:
    """Read a 文号 ('沪城管执[2017]58号') as (normalised, issuer_code, year, seq).

    The whole text (optionally in one pair of brackets) must be the document number; the issuer
    is the CJK run before the year bracket. Returns None for anything else, e.g. an address
    like '徐家汇路579号' (no bracketed year).
    """
    text = fold_width(raw).strip()
    if len(text) > 2 and text[0] in "([【〔" and text[-1] in ")]】〕":
        text = text[1:-1].strip()
    match = _DOC_NUMBER.fullmatch(text)
    if match is None:
        return None
    return _doc_parts(match["issuer"], match["year"], match["seq"])


def _doc_parts(issuer: str, year_digits: str, seq_digits: str) -> tuple[str, str, int, int] | None:
    """The normalised parts, or None when the year is not a plausible document year."""
    year, seq = int(year_digits), int(seq_digits)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    return f"{issuer}〔{year}〕{seq}号", issuer, year, seq


def find_doc_numbers(text: str) -> list[tuple[str, int, int]]:
    """Every 文号 in running text as (raw, start, end), with `text[start:end] == raw`."""
    found = []
    for match in _DOC_NUMBER.finditer(fold_width(text)):
        issuer = _trim_issuer(match["issuer"])
        if not issuer or _doc_parts(issuer, match["year"], match["seq"]) is None:
            continue
        start = match.start("issuer") + len(match["issuer"]) - len(issuer)
        found.append((text[start : match.end()], start, match.end()))
    return found


def _trim_issuer(run: str) -> str:
    """The issuer code at the end of a CJK run that may have prose glued in front of it."""
    for pattern in (_ISSUER_LEAD, _ISSUER_CONNECTIVES):
        match = pattern.match(run)
        if match is not None:
            run = run[match.end() :]
    return run[-_MAX_ISSUER:]


@dataclass(frozen=True)
class _Title:
    """A title found in the text: raw_start..close_end is the printed span incl. 《》."""

    title: str
    raw_start: int
    close_end: int  # index after the closing 》 (or after the title for a lost 》)


@dataclass(frozen=True)
class _Doc:
    """A document number with the span it occupies incl. enclosing brackets when present."""

    raw: str
    start: int
    end: int
    outer_start: int
    outer_end: int


def extract_citations(text: str, line: int, source_field: str) -> list[LegalCitation]:
    """All cited documents in one narrative field, in order of appearance.

    A 《title》 is paired with the 文号 that directly follows it ('《…》（沪府发〔2016〕33号）');
    unpaired titles and numbers are citations of their own. Un-bracketed works without a 文号
    cannot be told from prose and are not reported. Identical (title, 文号) pairs count once.
    """
    folded = fold_width(text)
    docs = [_enclose(folded, raw, start, end) for raw, start, end in find_doc_numbers(text)]
    titles = _titles(text, folded, docs)
    docs_by_outer_start = {doc.outer_start: doc for doc in docs}
    paired: set[int] = set()
    found: list[tuple[int, LegalCitation]] = []
    for title in titles:
        doc = docs_by_outer_start.get(_skip_spaces(folded, title.close_end))
        end = title.close_end
        if doc is not None and doc.start in paired:
            doc = None
        if doc is not None:
            paired.add(doc.start)
            end = doc.outer_end
        citation = _citation(text[title.raw_start : end], line, source_field, title.title, doc)
        found.append((title.raw_start, citation))
    for doc in docs:
        if doc.start not in paired:
            found.append((doc.start, _citation(doc.raw, line, source_field, None, doc)))
    return _unique(citation for _, citation in sorted(found, key=lambda item: item[0]))


def _enclose(folded: str, raw: str, start: int, end: int) -> _Doc:
    """Extend a document number's span over the brackets around it ('（沪…号）')."""
    outer_start = start
    before = folded[:start].rstrip()
    if before and before[-1] in "([【〔":
        outer_start = len(before) - 1
        close = _CLOSE_AFTER_NUMBER.match(folded, end)
        return _Doc(raw, start, end, outer_start, close.end() if close else end)
    return _Doc(raw, start, end, outer_start, end)


def _skip_spaces(folded: str, index: int) -> int:
    """Index of the next non-space character."""
    while index < len(folded) and folded[index].isspace():
        index += 1
    return index


def _titles(text: str, folded: str, docs: list[_Doc]) -> list[_Title]:
    """Titles in 《》, titles that lost their 《 and titles that lost their 》 before a 文号."""
    pairs, lost_opens, lost_closes = _match_brackets(text)
    outermost = [(o, c) for o, c in pairs if not any(o2 < o and c < c2 for o2, c2 in pairs)]
    titles = [_Title(text[o + 1 : c].strip(), o, c + 1) for o, c in outermost]
    boundaries = _boundaries(text, docs, outermost)
    for close in lost_closes:
        if any(o < close < c for o, c in outermost):
            continue
        start = max(b for b in boundaries if b <= close)
        while start < close and text[start] in _TITLE_LEAD_JUNK:
            start += 1
        titles.append(_Title(text[start:close].strip(), start, close + 1))
    for open_ in lost_opens:
        title = _title_before_doc(text, folded, open_, docs)
        if title is not None:
            titles.append(title)
    return sorted((t for t in titles if t.title), key=lambda t: t.raw_start)


def _match_brackets(text: str) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair 《 with 》; return the pairs, the unmatched 《 and the unmatched 》 positions."""
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    lost_closes: list[int] = []
    for index, char in enumerate(text):
        if char == "《":
            stack.append(index)
        elif char == "》":
            if stack:
                pairs.append((stack.pop(), index))
            else:
                lost_closes.append(index)
    return pairs, stack, lost_closes


def _boundaries(text: str, docs: list[_Doc], pairs: list[tuple[int, int]]) -> list[int]:
    """Positions where a citation may start: after a 文号, a 《title》, a separator, or at 0."""
    positions = {0}
    positions.update(doc.outer_end for doc in docs)
    positions.update(close + 1 for _, close in pairs)
    positions.update(index + 1 for index, char in enumerate(text) if char in _SEPARATORS)
    return sorted(positions)


def _title_before_doc(text: str, folded: str, open_: int, docs: list[_Doc]) -> _Title | None:
    """The title after an unmatched 《, when a 文号 follows it before any other bracket or separator."""
    following = [doc for doc in docs if doc.outer_start > open_]
    if not following:
        return None
    doc = following[0]
    between = text[open_ + 1 : doc.outer_start]
    if any(char in _SEPARATORS or char in "《》" for char in between):
        return None
    return _Title(between.strip(), open_, doc.outer_start)


def _citation(raw: str, line: int, field: str, title: str | None, doc: _Doc | None) -> LegalCitation:
    """Build one LegalCitation; the 文号 parts come from normalize_doc_number."""
    parts = normalize_doc_number(doc.raw) if doc is not None else None
    if parts is None:
        return LegalCitation(raw=raw, line=line, source_field=field, title=title)
    normalised, issuer, year, seq = parts
    return LegalCitation(
        raw=raw,
        line=line,
        source_field=field,
        doc_number=normalised,
        doc_number_raw=doc.raw if doc is not None else None,
        issuer_code=issuer,
        doc_year=year,
        doc_seq=seq,
        title=title,
    )


def _unique(citations: Iterable[LegalCitation]) -> list[LegalCitation]:
    """Drop repeated (title, 文号) pairs, keeping the first occurrence."""
    seen: set[tuple[str | None, str | None]] = set()
    unique = []
    for citation in citations:
        key = (citation.title, citation.doc_number)
        if key not in seen:
            seen.add(key)
            unique.append(citation)
    return unique


def title_kind(title: str) -> str | None:
    """The kind of document a title names, read from its ending (…的通知 -> '通知').

    Trailing qualifiers in brackets ('（试行）', '（2015 - 2020年）') and quotes are ignored.
    """
    text = title.strip().rstrip("》”\"' ")
    while True:
        shorter = _TRAILING_BRACKET.sub("", text)
        if shorter == text:
            break
        text = shorter
    if text.endswith(_NOT_LAWS):
        return None
    return next((kind for kind in sorted(_KINDS, key=len, reverse=True) if text.endswith(kind)), None)
