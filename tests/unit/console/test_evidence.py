"""The evidence summary on a decision's page."""

from __future__ import annotations

from fleetgate.console.evidence import evidence_summary


def test_facts_in_a_fixed_order_with_their_plain_values() -> None:
    doc = {
        "input": {
            "facts": {
                "zeta": {"ok": True},
                "latency": {"p95_ms": 12.5, "device": {"class": "mid"}, "runs": [{"ms": 1}, {"ms": 2}]},
                "signature": {"status": "verified", "identity": "ci@example.com", "reason": None},
                "model": "x" * 500,
            }
        }
    }
    summary = evidence_summary(doc)
    assert [name for name, _ in summary] == ["signature", "model", "latency", "zeta"]
    assert summary[0][1] == [("status", "verified"), ("identity", "ci@example.com"), ("reason", "null")]
    assert summary[2][1] == [("p95_ms", "12.5"), ("device.class", "mid"), ("runs", "2 item(s)")]
    assert len(summary[1][1][0][1]) == 200  # long values are cut


def test_a_manifest_only_record_has_no_evidence() -> None:
    assert evidence_summary({"input": {"facts": {}}}) == []
    assert evidence_summary({"input": "not a mapping"}) == []
