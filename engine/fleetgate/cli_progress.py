"""Progress of long evidence work (latency, fairness) on stderr.

On a terminal: one line redrawn in place with a bar. Elsewhere (CI logs): nothing while the work
runs, then the collector's one-line summary, so logs stay short and greppable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["StderrProgress"]

_WIDTH = 24


class StderrProgress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self.task = ""
        self.total = 0
        self.started = 0.0

    def start(self, task: str, total: int) -> None:
        self.task, self.total, self.started = task, max(total, 1), time.monotonic()
        self.advance(0)

    def advance(self, done: int) -> None:
        if self.quiet or not self.tty:
            return
        filled = _WIDTH * min(done, self.total) // self.total
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r{self.task} [{bar}] {done}/{self.total}")
        self.stream.flush()

    def finish(self, summary: str) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}fleetgate: {summary} ({elapsed:.1f} s)\n")
        self.stream.flush()
