"""Progress of long steps: a line per tenth in a log (not a terminal), the last step always."""

from __future__ import annotations

import logging

import pytest

from ketapredict.parallel import map_ordered
from ketapredict.progress import steps


def test_a_log_gets_a_line_per_tenth_and_the_last(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ketapredict.progress"), steps("refits", 25) as done:
        for _ in range(25):
            done()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "refits: 0/25" and lines[-1] == "refits: 25/25"
    assert len(lines) == 11  # the start, then one per tenth


def test_map_ordered_reports_progress_and_keeps_order(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ketapredict.progress"):
        out = map_ordered(pow, [(2, k) for k in range(5)], workers=1, progress="powers")
    assert out == [1, 2, 4, 8, 16]
    assert caplog.records[-1].getMessage() == "powers: 5/5"
