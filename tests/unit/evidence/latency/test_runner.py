"""The child process protocol: its answer, its failures, its input shapes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import child_environment as _child_environment
from fleetgate.evidence._child import exit_status as _exit
from fleetgate.evidence._child import last_line as _last
from fleetgate.evidence.latency._child import _concrete_shape, _Refused
from fleetgate.evidence.latency._runner import RepeatResult, _parse

GOOD = {"timings_ms": [1.5, 2.0], "peak_rss_kib": 102400, "runtime": "1.32.0"}


def test_a_well_formed_answer_is_read() -> None:
    result = _parse(json.dumps(GOOD).encode(), "m.onnx", timed_runs=2)

    assert result == RepeatResult(timings_ms=(1.5, 2.0), peak_memory_mb=100.0, runtime="1.32.0")


@pytest.mark.parametrize(
    "stdout",
    [
        b"",
        b"\xff\xfe",
        b"not json",
        b"[1, 2]",
        b"[" * 100_000,
        json.dumps({**GOOD, "timings_ms": [1.0]}).encode(),  # fewer runs than asked
        json.dumps({**GOOD, "timings_ms": [1.0, "x"]}).encode(),
        json.dumps({**GOOD, "timings_ms": [1.0, -2.0]}).encode(),
        json.dumps({**GOOD, "timings_ms": [1.0, float("nan")]}).encode(),
        json.dumps({**GOOD, "timings_ms": "12"}).encode(),
        json.dumps({**GOOD, "peak_rss_kib": 0}).encode(),
        json.dumps({**GOOD, "peak_rss_kib": True}).encode(),
        json.dumps({**GOOD, "peak_rss_kib": 1.5}).encode(),
        json.dumps({**GOOD, "runtime": 1}).encode(),
        json.dumps({"timings_ms": [1.0, 2.0]}).encode(),
    ],
)
def test_garbage_answers_are_evidence_errors(stdout: bytes) -> None:
    with pytest.raises(EvidenceError, match=r"^m\.onnx: latency child returned malformed output"):
        _parse(stdout, "m.onnx", timed_runs=2)


def test_the_last_stderr_line_is_quoted_and_bounded() -> None:
    assert _last(b"warning\n  RuntimeError: boom  \n\n") == "RuntimeError: boom"
    assert _last(b"") == "no message"
    assert _last(b"\xff" * 1000) == "\ufffd" * 300
    assert _exit(-9) == "killed by signal 9 (SIGKILL)" and _exit(1) == "exit status 1"


def test_symbolic_dimensions_take_the_batch_first_and_one_elsewhere() -> None:
    assert _concrete_shape("x", ["N", 3, None, "width", 0, -1], batch=4) == (4, 3, 1, 1, 1, 1)
    assert _concrete_shape("x", [2, "N"], batch=4) == (2, 1)
    assert _concrete_shape("x", [], batch=4) == ()
    with pytest.raises(_Refused, match="has no known rank"):
        _concrete_shape("x", None, batch=4)


def test_the_child_reports_bad_arguments_on_one_stderr_line() -> None:
    child = subprocess.run(
        [sys.executable, "-m", "fleetgate.evidence.latency._child", "model.onnx", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert child.returncode == 1 and child.stdout == ""
    assert child.stderr.count("\n") == 1 and child.stderr.startswith("ValueError: ")


def test_the_child_environment_pins_helper_threads_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETGATE_PROBE", "kept")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")

    env = _child_environment()

    assert env["FLEETGATE_PROBE"] == "kept"
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
