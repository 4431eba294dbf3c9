"""The service's settings: from the command line (`kg serve --…`), else the environment, else defaults.

==================  ====================  ==========================================================
setting             environment           default
==================  ====================  ==========================================================
store               KG_STORE              ./var/store (as for every `kg` command; or a remote store,
                                          virtuoso://… or http(s)://…, see kg.store.remote)
host / port         KG_HOST / KG_PORT     127.0.0.1 / 8000
query_timeout       KG_QUERY_TIMEOUT      30 s; a query or update running longer is stopped (503)
max_rows            KG_MAX_ROWS           100000 solutions or triples per answer; more are cut off
max_request_bytes   KG_MAX_REQUEST_BYTES  1048576 (request body: 413; query string of a GET: 414)
workers             KG_WORKERS            4 query worker processes
update_token        KG_UPDATE_TOKEN       unset: /update refuses every request (403)
cors_origins        KG_CORS_ORIGINS       unset: no CORS headers; comma-separated origins, or *
source_dirs         KG_SOURCE_DIRS        data (folders holding the source files, os.pathsep-separated)
web_dir             KG_WEB_DIR            web/ of the checkout (YASGUI from npm in web/node_modules)
queries_dir         KG_QUERIES_DIR        queries/ of the checkout (see kg.rdf.named_queries)
==================  ====================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kg.store import store_spec

REPO_ROOT = Path(__file__).resolve().parents[3]


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    store: Path | str = Path("var/store")  # a directory, or a remote store's address
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 30.0
    max_rows: int = 100_000
    max_request_bytes: int = 1 << 20
    workers: int = 4
    update_token: str | None = field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ()
    source_dirs: tuple[Path, ...] = (Path("data"),)
    web_dir: Path = REPO_ROOT / "web"
    queries_dir: Path | None = None
    announce: bool = True  # print the URLs once the service is ready

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port {self.port} is not between 0 and 65535")
        if not self.query_timeout > 0:
            raise SettingsError(f"query timeout must be positive, got {self.query_timeout}")
        if self.max_rows < 1 or self.max_request_bytes < 64 or self.workers < 1:
            raise SettingsError("max_rows and workers must be at least 1, max_request_bytes at least 64")
        if self.update_token is not None and len(self.update_token) < 8:
            raise SettingsError("KG_UPDATE_TOKEN must be at least 8 characters long")

    @property
    def updates_enabled(self) -> bool:
        return bool(self.update_token)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from the environment (`env`, default os.environ); `overrides` that are not None win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        try:
            if env.get("KG_STORE"):
                values["store"] = store_spec(env["KG_STORE"])
            if env.get("KG_HOST"):
                values["host"] = env["KG_HOST"]
            if env.get("KG_PORT"):
                values["port"] = int(env["KG_PORT"])
            if env.get("KG_QUERY_TIMEOUT"):
                values["query_timeout"] = float(env["KG_QUERY_TIMEOUT"])
            if env.get("KG_MAX_ROWS"):
                values["max_rows"] = int(env["KG_MAX_ROWS"])
            if env.get("KG_MAX_REQUEST_BYTES"):
                values["max_request_bytes"] = int(env["KG_MAX_REQUEST_BYTES"])
            if env.get("KG_WORKERS"):
                values["workers"] = int(env["KG_WORKERS"])
        except ValueError as err:
            raise SettingsError(f"bad number in the environment: {err}") from err
        if env.get("KG_UPDATE_TOKEN"):
            values["update_token"] = env["KG_UPDATE_TOKEN"]
        if env.get("KG_CORS_ORIGINS"):
            values["cors_origins"] = tuple(o.strip() for o in env["KG_CORS_ORIGINS"].split(",") if o.strip())
        if env.get("KG_SOURCE_DIRS"):
            values["source_dirs"] = tuple(Path(p) for p in env["KG_SOURCE_DIRS"].split(os.pathsep) if p)
        if env.get("KG_WEB_DIR"):
            values["web_dir"] = Path(env["KG_WEB_DIR"])
        if env.get("KG_QUERIES_DIR"):
            values["queries_dir"] = Path(env["KG_QUERIES_DIR"])
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
