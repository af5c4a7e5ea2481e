"""summarize: the short per-subject account of the facts a decision shows."""

from __future__ import annotations

from typing import Any

import pytest

from fleetgate.evidence.summary import summarize

DIGEST = "sha256:" + "ab" * 32
ARTIFACT = {
    "uri": "file:models/m.onnx",
    "path": "models/m.onnx",
    "digest": DIGEST,
    "size": 9,
    "source": "file",
}


def test_no_artifact_no_summary() -> None:
    assert summarize({}) == {}
    # Facts without an artifact cannot happen in a check; they still summarize to nothing.
    assert summarize({"model": {"quantization": "int8"}}) == {}


def test_artifact_only_shows_the_verdicts_as_absent() -> None:
    assert summarize({"artifact": ARTIFACT}) == {
        "artifact": DIGEST,
        "signature": "absent",
        "provenance": "absent",
        "classes": {"artifact": "derived"},
    }


def test_everything_measured() -> None:
    facts: dict[str, Any] = {
        "artifact": ARTIFACT,
        "signature": {"status": "verified", "signer": "release@example.com", "format": "model-signing"},
        "provenance": {"status": "verified", "kind": "in-toto-layout"},
        "model": {"quantization": "int8", "peak_memory_mb": 40.0},
        "latency": {"p50_ms": 3.2, "p90_ms": 4.1},
        "fairness": {"metrics": {}, "insufficient": False},
    }
    assert summarize(facts) == {
        "artifact": DIGEST,
        "signature": "verified",
        "signer": "release@example.com",
        "provenance": "verified",
        "quantization": "int8",
        "latency_p50_ms": 3.2,
        "fairness": "measured",
        "classes": {
            "artifact": "derived",
            "signature": "derived",
            "provenance": "derived",
            "model": "derived",
            "latency": "observed",
            "fairness": "observed",
        },
    }


def test_the_signer_is_shown_only_when_verified() -> None:
    facts = {"artifact": ARTIFACT, "signature": {"status": "failed", "signer": "mallory@example.com"}}
    summary = summarize(facts)
    assert summary["signature"] == "failed" and "signer" not in summary


def test_an_artifact_error_is_shown_as_error() -> None:
    facts = {"artifact": {"uri": "file:../x.onnx", "error": "file:../x.onnx: the artifact path leaves ..."}}
    assert summarize(facts)["artifact"] == "error"
    assert summarize({"artifact": "garbage"})["artifact"] == "error"


def test_a_missing_repository_artifact_is_shown_as_missing() -> None:
    facts = {"artifact": {"uri": "file:models/gone.onnx", "path": "models/gone.onnx", "missing": True}}
    assert summarize(facts)["artifact"] == "missing"


@pytest.mark.parametrize(
    ("fact", "shown"),
    [
        ({"status": "verified"}, "verified"),
        ({"status": "failed", "reason": "tampered"}, "failed"),
        ({"status": "absent", "reason": "no bundle"}, "absent"),
        ({"error": "bundle too large"}, "failed"),  # a collector error never reads as a pass
        ({"status": "maybe"}, "failed"),  # an unknown status is not trusted
        ({}, "failed"),
        (None, "absent"),
        ("verified", "absent"),  # not a mapping: nothing was gathered
    ],
)
def test_verdict_statuses(fact: Any, shown: str) -> None:
    facts = {"artifact": ARTIFACT, "signature": fact, "provenance": fact}
    summary = summarize(facts)
    assert (summary["signature"], summary["provenance"]) == (shown, shown)
    assert "signer" not in summary or shown == "verified"


@pytest.mark.parametrize(
    ("model", "latency", "quantization", "p50"),
    [
        ({"error": "refused"}, {"error": "timed out"}, "error", "error"),
        ({"status": "absent", "reason": "onnx is not installed"}, {"status": "absent"}, "absent", "absent"),
        ({"quantization": None}, {"p50_ms": None}, None, None),
        ({"quantization": "fp16"}, {"p50_ms": 0.5}, "fp16", 0.5),
    ],
)
def test_measurements(model: dict[str, Any], latency: dict[str, Any], quantization: Any, p50: Any) -> None:
    summary = summarize({"artifact": ARTIFACT, "model": model, "latency": latency})
    assert (summary["quantization"], summary["latency_p50_ms"]) == (quantization, p50)


def test_absent_measurements_leave_their_keys_out() -> None:
    summary = summarize({"artifact": ARTIFACT, "model": None, "latency": "fast"})
    assert "quantization" not in summary and "latency_p50_ms" not in summary and "fairness" not in summary


