"""Scale-out benchmark: ingest speed-up with worker processes and Dask, Virtuoso's bulk-load rate, and the
memory and disk one form takes, extrapolated to what one machine holds.

For each corpus size (a synthetic corpus under bench/corpus/, `kg bench-corpus`, shared with
bench/ingest.py):

* **Oxigraph**: `kg.ingest.ingest_paths` into a fresh on-disk store with 1 worker, `--workers 2` (local
  process pool) and `--dask` (a `dask.distributed.LocalCluster` of 2 worker processes on this machine,
  started once, its start-up time reported apart);
* **Virtuoso** (Debian's virtuoso-opensource, a fresh server per step from scripts/virtuoso in a scratch
  folder, 127.0.0.1 only): the same three ways of parsing, every file written as an N-Quads shard and
  loaded once by Virtuoso's bulk loader (`rdf_loader_run()`); the bulk-load rate is quads / loader time;
  then a re-ingest of every file, which replaces each file in one transaction (`KG_REPLACE_SOURCE`);
* **memory per form**: the Virtuoso server's resident memory (VmRSS) empty, after the load, and after every
  named query ran once (warm), its database size after a checkpoint; the Oxigraph store's size on disk.
  Divided by the number of forms and extrapolated to a 24 GiB machine.

Each ingest runs in its own process (its CPU and peak RSS are its own; Dask and pool workers are counted
apart). The `kg ingest` command also recomputes lineages after loading; that is not measured here.
Prints a table and writes bench/results/remote-<UTC date>.md (and .json).

    .venv/bin/python bench/remote.py --forms 300 1000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import ingest as ingest_bench  # noqa: E402  (bench/ingest.py: corpus cache and machine description)

DEFAULT_RESULTS_DIR = BENCH / "results"
MACHINE_GIB = 24
HEADROOM_GIB = 2  # the OS, `kg serve` and the page cache of everything else


# ----------------------------------------------------------------------------- measured steps (child side)


def _usage() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "peak_rss_mb": own.ru_maxrss / 1024,
    }


def step_ingest(corpus: Path, store: str, workers: int, dask: str | None) -> dict[str, Any]:
    from kg.ingest import expand_paths, ingest_paths
    from kg.store import open_store

    files = expand_paths([corpus])
    with open_store(store, create=True) as opened:
        start = time.perf_counter()
        report = ingest_paths(files, opened, workers=workers, dask=dask)
        wall = time.perf_counter() - start
        bulk = getattr(opened, "last_bulk", None)
        quads = opened.count_triples() + opened.count_default_graph()
    return {
        "files": len(files),
        "failed": len(report.failed),
        "forms": report.forms,
        "form_triples": report.triples,
        "quads": quads,
        "wall_s": wall,
        "bulk_load_s": bulk.seconds if bulk is not None else None,
        **_usage(),
    }


def step_queries(store: str) -> dict[str, Any]:
    """Every named query once (warms the server's buffers); seconds per query."""
    from kg.rdf.named_queries import load_named_queries
    from kg.store import open_store

    times: dict[str, float] = {}
    with open_store(store) as opened:
        for name, query in load_named_queries().items():
            start = time.perf_counter()
            rows = sum(1 for _ in opened.query(query.text))  # type: ignore[union-attr]
            times[name] = time.perf_counter() - start
            times[name + " rows"] = rows
    return {"queries": times}


def run_step(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", required=True)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--store", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--dask")
    args = parser.parse_args(argv)
    if args.step == "ingest":
        result = step_ingest(args.corpus, args.store, args.workers, args.dask)
    else:
        result = step_queries(args.store)
    sys.stdout.write(json.dumps(result) + "\n")


# ----------------------------------------------------------------------------- driver (parent side)


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--step", *args]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class VirtuosoServer:
    """A fresh Virtuoso from scripts/virtuoso in a scratch folder; stopped by `stop()`."""

    def __init__(self, folder: Path, buffers: int) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        from tests.remote_services import free_port

        self.folder = folder
        self.isql_port, self.http_port = free_port(), free_port()
        self.buffers = buffers
        self.options = [
            "--dir", str(folder), "--isql-port", str(self.isql_port), "--http-port", str(self.http_port),
            "--buffers", str(buffers), "--max-rows", "100000", "--query-seconds", "600",
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(
            [str(REPO / "scripts" / "virtuoso"), "start", *self.options], check=True, capture_output=True
        )
        self.start_s = time.perf_counter() - started
        self.checkpoint()
        self.empty_rss_mb = self.rss_mb()
        self.empty_db_mb = self.db_mb()

    @property
    def spec(self) -> str:
        return f"virtuoso://127.0.0.1:{self.isql_port}?http={self.http_port}"

    def env(self) -> dict[str, str]:
        return {
            "KG_REMOTE_USER": "dba",
            "KG_REMOTE_PASSWORD_FILE": str(self.folder / "dba-password"),
            "KG_VIRTUOSO_LOAD_DIR": str(self.folder / "load"),
        }

    def pid(self) -> int:
        text = (self.folder / "db" / "virtuoso.lck").read_text()
        return int(text.split("=", 1)[1].split()[0])

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def checkpoint(self) -> None:
        password = (self.folder / "dba-password").read_text().strip()
        subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.isql_port}", "dba", password, "exec=checkpoint;"],
            check=True,
            capture_output=True,
        )

    def status(self) -> dict[str, float]:
        """Database pages in use and buffers in use (Virtuoso's `status()`), in MiB of 8 KiB pages."""
        import re

        password = (self.folder / "dba-password").read_text().strip()
        text = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.isql_port}", "dba", password, "exec=status('');"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages = re.search(r"(\d+) pages, (\d+) free", text)
        buffers = re.search(r"(\d+) buffers, (\d+) used", text)
        assert pages is not None and buffers is not None, text
        used = int(pages.group(1)) - int(pages.group(2))
        return {"db_used_mb": used * 8 / 1024, "buffers_used_mb": int(buffers.group(2)) * 8 / 1024}

    def db_mb(self) -> float:
        return self.status()["db_used_mb"]

    def stop(self) -> None:
        subprocess.run(
            [str(REPO / "scripts" / "virtuoso"), "stop", *self.options], check=False, capture_output=True
        )


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20


