"""The unit registry: one organization per real unit, whatever way its name is written.

The forms name a unit as printed (`朝阳城管执法局` on one form, `朝阳区城管执法局` on the next), and the
mapping gives every distinct printed name its own `org:Organization` (`kg.rdf.mapping.organization_iri`).
Here names are grouped by a unit key (`unit_key`): NFKC without spaces, the usual long forms of a few
bureau names shortened (城市管理行政执法局 -> 城管执法局, 住房和城乡建设管理委员会 -> 住建委) and the
level word after a leading place name dropped (朝阳区 -> 朝阳, 上海市 -> 上海). Each group is one
registered unit: the organization of its longest name (the most formal one; ties: the name printed most
often, then code-point order) is the canonical one; every organization of the group points to it with
`kg:canonicalOrganization` (itself included), and it carries `skos:prefLabel` and one `skos:altLabel` per
other name. `org:subOrganizationOf` links the canonical implementing unit (实施单位) of a form to the
canonical supervising department (主管部门) named on the same form, and `kg:responsibleUnit` links every
form to the canonical unit responsible for it (实施单位, else 申报单位, else 主管部门).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from kg.link.records import FormRecord
from kg.rdf.mapping import normalise_name, organization_iri
from kg.rdf.namespaces import KG, ORG, RDF, SKOS, bind_prefixes

# Long forms shortened before comparing (longest first).
UNIT_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("城市管理综合行政执法局", "城管执法局"),
    ("城市管理行政执法局", "城管执法局"),
    ("城市管理综合执法局", "城管执法局"),
    ("城市管理执法局", "城管执法局"),
    ("城管综合执法局", "城管执法局"),
    ("住房和城乡建设管理委员会", "住建委"),
    ("住房和城乡建设委员会", "住建委"),
    ("住房城乡建设管理委员会", "住建委"),
    ("住房城乡建设委员会", "住建委"),
)
# A place name of two or three characters followed by its level word, at the start of the name.
_PLACE_LEVEL = re.compile(r"^([\u3400-\u9fff]{2,3}?)[省市区县](?=[\u3400-\u9fff])")


def unit_key(name: str) -> str:
    """The key under which two printed unit names are the same unit (see the module documentation)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    for long, short in UNIT_ABBREVIATIONS:
        text = text.replace(long, short)
    parts = []
    while True:
        match = _PLACE_LEVEL.match(text)
        if match is None:
            break
        parts.append(match[1])
        text = text[match.end() :]
    return "".join(parts) + text


@dataclass
class Unit:
    """One registered unit: its canonical name and every name it is printed with."""

    key: str
    names: Counter[str] = field(default_factory=Counter)  # normalised name -> forms printing it

    @property
    def name(self) -> str:
        """The canonical name: the longest, then the most printed, then code-point order."""
        return min(self.names, key=lambda n: (-len(n), -self.names[n], n))

    @property
    def iri(self) -> URIRef:
        return organization_iri(self.name)

    @property
    def aliases(self) -> list[str]:
        return sorted(n for n in self.names if n != self.name)


class UnitRegistry:
    """Printed unit names grouped into units (build it with `UnitRegistry.build(forms)`)."""

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}

    @classmethod
    def build(cls, forms: Iterable[FormRecord]) -> UnitRegistry:
        registry = cls()
        for form in forms:
            for name in (form.reporting_unit, form.supervising_department, form.implementing_unit):
                if name is not None and name.strip():
                    registry.add(name)
        return registry

    def add(self, name: str) -> Unit:
        normalised = normalise_name(name)
        key = unit_key(normalised)
        unit = self.units.setdefault(key, Unit(key))
        unit.names[normalised] += 1
        return unit

    def unit(self, name: str | None) -> Unit | None:
        """The unit a printed name belongs to (None for no name or a name never added)."""
        if name is None or not name.strip():
            return None
        return self.units.get(unit_key(normalise_name(name)))

    def sorted_units(self) -> list[Unit]:
        return sorted(self.units.values(), key=lambda u: u.name)


def units_graph(registry: UnitRegistry, forms: Iterable[FormRecord]) -> Graph:
    """The unit registry as RDF (see the module documentation)."""
    graph = bind_prefixes(Graph())
    for unit in registry.sorted_units():
        canonical = unit.iri
        graph.add((canonical, RDF.type, ORG.Organization))
        graph.add((canonical, RDF.type, KG.RegisteredUnit))
        graph.add((canonical, SKOS.prefLabel, Literal(unit.name, lang="zh")))
        graph.add((canonical, KG.lookupKey, Literal(unit.key)))
        for name in unit.names:
            graph.add((organization_iri(name), KG.canonicalOrganization, canonical))
        for alias in unit.aliases:
            graph.add((canonical, SKOS.altLabel, Literal(alias, lang="zh")))
    for form in forms:
        subject = URIRef(form.iri)
        responsible = registry.unit(form.responsible_unit)
        if responsible is not None:
            graph.add((subject, KG.responsibleUnit, responsible.iri))
        implementing = registry.unit(form.implementing_unit)
        supervising = registry.unit(form.supervising_department)
        if implementing is not None and supervising is not None and implementing is not supervising:
            graph.add((implementing.iri, ORG.subOrganizationOf, supervising.iri))
    return graph
