"""Validation throughput: kg.validate (per form graph, worker processes, SPARQL over the store) against
pySHACL run naively on the merged graph of the same forms, in the same run, with identical findings.

    .venv/bin/python bench/validate.py                    # 1,000 synthetic forms from the 31 seeds
    .venv/bin/python bench/validate.py --forms 310 --jobs 1

The corpus is made in process from the parsed seed forms (data/), deterministically (--seed): copy k of
seed form s is file `synth-<k>-<seed file>`, its project name gets the copy's lineage number, its fiscal
year steps back one year per copy within a lineage of four, every money figure is scaled by one factor per
copy (ratios stay, printed rounding does not always), about one row in twelve has its score lowered or its
reason dropped, one ≥ target in 25 turns into ≤, and the latest copy of every third lineage adds 工作 to
its name, so that findings (across years too) are neither rare nor everywhere. Each lineage of four copies
is written as `?lineage a kg:Lineage ; kg:lineageMember ?form` into the default graph, as `kg link` does.

* **kg.validate**: `validate_store()` on a store holding the corpus (in memory: loading 1,000 forms into an
  on-disk store takes minutes; validating reads either the same way): each form graph read from the
  store, validated with pySHACL (Core shapes, harvested once per process) in --jobs worker processes, the
  SHACL-SPARQL shapes (X-01, X-02) as one query each over the store, every report stored.
* **naive pySHACL**: `pyshacl.validate(merged, shacl_graph=<all shapes>)` on one rdflib graph holding every
  form graph and the lineages (building that graph is timed apart).

Prints a table and writes it with the machine's particulars to bench/results/validate-<date>.md. Findings
are compared as (focus node, source shape, value, severity); the run fails (exit 1) when they differ.
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
from dataclasses import replace
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
from kg.validate import load_catalog, validate_store  # noqa: E402
from kg.validate.catalog import rule_sort_key  # noqa: E402

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


def ours(store: OxigraphStore, jobs: int) -> tuple[float, set[Key], int, Counter[str], dict[str, float]]:
    started = time.perf_counter()
    run = validate_store(store, jobs=jobs)
    seconds = time.perf_counter() - started
    findings = [f for report in run.reports for f in report.findings]
    keys = {
        (f.focus_node, f.source_shape, f.value_node.n3() if f.value_node is not None else "", f.severity)
        for f in findings
    }
    return seconds, keys, len(findings), Counter(f.rule for f in findings), run.timings


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
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)"
    )
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
    load_catalog().pyshacl_shapes()  # parse the shapes outside both timings
    ours_seconds, ours_keys, ours_count, by_rule, steps = ours(store, args.jobs)
    store.close()
    built, naive_seconds, naive_keys, naive_count = naive(graphs, lineage)

    identical = ours_keys == naive_keys and ours_count == naive_count
    rows = [
        ("kg.validate (per form, pool, SPARQL over the store, reports stored)", ours_seconds, ours_count),
        ("pySHACL naive on the merged graph", naive_seconds, naive_count),
    ]
    now = datetime.now(timezone.utc)
    lines = [
        f"# Validation throughput ({now:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `.venv/bin/python bench/validate.py --forms {args.forms} --seed {args.seed} "
        f"--jobs {args.jobs}`. Corpus: {len(forms)} synthetic forms from the {len(seeds)} seeds ({triples} "
        f"triples in the form graphs, {len(set(lineage.subjects(RDF.type, KG.Lineage)))} lineages), "
        f"loaded in {loaded:.1f} s. "
        f"Machine: {os.cpu_count()} CPUs, CPython {platform.python_version()}, pySHACL {version('pyshacl')}, "
        f"rdflib {version('rdflib')}, pyoxigraph {version('pyoxigraph')}.",
        "",
        "| approach | seconds | forms/s | findings |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {seconds:.1f} | {len(forms) / seconds:.1f} | {count} |"
            for name, seconds, count in rows
        ),
        "",
        "kg.validate's steps: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items())
        + " (read: the form graphs out of the store; forms: pySHACL in the workers, with their start; across:"
        " the SPARQL checks; save: the reports).",
        "",
        f"Speed-up: {naive_seconds / ours_seconds:.1f}×. Building the merged rdflib graph for the naive run "
        f"took {built:.1f} s more (not counted above).",
        "",
        f"Findings identical (focus node, source shape, value, severity): {'yes' if identical else 'NO'}"
        f" ({len(ours_keys)} distinct).",
        "",
        "Findings by rule: "
        + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items(), key=lambda i: rule_sort_key(i[0])))
        + ".",
    ]
    if not identical:
        lines += [
            "",
            f"only kg.validate: {sorted(ours_keys - naive_keys)[:5]}",
            f"only naive: {sorted(naive_keys - ours_keys)[:5]}",
        ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"validate-{now:%Y-%m-%d}.md"
    path.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {path}\n")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
