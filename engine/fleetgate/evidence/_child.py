"""Run untrusted model bytes through a native library in a fresh child process, bounded.

Parsers and runtimes for model formats are native code (onnxruntime, LiteRT, protobuf's C++
parser behind coremltools). A hostile or broken model can crash them, loop, or allocate without
end. None of that may take the gate down or hang it, so every parse and every inference of an
artifact runs in a child process that:

* caps its own address space (``RLIMIT_AS``) before importing anything heavy;
* is killed by the parent at a wall-clock deadline;
* answers with JSON on stdout, or one line on stderr and a non-zero exit.

A child that dies on a signal (a native crash) becomes an EvidenceError naming the signal.
The child side is :mod:`fleetgate.evidence._probe`; the latency child follows the same rules.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import site
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fleetgate
from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import MAX_REASON

__all__ = ["Limits", "child_environment", "exit_status", "last_line", "run_child", "run_probe"]

# A probe answers with a fact of a few kilobytes; anything far beyond that is not its answer.
_MAX_STDOUT = 16 << 20
# Only the tail of stderr matters: the child's last line says what went wrong.
_MAX_STDERR = 64 << 10
_MAX_MESSAGE = 300
_PROBE_MODULE = "fleetgate.evidence._probe"
_REFUSED = 3  # the probe's exit status for a reader's own refusal (fleetgate.evidence._probe)


@dataclass(frozen=True)
class Limits:
    """How long a child may run and how much memory it may map."""

    timeout_seconds: float = 120.0
    max_memory_mb: int = 4096


def run_probe(task: str, arguments: Sequence[str], shown: str, what: str, limits: Limits) -> Any:
    """Run ``task`` of the probe module in a fresh bounded child; its JSON answer.

    EvidenceError naming ``shown`` and ``what`` (e.g. "reading the TFLite model") when the child
    times out, is killed by a signal, exits non-zero (its last stderr line is quoted) or
    answers with something that is not JSON; a reader's own refusal keeps its message.
    """
    command = [sys.executable, "-m", _PROBE_MODULE, task, str(limits.max_memory_mb), *arguments]
    stdout = run_child(command, shown, what, limits.timeout_seconds)
    try:
        return json.loads(stdout.decode("utf-8"))
    except (ValueError, RecursionError):
        raise EvidenceError(f"{shown}: {what} returned malformed output") from None


def run_child(command: list[str], shown: str, what: str, timeout: float) -> bytes:
    """Run ``command`` to its end within ``timeout`` seconds; its stdout.

    EvidenceError naming ``shown`` and ``what`` when it cannot start, times out (it is killed),
    or ends other than with status 0 (a refusal, status 3, keeps the child's own message).
    """
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(),
        )
    except OSError as error:
        raise EvidenceError(f"{shown}: cannot start a child process for {what}: {error}") from None
    try:
        stdout, stderr, finished = _drain(child, time.monotonic() + timeout)
    finally:
        _stop(child)
    if not finished:
        raise EvidenceError(f"{shown}: {what} exceeded {timeout:g} s and was killed")
    if child.returncode == _REFUSED:  # the last line: a native library may have logged before it
        raise EvidenceError(last_line(stderr, MAX_REASON))
    if child.returncode != 0:
        status = exit_status(child.returncode)
        raise EvidenceError(f"{shown}: {what} failed ({status}): {last_line(stderr)}")
    return stdout


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Whatever happened while reading, no child outlives its caller."""
    if child.poll() is None:
        child.kill()
    child.wait()
    _close(child.stdout, child.stderr)


def child_environment() -> dict[str, str]:
    """The environment of a child: this very fleetgate importable, numeric libraries on one thread."""
    env = dict(os.environ)
    # The child must import this very fleetgate. An installed one is found anyway; a checkout
    # put on sys.path by hand is not, so its folder goes first on the child's PYTHONPATH.
    # Site folders are never added there, where they would shadow the standard library.
    source_root = str(Path(fleetgate.__file__).resolve().parent.parent)
    if source_root not in {*site.getsitepackages(), site.getusersitepackages()}:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    # numpy's BLAS only generates inputs: one thread keeps it from reserving memory per core.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    # Native libraries log to stderr; only the child's own last line should reach a decision.
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def _drain(child: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, bool]:
    """Read both pipes to EOF before ``deadline``; the flag says whether EOF came in time."""
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.fileno(), child.stderr.fileno()
    buffers = {out: bytearray(), err: bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in (out, err):
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(buffers[out]), bytes(buffers[err]), False
            for key, _ in selector.select(remaining):
                fd = int(key.fd)
                chunk = os.read(fd, 65536)
                if not chunk:
                    selector.unregister(fd)
                    continue
                buffers[fd] += chunk
                if fd == err and len(buffers[fd]) > _MAX_STDERR:
                    del buffers[fd][:-_MAX_STDERR]
                elif fd == out and len(buffers[fd]) > _MAX_STDOUT:
                    selector.unregister(fd)
    # EOF on both pipes: the child is exiting; give it the rest of the deadline to do so.
    try:
        child.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        return bytes(buffers[out]), bytes(buffers[err]), False
    return bytes(buffers[out]), bytes(buffers[err]), True


def _close(*streams: IO[bytes] | None) -> None:
    for stream in streams:
        if stream is not None:
            stream.close()


def exit_status(returncode: int) -> str:
    """How a child ended, e.g. ``killed by signal 11 (SIGSEGV)`` or ``exit status 1``."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"killed by signal {-returncode}"
    return f"killed by signal {-returncode} ({name})"


def last_line(stderr: bytes, cap: int = _MAX_MESSAGE) -> str:
    """The child's last non-empty stderr line, capped."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:cap] if lines else "no message"
