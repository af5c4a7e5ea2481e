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


def test_the_summary_is_flat() -> None:
    facts = {
        "artifact": ARTIFACT,
        "signature": {"status": "verified", "signer": "s"},
        "model": {"quantization": "int8", "operators": {"Conv": 3}},
        "latency": {"p50_ms": 1.0, "base": {"p50_ms": 2.0}},
        "fairness": {"metrics": {"dp": 0.1}},
    }
    assert all(isinstance(v, str | int | float) for v in summarize(facts).values())


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
