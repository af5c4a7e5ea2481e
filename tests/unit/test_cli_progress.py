"""StderrProgress: a redrawn bar on a terminal, one summary line in logs, nothing when quiet."""

from __future__ import annotations

import io
import re
import sys
import time

import pytest

from fleetgate.cli_progress import StderrProgress
from fleetgate.evidence.interface import Progress

SUMMARY = re.compile(r"fleetgate: latency models/m\.onnx: p50 3\.2 ms \(\d+\.\d s\)\n")


class Terminal(io.StringIO):
    """A text sink that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def run_task(progress: Progress, total: int = 4) -> None:
    progress.start("latency models/m.onnx", total)
    for done in range(1, total + 1):
        progress.advance(done)
    progress.finish("latency models/m.onnx: p50 3.2 ms")


def test_in_a_log_only_the_summary_line_is_written() -> None:
    log = io.StringIO()
    run_task(StderrProgress(log))
    assert SUMMARY.fullmatch(log.getvalue())
    assert "\r" not in log.getvalue() and "\033" not in log.getvalue()


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    terminal = Terminal()
    run_task(StderrProgress(terminal), total=4)
    frames = terminal.getvalue().split("\r")[1:]
    bar = "latency models/m.onnx [{}] {}/4"
    assert frames[:5] == [
        bar.format("." * 24, 0),
        bar.format("#" * 6 + "." * 18, 1),
        bar.format("#" * 12 + "." * 12, 2),
        bar.format("#" * 18 + "." * 6, 3),
        bar.format("#" * 24, 4),
    ]
    # The summary clears the bar's line before it is written, and ends the line.
    assert frames[5].startswith("\033[K") and SUMMARY.fullmatch(frames[5].removeprefix("\033[K"))
    assert len(frames) == 6


def test_the_bar_never_overflows() -> None:
    terminal = Terminal()
    progress = StderrProgress(terminal)
    progress.start("fairness", 3)
    progress.advance(7)  # more work reported than announced
    assert terminal.getvalue().endswith("fairness [" + "#" * 24 + "] 7/3")


def test_a_task_of_no_steps_still_draws() -> None:
    terminal = Terminal()
    StderrProgress(terminal).start("fairness", 0)  # the total is at least 1: no division by zero
    assert terminal.getvalue() == "\rfairness [" + "." * 24 + "] 0/1"


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()])
def test_quiet_writes_nothing(stream: io.StringIO) -> None:
    run_task(StderrProgress(stream, quiet=True))
    assert stream.getvalue() == ""


def test_the_elapsed_time_is_measured_from_start() -> None:
    log = io.StringIO()
    progress = StderrProgress(log)
    before = time.monotonic()
    progress.start("latency", 1)
    time.sleep(0.15)
    progress.finish("done")
    waited = time.monotonic() - before
    shown = re.fullmatch(r"fleetgate: done \((\d+\.\d) s\)\n", log.getvalue())
    assert shown is not None
    assert 0.1 <= float(shown.group(1)) <= waited + 0.05  # one decimal, rounded


def test_stderr_is_the_default_stream(capsys: pytest.CaptureFixture[str]) -> None:
    progress = StderrProgress()
    assert progress.stream is sys.stderr
    progress.start("latency", 1)
    progress.finish("done")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.endswith("fleetgate: done (0.0 s)\n")
