"""The collector registry: every fact says how it is obtained."""

from __future__ import annotations

import pytest

from fleetgate.evidence.registry import (
    COLLECTORS,
    EVIDENCE_CLASSES,
    FACTS,
    NOT_ASSESSABLE,
    evidence_class,
    obtained,
)


def test_every_fact_declares_a_class_it_can_have_when_gathered() -> None:
    for name in FACTS:
        found = obtained(name)
        assert found.evidence_class in EVIDENCE_CLASSES and found.evidence_class != NOT_ASSESSABLE
        assert found.how  # shown beside the value: never empty


@pytest.mark.parametrize(
    ("name", "expected"),
    [("artifact", "derived"), ("model", "derived"), ("latency", "observed"), ("fairness", "observed")],
)
def test_measured_here_is_observed_and_read_from_the_bytes_is_derived(name: str, expected: str) -> None:
    assert evidence_class(name, {"value": 1}) == expected


def test_ci_latency_says_it_is_not_a_device_latency() -> None:
    assert "not on a device" in obtained("latency").how


@pytest.mark.parametrize("status", ["absent", "unavailable"])
def test_a_fact_with_a_reason_instead_of_a_value_is_not_assessable(status: str) -> None:
    fact = {"status": status, "reason": "Core ML runs only on Apple platforms"}
    assert evidence_class("latency", fact) == NOT_ASSESSABLE


@pytest.mark.parametrize("fact", [{"error": "killed by signal 9"}, None, "fast"])
def test_a_failed_or_missing_fact_has_no_class(fact: object) -> None:
    assert evidence_class("latency", fact) is None


def test_every_collector_has_a_class() -> None:
    assert {c.name for c in COLLECTORS} <= set(FACTS)
    assert all(c.obtained.evidence_class in EVIDENCE_CLASSES for c in COLLECTORS)
