"""Run one timing repeat of a model in a fresh child process.

A fresh process per repeat keeps one repeat's allocator state, caches and thread pools from
leaking into the next, and lets the gate bound each repeat's time and memory: the child caps
its own address space, and the parent kills it at the wall-clock deadline.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import site
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fleetgate
from fleetgate.errors import EvidenceError

__all__ = ["RepeatResult", "RunPlan", "run_repeat"]

_CHILD_MODULE = "fleetgate.evidence.latency._child"
# A child prints about 20 bytes per timed run; anything far beyond that is not its answer.
_MAX_STDOUT = 4 << 20
# Only the tail of stderr matters: the child's last line says what went wrong.
_MAX_STDERR = 64 << 10
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class RunPlan:
    """What one child process does: the manifest's thread/batch settings and the run counts."""

    threads: int
    batch: int
    warmup_runs: int
    timed_runs: int
    timeout_seconds: float
    max_memory_mb: int


@dataclass(frozen=True)
class RepeatResult:
    """The timings of one repeat, in milliseconds, and the child's peak resident memory."""

    timings_ms: tuple[float, ...]
    peak_memory_mb: float
    runtime: str


def run_repeat(model: Path, shown: str, plan: RunPlan) -> RepeatResult:
    """Time ``model`` once in a fresh process; raise EvidenceError naming ``shown`` on any failure.

    Failures are: the deadline passed (the child is killed), the child exited non-zero or
    was killed (its last stderr line is quoted), or its answer was not the expected JSON.
    """
    command = [
        sys.executable,
        "-m",
        _CHILD_MODULE,
        str(model),
        *(str(n) for n in (plan.threads, plan.batch, plan.warmup_runs, plan.timed_runs, plan.max_memory_mb)),
    ]
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_environment(),
        )
    except OSError as error:
        raise EvidenceError(f"{shown}: cannot start the latency child process: {error}") from None
    try:
        stdout, stderr, finished = _drain(child, time.monotonic() + plan.timeout_seconds)
    finally:
        # Whatever happened while reading, no child outlives this call.
        if child.poll() is None:
            child.kill()
        child.wait()
        _close(child.stdout, child.stderr)
    if not finished:
        limit = f"{plan.timeout_seconds:g} s"
        raise EvidenceError(f"{shown}: latency measurement exceeded {limit} and was killed")
    if child.returncode != 0:
        status = _exit(child.returncode)
        raise EvidenceError(f"{shown}: latency measurement failed ({status}): {_last(stderr)}")
    return _parse(stdout, shown, plan.timed_runs)


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import this very fleetgate. An installed one is found anyway; a checkout
    # put on sys.path by hand is not, so its folder goes first on the child's PYTHONPATH.
    # Site folders are never added there, where they would shadow the standard library.
    source_root = str(Path(fleetgate.__file__).resolve().parent.parent)
    if source_root not in {*site.getsitepackages(), site.getusersitepackages()}:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    # numpy's BLAS only generates the inputs: one thread keeps it from reserving memory per core.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def _drain(child: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, bool]:
    """Read both pipes to EOF before ``deadline``; the flag says whether EOF came in time."""
    assert child.stdout is not None and child.stderr is not None
    buffers = {child.stdout.fileno(): bytearray(), child.stderr.fileno(): bytearray()}
    with selectors.DefaultSelector() as selector:
        for stream in (child.stdout, child.stderr):
            selector.register(stream.fileno(), selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(buffers[child.stdout.fileno()]), bytes(buffers[child.stderr.fileno()]), False
            for key, _ in selector.select(remaining):
                fd = int(key.fd)
                chunk = os.read(fd, 65536)
                if not chunk:
                    selector.unregister(fd)
                    continue
                buffers[fd] += chunk
                if fd == child.stderr.fileno() and len(buffers[fd]) > _MAX_STDERR:
                    del buffers[fd][:-_MAX_STDERR]
                elif fd == child.stdout.fileno() and len(buffers[fd]) > _MAX_STDOUT:
                    selector.unregister(fd)
    # EOF on both pipes: the child is exiting; give it the rest of the deadline to do so.
    try:
        child.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        return bytes(buffers[child.stdout.fileno()]), bytes(buffers[child.stderr.fileno()]), False
    return bytes(buffers[child.stdout.fileno()]), bytes(buffers[child.stderr.fileno()]), True


def _close(*streams: IO[bytes] | None) -> None:
    for stream in streams:
        if stream is not None:
            stream.close()


def _exit(returncode: int) -> str:
    return f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"


def _last(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:_MAX_MESSAGE] if lines else "no message"


def _parse(stdout: bytes, shown: str, timed_runs: int) -> RepeatResult:
    try:
        answer: Any = json.loads(stdout.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise EvidenceError(f"{shown}: latency child returned malformed output: {error}") from None
    if not isinstance(answer, dict):
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    timings: Any = answer.get("timings_ms")
    peak_kib: Any = answer.get("peak_rss_kib")
    runtime: Any = answer.get("runtime")
    valid = (
        isinstance(timings, list)
        and len(timings) == timed_runs
        and all(_is_number(t) and math.isfinite(t) and t >= 0 for t in timings)
        and _is_number(peak_kib)
        and isinstance(peak_kib, int)
        and peak_kib > 0
        and isinstance(runtime, str)
    )
    if not valid:
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    return RepeatResult(
        timings_ms=tuple(float(t) for t in timings), peak_memory_mb=peak_kib / 1024, runtime=runtime
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
