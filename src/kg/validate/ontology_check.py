"""`kg check-ontology`: HermiT (owlready2, needs Java) on the merged ontology and, optionally, mapped forms.

The ontology modules (`ontology/*.ttl`) are merged, and the forms of the given source files are parsed and
mapped (printed values and derived facts) into the same graph; HermiT then classifies it. The check fails
when the whole is inconsistent (HermiT cannot name a cause then; each data file is tried on its own to
say which ones bring the inconsistency) or when a class is unsatisfiable (named).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg.rdf.namespaces import KG
from kg.rdf.ontology import load_ontology, ontology_files


class JavaMissingError(RuntimeError):
    """HermiT needs a Java runtime on PATH."""


@dataclass
class OntologyCheck:
    """What HermiT said."""

    modules: list[str]
    data_files: list[str]
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)  # "kg:Name (label)"
    ontology_consistent: bool = True  # the ontology alone (checked again only when the whole is not)
    inconsistent_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def data_graph(paths: Sequence[Path]) -> tuple[Graph, list[str]]:
    """The mapped forms of the source files below `paths` (as `kg ingest` finds them)."""
    from kg.forms import parse_source
    from kg.ingest import expand_paths
    from kg.rdf.mapping import form_to_graph

    graph, files = Graph(), []
    for path in expand_paths(list(paths)):
        for form in parse_source(path.read_bytes(), path.name):
            graph += form_to_graph(form)
        files.append(path.name)
    return graph, files


def check_ontology(data_paths: Sequence[Path] = (), java_memory: int = 1024) -> OntologyCheck:
    """Run HermiT on the merged ontology plus the mapped forms of `data_paths`."""
    if shutil.which("java") is None:
        raise JavaMissingError(
            "java not found on PATH: HermiT (owlready2) needs a Java runtime; install one (e.g. "
            "openjdk-17-jre-headless; ./scripts/setup does this as root)"
        )
    started = time.perf_counter()
    ontology = load_ontology()
    check = OntologyCheck(modules=[path.name for path in ontology_files()], data_files=[], consistent=True)
    data, check.data_files = data_graph(data_paths) if data_paths else (Graph(), [])
    check.consistent, check.unsatisfiable = _hermit(ontology + data, ontology, java_memory)
    check.ontology_consistent = check.consistent  # with data, re-checked alone below when not
    if not check.consistent and data_paths:
        check.ontology_consistent = _hermit(ontology, ontology, java_memory)[0]
    if not check.consistent and data_paths and check.ontology_consistent:
        for path in data_paths:
            single, _ = data_graph([path])
            if not _hermit(ontology + single, ontology, java_memory)[0]:
                check.inconsistent_files.append(str(path))
    check.seconds = time.perf_counter() - started
    return check


def _hermit(graph: Graph, ontology: Graph, java_memory: int) -> tuple[bool, list[str]]:
    """(consistent, unsatisfiable classes) of `graph` under HermiT, in a fresh owlready2 world."""
    import owlready2

    with tempfile.TemporaryDirectory(prefix="kg-hermit-") as folder:
        path = Path(folder) / "check.owl"
        graph.serialize(path, format="xml")
        owlready2.reasoning.JAVA_MEMORY = java_memory
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load()
        try:
            # xsd:date (planned dates) is outside the OWL 2 datatype map: HermiT is told to ignore it.
            owlready2.sync_reasoner(
                world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
            )
        except owlready2.OwlReadyInconsistentOntologyError:
            return False, []
        unsatisfiable = sorted(
            _name(ontology, URIRef(cls.iri))
            for cls in world.inconsistent_classes()
            if cls.iri != str(_NOTHING)
        )
        return True, unsatisfiable


_NOTHING = URIRef("http://www.w3.org/2002/07/owl#Nothing")


def _name(ontology: Graph, iri: URIRef) -> str:
    short = f"kg:{iri[len(str(KG)) :]}" if iri.startswith(str(KG)) else f"<{iri}>"
    labels = [str(label) for label in ontology.objects(iri, RDFS.label) if isinstance(label, Literal)]
    return f"{short} ({' / '.join(labels)})" if labels else short


def describe(check: OntologyCheck) -> str:
    """The verdict for people: what was checked, and on failure what is wrong."""
    what = f"ontology ({len(check.modules)} modules: {', '.join(check.modules)})"
    if check.data_files:
        what += f" + {len(check.data_files)} data files"
    lines = [f"HermiT checked the {what} in {check.seconds:.1f} s"]
    if not check.consistent:
        lines.append("INCONSISTENT: no model satisfies the axioms and the data together")
        if not check.data_files or not check.ontology_consistent:
            lines.append("  the ontology itself is inconsistent")
        elif check.inconsistent_files:
            lines.append(
                "  the ontology alone is consistent; inconsistent with it: "
                + ", ".join(check.inconsistent_files)
            )
        else:
            lines.append(
                "  the ontology alone is consistent; no single data path is inconsistent with it alone"
            )
    for name in check.unsatisfiable:
        lines.append(f"UNSATISFIABLE class (can have no member): {name}")
    if check.ok:
        lines.append("consistent, every class satisfiable")
    return "\n".join(lines) + "\n"
