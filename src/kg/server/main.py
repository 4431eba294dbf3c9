"""`kg serve`: settings from the command line and the environment, a store check, then uvicorn."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import uvicorn

from kg.server.app import create_app
from kg.server.settings import Settings, SettingsError
from kg.store import open_store
from kg.store.oxigraph import StoreError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Server(uvicorn.Server):
    """uvicorn's server, printing where to go once it really listens."""

    settings: Settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.settings.announce:
            announce(self.settings)


def announce(settings: Settings) -> None:
    base = settings.base_url
    updates = "enabled (Bearer token)" if settings.updates_enabled else "disabled (set KG_UPDATE_TOKEN)"
    sys.stdout.write(
        f"kg serve: store {settings.store}, {settings.workers} query workers, time limit "
        f"{settings.query_timeout:g} s\n"
        f"kg serve: SPARQL endpoint {base}/sparql, updates {updates}\n"
        f"kg serve: web UI {base}/  (query editor {base}/query, API docs {base}/docs; Ctrl-C stops)\n"
    )
    sys.stdout.flush()


def serve(args: argparse.Namespace, store: Path | str) -> int:
    try:
        settings = Settings.from_env(
            store=store,
            host=args.host,
            port=args.port,
            workers=args.workers,
            query_timeout=args.timeout,
            max_rows=args.max_rows,
            max_request_bytes=args.max_request_bytes,
            cors_origins=tuple(args.cors_origin) if args.cors_origin else None,
        )
    except SettingsError as err:
        sys.stderr.write(f"kg serve: error: {err}\n")
        return EXIT_USAGE
    try:  # say clearly what is wrong with the store before starting anything
        with open_store(settings.store):  # a remote store must answer
            pass
    except StoreError as err:
        sys.stderr.write(f"kg serve: error: {err}\n")
        return EXIT_FAILURE
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        lifespan="on",
        # h11, not httptools even where that is installed (uvicorn[standard]): httptools cannot parse a URL
        # longer than 64 KiB ("400 Invalid HTTP request"), while GET queries up to max_request_bytes are
        # served and longer ones answered 414 with a message. (With httptools and uvloop a named query took
        # at most ~0.1-0.2 ms less, within the noise of bench/http_latency.py on a 2-core machine.)
        http="h11",
        # room for a long GET query string, so that the service answers 414 with a message itself
        h11_max_incomplete_event_size=settings.max_request_bytes + 65536,
    )
    server = _Server(config)
    server.settings = settings
    server.run()
    return EXIT_OK if server.started else EXIT_FAILURE
