"""Services the remote-store tests start for themselves: a Virtuoso server (scripts/virtuoso, own folder,
free 127.0.0.1 ports) and a Dask LocalCluster. The fixtures are in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "virtuoso"
MAX_ROWS = 1000  # the test server's ResultSetMaxRows: low, so that paging is exercised


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def virtuoso_missing() -> str | None:
    """Why Virtuoso cannot run here, or None."""
    missing = [name for name in ("virtuoso-t", "isql-vt") if shutil.which(name) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not found: install the Debian package virtuoso-opensource "
            "(scripts/setup --test does, as root with apt-get)"
        )
    return None


@dataclass
class Virtuoso:
    folder: Path
    isql_port: int
    http_port: int

    @property
    def spec(self) -> str:
        return f"virtuoso://127.0.0.1:{self.isql_port}?http={self.http_port}"

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def load_dir(self) -> Path:
        return self.folder / "load"

    @property
    def password(self) -> str:
        return (self.folder / "dba-password").read_text(encoding="utf-8").strip()

    def env(self) -> dict[str, str]:
        """What `kg` needs to use this server (no password in the environment: the file holds it)."""
        return {
            "KG_REMOTE_USER": "dba",
            "KG_REMOTE_PASSWORD_FILE": str(self.folder / "dba-password"),
            "KG_VIRTUOSO_LOAD_DIR": str(self.load_dir),
        }

    def options(self) -> list[str]:
        return [
            "--dir", str(self.folder), "--isql-port", str(self.isql_port), "--http-port", str(self.http_port),
            "--max-rows", str(MAX_ROWS), "--buffers", "20000", "--query-seconds", "60",
        ]  # fmt: skip

    def script(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), command, *self.options()], capture_output=True, text=True, timeout=120, check=False
        )

    def watchdog(self) -> subprocess.Popen[bytes]:
        """A process that stops the server once this test process is gone, however it ended (a crash
        skips the fixture's teardown)."""
        loop = 'while kill -0 "$0" 2>/dev/null; do sleep 2; done; exec "$@"'
        return subprocess.Popen(
            ["sh", "-c", loop, str(os.getpid()), str(SCRIPT), "stop", *self.options()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@contextmanager
def running_virtuoso(folder: Path) -> Iterator[Virtuoso]:
    """A Virtuoso server in `folder` on free loopback ports, stopped (and its processes gone) at the end."""
    server = Virtuoso(folder, free_port(), free_port())
    started = time.perf_counter()
    result = server.script("start")
    if result.returncode != 0:
        log = folder / "db" / "virtuoso.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"scripts/virtuoso start failed:\n{result.stdout}{result.stderr}\n{tail}")
    sys.stderr.write(f"\n[virtuoso started in {time.perf_counter() - started:.1f} s on {server.spec}]\n")
    watchdog = server.watchdog()
    try:
        yield server
    finally:
        server.script("stop")
        watchdog.kill()
        watchdog.wait()


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[str]:
    """A Dask LocalCluster of `workers` worker processes on 127.0.0.1; yields the scheduler address."""
    from dask.distributed import LocalCluster

    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "False")
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        yield cluster.scheduler_address
