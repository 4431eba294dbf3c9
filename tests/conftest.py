"""Shared pytest hooks."""

from __future__ import annotations

import pytest

from tests.gold import REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the gold-comparison figures after every run, not only when a test fails."""
    for report in REPORTS:
        terminalreporter.write_sep("-", "extraction accuracy")
        terminalreporter.write_line(report)
