"""A clock for the extraction cursors, moved by the test: a lease ends when the test says so."""

from __future__ import annotations

import pytest


class CursorClock:
    """Stands in for the `time` module of `langmem_agno.extraction.cursors` (it reads `time.time()`)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def frozen_cursor_clock(monkeypatch: pytest.MonkeyPatch) -> CursorClock:
    """Freeze the cursors' clock for this test and return it, to be moved by hand."""
    clock = CursorClock()
    monkeypatch.setattr("langmem_agno.extraction.cursors.time", clock)
    return clock
