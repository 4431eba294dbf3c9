"""Lookup keys: the normalised forms under which names, titles and document numbers are matched.

The same project, indicator or document is printed with different spaces, quotes and brackets
(`“城管进社区” 宣传活动数量` / `“城管进社区”宣传活动数量`, `沪城管执[2018]83号` / `沪城管执〔2018〕83号`).
The linker (`kg.link`) stores these keys on lineages, indicators and registry documents (`kg:lookupKey`,
`kg:indicatorKey`), and the named-query parameter hooks (`kg.rdf.named_queries`) apply the same functions
to a parameter value before binding it, so a query matches whatever variant the caller typed.

Keys are for matching only; outputs always show the text as printed.
"""

from __future__ import annotations

import re
import unicodedata

from kg.forms.legal import normalize_doc_number

# Quotes and title marks dropped from keys (after NFKC: ＂ -> ").
_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』《》〈〉")
# Bracket variants folded to ( ) in titles (after NFKC: （） -> ()).
_BRACKETS = str.maketrans(
    {"[": "(", "]": ")", "〔": "(", "〕": ")", "【": "(", "】": ")", "〖": "(", "〗": ")"}
)
_WHITESPACE = re.compile(r"\s+")


def name_key(text: str) -> str:
    """A project, unit or indicator name for matching: NFKC, no whitespace, no quotes, lower-case."""
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub("", text).translate(_QUOTES).lower()


def title_key(text: str) -> str:
    """A document title for matching: `name_key` with every bracket style folded to ( ) and a final
    full stop dropped (`《法治政府建设实施纲要（2015 - 2020年）》` -> `法治政府建设实施纲要(2015-2020年)`)."""
    return name_key(text).translate(_BRACKETS).rstrip("。.")


def doc_key(value: str) -> str:
    """A document reference for matching: a 文号 in any bracket style becomes its normalised form
    (`沪城管执[2018]83号` -> `沪城管执〔2018〕83号`), anything else is read as a title (`title_key`)."""
    parts = normalize_doc_number(value)
    return parts[0] if parts is not None else title_key(value)
