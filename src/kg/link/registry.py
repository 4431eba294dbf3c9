"""The legal-basis registry: one resource per document cited anywhere in the corpus.

Which citations count. A form's legal bases are read from its narratives:

* `立项依据` (the 2020 target tables print it as one run-on string, e.g.
  `上海市城市管理行政执法条例上海市城市管理行政执法局《关于…的通知》（沪城管执[2017]58号）关于…的决定》（…）…
  中共中央 国务院关于…的指导意见关于加强本市城管执法精细化三年行动计划（2018-2020）`): every 《title》 and
  文号 the form parser finds (`kg.forms.legal.extract_citations`), and the text between them cut into
  un-bracketed titles (`split_basis_text`): a piece is cut after a document kind word (条例, 意见, 计划
  (+ a bracketed qualifier) …) when what follows starts a new title (关于…, a place such as 上海市…, 中共…,
  国务院…); a piece that names no document kind (the issuer `上海市城市管理行政执法局` printed before a
  《title》) is dropped.
* the planning narratives (`PLANNING_FIELDS`: 项目设立的必要性, 项目概况, 总目标及阶段性目标, 项目总目标,
  年度总体目标, 预期目标): only 文号 and 《titles》 that name a document kind
  (`《长三角地区一体化发展三年行动计划（2021-2023年）》`).
  Outcome narratives (实际完成情况: `完成《上海市非机动车安全管理条例》普法宣传`) are not legal bases.

A form cites a document once: when it is cited in several fields, the 立项依据 citation is kept.

One document, many spellings. Citations with a 文号 are one document per normalised 文号
(`沪城管执[2017]58号` = `沪城管执〔2017〕58号`); a citation without one joins the numbered document whose
title it repeats (`title_key`: no spaces, quotes or bracket differences), else the documents without a
number are one per title key. Each document's IRI is the one `kg.rdf.mapping.legal_document_iri` gives
it, so the registry entry and the form graphs' `eli:LegalResource` nodes are the same resource.

Written (graph `…/id/graph/registry/legal`): per document `kg:LegalBasisDocument`, `eli:id_local` (the
normalised 文号), `kg:documentIssuerCode`, `kg:documentYear`, `kg:documentSequence`, every title seen
(`kg:titleSeen`, zh), `kg:preferredTitle` (the title cited most often; ties: the longest, then code-point
order), `kg:documentKind` (条例, 办法, 通知 … read from the title's ending), `kg:lookupKey` (the 文号 and
every title key, for query parameters) and `kg:canonicalDocument` (from every IRI the mapping gives a
spelling of the document, itself included); per citation a `kg:BasisCitation` linked from the form by
`kg:hasBasisCitation`, with `kg:basisDocument`, the citation text as printed (`kg:rawText`), its field
(`kg:citationField`), line (`kg:lineStart`) and the narrative it was read from (`prov:wasDerivedFrom`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from kg.forms.legal import extract_citations, title_kind
from kg.link.records import FormRecord, NarrativeRecord
from kg.model import LegalCitation
from kg.rdf.keys import title_key
from kg.rdf.mapping import integer_literal, legal_document_iri, normalise_name
from kg.rdf.namespaces import DCTERMS, ELI, KG, PROV, RDF, RDFS, bind_prefixes

BASIS_FIELD = "立项依据"
# Narratives whose 文号 and 《document titles》 are legal bases too (matched on the label's start).
PLANNING_FIELDS = (
    "项目设立的必要性",
    "项目概况",
    "总目标及阶段性目标",
    "项目总目标",
    "年度总体目标",
    "预期目标",
)

_SEPARATORS = re.compile(r"[、，,；;。:：\n\t]+")
_JUNK = " 、，,;；:：)）]】〕\u3000"
_TRAILING_JUNK = " 、，,;；:：\u3000。"
_CONNECTIVES = re.compile(r"^(?:根据|依据|按照|参照|依照|详见|参见|以及|及|和|与)+")
# What may start a new, un-bracketed title right after a document kind word.
_TITLE_START = re.compile(
    r"^(?:关于|中共|中华人民共和国|国务院|国家|全国|本市|财政部|《|[\u3400-\u9fff]{2,3}?[省市区县])"
)
_QUALIFIER = re.compile(r"\s*[（(][^（）()]{1,20}[)）]")
_KIND_WORDS = sorted(
    (
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
    ),
    key=len,
    reverse=True,
)
_MIN_TITLE = 4


def _label_key(label: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", label)).rstrip(":")


def _is_field(label: str, names: Sequence[str]) -> bool:
    key = _label_key(label)
    return any(key.startswith(unicodedata.normalize("NFKC", name)) for name in names)


# ----------------------------------------------------------------------------- splitting


def split_basis_text(text: str, line: int, source_field: str = BASIS_FIELD) -> list[LegalCitation]:
    """Every citation of a 立项依据 text, in printed order: the parser's 《title》/文号 citations, and the
    un-bracketed titles printed between them (see the module documentation)."""
    found = extract_citations(text, line, source_field)
    covered: list[tuple[int, int]] = []
    positioned: list[tuple[int, LegalCitation]] = []
    for citation in found:
        start = text.find(citation.raw)
        positioned.append((start, citation))
        while start >= 0:
            covered.append((start, start + len(citation.raw)))
            start = text.find(citation.raw, start + 1)
    for start, end in _gaps(len(text), covered):
        for offset, piece in _title_pieces(text[start:end]):
            citation = LegalCitation(raw=piece, line=line, source_field=source_field, title=piece)
            positioned.append((start + offset, citation))
    return [citation for _, citation in sorted(positioned, key=lambda item: item[0])]


def _gaps(length: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    gaps, cursor = [], 0
    for start, end in sorted(covered):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < length:
        gaps.append((cursor, length))
    return gaps


def _title_pieces(text: str) -> list[tuple[int, str]]:
    """Un-bracketed titles in text that holds no 《》 or 文号: (offset, title) pairs."""
    pieces: list[tuple[int, str]] = []
    position = 0
    for chunk in _SEPARATORS.split(text):
        offset = text.find(chunk, position)
        position = offset + len(chunk)
        for start, end in _cuts(chunk):
            piece, shift = _clean_piece(chunk[start:end])
            if len(piece) >= _MIN_TITLE and title_kind(piece) is not None:
                pieces.append((offset + start + shift, piece))
    return pieces


def _cuts(chunk: str) -> list[tuple[int, int]]:
    """Spans of a chunk cut after each document kind word that is followed by the start of a title."""
    spans, start, index = [], 0, 0
    while index < len(chunk):
        kind = next((k for k in _KIND_WORDS if chunk.startswith(k, index)), None)
        if kind is None:
            index += 1
            continue
        end = index + len(kind)
        qualifier = _QUALIFIER.match(chunk, end)
        if qualifier is not None:
            end = qualifier.end()
        rest = chunk[end:].lstrip()
        if title_kind(chunk[start:end]) is not None and (not rest or _TITLE_START.match(rest)):
            spans.append((start, end))
            start = end
        index = end
    if start < len(chunk):
        spans.append((start, len(chunk)))
    return spans


def _clean_piece(piece: str) -> tuple[str, int]:
    """A piece without surrounding junk and leading connectives, and how many characters were cut in
    front."""
    stripped = piece.lstrip(_JUNK)
    connective = _CONNECTIVES.match(stripped)
    if connective is not None:
        stripped = stripped[connective.end() :]
    shift = len(piece) - len(stripped)
    stripped = stripped.rstrip(_TRAILING_JUNK)
    while stripped and stripped[-1] in ")）]】〕" and not _balanced(stripped):
        stripped = stripped[:-1].rstrip(_TRAILING_JUNK)
    return stripped, shift


def _balanced(text: str) -> bool:
    """Whether every closing bracket of the text closes an opening one (（2018-2020） is kept)."""
    depth = 0
    for char in text:
        if char in "(（[【〔":
            depth += 1
        elif char in ")）]】〕":
            depth -= 1
            if depth < 0:
                return False
    return True


def form_citations(form: FormRecord) -> list[tuple[NarrativeRecord, LegalCitation]]:
    """The legal-basis citations of a form: 立项依据 first, then the planning narratives in line order."""
    basis = [n for n in form.narratives if _is_field(n.label, (BASIS_FIELD,))]
    planning = [n for n in form.narratives if _is_field(n.label, PLANNING_FIELDS)]
    found: list[tuple[NarrativeRecord, LegalCitation]] = []
    for narrative in basis:
        found.extend(
            (narrative, c) for c in split_basis_text(narrative.value, narrative.line, narrative.label)
        )
    for narrative in planning:
        for citation in extract_citations(narrative.value, narrative.line, narrative.label):
            if citation.doc_number or (citation.title and title_kind(citation.title) is not None):
                found.append((narrative, citation))
    return found


# ----------------------------------------------------------------------------- the registry


@dataclass
class Citation:
    form: FormRecord
    narrative: NarrativeRecord
    citation: LegalCitation


@dataclass
class Document:
    """One cited document with all its citations."""

    doc_number: str | None = None
    issuer_code: str | None = None
    year: int | None = None
    sequence: int | None = None
    titles: Counter[str] = field(default_factory=Counter)
    citations: list[Citation] = field(default_factory=list)
    variant_iris: set[URIRef] = field(default_factory=set)  # IRIs the mapping gives its citations

    @property
    def preferred_title(self) -> str | None:
        if not self.titles:
            return None
        return min(self.titles, key=lambda t: (-self.titles[t], -len(t), t))

    @property
    def iri(self) -> URIRef:
        if self.doc_number is not None:
            return legal_document_iri(
                LegalCitation(raw="", line=0, source_field="", doc_number=self.doc_number)
            )
        title = self.preferred_title or ""
        return legal_document_iri(LegalCitation(raw=title, line=0, source_field="", title=title))

    @property
    def kind(self) -> str | None:
        for title in sorted(self.titles, key=lambda t: (-self.titles[t], -len(t), t)):
            kind = title_kind(title)
            if kind is not None:
                return kind
        return None

    @property
    def label(self) -> str:
        return normalise_name(self.doc_number or self.preferred_title or "")

    @property
    def lookup_keys(self) -> set[str]:
        keys = {title_key(title) for title in self.titles}
        if self.doc_number is not None:
            keys.add(self.doc_number)
        return keys


def _clean_title(title: str) -> str:
    """A title as printed, without 《》 and surrounding spaces."""
    return title.strip().strip("《》").strip()


def build_registry(forms: Iterable[FormRecord]) -> list[Document]:
    """Group every legal-basis citation of the forms into documents (see the module documentation)."""
    cited: list[Citation] = []
    for form in forms:
        cited.extend(Citation(form, narrative, citation) for narrative, citation in form_citations(form))
    numbered: dict[str, Document] = {}
    by_title: dict[str, Document] = {}
    for item in cited:
        c = item.citation
        if c.doc_number is None:
            continue
        document = numbered.setdefault(
            c.doc_number, Document(c.doc_number, c.issuer_code, c.doc_year, c.doc_seq)
        )
        if c.title:
            by_title.setdefault(title_key(c.title), document)
    untitled: dict[str, Document] = {}
    for item in cited:
        c = item.citation
        if c.doc_number is not None:
            document = numbered[c.doc_number]
        elif c.title:
            key = title_key(c.title)
            document = by_title.get(key) or untitled.setdefault(key, Document())
        else:
            continue
        if c.title:
            document.titles[_clean_title(c.title)] += 1
        if _is_field(item.narrative.label, (BASIS_FIELD,)):
            document.variant_iris.add(legal_document_iri(c))
        if not any(other.form is item.form for other in document.citations):
            document.citations.append(item)
    documents = [*numbered.values(), *untitled.values()]
    return sorted(documents, key=lambda d: (d.doc_number is None, d.label))


def registry_graph(documents: Sequence[Document]) -> Graph:
    """The legal-basis registry as RDF (see the module documentation)."""
    graph = bind_prefixes(Graph())
    counters: dict[str, int] = {}
    citations: list[tuple[Document, Citation]] = [(d, c) for d in documents for c in d.citations]
    citations.sort(key=lambda item: (item[1].form.sort_key, item[1].narrative.line, item[0].label))
    for document in documents:
        s = document.iri
        graph.add((s, RDF.type, ELI.LegalResource))
        graph.add((s, RDF.type, KG.LegalBasisDocument))
        graph.add((s, RDFS.label, Literal(document.label, lang="zh")))
        graph.add((s, KG.canonicalDocument, s))
        for variant in document.variant_iris:
            graph.add((variant, KG.canonicalDocument, s))
        if document.doc_number is not None:
            graph.add((s, ELI.id_local, Literal(document.doc_number)))
        if document.issuer_code is not None:
            graph.add((s, KG.documentIssuerCode, Literal(document.issuer_code)))
        if document.year is not None:
            graph.add((s, KG.documentYear, integer_literal(document.year)))
        if document.sequence is not None:
            graph.add((s, KG.documentSequence, integer_literal(document.sequence)))
        preferred = document.preferred_title
        if preferred is not None:
            graph.add((s, KG.preferredTitle, Literal(preferred)))
        for title in document.titles:
            graph.add((s, KG.titleSeen, Literal(title, lang="zh")))
        kind = document.kind
        if kind is not None:
            graph.add((s, KG.documentKind, Literal(kind)))
        for key in document.lookup_keys:
            graph.add((s, KG.lookupKey, Literal(key)))
    for document, item in citations:
        n = counters[item.form.iri] = counters.get(item.form.iri, -1) + 1
        c = URIRef(f"{item.form.iri}/basis/{n}")
        graph.add((URIRef(item.form.iri), KG.hasBasisCitation, c))
        graph.add((c, RDF.type, KG.BasisCitation))
        graph.add((c, KG.basisDocument, document.iri))
        graph.add((c, KG.rawText, Literal(item.citation.raw)))
        graph.add((c, KG.citationField, Literal(item.narrative.label)))
        graph.add((c, KG.lineStart, integer_literal(item.citation.line)))
        graph.add((c, PROV.wasDerivedFrom, URIRef(item.narrative.iri)))
        if item.citation.title:
            graph.add((c, DCTERMS.title, Literal(item.citation.title)))
    return graph
