"""heap.frozen keeps loaded objects from the cyclic collector for a block, and only for it."""

from __future__ import annotations

import gc
import weakref

import pytest

from fleetgate import heap
from fleetgate.commands.check import CheckOptions, run_check

from support import GitRepo, manifest, to_yaml


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_objects_alive_on_entry_are_frozen_until_the_block_exits() -> None:
    before = gc.get_freeze_count()
    kept = [Node() for _ in range(100)]
    with heap.frozen():
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == before


def test_only_the_outermost_block_hands_the_objects_back() -> None:
    before = gc.get_freeze_count()
    with heap.frozen():
        outer = gc.get_freeze_count()
        with heap.frozen():
            assert gc.get_freeze_count() >= outer
        assert gc.get_freeze_count() >= outer  # the inner exit did not unfreeze
    assert gc.get_freeze_count() == before


def test_cycles_made_inside_the_block_are_still_collected() -> None:
    with heap.frozen():
        node = Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None


def test_an_error_in_the_block_still_unfreezes() -> None:
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), heap.frozen():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == before


def test_a_check_hands_every_object_back_to_the_collector(repo: GitRepo) -> None:
    repo.write("models/production/classifier.yaml", to_yaml(manifest()))
    repo.commit()
    before = gc.get_freeze_count()
    checked = run_check(CheckOptions(paths=[str(repo.root / "models")], cwd=repo.root, record=False))
    assert checked.decision.subjects  # the check ran and judged the manifest
    assert gc.get_freeze_count() == before
