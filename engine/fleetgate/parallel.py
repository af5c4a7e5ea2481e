"""Spread evaluations over worker processes for large runs (a repository-wide scan).

Policy evaluation is CPU-bound and the embedded engine is single-threaded, so a scan of
thousands of manifests uses one forked worker per core (the embedded engine's
``evaluate_many``). Workers inherit the compiled policy and the policy inputs through ``fork``
(nothing is recompiled or re-read) and send back only their findings. Small runs (a pre-commit
hook) stay in process: forking would cost more than it saves. A worker that fails or dies makes
the whole run fail closed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from fleetgate import heap
from fleetgate.errors import FleetgateError, PolicyError

__all__ = ["MIN_PARALLEL", "available_cores", "map_in_workers"]

MIN_PARALLEL = 200
"""Below this many items one process is faster than forking workers."""

_work: tuple[Sequence[Any], Callable[[Any], Any]] | None = None


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def map_in_workers(function: Callable[[Any], Any], items: Sequence[Any], jobs: int) -> list[Any]:
    """``[function(item) for item in items]``, in up to ``jobs`` forked processes.

    Runs in process when ``jobs`` is 1, the run is small, or ``fork`` is unavailable.
    """
    if jobs <= 1 or len(items) < MIN_PARALLEL:
        return [function(item) for item in items]
    # Imported here: the process-pool machinery costs a small run (a pre-commit hook) ~15 ms.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    global _work
    _work = (items, function)
    chunks = _chunks(len(items), jobs * 4)
    # Every object alive now (the inputs, the compiled library) moves out of the collector's
    # reach until the workers are done: a worker's collections would otherwise walk them all,
    # touching, and so copying, pages it shares with this process. A 10,000-manifest scan spent
    # about half a second of CPU on that, more with larger inputs.
    try:
        with heap.frozen(), ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_run_chunk, chunks))
    except BrokenProcessPool:
        raise FleetgateError("an evaluation worker process died; no decision was made") from None
    finally:
        _work = None
    results: list[Any] = []
    for part in parts:
        for outcome in part:
            if isinstance(outcome, _Failure):
                raise outcome.error()
            results.append(outcome)
    return results


class _Failure:
    """An exception raised in a worker, carried back as text (exceptions may not pickle)."""

    def __init__(self, exc: BaseException) -> None:
        self.expected = isinstance(exc, FleetgateError)
        self.message = exc.message if isinstance(exc, FleetgateError) else f"{type(exc).__name__}: {exc}"

    def error(self) -> FleetgateError:
        if self.expected:
            return PolicyError(self.message)
        return FleetgateError(f"internal error in an evaluation worker ({self.message})")


def _chunks(total: int, count: int) -> list[range]:
    size = max(1, -(-total // count))
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


def _run_chunk(indices: range) -> list[Any]:
    assert _work is not None, "worker started without inherited work"
    items, function = _work
    out: list[Any] = []
    for index in indices:
        try:
            out.append(function(items[index]))
        except Exception as exc:
            out.append(_Failure(exc))
            break
    return out
