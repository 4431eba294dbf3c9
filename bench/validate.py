"""Validation throughput: kg.validate's two engines (compiled SPARQL over the store; pySHACL per form
graph) against pySHACL run naively on the merged graph of the same forms, in the same run, with identical
findings.

    .venv/bin/python bench/validate.py                    # 1,000 synthetic forms from the 31 seeds
    .venv/bin/python bench/validate.py --forms 310 --jobs 1

The corpus is made in process from the parsed seed forms (data/), deterministically (--seed): copy k of
seed form s is file `synth-<k>-<seed file>`, its project name gets the copy's lineage number, its fiscal
year steps back one year per copy within a lineage of four, every money figure is scaled by one factor per
copy (ratios stay, printed rounding does not always), about one row in twelve has its score lowered or its
reason dropped, one ≥ target in 25 turns into ≤, and the latest copy of every third lineage adds 工作 to
its name, so that findings (across years too) are neither rare nor everywhere. Each lineage of four copies
is written as `?lineage a kg:Lineage ; kg:lineageMember ?form` into the default graph, as `kg link` does.

* **kg.validate, compiled** (the default engine): `validate_store(engine="compiled")` on a store holding
  the corpus (in memory: loading 1,000 forms into an on-disk store takes minutes; validating reads either
  the same way): the SHACL Core shapes as a few dozen SPARQL queries over all form graphs at once
  (kg.validate.compiled), the findings' contexts read in batches, the SHACL-SPARQL shapes (X-01, X-02)
  as one query each over the store, every report stored in one update.
* **kg.validate, pySHACL per form**: `validate_store(engine="pyshacl")` on the same store: each form graph
  read from the store and validated with pySHACL (Core shapes, harvested once per process) in --jobs
  worker processes, then the same SPARQL checks and saving.
* **naive pySHACL**: `pyshacl.validate(merged, shacl_graph=<all shapes>)` on one rdflib graph holding every
  form graph and the lineages (building that graph is timed apart); --no-naive leaves it out.

Prints a table, each engine's steps and the compiled engine's slowest queries, and writes them with the
machine's particulars to bench/results/validate-<date>.md. Findings are compared as (focus node, source
shape, value, severity) across all three, and field by field (messages, printed values, rows …) between
the two engines; the run fails (exit 1) when they differ.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rdflib import Graph, URIRef  # noqa: E402
from rdflib.namespace import RDF, SH  # noqa: E402

from kg.forms import parse_source  # noqa: E402
from kg.model import Field, Form, Indicator, Money, Number  # noqa: E402
from kg.rdf.mapping import form_iri, form_to_named_graph  # noqa: E402
from kg.rdf.namespaces import ID, KG  # noqa: E402
from kg.store.oxigraph import OxigraphStore  # noqa: E402
from kg.validate import Finding, load_catalog, validate_store  # noqa: E402
from kg.validate.catalog import rule_sort_key  # noqa: E402
from kg.validate.compiled import compile_catalog  # noqa: E402

LINEAGE_YEARS = 4

Key = tuple[str, str, str, str]  # focus node, source shape, value (N3), severity


def seed_forms() -> list[Form]:
    return [
        form
        for path in sorted((REPO / "data").glob("*.txt"))
        for form in parse_source(path.read_bytes(), path.name)
    ]


def synthetic(seeds: list[Form], count: int, seed: int) -> Iterator[Form]:
    """`count` forms: copies of the seeds, varied deterministically (see the module documentation)."""
    for i in range(count):
        base, copy = seeds[i % len(seeds)], i // len(seeds)
        rng = random.Random(seed * 1_000_003 + i)
        lineage = copy // LINEAGE_YEARS
        factor = Decimal(rng.randint(50, 200)) / 100
        renamed = "工作" if copy % LINEAGE_YEARS == 0 and lineage % 3 == 0 else ""  # a name that drifts
        form = replace(
            base,
            file=f"synth-{copy:04d}-{base.file}",
            year=base.year - copy % LINEAGE_YEARS,
            project_name=Field(f"{base.project_name.value}{renamed}（{lineage}）", base.project_name.line),
            funds=[_scaled(money, factor) for money in base.funds],
            indicators=[_nudged(row, rng) for row in base.indicators],
        )
        yield form


def _scaled(money: Money, factor: Decimal) -> Money:
    places = len(money.raw.split(".")[1]) if "." in money.raw else 0
    amount = (money.amount * factor).quantize(Decimal(1).scaleb(-places))
    raw = f"{amount:,.{places}f}" if "," in money.raw else f"{amount:.{places}f}"
    return replace(money, raw=raw, amount=amount)


def _nudged(row: Indicator, rng: random.Random) -> Indicator:
    goal = row.target_parsed
    if goal is not None and goal.operator == ">=" and rng.random() < 1 / 25:  # ≥ turns into ≤
        flipped = replace(goal, raw=goal.raw.replace("≥", "≤"), operator="<=")
        return replace(row, target=flipped.raw, target_parsed=flipped)
    if rng.random() >= 1 / 12:
        return row
    if row.score is not None and row.score.value > 0:
        lower = max(Decimal(0), row.score.value - 1)
        return replace(row, score=Number(f"{lower:.2f}", lower, row.score.line))
    return replace(row, deviation_reason=None)


def lineages(forms: list[Form]) -> Graph:
    graph = Graph()
    for form in forms:
        copy = int(form.file.split("-")[1])
        seed_key = f"{form.file.split('-', 2)[2]}-{form.index_in_file}-{copy // LINEAGE_YEARS}"
        node = ID[f"lineage/bench/{seed_key}"]
        graph.add((node, RDF.type, KG.Lineage))
        graph.add((node, KG.lineageMember, form_iri(form)))
    return graph


def load(store: OxigraphStore, forms: list[Form], graphs: list[tuple[URIRef, Graph]], lineage: Graph) -> int:
    by_file: dict[str, list[tuple[URIRef, Graph]]] = {}
    for form, named in zip(forms, graphs, strict=True):
        by_file.setdefault(form.file, []).append(named)
    triples = sum(store.replace_file(file, graphs) for file, graphs in by_file.items())
    store.replace_derived("lineages", [(ID["graph/lineages"], lineage)], in_default_graph=True)
    return triples


def ours(store: OxigraphStore, jobs: int, engine: str) -> Outcome:
    started = time.perf_counter()
    run = validate_store(store, jobs=jobs, engine=engine)
    seconds = time.perf_counter() - started
    findings = [f for report in run.reports for f in report.findings]
    return Outcome(seconds, findings, keys_of(findings), run.timings, run.queries)


@dataclass
class Outcome:
    seconds: float
    findings: list[Finding]
    keys: set[Key]
    steps: dict[str, float]
    queries: dict[str, float]

    @property
    def by_rule(self) -> Counter[str]:
        return Counter(f.rule for f in self.findings)


def keys_of(findings: list[Finding]) -> set[Key]:
    return {
        (f.focus_node, f.source_shape, f.value_node.n3() if f.value_node is not None else "", f.severity)
        for f in findings
    }


def naive(graphs: list[tuple[URIRef, Graph]], lineage: Graph) -> tuple[float, float, set[Key], int]:
    from pyshacl import validate

    started = time.perf_counter()
    merged = Graph()
    for _, graph in [*graphs, (None, lineage)]:
        merged.addN((s, p, o, merged) for s, p, o in graph)
    built = time.perf_counter() - started
    started = time.perf_counter()
    _, report, _ = validate(merged, shacl_graph=load_catalog().graph)
    seconds = time.perf_counter() - started
    severities = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
    keys = set()
    results = list(report.subjects(RDF.type, SH.ValidationResult))
    for result in results:
        value = report.value(result, SH.value)
        keys.add(
            (
                str(report.value(result, SH.focusNode)),
                str(report.value(result, SH.sourceShape)),
                value.n3() if value is not None else "",
                severities[report.value(result, SH.resultSeverity)],
            )
        )
    return built, seconds, keys, len(results)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--forms", type=int, default=1000, help="synthetic forms (default: 1000)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default: 7)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="pySHACL worker processes (default: CPUs)"
    )
    parser.add_argument("--no-naive", action="store_true", help="leave out the naive pySHACL run")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="results folder")
    args = parser.parse_args()

    seeds = seed_forms()
    forms = list(synthetic(seeds, args.forms, args.seed))
    graphs = [form_to_named_graph(form) for form in forms]
    lineage = lineages(forms)
    store = OxigraphStore.in_memory()  # an on-disk store loads ~4× slower; validating reads it the same way
    started = time.perf_counter()
    triples = load(store, forms, graphs, lineage)
    loaded = time.perf_counter() - started
    load_catalog().pyshacl_shapes()  # parse the shapes outside the timings
    compile_catalog(load_catalog())
    compiled = ours(store, args.jobs, "compiled")
    per_form = ours(store, args.jobs, "pyshacl")
    store.close()
    naive_run = None if args.no_naive else naive(graphs, lineage)

    same_engines = compiled.findings == per_form.findings
    identical = same_engines and compiled.keys == per_form.keys
    rows = [
        (
            "kg.validate, compiled (SPARQL over the store, reports stored)",
            compiled.seconds,
            compiled.findings,
        ),
        ("kg.validate, pySHACL per form (pool, reports stored)", per_form.seconds, per_form.findings),
    ]
    if naive_run is not None:
        built, naive_seconds, naive_keys, naive_count = naive_run
        identical = identical and compiled.keys == naive_keys and len(compiled.findings) == naive_count
    now = datetime.now(timezone.utc)
    lines = [
        f"# Validation throughput ({now:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `.venv/bin/python bench/validate.py --forms {args.forms} --seed {args.seed} "
        f"--jobs {args.jobs}{' --no-naive' if args.no_naive else ''}`. Corpus: {len(forms)} synthetic forms "
        f"from the {len(seeds)} seeds ({triples} triples in the form graphs, "
        f"{len(set(lineage.subjects(RDF.type, KG.Lineage)))} lineages), loaded in {loaded:.1f} s. "
        f"Machine: {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), CPython "
        f"{platform.python_version()}, pySHACL {version('pyshacl')}, rdflib {version('rdflib')}, "
        f"pyoxigraph {version('pyoxigraph')}.",
        "",
        "| approach | seconds | forms/s | findings |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {seconds:.1f} | {len(forms) / seconds:.1f} | {len(found)} |"
            for name, seconds, found in rows
        ),
    ]
    if naive_run is not None:
        lines.append(
            f"| pySHACL naive on the merged graph | {naive_seconds:.1f} | {len(forms) / naive_seconds:.1f} "
            f"| {naive_count} |"
        )
    lines += [
        "",
        "Compiled engine's steps: "
        + _steps(compiled.steps)
        + " (select: the form graphs in the catalog; query: the Core shapes' queries; contexts: the forms'"
        " contexts and the triples the findings name, read in batches, and the findings resolved; across: the"
        " SPARQL checks X-01, X-02; save: every report in one update).",
        "",
        "pySHACL per form's steps: "
        + _steps(per_form.steps)
        + " (read: the form graphs out of the store; forms: pySHACL in the workers, with their start).",
        "",
        "Compiled engine's slowest queries (of "
        f"{len(compiled.queries)}, {sum(compiled.queries.values()):.2f} s in all): "
        + "; ".join(
            f"{label} {seconds * 1000:.0f} ms"
            for label, seconds in sorted(compiled.queries.items(), key=lambda item: -item[1])[:8]
        )
        + ".",
        "",
        f"Speed-up of the compiled engine: {per_form.seconds / compiled.seconds:.1f}× over pySHACL per form"
        + (f", {naive_seconds / compiled.seconds:.1f}× over naive pySHACL" if naive_run is not None else "")
        + (
            f" (building the merged rdflib graph for the naive run took {built:.1f} s more, not counted)."
            if naive_run is not None
            else "."
        ),
        "",
        "Findings identical (focus node, source shape, value, severity"
        + (", across all three" if naive_run is not None else "")
        + f"): {'yes' if identical else 'NO'} ({len(compiled.keys)} distinct); the two engines' findings "
        f"field by field (messages, printed values, rows, value nodes): {'yes' if same_engines else 'NO'}.",
        "",
        "Findings by rule: "
        + ", ".join(
            f"{rule} {n}" for rule, n in sorted(compiled.by_rule.items(), key=lambda i: rule_sort_key(i[0]))
        )
        + ".",
    ]
    if not identical:
        lines += ["", f"only compiled: {sorted(compiled.keys - per_form.keys)[:5]}"]
        lines += [f"only pySHACL per form: {sorted(per_form.keys - compiled.keys)[:5]}"]
        if naive_run is not None:
            lines += [f"only naive: {sorted(naive_keys - compiled.keys)[:5]}"]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"validate-{now:%Y-%m-%d}.md"
    path.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {path}\n")
    return 0 if identical else 1


def _steps(steps: dict[str, float]) -> str:
    return ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps.items())


if __name__ == "__main__":
    sys.exit(main())
