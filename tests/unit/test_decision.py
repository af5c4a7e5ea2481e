from __future__ import annotations

import datetime as dt

from fleetgate.changes import ManifestChange
from fleetgate.decision import DecisionHeader, Evaluation, Finding, decide
from fleetgate.manifest import read_manifests
from fleetgate.waivers import Waiver

from support import manifest, to_yaml

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
HEADER = DecisionHeader("id-1", NOW, "pre-merge", "sha256:" + "0" * 64, "regopy test", {"repo": "r"})


def change(name: str, kind: str = "added") -> ManifestChange:
    [found] = read_manifests(to_yaml(manifest(name)).encode(), f"models/{name}.yaml")
    if kind == "deleted":
        return ManifestChange("deleted", None, found)
    return ManifestChange(kind, found, found if kind == "modified" else None)  # type: ignore[arg-type]


def deny(rule: str, name: str, line: int = 5) -> Finding:
    return Finding(rule, "deny", f"{rule} says no", f"models/{name}.yaml", line, "spec.x")


def waiver(rule: str, target: str, expires: dt.date) -> Waiver:
    return Waiver(rule, target, "needed", "jane", expires, "fleetgate-waivers.yaml", 2)


def test_admit_only_when_every_subject_is_allowed() -> None:
    warn = Finding("x.warn", "warn", "careful", "models/a.yaml", 3, "")
    admitted = decide(HEADER, [Evaluation(change("a"), (warn,))], [])
    assert admitted.allowed and admitted.to_json()["decision"] == "admit"
    denied = decide(
        HEADER, [Evaluation(change("a"), (warn,)), Evaluation(change("b"), (deny("r.x", "b"),))], []
    )
    document = denied.to_json()
    assert document["decision"] == "deny" and document["allowed"] is False
    assert [s["allowed"] for s in document["subjects"]] == [True, False]
    assert document["subjects"][1]["violations"][0] == {
        "rule": "r.x",
        "severity": "deny",
        "message": "r.x says no",
        "file": "models/b.yaml",
        "line": 5,
        "field": "spec.x",
    }
    assert document["timestamp"] == "2026-11-26T12:00:00.000000Z"
    assert document["apiVersion"] == "fleetgate.dev/v1" and document["kind"] == "AdmissionDecision"


def test_a_deletion_is_recorded_and_admitted() -> None:
    decision = decide(HEADER, [Evaluation(change("gone", "deleted"))], [])
    assert decision.allowed
    assert decision.to_json()["subjects"][0]["change"] == "deleted"


def test_a_valid_waiver_turns_a_deny_into_a_waived_finding() -> None:
    w = waiver("r.x", "production/a", dt.date(2026, 11, 26))
    decision = decide(HEADER, [Evaluation(change("a"), (deny("r.x", "a"), deny("r.y", "a", 6)))], [w])
    [subject] = decision.to_json()["subjects"]
    assert [v["rule"] for v in subject["violations"]] == ["r.y"]
    assert [(f["rule"], f["waiver"]["approvedBy"]) for f in subject["waived"]] == [("r.x", "jane")]
    assert not decision.allowed
    only = decide(HEADER, [Evaluation(change("a"), (deny("r.x", "a"),))], [w])
    assert only.allowed
    assert only.waivers.applied == (w,)


def test_an_expired_waiver_is_ignored_and_reported() -> None:
    w = waiver("r.x", "production/a", dt.date(2026, 11, 25))
    decision = decide(HEADER, [Evaluation(change("a"), (deny("r.x", "a"),))], [w])
    assert not decision.allowed
    rules = [(v["rule"], v["severity"]) for v in decision.to_json()["subjects"][0]["violations"]]
    assert rules == [("r.x", "deny"), ("waiver.expired", "warn")]


def test_an_unused_waiver_for_an_evaluated_deployment_is_reported() -> None:
    w = waiver("r.x", "production/a", dt.date(2030, 1, 1))
    decision = decide(HEADER, [Evaluation(change("a"))], [w])
    assert decision.allowed
    assert [(f.rule, f.file, f.line) for f in decision.findings] == [
        ("waiver.unused", "fleetgate-waivers.yaml", 2)
    ]