@pytest.mark.parametrize(
    ("fairness", "shown"),
    [
        ({"metrics": {}, "insufficient": False}, "measured"),
        ({"metrics": {}}, "measured"),
        ({"insufficient": True, "reason": "too few rows"}, "insufficient"),
        ({"error": "dataset unreadable"}, "error"),
        ({"error": "x", "insufficient": True}, "error"),
        ({"status": "absent", "reason": "fairlearn is not installed"}, "absent"),
    ],
)
def test_fairness(fairness: dict[str, Any], shown: str) -> None:
    assert summarize({"artifact": ARTIFACT, "fairness": fairness})["fairness"] == shown


def test_the_summary_is_flat_but_for_the_classes() -> None:
    facts = {
        "artifact": ARTIFACT,
        "signature": {"status": "verified", "signer": "s"},
        "model": {"quantization": "int8", "operators": {"Conv": 3}},
        "latency": {"p50_ms": 1.0, "base": {"p50_ms": 2.0}},
        "fairness": {"metrics": {"dp": 0.1}},
    }
    summary = summarize(facts)
    classes = summary.pop("classes")
    assert all(isinstance(v, str | int | float) for v in summary.values())
    assert all(isinstance(v, str) for v in classes.values())


def test_the_trust_material_the_verdicts_relied_on_is_named() -> None:
    facts = {
        "artifact": {"digest": "sha256:aa"},
        "signature": {"status": "verified", "trust_config": "sha256:t1", "trusted_root": "sha256:r1"},
        "provenance": {"status": "verified", "trust_config": "sha256:t1"},
    }
    summary = summarize(facts)
    assert (summary["trust_config"], summary["trusted_root"]) == ("sha256:t1", "sha256:r1")


def test_disagreeing_trust_digests_are_not_summarized_as_one() -> None:
    facts = {
        "artifact": {"digest": "sha256:aa"},
        "signature": {"status": "verified", "trust_config": "sha256:t1"},
        "provenance": {"status": "verified", "trust_config": "sha256:t2"},
    }
    assert "trust_config" not in summarize(facts)


APPLE_ONLY = "Core ML runs only on Apple platforms"


def test_a_fact_absent_with_a_reason_is_not_assessable() -> None:
    facts = {
        "artifact": {**ARTIFACT, "format": "coreml"},
        "model": {"quantization": "fp16"},
        "latency": {"status": "absent", "reason": APPLE_ONLY},
        "fairness": {"status": "absent", "reason": APPLE_ONLY},
    }
    summary = summarize(facts)
    assert summary["classes"] == {
        "artifact": "derived",
        "model": "derived",
        "latency": "not-assessable",
        "fairness": "not-assessable",
    }
    assert summary["not_assessable"] == {"latency": APPLE_ONLY, "fairness": APPLE_ONLY}
    # The value shown beside stays "absent": not-assessable is never a measurement.
    assert (summary["latency_p50_ms"], summary["fairness"]) == ("absent", "absent")


def test_a_fact_the_stage_could_not_gather_is_not_assessable_with_its_reason() -> None:
    why = "no trust file is configured (trust: in fleetgate.yaml)"
    summary = summarize({"artifact": ARTIFACT, "absent": {"signature": why, "provenance": why}})
    assert summary["classes"] == {
        "artifact": "derived",
        "signature": "not-assessable",
        "provenance": "not-assessable",
    }
    assert summary["not_assessable"] == {"signature": why, "provenance": why}


def test_a_failed_collector_has_no_class() -> None:
    summary = summarize({"artifact": ARTIFACT, "latency": {"error": "killed by signal 9"}})
    assert "latency" not in summary["classes"] and "not_assessable" not in summary


@pytest.mark.parametrize(
    ("name", "fact", "expected"),
    [
        ("telemetry", {"segments": []}, "observed"),
        ("telemetry", {"status": "unavailable", "reason": "source down"}, "not-assessable"),
        ("cost", {"status": "absent", "reason": "fleet/inventory.yaml is missing"}, "not-assessable"),
        ("cost", {"total": 1}, "derived"),
        ("rollback", {"restores": "abc"}, "derived"),
    ],
)
def test_deployment_scope_facts_are_classed(name: str, fact: dict[str, Any], expected: str) -> None:
    assert summarize({"artifact": ARTIFACT, name: fact})["classes"][name] == expected