def bench_size(forms: int, seed: int, corpus_dir: Path, dask: str, buffers: int) -> dict[str, Any]:
    folder, _ = ingest_bench.corpus_for(forms, seed, corpus_dir)
    result: dict[str, Any] = {"forms": forms, "steps": []}
    scratch = Path(tempfile.mkdtemp(prefix="kg-bench-remote-"))
    ways = [
        ("1 worker", ["--workers", "1"]),
        ("2 workers (pool)", ["--workers", "2"]),
        ("Dask, 2 workers", ["--dask", dask]),
    ]
    try:
        for label, extra in ways:
            store = scratch / f"oxigraph-{len(result['steps'])}"
            step = _child(["ingest", "--corpus", str(folder), "--store", str(store), *extra])
            step.update(store="Oxigraph", way=label, disk_mb=_dir_mb(store))
            result["steps"].append(step)
            shutil.rmtree(store, ignore_errors=True)
        for number, (label, extra) in enumerate(ways):
            server = VirtuosoServer(scratch / f"virtuoso-{number}", buffers)
            try:
                step = _child(
                    ["ingest", "--corpus", str(folder), "--store", server.spec, *extra], server.env()
                )
                step.update(store="Virtuoso", way=label + ", bulk load", start_s=server.start_s)
                result["steps"].append(step)
                if number == len(ways) - 1:  # the last server: replacement, memory, disk
                    again = _child(
                        ["ingest", "--corpus", str(folder), "--store", server.spec, *extra], server.env()
                    )
                    again.update(
                        store="Virtuoso", way=label + ", re-ingest (replace, 1 transaction per file)"
                    )
                    result["steps"].append(again)
                    server.checkpoint()
                    loaded_rss = server.rss_mb()
                    loaded_buffers = server.status()["buffers_used_mb"]
                    queries = _child(["queries", "--store", server.spec], server.env())["queries"]
                    result["memory"] = {
                        "forms": step["forms"],
                        "quads": step["quads"],
                        "virtuoso_empty_rss_mb": server.empty_rss_mb,
                        "virtuoso_loaded_rss_mb": loaded_rss,
                        "virtuoso_warm_rss_mb": server.rss_mb(),
                        "virtuoso_buffers_loaded_mb": loaded_buffers,
                        "virtuoso_buffers_warm_mb": server.status()["buffers_used_mb"],
                        "virtuoso_db_mb": server.db_mb(),
                        "virtuoso_empty_db_mb": server.empty_db_mb,
                        "buffers_mb": buffers * 8 / 1024,
                        "oxigraph_disk_mb": result["steps"][0]["disk_mb"],
                        "oxigraph_ingest_peak_rss_mb": result["steps"][0]["peak_rss_mb"],
                    }
                    result["queries"] = queries
            finally:
                server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    serial = {s["store"]: s["wall_s"] for s in result["steps"] if s["way"].startswith("1 worker")}
    for step in result["steps"]:
        step["forms_per_s"] = forms / step["wall_s"]
        step["speedup"] = serial[step["store"]] / step["wall_s"]
        if step.get("bulk_load_s"):
            step["bulk_quads_per_s"] = step["quads"] / step["bulk_load_s"]
    return result


