from __future__ import annotations

import datetime as dt
import json

import pytest

from fleetgate.audit.events import erase, override_record, records_for
from fleetgate.audit.record import seal
from fleetgate.audit.store.interface import AuditError
from fleetgate.changes import ManifestChange
from fleetgate.decision import DecisionHeader, Evaluation, Finding, decide
from fleetgate.waivers import Waiver

from support import manifest, read_one

HEADER = DecisionHeader(
    "7d2a1f0e-3b4c-4d5e-8f60-718293a4b5c6",
    dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC),
    "pre-deploy",
    "sha256:" + "ab" * 32,
    "regopy 1.5.2",
    {"head_commit": "h" * 40, "base_commit": "b" * 40, "repo": "/r"},
)


def sample() -> list[object]:
    a, b = read_one("a"), read_one("b")
    waiver = Waiver("cost.threads", "production/b", "perf", "ops", dt.date(2030, 1, 1), "w.yaml", 2)
    deny = Finding("rollout.ladder", "deny", "7 % is not a rung", "models/a.yaml", 17, "spec.x")
    waived = Finding("cost.threads", "deny", "8 > 4", "models/b.yaml", 20, "spec.y")
    secret = {
        "manifest": {**manifest("a"), "metadata": {"name": "a", "annotations": {"owner": "x@example.com"}}}
    }
    evaluations = [
        Evaluation(ManifestChange("added", a, None), (deny,), {"artifact": "sha256:" + "cd" * 32}, secret),
        Evaluation(ManifestChange("modified", b, b), (waived,), {}, {"manifest": manifest("b")}),
    ]
    return records_for(decide(HEADER, evaluations, [waiver]), ["/input/manifest/metadata/annotations"])


def test_one_record_per_deployment_with_indexed_columns() -> None:
    first, second = sample()
    assert (first.namespace, first.name, first.decision, first.stage) == (
        "production",
        "a",
        "deny",
        "pre-deploy",
    )
    assert first.artifact_digest == "sha256:" + "cd" * 32
    assert first.rules == ("rollout.ladder",) and first.policy_revision == HEADER.policy_revision
    assert second.decision == "admit" and second.rules == ("cost.threads",)
    assert first.decision_id != second.decision_id
    # The record id is stable for a given decision and deployment.
    assert first.decision_id == sample()[0].decision_id


def test_documents_follow_the_opa_decision_log_shape_and_erase_before_hashing() -> None:
    first, second = sample()
    document = first.document
    for key in (
        "decision_id",
        "timestamp",
        "path",
        "input",
        "result",
        "bundles",
        "labels",
        "erased",
        "masked",
    ):
        assert key in document
    assert document["erased"] == ["/input/manifest/metadata/annotations"]
    body, _ = seal(document, 0)
    assert b"x@example.com" not in body
    assert json.loads(body)["seq"] == 0
    assert second.document["waivers"][0]["approvedBy"] == "ops"
    assert document["commits"] == {"head": "h" * 40, "base": "b" * 40, "repo": "/r"}


def test_seal_is_canonical_and_binds_the_sequence_number() -> None:
    first, _ = sample()
    body0, leaf0 = seal(first.document, 0)
    body1, leaf1 = seal(first.document, 1)
    assert body0 != body1 and leaf0 != leaf1
    assert seal(dict(reversed(list(first.document.items()))), 0) == (body0, leaf0)


def test_override_is_a_new_event_and_only_for_denies() -> None:
    first, second = sample()
    denied = json.loads(seal(first.document, 3)[0])
    override = override_record(denied, "jane", "hotfix", "OPS-1", "2026-11-27T00:00:00Z")
    assert override.kind == "override" and override.document["overrides"] == first.decision_id
    assert override.document["by"] == "jane" and override.decision_id != first.decision_id
    with pytest.raises(AuditError, match="only denies can be overridden"):
        override_record(json.loads(seal(second.document, 4)[0]), "jane", "r", "t", "now")


def test_erase_ignores_absent_paths_and_refuses_non_pointers() -> None:
    result, erased = erase({"input": {"a": {"b": 1}}}, ["/input/a/b", "/input/zz"])
    assert result == {"input": {"a": {}}} and erased == ["/input/a/b"]
    with pytest.raises(AuditError, match="not a JSON pointer"):
        erase({}, ["input/a"])
