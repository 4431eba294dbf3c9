"""Start the real service (`kg serve`, uvicorn) on a free loopback port for a test, and stop it again.

The server's output goes to a log file in the test's temporary folder (a pipe nobody reads would block
it); `LiveServer.log()` returns it for assertion messages.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parents[1]
KG_BIN = Path(sys.executable).parent / "kg"
TOKEN = "test-update-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a store (a running service holds its store's lock)."""
    shutil.copytree(source, target)
    return target


class LiveServer:
    def __init__(
        self,
        store: Path,
        workdir: Path,
        *,
        token: str | None = None,
        timeout: float | None = None,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        self.command = [*kg_command(), "serve", "--store", str(store), "--port", str(self.port), *args]
        if timeout is not None:
            self.command += ["--timeout", str(timeout)]
        if workers is not None:
            self.command += ["--workers", str(workers)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | (env or {})
        if token is not None:
            self.env["KG_UPDATE_TOKEN"] = token
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 90.0) -> LiveServer:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kg serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"kg serve did not answer within {wait} s:\n{self.log()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


_SEEDED: dict[str, Path] = {}


def kg_command() -> list[str]:
    return (
        [str(KG_BIN)]
        if KG_BIN.exists()
        else [sys.executable, "-c", "import sys; from kg.cli import main; sys.exit(main())"]
    )


def seeded_store(root: Path) -> Path:
    """A store holding data/ (validated too when `kg ingest --validate` exists), made once per session;
    copy it (`copy_store`) before serving it."""
    key = str(root)
    if key not in _SEEDED:
        store = root / "seeded-store"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        usage = subprocess.run([*kg_command(), "ingest", "--help"], capture_output=True, text=True, env=env)
        validate = ["--validate"] if "--validate" in usage.stdout else []
        result = subprocess.run(
            [*kg_command(), "--store", str(store), "ingest", *validate, "data/"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        _SEEDED[key] = store
    return _SEEDED[key]
