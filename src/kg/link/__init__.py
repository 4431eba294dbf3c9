"""Across years: lineages of continuing projects, the unit registry and the legal-basis registry.

`link_store(store)` reads every form back from the store (`kg.link.records`), computes

* the unit registry (`kg.link.units`): one organization per real unit, aliases, org:subOrganizationOf;
* the legal-basis registry (`kg.link.registry`): one resource per cited document, every citing form;
* the lineages (`kg.link.lineage`): the project-years that are one continuing project, each link with
  its evidence and confidence, curated overrides (`kg.link.overrides`) winning; prior-year facts;

and stores them as derived graphs that join the default graph (`OxigraphStore.replace_derived`):
`registry` (graphs `…/id/graph/registry/units` and `…/id/graph/registry/legal`) and `lineages` (graph
`…/id/graph/lineages`). Everything is recomputed from scratch each time (after every `kg ingest` that
loaded something, and by `kg link`), so the result depends only on the loaded forms and the overrides.
Vocabulary: `ontology/kg-lineage.ttl`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kg.link.lineage import Lineage, LineageResult, build_lineages, lineage_triples
from kg.link.overrides import Override, default_overrides_path, load_overrides
from kg.link.records import FormRecord, read_forms
from kg.link.registry import Document, build_registry, registry_graph
from kg.link.units import UnitRegistry, units_graph
from kg.rdf.namespaces import ID
from kg.store.base import Store

LINEAGES = "lineages"
REGISTRY = "registry"
LINEAGES_GRAPH = ID["graph/lineages"]
UNITS_GRAPH = ID["graph/registry/units"]
LEGAL_GRAPH = ID["graph/registry/legal"]


@dataclass
class LinkReport:
    """What one linking run computed and stored."""

    forms: list[FormRecord] = field(default_factory=list)
    units: UnitRegistry = field(default_factory=UnitRegistry)
    documents: list[Document] = field(default_factory=list)
    result: LineageResult = field(default_factory=lambda: LineageResult([], []))
    overrides: list[Override] = field(default_factory=list)
    triples: int = 0

    @property
    def lineages(self) -> list[Lineage]:
        return self.result.lineages

    @property
    def warnings(self) -> list[str]:
        return self.result.warnings

    def summary(self) -> str:
        links = [link for lineage in self.lineages for link in lineage.links]
        methods = {
            method: sum(1 for link in links if link.method == method) for method in ("confirmed", "added")
        }
        curated = ", ".join(f"{n} {method}" for method, n in methods.items() if n)
        joined = sum(1 for lineage in self.lineages if len(lineage.members) > 1)
        aliases = sum(len(unit.aliases) for unit in self.units.units.values())
        citations = sum(len(document.citations) for document in self.documents)
        return (
            f"linked {len(self.forms)} forms: {len(self.lineages)} lineages ({joined} across years, "
            f"{len(links)} links{', ' + curated if curated else ''}), {len(self.units.units)} units "
            f"({aliases} aliases), {len(self.documents)} legal documents ({citations} citations)"
        )


def link_forms(forms: list[FormRecord], overrides: list[Override] | None = None) -> LinkReport:
    """Compute units, legal registry and lineages of forms (nothing is stored)."""
    units = UnitRegistry.build(forms)
    overrides = list(overrides or [])
    return LinkReport(
        forms=forms,
        units=units,
        documents=build_registry(forms),
        result=build_lineages(forms, units, overrides),
        overrides=overrides,
    )


def link_store(
    store: Store, overrides: Path | str | list[Override] | None = None, *, use_default: bool = True
) -> LinkReport:
    """Recompute and store the derived graphs from the forms in the store.

    `overrides` is a list of overrides or the path of an overrides CSV; None means the default file
    (`data/lineage-overrides.csv`, or $KG_LINEAGE_OVERRIDES) when `use_default`, else none.
    """
    if isinstance(overrides, list):
        curated = overrides
    elif overrides is not None:
        curated = load_overrides(overrides)
    else:
        curated = load_overrides(default_overrides_path()) if use_default else []
    report = link_forms(read_forms(store), curated)
    registry = [
        (UNITS_GRAPH, units_graph(report.units, report.forms)),
        (LEGAL_GRAPH, registry_graph(report.documents)),
    ]
    report.triples = store.replace_derived(REGISTRY, registry, in_default_graph=True)
    lineages = [(LINEAGES_GRAPH, lineage_triples(report.result, report.units))]
    report.triples += store.replace_derived(LINEAGES, lineages, in_default_graph=True)
    store.compact()  # the last write of an ingest: compacted indexes make every query faster after it
    return report


__all__ = [
    "LEGAL_GRAPH",
    "LINEAGES",
    "LINEAGES_GRAPH",
    "REGISTRY",
    "UNITS_GRAPH",
    "LinkReport",
    "link_forms",
    "link_store",
]