def per_form(memory: dict[str, Any]) -> dict[str, float]:
    forms = memory["forms"]
    return {
        "virtuoso_rss_kib": 1024 * (memory["virtuoso_warm_rss_mb"] - memory["virtuoso_empty_rss_mb"]) / forms,
        "virtuoso_db_kib": 1024 * (memory["virtuoso_db_mb"] - memory["virtuoso_empty_db_mb"]) / forms,
        "oxigraph_disk_kib": 1024 * memory["oxigraph_disk_mb"] / forms,
        "quads": memory["quads"] / forms,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| forms | store | parse and map | wall s | forms/s | speed-up | bulk load s | bulk quads/s | CPU s "
        "| peak RSS MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for s in result["steps"]:
            bulk = f"{s['bulk_load_s']:.1f}" if s.get("bulk_load_s") else ""
            rate = f"{s['bulk_quads_per_s']:,.0f}" if s.get("bulk_quads_per_s") else ""
            lines.append(
                f"| {result['forms']} | {s['store']} | {s['way']} | {s['wall_s']:.1f} | "
                f"{s['forms_per_s']:.1f} | {s['speedup']:.2f} | {bulk} | {rate} | {s['cpu_s']:.1f} | "
                f"{s['peak_rss_mb']:.0f} |"
            )
    return "\n".join(lines)


def memory_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| forms | quads | Virtuoso RSS empty / loaded / warm MB | Virtuoso db MB (empty) | buffers used MB "
        "| Oxigraph store MB | per form: Virtuoso RSS KiB | Virtuoso db KiB | Oxigraph disk KiB | quads |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        m = result["memory"]
        p = per_form(m)
        lines.append(
            f"| {m['forms']} | {m['quads']:,} | {m['virtuoso_empty_rss_mb']:.0f} / "
            f"{m['virtuoso_loaded_rss_mb']:.0f} / {m['virtuoso_warm_rss_mb']:.0f} | "
            f"{m['virtuoso_db_mb']:.0f} ({m['virtuoso_empty_db_mb']:.0f}) | "
            f"{m['virtuoso_buffers_warm_mb']:.0f} | {m['oxigraph_disk_mb']:.0f} | "
            f"{p['virtuoso_rss_kib']:.0f} | {p['virtuoso_db_kib']:.0f} | {p['oxigraph_disk_kib']:.0f} | "
            f"{p['quads']:.0f} |"
        )
    return "\n".join(lines)


def extrapolation(results: list[dict[str, Any]]) -> str:
    largest = max(results, key=lambda r: r["forms"])
    p = per_form(largest["memory"])
    budget_kib = (MACHINE_GIB - HEADROOM_GIB) * 2**20
    in_memory = budget_kib / max(p["virtuoso_db_kib"], p["virtuoso_rss_kib"])
    return (
        f"From the {largest['forms']}-form corpus: a form takes {p['quads']:.0f} quads, "
        f"{p['virtuoso_db_kib']:.0f} KiB of Virtuoso database and {p['virtuoso_rss_kib']:.0f} KiB of its "
        f"resident memory once queried, {p['oxigraph_disk_kib']:.0f} KiB of Oxigraph store. On a "
        f"{MACHINE_GIB} GiB machine, leaving {HEADROOM_GIB} GiB to the system and `kg serve`, Virtuoso keeps "
        f"about {in_memory:,.0f} forms entirely in its buffers (NumberOfBuffers ≈ "
        f"{(MACHINE_GIB - HEADROOM_GIB) * 2**30 // 8192:,} pages of 8 KiB); beyond that it reads from disk."
    )


def report(
    results: list[dict[str, Any]], info: dict[str, str], loads: tuple[str, str], dask_start: float
) -> str:
    now = datetime.now(timezone.utc)
    queries = results[-1].get("queries", {})
    query_lines = [
        f"| {name} | {queries[name + ' rows']} | {1000 * queries[name]:.0f} |"
        for name in queries
        if not name.endswith(" rows")
    ]
    return "\n".join(
        [
            f"# Scale-out benchmark (workers, Dask, Virtuoso), {now:%Y-%m-%d %H:%M} UTC",
            "",
            "Command: `.venv/bin/python bench/remote.py --forms "
            f"{' '.join(str(r['forms']) for r in results)}`",
            "",
            "## Machine",
            "",
            *(f"- {key}: {value}" for key, value in info.items()),
            f"- load average before / after: {loads[0]} / {loads[1]} (other processes share the machine)",
            f"- Dask: LocalCluster, 2 worker processes × 1 thread, started in {dask_start:.1f} s "
            "(not in the times)",
            "",
            "## Ingest",
            "",
            "*wall s*: `kg.ingest.ingest_paths` of the whole corpus into a fresh store (Virtuoso: a fresh "
            "server), parsing and mapping as given, then writing: Oxigraph one transaction per file; "
            "Virtuoso every new file as an N-Quads shard, all loaded at the end by one `rdf_loader_run()` "
            "(*bulk load s*, included in wall s; *bulk quads/s* = quads written, form graphs + merge graph "
            "+ catalog, per second of loader). *speed-up* against 1 worker on the same store. The re-ingest "
            "replaces every file in its own transaction.",
            "",
            table(results),
            "",
            "## Memory and disk per form",
            "",
            "Virtuoso: resident memory of the server process empty, after the load (after a checkpoint) and "
            "after every named query ran once; database pages in use (`status()`; the empty database in "
            "brackets, subtracted for the per-form figure); buffers in use after the queries (the cache the "
            "data needs to be served from memory). Oxigraph: the store directory.",
            "",
            memory_table(results),
            "",
            extrapolation(results),
            "",
            f"## Named queries on Virtuoso ({results[-1]['forms']} forms, first run, HTTP included)",
            "",
            "| query | rows | ms |",
            "|---|---:|---:|",
            *query_lines,
            "",
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
    parser.add_argument("--forms", type=int, nargs="+", default=[300], help="corpus sizes (default: 300)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    parser.add_argument(
        "--buffers", type=int, default=100_000, help="Virtuoso NumberOfBuffers (default: 100000)"
    )
    parser.add_argument("--corpus-dir", type=Path, default=ingest_bench.DEFAULT_CORPUS_DIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    args = parser.parse_args(argv)
    if shutil.which("virtuoso-t") is None:
        sys.stderr.write("virtuoso-t not found: install virtuoso-opensource (scripts/setup --test)\n")
        return 1
    from dask.distributed import LocalCluster

    info = ingest_bench.machine()
    info["virtuoso"] = subprocess.run(["virtuoso-t", "+?"], capture_output=True, text=True).stderr.split(
        "\n"
    )[1]
    before = ingest_bench._load()
    started = time.perf_counter()
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask_start = time.perf_counter() - started
        results = []
        for forms in args.forms:
            sys.stderr.write(f"bench/remote.py: {forms} forms …\n")
            results.append(
                bench_size(forms, args.seed, args.corpus_dir, cluster.scheduler_address, args.buffers)
            )
    after = ingest_bench._load()
    text = report(results, info, (before, after), dask_start)
    sys.stdout.write(text + "\n")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    (args.results_dir / f"remote-{stamp}.md").write_text(text + "\n", encoding="utf-8")
    (args.results_dir / f"remote-{stamp}.json").write_text(
        json.dumps({"machine": info, "results": results}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    sys.stderr.write(f"wrote {args.results_dir / f'remote-{stamp}.md'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
