"""Ingest benchmark: parse -> RDF -> store throughput of `kg ingest`, against pyoxigraph bulk-loading.

For each corpus size it generates (or reuses) a synthetic corpus under bench/corpus/ (`kg bench-corpus`),
measures its extraction accuracy against the corpus's expected.json, then in fresh on-disk stores:

* ingest with 1 worker and with 2 workers, one transaction per file (`kg.ingest.ingest_paths(bulk=False)`:
  parse, map, write; the `kg ingest` command then also recomputes lineages, which is not measured here),
* the same through the bulk path (`ingest_paths`' default for files new to the store: workers parse and
  map, this process spools N-Quads shards, then one `bulk_load` into a copy swapped in on success), with
  the time and CPU of its two phases (parse + spool, then load),
* the baseline: pyoxigraph `Store.bulk_load` of the very quads the ingest wrote (the store dumped as
  N-Quads: form graphs, their merge in the default graph, the catalog), and `Store.load` of the same file
  (one transaction, as ingest writes),
* a CPU breakdown of the serial ingest on a sample (parse / map to triples / convert to quads / one
  transaction per file; and the N-Quads text a worker makes instead of the last two).

Each measured step runs in its own process, so peak memory (getrusage max RSS, with worker processes
counted separately) is the step's own. Prints a table and writes bench/results/ingest-<UTC date>.md
(with `--label X`: ingest-<UTC date>-X.md, so as not to overwrite an earlier run of the day).

    .venv/bin/python bench/ingest.py --forms 1000 10000
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # tests.gold (the accuracy comparison) lives in the repository

DEFAULT_CORPUS_DIR = BENCH / "corpus"
DEFAULT_RESULTS_DIR = BENCH / "results"
SAMPLE_FORMS = 150  # forms in the CPU breakdown sample


# ----------------------------------------------------------------------------- measured steps (child side)


def _usage() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "parent_cpu_s": own.ru_utime + own.ru_stime,
        "peak_rss_mb": own.ru_maxrss / 1024,
        "worker_peak_rss_mb": children.ru_maxrss / 1024,
    }


def step_ingest(corpus: Path, store_dir: Path, workers: int, dump: Path | None, bulk: bool) -> dict[str, Any]:
    """`ingest_paths` into a fresh store; in the bulk path, also the wall and CPU time up to the end of
    parsing (the "loading …" notice: the worker pool has stopped by then, so the children's CPU time is
    the workers' whole share; the main thread's own CPU time is what receiving and spooling cost, the
    rest of this process's is the bulk load's threads, which run from the first shard on)."""
    from kg.ingest import expand_paths, ingest_paths
    from kg.store import OxigraphStore

    files = expand_paths([corpus])
    phases: dict[str, float] = {}

    def notify(message: str) -> None:
        if message.startswith("loading ") and "spooled_wall_s" not in phases:
            usage = _usage()
            phases["spooled_wall_s"] = time.perf_counter() - start
            phases["spooled_parent_cpu_s"] = usage["parent_cpu_s"] - before["parent_cpu_s"]
            phases["spooled_worker_cpu_s"] = usage["cpu_s"] - usage["parent_cpu_s"]
            phases["main_thread_cpu_s"] = time.thread_time() - main_thread

    with OxigraphStore(store_dir) as store:
        before = _usage()
        main_thread = time.thread_time()
        start = time.perf_counter()
        report = ingest_paths(files, store, workers=workers, bulk=bulk, notify=notify)
        wall = time.perf_counter() - start
        usage = _usage()
        quads = len(store._db)  # every quad written: form graphs, default graph, catalog
        if dump is not None:
            store._db.dump(str(dump), _nquads())
    if "spooled_wall_s" in phases:
        phases["load_wall_s"] = wall - phases["spooled_wall_s"]
        phases["load_parent_cpu_s"] = (
            usage["parent_cpu_s"] - before["parent_cpu_s"] - phases["spooled_parent_cpu_s"]
        )
    mode = "bulk path" if bulk else "per file"
    return {
        "step": f"ingest, {workers} worker{'s' if workers > 1 else ''} ({mode})",
        "mode": mode,
        "workers": workers,
        "phases": phases,
        "files": len(files),
        "failed": len(report.failed),
        "forms": report.forms,
        "form_triples": report.triples,
        "quads": quads,
        "wall_s": wall,
        **usage,
    }


def _nquads() -> Any:
    import pyoxigraph as ox

    return ox.RdfFormat.N_QUADS


def step_load(nq: Path, store_dir: Path, method: str) -> dict[str, Any]:
    """pyoxigraph loading an N-Quads file, or (bulk_load) a folder of N-Quads shards read one after the
    other by one bulk_load, into a fresh store."""
    import pyoxigraph as ox

    from kg.store.oxigraph import bulk_load_nquads_files

    store = ox.Store(str(store_dir))
    start = time.perf_counter()
    if method == "bulk_load" and nq.is_dir():
        bulk_load_nquads_files(store, sorted(nq.glob("*.nq")))
    elif method == "bulk_load":
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    else:
        store.load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    store.flush()
    wall = time.perf_counter() - start
    usage = _usage()
    quads = len(store)
    del store
    gc.collect()
    return {"step": f"pyoxigraph {method} (baseline)", "quads": quads, "wall_s": wall, **usage}


def step_breakdown(corpus: Path, store_dir: Path) -> dict[str, Any]:
    """CPU seconds per stage of the serial ingest on a sample of files (process time, so other load on
    the machine does not inflate it): parse, map (rdflib terms), then either convert (pyoxigraph quads)
    and store (one transaction per file), or text (N-Quads: what workers of the bulk path make)."""
    from kg.forms import parse_source
    from kg.ingest import expand_paths, graphs_to_nquads
    from kg.rdf.mapping import form_graph_iri, form_triples
    from kg.store import OxigraphStore
    from kg.store.oxigraph import triples_to_quads

    clock = time.process_time
    stages = {"parse": 0.0, "map": 0.0, "convert": 0.0, "text": 0.0, "store": 0.0}
    forms = triples = 0
    with OxigraphStore(store_dir) as store:
        for path in expand_paths([corpus]):
            if forms >= SAMPLE_FORMS:
                break
            data = path.read_bytes()
            start = clock()
            parsed = parse_source(data, path.name)
            stages["parse"] += clock() - start
            start = clock()
            graphs = [(form_graph_iri(form), form_triples(form)) for form in parsed]
            stages["map"] += clock() - start
            start = clock()
            iris: dict[str, Any] = {}
            quads = [q for graph, made in graphs for q in triples_to_quads(graph, made, iris)]
            stages["convert"] += clock() - start
            start = clock()  # instead of convert, in a worker (`prepare_file`): the text it sends back
            graphs_to_nquads(graphs)
            stages["text"] += clock() - start
            start = clock()
            store.replace_file_quads(path.name, quads)
            stages["store"] += clock() - start
            forms += len(parsed)
            triples += len(quads)
    return {"step": "breakdown", "forms": forms, "form_triples": triples, **stages}


def run_step(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", required=True)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--nq", type=Path)
    parser.add_argument("--bulk", action="store_true")
    args = parser.parse_args(argv)
    if args.step == "ingest":
        result = step_ingest(args.corpus, args.store, args.workers, args.dump, args.bulk)
    elif args.step in ("bulk_load", "load"):
        result = step_load(args.nq, args.store, args.step)
    else:
        result = step_breakdown(args.corpus, args.store)
    sys.stdout.write(json.dumps(result) + "\n")


# ----------------------------------------------------------------------------- driver (parent side)


def _child(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--step", *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _best_of(repeat: int, args: list[str], store: Path) -> dict[str, Any]:
    """The quickest of `repeat` runs of a step, each into a fresh store (on a machine shared with other
    work the quickest run is the one least slowed down by it); the walls of all runs are kept."""
    runs = []
    for _ in range(repeat):
        runs.append(_child(args))
        shutil.rmtree(store, ignore_errors=True)
        if "--dump" in args:
            args = _without_dump(args)
    best = min(runs, key=lambda run: float(run["wall_s"]))
    best["walls_s"] = [run["wall_s"] for run in runs]
    return best


def _without_dump(args: list[str]) -> list[str]:
    """The arguments without `--dump FILE` (the dump is written once)."""
    at = args.index("--dump")
    return args[:at] + args[at + 2 :]


def corpus_for(forms: int, seed: int, corpus_dir: Path) -> tuple[Path, float | None]:
    """The cached corpus of that size and seed, generated when missing or made by another generator."""
    from kg.synth import EXPECTED_NAME, write_corpus
    from kg.synth.corpus import GENERATOR_VERSION

    folder = corpus_dir / f"forms-{forms}-seed-{seed}"
    expected = folder / EXPECTED_NAME
    if expected.is_file():
        generator = json.loads(expected.read_text(encoding="utf-8")).get("generator", {})
        if generator.get("version") == GENERATOR_VERSION and generator.get("forms") == forms:
            return folder, None
        shutil.rmtree(folder)
    start = time.perf_counter()
    write_corpus(folder, forms, seed)
    return folder, time.perf_counter() - start


def _parse_timed(path: Path) -> tuple[list[Any], float]:
    from kg.forms import parse_source

    start = time.process_time()
    forms = parse_source(path.read_bytes(), path.name)
    return forms, time.process_time() - start


def accuracy(folder: Path, workers: int = os.cpu_count() or 1) -> dict[str, Any]:
    from tests.gold import compare

    from kg.synth import EXPECTED_NAME

    expected = json.loads((folder / EXPECTED_NAME).read_text(encoding="utf-8"))
    forms = []
    parse_cpu = 0.0
    paths = [folder / entry["file"] for entry in expected["files"]]
    with ProcessPoolExecutor(workers) as pool:  # parse CPU is summed over the workers
        for parsed, cpu in pool.map(_parse_timed, paths, chunksize=16):
            forms.extend(parsed)
            parse_cpu += cpu
    score = compare(forms, expected["forms"])
    names = (
        "forms",
        "form.form_type",
        "form.year",
        "form.project_name",
        "indicator.l1",
        "indicator.l2",
        "indicator.l3",
        "indicator.target",
        "indicator.actual",
        "indicator.weight",
        "indicator.score",
        "indicator.deviation_reason",
        "funds",
        "form.total_weight",
        "form.total_score",
        "form.grade",
        "form.legal_basis_doc_numbers",
    )
    return {
        "forms": len(expected["forms"]),
        "parse_cpu_s": parse_cpu,
        "rows": score.gold_rows,
        "rows_found": score.found_rows,
        "rows_extra": score.extra_rows,
        "ratios": {name: score.ratio(name) for name in names},
        "misses": score.misses[:10],
    }


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import pyoxigraph

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": getattr(pyoxigraph, "__version__", "unknown"),
    }


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def bench_size(
    forms: int,
    seed: int,
    corpus_dir: Path,
    workers: list[int],
    bulk_workers: list[int],
    load_up_to: int,
    repeat: int = 1,
) -> dict[str, Any]:
    folder, generated = corpus_for(forms, seed, corpus_dir)
    result: dict[str, Any] = {
        "forms": forms,
        "corpus": str(folder.relative_to(REPO)) if folder.is_relative_to(REPO) else str(folder),
    }
    result["generated_s"] = generated
    result["accuracy"] = accuracy(folder)
    steps: list[dict[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-"))
    try:
        dump = scratch / "store.nq"
        runs = [(count, False) for count in workers] + [(count, True) for count in bulk_workers]
        for count, bulk in runs:
            store = scratch / f"store-{count}-{'bulk' if bulk else 'per-file'}"
            extra = ["--dump", str(dump)] if not dump.exists() else []
            command = ["ingest", "--corpus", str(folder), "--store", str(store), "--workers", str(count)]
            steps.append(_best_of(repeat, [*command, *extra, *(["--bulk"] if bulk else [])], store))
        if len({step["quads"] for step in steps}) != 1:
            sys.stderr.write(f"bench: the ingests wrote different numbers of quads: {steps}\n")
        for method in ("bulk_load", "load") if forms <= load_up_to else ("bulk_load",):
            store = scratch / f"store-{method}"
            steps.append(_best_of(repeat, [method, "--nq", str(dump), "--store", str(store)], store))
        result["dump_bytes"] = dump.stat().st_size
        result["breakdown"] = _child(
            ["breakdown", "--corpus", str(folder), "--store", str(scratch / "store-sample")]
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    baseline = next(s for s in steps if s["step"].startswith("pyoxigraph bulk_load"))
    for step in steps:
        step["forms_per_s"] = forms / step["wall_s"]
        step["quads_per_s"] = step["quads"] / step["wall_s"]
        step["x_bulk_load"] = step["wall_s"] / baseline["wall_s"]
    result["steps"] = steps
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| forms | step | wall s | forms/s | quads/s | CPU s (this process) | peak RSS MB (workers) "
        "| × bulk-load time |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for step in result["steps"]:
            workers = f" ({step['worker_peak_rss_mb']:.0f})" if step["worker_peak_rss_mb"] > 1 else ""
            own = step.get("parent_cpu_s", step["cpu_s"])
            cpu = f"{step['cpu_s']:.1f}" + (f" ({own:.1f})" if abs(own - step["cpu_s"]) > 0.5 else "")
            lines.append(
                f"| {result['forms']} | {step['step']} | {step['wall_s']:.1f} | {step['forms_per_s']:.1f} | "
                f"{step['quads_per_s']:,.0f} | {cpu} | {step['peak_rss_mb']:.0f}{workers} | "
                f"{step['x_bulk_load']:.2f} |"
            )
    return "\n".join(lines)


def accuracy_table(results: list[dict[str, Any]]) -> str:
    names = list(results[0]["accuracy"]["ratios"])
    lines = [
        "| field | " + " | ".join(str(r["forms"]) for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    rows = [
        ("indicator rows found", [f"{r['accuracy']['rows_found']}/{r['accuracy']['rows']}" for r in results])
    ]
    rows.append(("extra rows", [str(r["accuracy"]["rows_extra"]) for r in results]))
    for name in names:
        rows.append((name, [f"{100 * r['accuracy']['ratios'][name]:.2f} %" for r in results]))
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join(lines)


STAGES = ("parse", "map", "convert", "text", "store")


def _per_form(breakdown: dict[str, Any]) -> dict[str, float]:
    """CPU ms per form of each stage of the sample."""
    return {k: 1000 * breakdown.get(k, 0.0) / breakdown["forms"] for k in STAGES}


def breakdown_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| forms (sample) | parse ms/form | map ms/form | convert ms/form | text ms/form | store ms/form "
        "| total ms/form |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        b = result["breakdown"]
        per = _per_form(b)
        lines.append(
            f"| {b['forms']} | {per['parse']:.2f} | {per['map']:.2f} | {per['convert']:.2f} | "
            f"{per['text']:.2f} | {per['store']:.2f} | {sum(per.values()):.2f} |"
        )
    return "\n".join(lines)


def _bulk_steps(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in result["steps"] if s.get("mode") == "bulk path" and s.get("phases")]


def phases_table(results: list[dict[str, Any]]) -> str:
    """Where the bulk path's time goes: the workers (parse, map, text), this process's main thread
    (receive and spool; with one worker it parses and maps too), the bulk load's threads (from the first
    shard on, alongside the parsing), and how long the load goes on after the last file is parsed."""
    lines = [
        "| forms | step | until parsed s | load after that s | workers CPU ms/form | main thread CPU "
        "ms/form | bulk-load threads CPU ms/form | baseline bulk_load CPU ms/form |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        forms = result["forms"]
        baseline = _baseline(result)
        for step in _bulk_steps(result):
            split = _bulk_split(step, forms)
            lines.append(
                f"| {forms} | {step['step']} | {step['phases']['spooled_wall_s']:.1f} | "
                f"{step['phases']['load_wall_s']:.1f} | {split['workers']:.1f} | {split['main']:.1f} | "
                f"{split['load']:.1f} | {1000 * baseline['cpu_s'] / forms:.1f} |"
            )
    return "\n".join(lines)


def _bulk_split(step: dict[str, Any], forms: int) -> dict[str, float]:
    """CPU ms per form of a bulk-path ingest: workers, main thread, bulk-load threads (the rest of the
    parent process: it also holds the pool's result thread, which only unpickles bytes)."""
    ph = step["phases"]
    main = ph["main_thread_cpu_s"]
    parent = ph["spooled_parent_cpu_s"] + ph["load_parent_cpu_s"]
    return {
        "workers": 1000 * ph["spooled_worker_cpu_s"] / forms,
        "main": 1000 * main / forms,
        "load": 1000 * (parent - main) / forms,
    }


def _baseline(result: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in result["steps"] if s["step"].startswith("pyoxigraph bulk_load"))


def bounds(results: list[dict[str, Any]]) -> list[str]:
    """What the CPU breakdown says about the ceilings, per corpus size."""
    lines = []
    for result in results:
        per = _per_form(result["breakdown"])
        total = sum(per.values()) - per["text"]  # the per-file path does not make the text
        serial = next(s for s in result["steps"] if s.get("mode") == "per file" and s.get("workers") == 1)
        quads_per_form = serial["quads"] / serial["forms"]
        baseline = _baseline(result)
        load_ms = 1000 * baseline["cpu_s"] / result["forms"]
        lines.append(
            f"- {result['forms']} forms, one transaction per file: {total:.1f} ms CPU per form, i.e. at most "
            f"{1000 / total:.0f} forms/s per core. The store's transactional writes take "
            f"{per['store']:.1f} ms "
            f"({100 * per['store'] / total:.0f} %): {quads_per_form:.0f} quads per form (form graph, its "
            f"triples in the default graph, catalog), {1000 * per['store'] / quads_per_form:.1f} µs each, "
            f"against {1e6 * baseline['cpu_s'] / baseline['quads']:.1f} µs of CPU per quad for bulk_load. "
            f"Parsing alone ({per['parse']:.1f} ms) caps a core at {1000 / per['parse']:.0f} forms/s; "
            f"mapping and conversion to pyoxigraph terms add {per['map'] + per['convert']:.1f} ms. In a "
            f"parallel ingest the writing process is the bottleneck: it needs about {per['store']:.0f} ms "
            f"per form, so more workers help only while it has a core of its own."
        )
        for step in _bulk_steps(result):
            split = _bulk_split(step, result["forms"])
            cpu_ms = sum(split.values())
            who = (
                "The workers parse, map and write"
                if step["workers"] > 1
                else "The main thread parses, maps and writes"
            )
            lines.append(
                f"- {result['forms']} forms, {step['step']}: {step['forms_per_s']:.1f} forms/s, "
                f"{step['x_bulk_load']:.2f}× the bulk-load time. {who} the "
                f"N-Quads text ({split['workers'] or split['main']:.1f} ms CPU per form)"
                + (
                    f"; the main thread receives and spools it ({split['main']:.1f} ms per form)"
                    if step["workers"] > 1
                    else ""
                )
                + f"; the one bulk_load runs alongside from the first shard on ({split['load']:.1f} ms CPU "
                f"per form in its threads, against {load_ms:.1f} ms for the baseline) and ends "
                f"{step['phases']['load_wall_s']:.1f} s after the last file is parsed. In all "
                f"{cpu_ms:.1f} ms CPU per form, i.e. at most {1000 / cpu_ms:.0f} forms/s per core: the load "
                f"is "
                f"{100 * split['load'] / cpu_ms:.0f} % of it, parsing + mapping + text "
                f"{100 * (cpu_ms - split['load']) / cpu_ms:.0f} %."
            )
        lines.append(
            f"- {result['forms']} forms, the ≥300 forms/s per core asked for: that is ≤3.3 ms CPU per form, "
            f"{3.3e3 / quads_per_form:.1f} µs per quad at {quads_per_form:.0f} quads per form, while "
            f"pyoxigraph's bulk_load alone takes {1e6 * baseline['cpu_s'] / baseline['quads']:.1f} µs of CPU "
            f"per quad ({load_ms:.1f} ms per form: {1000 / load_ms:.0f} forms/s per core with nothing else "
            f"to do) and parsing alone {per['parse']:.1f} ms per form ({1000 / per['parse']:.0f} forms/s)."
        )
    return lines


def _repeats(results: list[dict[str, Any]]) -> list[str]:
    """With --repeat: a line saying so, with the walls of every run of every step."""
    walls = [(r["forms"], s["step"], s.get("walls_s", [])) for r in results for s in r["steps"]]
    if all(len(runs) < 2 for _, _, runs in walls):
        return []
    listed = "; ".join(
        f"{forms} {step}: {', '.join(f'{w:.1f}' for w in runs)}" for forms, step, runs in walls
    )
    return [f"Each step ran {len(walls[0][2])} times, the quickest run is shown (walls in s: {listed}).", ""]


def report(
    results: list[dict[str, Any]], info: dict[str, str], loads: tuple[str, str], argv: list[str]
) -> str:
    now = datetime.now(timezone.utc)
    misses = [m for r in results for m in r["accuracy"]["misses"][:5]]
    return "\n".join(
        [
            f"# Ingest benchmark, {now:%Y-%m-%d %H:%M} UTC",
            "",
            f"Command: `.venv/bin/python bench/ingest.py {' '.join(argv)}`",
            "",
            "## Machine",
            "",
            *(f"- {key}: {value}" for key, value in info.items()),
            f"- load average before / after: {loads[0]} / {loads[1]} (other processes share the machine)",
            "",
            "## Throughput",
            "",
            "Fresh on-disk stores. *quads* = everything written: the form graphs, their merge in the "
            "default graph (kept by the store) and the catalog; the baselines load exactly those quads from "
            "an N-Quads dump of the ingested store. Ingest = `kg.ingest.ingest_paths`: *per file* = read, "
            "parse, map, one transaction per file (`bulk=False`); *bulk path* = the default for files new "
            "to the store: parsed and mapped (in the workers), spooled as N-Quads shards, then one "
            "`bulk_load` into a copy of the store swapped in on success. `kg ingest` then also recomputes "
            "lineages (not measured).",
            "",
            table(results),
            "",
            *_repeats(results),
            "## Bulk path: where its time goes",
            "",
            "*until parsed* = until the last file is parsed and spooled; the one bulk_load runs alongside "
            "from the first shard on, in threads of this process, and *load after that* is how long it "
            "goes on. CPU per form: the worker processes', this process's main thread (receiving and "
            "spooling; with 1 worker also parsing and mapping), the bulk load's threads (the rest of this "
            "process), and the baseline bulk_load's for the same quads.",
            "",
            phases_table(results),
            "",
            "## Where the time goes (serial ingest, CPU time per form on a sample)",
            "",
            "*convert* = rdflib terms to pyoxigraph quads and *store* = one transaction per file: the serial "
            "per-file path; *text* = what a worker of the parallel and bulk paths does instead of both: the "
            "N-Quads text of the quads and their distinct triples (`kg.ingest.graphs_to_nquads`).",
            "",
            breakdown_table(results),
            "",
            "## What bounds it",
            "",
            *bounds(results),
            "",
            "## Extraction accuracy vs expected.json",
            "",
            accuracy_table(results),
            "",
            *(["First misses:", "", *(f"- {m}" for m in misses), ""] if misses else []),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--step"]:
        run_step(argv)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--forms", type=int, nargs="+", default=[1000], help="corpus sizes (default: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker counts, per-file path (default: 1 2)"
    )
    parser.add_argument(
        "--bulk-workers",
        type=int,
        nargs="*",
        default=[1, 2],
        help="worker counts, bulk path (default: 1 2)",
    )
    parser.add_argument(
        "--load-up-to",
        type=int,
        default=2000,
        metavar="N",
        help="run the transactional Store.load baseline only for corpora of at most N forms (default: 2000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each measured step N times and keep the quickest (a machine shared with other work)",
    )
    parser.add_argument("--corpus-dir", type=Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument(
        "--label", help="results go to ingest-<date>-LABEL.md/.json (keeps an earlier run of the day)"
    )
    args = parser.parse_args(argv)
    info = machine()
    before = _load()
    results = []
    for forms in args.forms:
        sys.stderr.write(f"bench: {forms} forms …\n")
        results.append(
            bench_size(
                forms,
                args.seed,
                args.corpus_dir,
                args.workers,
                args.bulk_workers,
                args.load_up_to,
                args.repeat,
            )
        )
        sys.stderr.write(table(results[-1:]) + "\n")
    text = report(results, info, (before, _load()), argv)
    sys.stdout.write(
        table(results)
        + "\n\n"
        + phases_table(results)
        + "\n\n"
        + breakdown_table(results)
        + "\n\n"
        + accuracy_table(results)
        + "\n"
    )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ingest-{datetime.now(timezone.utc):%Y-%m-%d}" + (f"-{args.label}" if args.label else "")
    out = args.results_dir / f"{stem}.md"
    out.write_text(text + "\n", encoding="utf-8")
    (args.results_dir / f"{stem}.json").write_text(
        json.dumps({"machine": info, "results": results}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
