from __future__ import annotations

import os
import time

import pytest

from fleetgate.errors import FleetgateError, PolicyError
from fleetgate.parallel import MIN_PARALLEL, map_in_workers

ITEMS = list(range(MIN_PARALLEL + 50))


def square_and_pid(item: int) -> tuple[int, int]:
    # Long enough per item that one worker cannot finish every chunk before the other starts,
    # even on a loaded machine.
    time.sleep(0.002)
    return item * item, os.getpid()


def test_results_keep_their_order_and_come_from_several_processes() -> None:
    results = map_in_workers(square_and_pid, ITEMS, 2)
    assert [value for value, _ in results] == [i * i for i in ITEMS]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == 2


def test_small_runs_and_one_job_stay_in_process() -> None:
    assert {pid for _, pid in map_in_workers(square_and_pid, ITEMS[:10], 2)} == {os.getpid()}
    assert {pid for _, pid in map_in_workers(square_and_pid, ITEMS, 1)} == {os.getpid()}


def test_a_gate_error_in_a_worker_fails_the_run() -> None:
    def failing(item: int) -> int:
        if item == 230:
            raise PolicyError("policy evaluation of x failed: boom")
        return item

    with pytest.raises(PolicyError, match="boom"):
        map_in_workers(failing, ITEMS, 2)


def test_a_bug_in_a_worker_fails_the_run() -> None:
    def buggy(item: int) -> int:
        return 1 // (item - 240)

    with pytest.raises(FleetgateError, match="internal error in an evaluation worker .*ZeroDivisionError"):
        map_in_workers(buggy, ITEMS, 2)


def test_a_worker_that_dies_fails_the_run() -> None:
    def dying(item: int) -> int:
        if item == 240:
            os._exit(3)
        return item

    with pytest.raises(FleetgateError, match="worker process died"):
        map_in_workers(dying, ITEMS, 2)


def frozen_in_worker(item: int) -> int:
    import gc

    return gc.get_freeze_count()


def test_workers_leave_the_inherited_objects_to_the_parent_and_the_parent_gets_them_back() -> None:
    import gc

    held = [object() for _ in range(1000)]  # alive in the parent when the workers start
    counts = map_in_workers(frozen_in_worker, ITEMS, 2)
    assert min(counts) >= len(held)  # a worker's collections never walk what it inherited
    assert gc.get_freeze_count() == 0  # the parent's collector sees everything again
    with pytest.raises(FleetgateError):
        map_in_workers(lambda item: 1 // (item - 240), ITEMS, 2)
    assert gc.get_freeze_count() == 0  # also after a failed run
