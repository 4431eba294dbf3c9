"""End to end at scale: corpus → accuracy → ingest → link → validate → named queries, each against a baseline
measured in the same run, with peak memory per step.

    .venv/bin/python bench/scale.py                      # 1,000 and 10,000 forms (about 16 minutes, 2 cores)
    .venv/bin/python bench/scale.py --forms 1000         # one size

For each size, on one synthetic corpus (`kg bench-corpus`, cached under bench/corpus/, regenerated when
missing):

* **accuracy**: every form parsed and compared with the corpus's expected.json (the gold comparison of
  tests/gold.py, as for the seeds);
* **ingest**: `kg.ingest.ingest_paths` with --workers into a fresh on-disk store, against pyoxigraph
  `Store.bulk_load` of the very quads it wrote (its N-Quads shards, kept by `keep_shards`), in a fresh
  store;
* **link**: lineages and registries (`kg link`), which the across-years rules read;
* **validate**: `validate_store` on the whole store (the default engine, reports stored), against pySHACL per
  form graph on a sample of forms (`--pyshacl-sample`), whose findings must be identical to the default
  engine's findings about the same forms (exit 1 otherwise);
* **queries**: every named query, with all rows and (where it has one) with a point parameter taken from
  the corpus, p50/p95 direct (`OxigraphStore.query` + pyoxigraph's JSON writer, on a checkpoint) against
  HTTP (`GET /queries/<name>` to `kg serve` on 127.0.0.1, keep-alive), alternating.

Each of ingest, bulk load, link and validate runs in its own process, so its peak RSS (getrusage; worker
processes separately) is its own; the server's RSS is read from /proc after the queries. The table goes to
stdout and, with the machine's particulars, to bench/results/scale-<UTC date>.md (+ .json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # tests.gold: the accuracy comparison
sys.path.insert(0, str(BENCH))

from http_latency import free_port, percentile, wait_until_serving  # noqa: E402
from ingest import _load, _usage, accuracy, corpus_for, machine, step_load  # noqa: E402

KG = [sys.executable, "-m", "kg.cli"]
DEFAULT_SIZES = [1000, 10000]
# Answers slower than LONG_QUERY_S direct: the warm-up round counts (its one-time costs are lost in the
# time) and LONG_QUERY_ROUNDS are run in all; slower than VERY_LONG_QUERY_S (the all-rows answers of
# 100,000+ rows at 10,000 forms, a minute each): that one round only, or the step would take half an hour.
LONG_QUERY_S = 2.0
LONG_QUERY_ROUNDS = 3
VERY_LONG_QUERY_S = 5.0


# ----------------------------------------------------------------------------- child steps


def _timed(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    result = run()
    return {**result, "wall_s": time.perf_counter() - started, **_usage()}


def step_ingest(corpus: Path, store_dir: Path, workers: int, shards: Path) -> dict[str, Any]:
    """`ingest_paths` into a fresh store (the bulk path), keeping its N-Quads shards in `shards` for the
    baseline to load the very same quads."""
    from kg.ingest import expand_paths, ingest_paths
    from kg.store import OxigraphStore

    files = expand_paths([corpus])
    shards.mkdir()
    with OxigraphStore(store_dir) as store:

        def run() -> dict[str, Any]:
            report = ingest_paths(files, store, workers=workers, keep_shards=shards)
            return {"files": len(files), "failed": len(report.failed), "forms": report.forms}

        result = _timed(run)
    if not any(shards.glob("*.nq")):
        raise SystemExit("the ingest did not take the bulk path: no shards for the baseline")
    return {"step": f"ingest ({workers} workers)", **result}


def step_link(store_dir: Path) -> dict[str, Any]:
    from kg.link import link_store
    from kg.store import OxigraphStore

    with OxigraphStore(store_dir, create=False) as store:

        def run() -> dict[str, Any]:
            linked = link_store(store, [], use_default=False)
            return {"summary": linked.summary()}

        return {"step": "link", **_timed(run)}


def _keys(findings: list[Any]) -> set[tuple[str, str, str, str]]:
    return {
        (f.focus_node, f.source_shape, f.value_node.n3() if f.value_node is not None else "", f.severity)
        for f in findings
    }


def step_validate(store_dir: Path, sample: int, jobs: int) -> dict[str, Any]:
    """The default engine on the whole store, then pySHACL per form on an evenly spread sample."""
    from kg.store import OxigraphStore
    from kg.validate import validate_store
    from kg.validate.run import FormSelector

    with OxigraphStore(store_dir, create=False) as store:
        holder: dict[str, Any] = {}

        def whole() -> dict[str, Any]:
            run = validate_store(store, jobs=jobs)
            holder["run"] = run
            return {"forms": len(run.forms), "findings": len(run.findings), "steps": run.timings}

        result = {"step": "validate (default engine, whole store)", **_timed(whole)}
        run = holder["run"]
        records = store.form_graphs()
        chosen = records[:: max(1, len(records) // sample)][:sample]
        selectors = [FormSelector(r.file, int(str(r.graph).rsplit("/", 1)[1])) for r in chosen]
        started = time.perf_counter()
        baseline = validate_store(store, selectors, jobs=jobs, save=False, engine="pyshacl")
        seconds = time.perf_counter() - started
        forms = {context.form for context in baseline.forms}
        ours = _keys([f for f in run.findings if f.form in forms])
        theirs = _keys(baseline.findings)
        result["pyshacl"] = {
            "forms": len(baseline.forms),
            "wall_s": seconds,
            "findings": len(baseline.findings),
            "identical": ours == theirs,
            "only_default": sorted(ours - theirs)[:5],
            "only_pyshacl": sorted(theirs - ours)[:5],
        }
    return result


def run_step(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", required=True)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nq", type=Path)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args(argv)
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "ingest": lambda: step_ingest(args.corpus, args.store, args.workers, args.nq),
        "bulk_load": lambda: step_load(args.nq, args.store, "bulk_load"),
        "link": lambda: step_link(args.store),
        "validate": lambda: step_validate(args.store, args.sample, args.workers),
    }
    sys.stdout.write(json.dumps(steps[args.step](), default=str) + "\n")


def _child(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--step", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"step {args[0]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------------------- queries (parent side)


def point_parameters(store: Any) -> dict[str, dict[str, str]]:
    """A point parameter per named query that has one, taken from the corpus so that the answer is of a
    like size at every corpus size: the file of the first form (by IRI; files hold 10-20 forms); for the
    lineage queries a name that belongs to one lineage only, that of the longest such lineage (a larger
    corpus reuses names across projects, and a shared name answers for all of them); the legal document
    cited by the fewest forms (a document is cited by more forms as the corpus grows)."""
    first = next(
        iter(
            store.query(
                "SELECT ?file WHERE { ?form kg:formIndex ?i ; "
                "prov:hadPrimarySource/dcterms:identifier ?file } ORDER BY ?form LIMIT 1"
            )
        )
    )
    file = first["file"].value
    names = store.query(
        """SELECT ?key WHERE {
             { SELECT ?key WHERE { ?lineage a kg:Lineage ; kg:lookupKey ?key } GROUP BY ?key
               HAVING (COUNT(DISTINCT ?lineage) = 1) }
             ?lineage kg:lookupKey ?key ; kg:lineageMember ?form .
           } GROUP BY ?key ORDER BY DESC(COUNT(?form)) ?key LIMIT 1"""
    )
    name = next(iter(names))["key"].value
    docs = list(
        store.query(
            """SELECT ?doc WHERE { ?d a kg:LegalBasisDocument ; eli:id_local ?doc .
                 ?citation kg:basisDocument ?d . ?form kg:hasBasisCitation ?citation }
               GROUP BY ?doc ORDER BY COUNT(DISTINCT ?form) ?doc LIMIT 1"""
        )
    )
    points = {
        "forms": {"file": file},
        "indicators": {"file": file},
        "funds": {"file": file},
        "legal-bases": {"file": file},
        "budget-series": {"project": name},
        "indicator-history": {"project": name},
        "lineages": {"name": name},
    }
    if docs:
        points["projects-by-legal-basis"] = {"doc": docs[0]["doc"].value}
    return points


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (kg serve's query workers), from /proc."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def measure_queries(store_dir: Path, scratch: Path, rounds: int, workers: int) -> dict[str, Any]:
    """Direct vs HTTP per named query (all rows, and the point variant), alternating, `rounds` each
    (fewer for answers of more than 20,000 rows, and for slow answers: see `LONG_QUERY_S`)."""
    import httpx
    import pyoxigraph as ox

    from kg.rdf.named_queries import load_named_queries
    from kg.store import OxigraphStore

    with OxigraphStore(store_dir, create=False) as original:
        original.checkpoint(scratch / "direct")
    direct = OxigraphStore(scratch / "direct", read_only=True)
    points = point_parameters(direct)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env["KG_MAX_ROWS"] = "100000000"  # the whole answer, as direct gives it
    env["KG_QUERY_TIMEOUT"] = "600"
    port = free_port()
    log = (scratch / "serve.log").open("wb")
    server = subprocess.Popen(
        [*KG, "--store", str(store_dir), "serve", "--port", str(port), "--workers", str(workers)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        wait_until_serving(url, scratch / "serve.log", 600)
        cases: list[tuple[str, str, Any, dict[str, str]]] = []
        for name, named in sorted(load_named_queries().items()):
            cases.append((name, "all", named, {}))
            if name in points:
                cases.append((name, "point", named, points[name]))
        with httpx.Client(
            base_url=url, timeout=900, headers={"Accept": "application/sparql-results+json"}
        ) as client:
            for name, kind, named, values in cases:
                results[f"{name} ({kind})"] = _measure_one(client, direct, named, values, rounds, ox)
        results["_server_rss_mb"] = _rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        direct.close()
    return results


def _measure_one(
    client: Any, direct: Any, named: Any, values: dict[str, str], rounds: int, ox: Any
) -> dict[str, Any]:
    substitutions = {variable.value: term for variable, term in named.substitutions(values).items()}
    samples: dict[str, list[float]] = {"direct": [], "http": []}
    rows = 0
    planned = rounds
    done = -1  # one warm-up round
    while done < planned:
        started = time.perf_counter()
        result = direct.query(named.text, substitutions or None)
        result.serialize(format=ox.QueryResultsFormat.JSON)
        direct_s = time.perf_counter() - started
        started = time.perf_counter()
        response = client.get(f"/queries/{named.name}", params=values)
        body = response.read()
        http_s = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{named.name}: HTTP {response.status_code}: {response.text[:300]}")
        if done < 0:
            rows = len(json.loads(body)["results"]["bindings"])
            if direct_s > LONG_QUERY_S:  # its one-time costs are lost in the time: it counts
                planned = 0 if direct_s > VERY_LONG_QUERY_S else LONG_QUERY_ROUNDS - 1
                samples["direct"].append(direct_s * 1000)
                samples["http"].append(http_s * 1000)
            elif rows > 20000:
                planned = max(3, rounds // 5)
        else:
            samples["direct"].append(direct_s * 1000)
            samples["http"].append(http_s * 1000)
        done += 1
    say(f"  {named.name} {'(point)' if values else '(all)'}: {rows} rows, {len(samples['direct'])} rounds")
    d50, h50 = statistics.median(samples["direct"]), statistics.median(samples["http"])
    return {
        "rows": rows,
        "rounds": len(samples["direct"]),
        "params": values,
        "direct_p50": d50,
        "direct_p95": percentile(samples["direct"], 0.95),
        "http_p50": h50,
        "http_p95": percentile(samples["http"], 0.95),
        "ratio": h50 / d50,
    }


# ----------------------------------------------------------------------------- driver


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def bench_size(forms: int, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    folder, generated = corpus_for(forms, args.seed, args.corpus_dir)
    say(f"{forms} forms: corpus {'generated' if generated else 'cached'} at {folder}")
    result: dict[str, Any] = {"forms": forms, "generated_s": generated}
    result["accuracy"] = accuracy(folder)
    say(f"{forms} forms: accuracy measured")
    scratch = Path(tempfile.mkdtemp(prefix="kg-scale-"))
    try:
        store, shards = scratch / "store", scratch / "shards"
        steps = [
            _child(
                [
                    "ingest",
                    "--corpus",
                    str(folder),
                    "--store",
                    str(store),
                    "--nq",
                    str(shards),
                    "--workers",
                    str(args.workers),
                ]
            )
        ]
        if steps[-1]["failed"] or steps[-1]["forms"] != forms:
            raise SystemExit(f"ingest loaded {steps[-1]['forms']} of {forms} forms")
        say(f"{forms} forms: ingested in {steps[-1]['wall_s']:.0f} s")
        steps.append(_child(["bulk_load", "--nq", str(shards), "--store", str(scratch / "bulk")]))
        steps[0]["quads"] = steps[1]["quads"]  # the same quads, in the same kind of store
        result["dump_mb"] = sum(shard.stat().st_size for shard in shards.glob("*.nq")) / 2**20
        shutil.rmtree(shards)
        shutil.rmtree(scratch / "bulk")
        say(f"{forms} forms: bulk-loaded in {steps[-1]['wall_s']:.0f} s")
        steps.append(_child(["link", "--store", str(store)]))
        say(f"{forms} forms: linked in {steps[-1]['wall_s']:.0f} s")
        steps.append(
            _child(
                [
                    "validate",
                    "--store",
                    str(store),
                    "--sample",
                    str(args.pyshacl_sample),
                    "--workers",
                    str(args.workers),
                ]
            )
        )
        say(f"{forms} forms: validated in {steps[-1]['wall_s']:.0f} s")
        result["store_mb"] = _disk_mb(store)
        result["queries"] = measure_queries(store, scratch, args.rounds, args.serve_workers)
        say(f"{forms} forms: queries measured")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["steps"] = steps
    result["wall_s"] = time.perf_counter() - started
    return result


def say(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def _step(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(step for step in result["steps"] if step["step"].startswith(prefix))


def steps_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| forms | step | wall s | forms/s | quads/s | × baseline | CPU s | peak RSS MB (workers) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        n = r["forms"]
        ingest, bulk = _step(r, "ingest"), _step(r, "pyoxigraph")
        validate = _step(r, "validate")
        rows = [
            (
                ingest,
                f"{ingest['quads'] / ingest['wall_s']:,.0f}",
                f"{ingest['wall_s'] / bulk['wall_s']:.2f}",
            ),
            (bulk, f"{bulk['quads'] / bulk['wall_s']:,.0f}", "1.00"),
            (_step(r, "link"), "", ""),
            (validate, "", ""),
        ]
        for step, quads, ratio in rows:
            lines.append(
                f"| {n} | {step['step']} | {step['wall_s']:.1f} | {n / step['wall_s']:.1f} | {quads} "
                f"| {ratio} | {step['cpu_s']:.0f} | {step['peak_rss_mb']:.0f} "
                f"({step['worker_peak_rss_mb']:.0f}) |"
            )
        sample = validate["pyshacl"]
        per_form = sample["wall_s"] / sample["forms"]
        lines.append(
            f"| {n} | pySHACL per form (baseline, {sample['forms']} forms sampled) | {sample['wall_s']:.1f} "
            f"| {1 / per_form:.1f} |  | {n / validate['wall_s'] * per_form:.0f}× slower → "
            f"{'identical' if sample['identical'] else 'DIFFERENT'} findings |  |  |"
        )
    return lines


def queries_table(results: list[dict[str, Any]], rounds_default: int) -> list[str]:
    sizes = [r["forms"] for r in results]
    header = "| named query | " + " | ".join(
        f"rows {n} | direct p50/p95 ms {n} | HTTP p50/p95 ms {n} | HTTP/direct {n}" for n in sizes
    )
    if len(sizes) > 1:
        header += f" | direct p50 {sizes[-1]} ÷ {sizes[0]}"
    lines = [header + " |", "|---|" + "---:|" * (4 * len(sizes) + (1 if len(sizes) > 1 else 0))]
    names = [k for k in results[0]["queries"] if not k.startswith("_")]
    for name in names:
        cells = []
        for r in results:
            q = r["queries"][name]
            rounds = f" ({q['rounds']} rounds)" if q["rounds"] < rounds_default else ""
            cells.append(
                f"{q['rows']}{rounds} | {q['direct_p50']:.1f} / {q['direct_p95']:.1f} | "
                f"{q['http_p50']:.1f} / {q['http_p95']:.1f} | {q['ratio']:.2f}×"
            )
        growth = ""
        if len(sizes) > 1:
            first, last = results[0]["queries"][name], results[-1]["queries"][name]
            growth = f" | {last['direct_p50'] / first['direct_p50']:.1f}×"
        lines.append(f"| {name} | " + " | ".join(cells) + growth + " |")
    for r in results:
        ratios = [q["ratio"] for k, q in r["queries"].items() if not k.startswith("_")]
        lines.append(f"\n{r['forms']} forms: median HTTP/direct p50 ratio {statistics.median(ratios):.2f}×.")
    return lines


def accuracy_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        a = r["accuracy"]
        worst = min(a["ratios"].items(), key=lambda item: item[1])
        lines.append(
            f"- {r['forms']} forms: {a['rows_found']}/{a['rows']} indicator rows found, "
            f"{a['rows_extra']} extra; lowest field {worst[0]} {worst[1]:.4f}; "
            f"parse {1000 * a['parse_cpu_s'] / r['forms']:.2f} ms CPU per form."
        )
    return lines


def memory_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        lines.append(
            f"- {r['forms']} forms: store on disk {r['store_mb']:.0f} MB "
            f"({1024 * r['store_mb'] / r['forms']:.0f} KB per form); kg serve with its workers "
            f"{r['queries']['_server_rss_mb']:.0f} MB RSS after the queries."
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        span = large["forms"] - small["forms"]
        disk = 1024 * (large["store_mb"] - small["store_mb"]) / span
        serve = 1024 * (large["queries"]["_server_rss_mb"] - small["queries"]["_server_rss_mb"]) / span
        lines.append(
            f"- Growth from {small['forms']} to {large['forms']} forms: {disk:.0f} KB of disk and "
            f"{serve:.0f} KB of server RSS per added form."
        )
    return lines


def report(
    results: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, str], loads: tuple[str, str]
) -> str:
    now = datetime.now(timezone.utc)
    sizes = " ".join(map(str, args.forms))
    command = f".venv/bin/python bench/scale.py --forms {sizes} --rounds {args.rounds}"
    lines = [
        f"# End-to-end scale benchmark, {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}` (seed {args.seed}, {args.workers} ingest/validation workers, kg serve "
        f"--workers {args.serve_workers}, {args.rounds} query rounds). Total "
        f"{sum(r['wall_s'] for r in results) / 60:.1f} min: "
        + ", ".join(f"{r['forms']} forms {r['wall_s'] / 60:.1f} min" for r in results)
        + ".",
        "",
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items())
        + f"; load average before / after: {loads[0]} / {loads[1]}.",
        "",
        "## Steps",
        "",
        *steps_table(results),
        "",
        "## Extraction accuracy against the generator's expected.json",
        "",
        *accuracy_lines(results),
        "",
        "## Named queries, direct vs HTTP (all rows, and a point parameter where the query has one)",
        "",
        *queries_table(results, args.rounds),
        "",
        "## Memory and disk",
        "",
        *memory_lines(results),
    ]
    for r in results:
        sample = _step(r, "validate")["pyshacl"]
        if not sample["identical"]:
            lines += [
                "",
                f"{r['forms']} forms, findings differ: only default {sample['only_default']}; "
                f"only pySHACL {sample['only_pyshacl']}",
            ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--step"]:
        run_step(argv)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--forms", type=int, nargs="+", default=DEFAULT_SIZES, help="corpus sizes (default: 1000 10000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="ingest/validation worker processes"
    )
    parser.add_argument("--serve-workers", type=int, default=2, help="kg serve --workers (default: 2)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per query (default: 5)")
    parser.add_argument(
        "--pyshacl-sample", type=int, default=200, help="forms validated by the pySHACL baseline"
    )
    parser.add_argument("--corpus-dir", type=Path, default=BENCH / "corpus")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    loads_before = _load()
    results = [bench_size(forms, args) for forms in args.forms]
    text = report(results, args, machine(), (loads_before, _load()))
    sys.stdout.write(text)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = args.results_dir / f"scale-{datetime.now(timezone.utc):%Y-%m-%d}"
    stem.with_suffix(".md").write_text(text, encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    say(f"wrote {stem}.md")
    identical = all(_step(r, "validate")["pyshacl"]["identical"] for r in results)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
