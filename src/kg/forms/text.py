"""Reading source files as text, and the small cell/label clean-ups every parser needs.

The sources are exports of PDF/Word forms: mostly UTF-8, sometimes GB18030, with tab-separated
cells, stray HTML paragraph tags and Word bookmark artefacts. Line numbers are the provenance
reviewers use to go back to the source, so nothing here may add or drop lines.
"""

from __future__ import annotations

import html
import re
import unicodedata

from kg.model import FormParseError

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Control bytes that never occur in a text export (tab, newlines, VT and FF are allowed: PDF
# text layers use form feeds as page breaks).
_CONTROL_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D} | {0x7F})
_MAX_CONTROL_SHARE = 0.05
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,9}(?:\s[^<>]*)?/?>")
_BOOKMARK = re.compile(r"\[bookmark:[^\]\n]*\]", re.IGNORECASE)
_NBSP_ENTITY = re.compile(r"&(?:nbsp|#160|#x0*a0);", re.IGNORECASE)

# Full-width ASCII block (！ .. ～) and the ideographic space, mapped to their half-width forms.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def decode_source(data: bytes, file: str) -> str:
    """Decode a source file to text with `\\n` newlines, or say clearly why it is not a form.

    UTF-8 (BOM optional) is tried first because almost every export uses it; GB18030 is the
    usual alternative for Chinese government files and is accepted only when the result looks
    like Chinese text, so that arbitrary bytes are not silently turned into mojibake.
    """
    if data.startswith(_UTF16_BOMS):
        text = _decode_utf16(data, file)
    else:
        _reject_binary(data, file)
        text = _decode_bytes(data, file)
    if not text.strip():
        raise FormParseError(file, 1, "a performance form (the file is empty)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reject_binary(data: bytes, file: str) -> None:
    """Refuse data that cannot be a text export (NUL bytes or many control bytes)."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise FormParseError(
            file, _line_of(data, offset), "a text file", f"binary data (NUL byte at offset {offset})"
        )
    if not data:
        return
    controls = sum(1 for byte in data if byte in _CONTROL_BYTES)
    if controls / len(data) > _MAX_CONTROL_SHARE:
        raise FormParseError(file, 1, "a text file", f"binary data ({controls} control bytes)")


def _decode_utf16(data: bytes, file: str) -> str:
    """Decode UTF-16 with a BOM (Windows 'Unicode' text); it is text despite its NUL bytes."""
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as err:
        raise FormParseError(file, 1, "UTF-16 text", f"undecodable bytes at offset {err.start}") from err
    if any(ord(ch) in _CONTROL_BYTES for ch in text):
        raise FormParseError(file, 1, "a text file", "binary data (control characters)")
    return text


def _decode_bytes(data: bytes, file: str) -> str:
    """UTF-8 first, then GB18030 when that yields plausible Chinese text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        utf8_error = err
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text and "\ufffd" not in text and _CJK.search(text):
        return text
    offset = utf8_error.start
    raise FormParseError(
        file,
        _line_of(data, offset),
        "UTF-8 or GB18030 text",
        f"undecodable byte 0x{data[offset]:02x} at offset {offset}",
    )


def _line_of(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset, counting CR, LF and CRLF as one newline each."""
    head = data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return head.count(b"\n") + 1


def split_lines(text: str) -> list[str]:
    """Split text into lines so that line i of the file is `lines[i - 1]`.

    Only `\\n` (and CR/CRLF) end a line; `str.splitlines` is avoided because it also breaks on
    form feeds, U+2028 and other separators, which would shift every later line number. A final
    newline does not create an extra empty line.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def clean_cell(s: str) -> str:
    """A cell's text as printed: without HTML tags, Word bookmarks, entities or outer whitespace.

    Internal spacing is kept exactly, because values are reported as written ('大于 90%').
    """
    s = _BOOKMARK.sub("", s)
    s = _HTML_TAG.sub("", s)
    s = _NBSP_ENTITY.sub(" ", s)
    return html.unescape(s).strip()


def fold_width(s: str) -> str:
    """Map full-width ASCII forms (Ａ, ０, （, ：, ＞ ...) and the ideographic space to half-width."""
    return s.translate(_FULLWIDTH)


def normalize_label(s: str) -> str:
    """A label reduced for matching only: no whitespace, half-width forms, no trailing colon.

    Labels are split by the PDF layer ('满意 度指 标') and printed with full-width or half-width
    punctuation at random; NFKC also repairs Kangxi-radical look-alikes (⼀ for 一) that PDF text
    layers produce. Never use the result as a value.
    """
    s = unicodedata.normalize("NFKC", fold_width(clean_cell(s)))
    s = "".join(s.split())
    return s.rstrip(":")
