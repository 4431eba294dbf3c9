"""The forms as the linker sees them, read back from the store with SPARQL.

Why from the store and not from the parsed `Form` objects during ingest: `kg link` must be able to
recompute everything from an existing store without the source files, and an ingest of one file must
relink against every form loaded before. The store is the one place that holds all of them, so the
linker only ever reads the form graphs (the default graph, where they are merged) and writes its own
derived graphs (`OxigraphStore.replace_derived`). Data flow stays one way: forms -> model -> rdf -> store
-> link.

The records are plain dataclasses so that the linker's pieces can be tested on hand-made forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import pyoxigraph as ox

FORM_TYPES: dict[str, str] = {
    "https://w3id.org/jixiao-kg/ontology#TargetTable": "target_table",
    "https://w3id.org/jixiao-kg/ontology#TargetDeclaration": "target_declaration",
    "https://w3id.org/jixiao-kg/ontology#SelfEvaluation": "self_evaluation",
}
# Printed order of the three templates within one year (a target form precedes the evaluation).
FORM_TYPE_ORDER = {"target_table": 0, "target_declaration": 1, "self_evaluation": 2}


class Queryable(Protocol):
    """What the linker needs from a store: `kg.store.OxigraphStore.query`."""

    def query(self, sparql: str, substitutions: Any = None) -> Any: ...


@dataclass(frozen=True)
class IndicatorRecord:
    iri: str
    l1: str | None
    l3: str


@dataclass(frozen=True)
class FigureRecord:
    """A funding figure of a form (funds row `total` only)."""

    iri: str
    kind: str  # funding kind code, e.g. "full_year_budget"
    amount_yuan: Decimal
    index: int


@dataclass(frozen=True)
class NarrativeRecord:
    iri: str
    label: str
    value: str
    line: int


@dataclass
class FormRecord:
    """One form: what the lineage, unit and legal-basis linkers read."""

    iri: str
    form_type: str  # target_table | target_declaration | self_evaluation
    year: int
    title: str
    file: str = ""
    index: int = 0
    reporting_unit: str | None = None
    supervising_department: str | None = None
    implementing_unit: str | None = None
    indicators: list[IndicatorRecord] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    narratives: list[NarrativeRecord] = field(default_factory=list)

    @property
    def responsible_unit(self) -> str | None:
        """实施单位, else 申报单位, else 主管部门 (as `kg.rdf.mapping.responsible_unit`)."""
        for name in (self.implementing_unit, self.reporting_unit, self.supervising_department):
            if name is not None and name.strip():
                return name
        return None

    def figure(self, kind: str) -> FigureRecord | None:
        return next((f for f in self.figures if f.kind == kind), None)

    @property
    def sort_key(self) -> tuple[int, int, str, int]:
        return (self.year, FORM_TYPE_ORDER.get(self.form_type, 9), self.file, self.index)

    def __str__(self) -> str:
        return f"{self.year} {self.title} ({self.form_type}, {self.file}#{self.index})"


_FORMS = """
SELECT ?form ?class ?year ?title ?file ?index ?reporting ?supervising ?implementing WHERE {
  VALUES ?class { kg:TargetTable kg:TargetDeclaration kg:SelfEvaluation }
  ?form a ?class ; kg:fiscalYear ?year ; dcterms:title ?title ; kg:formIndex ?index ;
        prov:hadPrimarySource ?source .
  ?source dcterms:identifier ?file .
  OPTIONAL { ?form kg:reportingUnitName ?reporting }
  OPTIONAL { ?form kg:supervisingDepartmentName ?supervising }
  OPTIONAL { ?form kg:implementingUnitName ?implementing }
}
"""

_INDICATORS = """
SELECT ?form ?indicator ?index ?l1 ?l3 WHERE {
  ?form kg:hasIndicator ?indicator .
  ?indicator kg:indicatorIndex ?index ; kg:level3Name ?l3 .
  OPTIONAL { ?indicator kg:level1Name ?l1 }
}
"""

_FIGURES = """
SELECT ?form ?figure ?kind ?amount ?index WHERE {
  ?form kg:hasFundingFigure ?figure .
  ?figure kg:fundsRow "total" ; kg:fundingKindCode ?kind ; kg:amountYuan ?amount ; kg:figureIndex ?index .
}
"""

_NARRATIVES = """
SELECT ?form ?field ?label ?value ?line WHERE {
  ?form kg:hasNarrative ?field .
  ?field kg:fieldLabel ?label ; kg:fieldValue ?value ; kg:lineStart ?line .
}
"""


def _text(term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def _rows(store: Queryable, sparql: str) -> list[dict[str, str | None]]:
    results = store.query(sparql)
    variables = [v.value for v in results.variables]
    return [{name: _text(solution[name]) for name in variables} for solution in results]


def read_forms(store: Queryable) -> list[FormRecord]:
    """Every form in the store's default graph, ordered by year, form type, file and index."""
    forms: dict[str, FormRecord] = {}
    for row in _rows(store, _FORMS):
        iri = str(row["form"])
        forms[iri] = FormRecord(
            iri=iri,
            form_type=FORM_TYPES[str(row["class"])],
            year=int(str(row["year"])),
            title=str(row["title"]),
            file=str(row["file"]),
            index=int(str(row["index"])),
            reporting_unit=row["reporting"],
            supervising_department=row["supervising"],
            implementing_unit=row["implementing"],
        )
    indicators: dict[str, list[tuple[int, IndicatorRecord]]] = {}
    for row in _rows(store, _INDICATORS):
        record = IndicatorRecord(str(row["indicator"]), row["l1"], str(row["l3"]))
        indicators.setdefault(str(row["form"]), []).append((int(str(row["index"])), record))
    figures: dict[str, list[FigureRecord]] = {}
    for row in _rows(store, _FIGURES):
        figure = FigureRecord(
            str(row["figure"]), str(row["kind"]), Decimal(str(row["amount"])), int(str(row["index"]))
        )
        figures.setdefault(str(row["form"]), []).append(figure)
    narratives: dict[str, list[NarrativeRecord]] = {}
    for row in _rows(store, _NARRATIVES):
        narrative = NarrativeRecord(
            str(row["field"]), str(row["label"]), str(row["value"]), int(str(row["line"]))
        )
        narratives.setdefault(str(row["form"]), []).append(narrative)
    for iri, form in forms.items():
        form.indicators = [record for _, record in sorted(indicators.get(iri, []), key=lambda item: item[0])]
        form.figures = sorted(figures.get(iri, []), key=lambda f: f.index)
        form.narratives = sorted(narratives.get(iri, []), key=lambda n: (n.line, n.label))
    return sorted(forms.values(), key=lambda form: form.sort_key)
