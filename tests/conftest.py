"""Shared pytest hooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gold import REPORTS
from tests.remote_services import Virtuoso, local_cluster, running_virtuoso, virtuoso_missing


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the gold-comparison figures after every run, not only when a test fails."""
    for report in REPORTS:
        terminalreporter.write_sep("-", "extraction accuracy")
        terminalreporter.write_line(report)


# ----------------------------------------------------------------------------- remote stores and Dask


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    """A Virtuoso server of the test session (scripts/virtuoso: own folder, free 127.0.0.1 ports,
    ResultSetMaxRows 500), stopped at the end; the tests skip, saying why, where it is not installed."""
    reason = virtuoso_missing()
    if reason is not None:
        print(f"\nskipping the Virtuoso tests: {reason}")  # shown with -s, and in the skip reason
        pytest.skip(reason)
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """A Dask LocalCluster with 2 worker processes for the session; yields the scheduler address."""
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install '.[scale]')")
    with local_cluster(2) as address:
        yield address
