"""Browser tests: say where the screenshots went, whatever pytest captured."""

from __future__ import annotations

import pytest
from tests.e2e.browser import WRITTEN


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if WRITTEN:
        terminalreporter.write_sep("-", "browser test screenshots")
        for folder in WRITTEN:
            terminalreporter.write_line(f"{folder}")
