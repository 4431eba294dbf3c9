"""HTTP vs direct-store latency of every named query, measured in the same run.

    .venv/bin/python bench/http_latency.py                 # data/ into a scratch store, 40 rounds
    .venv/bin/python bench/http_latency.py --rounds 100 --store var/store

For each named query of queries/ (parameters unbound: all rows), in rounds that alternate the two:

* **direct**: `OxigraphStore.query()` on the store opened in this process, then the results serialised
  with pyoxigraph's own SPARQL JSON writer: what a Python program using the store would do;
* **HTTP**: `GET /queries/<name>` with `Accept: application/sparql-results+json` to a real `kg serve`
  (uvicorn, worker processes, the same store copied) over one keep-alive connection, until the last byte.

Prints a table (p50 / p95 in milliseconds, and HTTP p50 ÷ direct p50) and writes it with the machine's
particulars to bench/results/http-latency-<date>.md. The store is copied for the server, which holds its
store's lock; the direct side opens a checkpoint of the copy read-only, as the workers do.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pyoxigraph as ox

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kg.rdf.named_queries import load_named_queries  # noqa: E402
from kg.store.oxigraph import OxigraphStore  # noqa: E402

KG = [str(Path(sys.executable).parent / "kg")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, log: Path, attempts: int) -> None:
    """Poll `url`/healthz every 0.1 s, `attempts` times at most; SystemExit with the server's log if it never
    answers 200."""
    for _ in range(attempts):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("kg serve did not start:\n" + log.read_text())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store", type=Path, help="a loaded store to copy (default: load data/ into a scratch one)"
    )
    parser.add_argument("--rounds", type=int, default=40, help="measurements per query and side (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="kg serve --workers (default 4)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results", help="folder for the .md")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}

    with tempfile.TemporaryDirectory(prefix="kg-bench-") as scratch:
        work = Path(scratch)
        if args.store is None:
            source = work / "seed"
            subprocess.run(
                [*KG, "--store", str(source), "ingest", "data/"],
                cwd=REPO,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            source = args.store
        served = work / "served"
        shutil.copytree(source, served)
        with OxigraphStore(source, create=False) as original:
            original.checkpoint(work / "direct")
        direct = OxigraphStore(work / "direct", read_only=True)

        port = free_port()
        log = (work / "serve.log").open("wb")
        server = subprocess.Popen(
            [*KG, "serve", "--store", str(served), "--port", str(port), "--workers", str(args.workers)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, work / "serve.log", 300)
            queries = load_named_queries()
            results = measure(queries, direct, url, args.rounds, args.warmup)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
            direct.close()

    table = render(results)
    header = (
        "# HTTP vs direct-store latency per named query "
        f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n\n"
        f"Command: `.venv/bin/python bench/http_latency.py --rounds {args.rounds}`"
        f"{' --store ' + str(args.store) if args.store else ''}. Store: "
        f"{'data/ (31 seed forms)' if args.store is None else args.store}. {args.rounds} rounds after "
        f"{args.warmup} warm-up rounds, the two sides alternating. Machine: {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, pyoxigraph {ox.__version__}, "
        f"kg serve --workers {args.workers}.\n\n"
        "direct = `OxigraphStore.query()` + pyoxigraph's SPARQL JSON serialiser in this process; HTTP = "
        "`GET /queries/<name>` (SPARQL JSON) to `kg serve` on 127.0.0.1 over a keep-alive connection. "
        "Times in ms.\n\n"
    )
    print(header + table)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"http-latency-{datetime.now(timezone.utc):%Y-%m-%d}.md"
    path.write_text(header + table, encoding="utf-8")
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


def measure(queries: dict, direct: OxigraphStore, url: str, rounds: int, warmup: int) -> dict[str, dict]:
    samples: dict[str, dict[str, list[float]]] = {name: {"direct": [], "http": []} for name in queries}
    rows: dict[str, int] = {}
    with httpx.Client(
        base_url=url, timeout=120, headers={"Accept": "application/sparql-results+json"}
    ) as client:
        for round_number in range(warmup + rounds):
            for name, query in queries.items():
                started = time.perf_counter()
                result = direct.query(query.text)
                body = (
                    result.serialize(format=ox.QueryResultsFormat.JSON)
                    if hasattr(result, "serialize")
                    else b""
                )
                direct_time = time.perf_counter() - started

                started = time.perf_counter()
                response = client.get(f"/queries/{name}")
                response.read()
                http_time = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code}: {response.text[:300]}")
                if round_number >= warmup:
                    samples[name]["direct"].append(direct_time * 1000)
                    samples[name]["http"].append(http_time * 1000)
                if round_number == warmup + rounds - 1:
                    rows[name] = len(response.json()["results"]["bindings"])
                del body
    return {name: {**s, "rows": rows[name]} for name, s in samples.items()}


def render(results: dict[str, dict]) -> str:
    lines = [
        "| named query | rows | direct p50 | direct p95 | HTTP p50 | HTTP p95 | HTTP/direct p50 "
        "| overhead p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    for name, r in results.items():
        d50, d95 = statistics.median(r["direct"]), percentile(r["direct"], 0.95)
        h50, h95 = statistics.median(r["http"]), percentile(r["http"], 0.95)
        ratios.append(h50 / d50)
        lines.append(
            f"| {name} | {r['rows']} | {d50:.1f} | {d95:.1f} | {h50:.1f} | {h95:.1f} | {h50 / d50:.2f}× | "
            f"{h50 - d50:+.1f} |"
        )
    lines.append(f"\nMedian HTTP/direct ratio over the queries: {statistics.median(ratios):.2f}×\n")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
