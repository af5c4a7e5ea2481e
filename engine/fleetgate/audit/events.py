"""Build audit records from a decision (one per deployment) and from overrides. Pure: no I/O.

A record follows OPA's decision log event (``decision_id``, ``timestamp``, ``path``, ``input``,
``result``, ``bundles``, ``labels``, ``erased``, ``masked``) so existing decision-log tooling can
read it, plus fleetgate's own fields: stage, deployment, model, artifact, signer, commits and
the waivers applied. Fields named by the configured JSON pointers are erased from the input
before the record is hashed, so they never reach the log.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fleetgate import __version__
from fleetgate.audit.ledger import projected_cost
from fleetgate.audit.record import record_columns
from fleetgate.audit.store.interface import AuditError, PendingRecord
from fleetgate.decision import Decision, Subject

__all__ = ["erase", "override_record", "records_for", "remediation_record"]

_ID_NAMESPACE = uuid.UUID("6f1e2a4c-9b7d-4c3e-8a5f-2d1b0c9e7a63")


def records_for(decision: Decision, erase_pointers: Sequence[str] = ()) -> list[PendingRecord]:
    """One record per subject of ``decision``, each with its own stable ``decision_id``."""
    return [_subject_record(decision, subject, erase_pointers) for subject in decision.subjects]


def _subject_record(decision: Decision, subject: Subject, erase_pointers: Sequence[str]) -> PendingRecord:
    record_id = str(uuid.uuid5(_ID_NAMESPACE, f"{decision.decision_id}/{subject.target}"))
    evidence = dict(subject.evidence)
    artifact = evidence.get("artifact") if isinstance(evidence.get("artifact"), str) else None
    signer = evidence.get("signer") if isinstance(evidence.get("signer"), str) else None
    policy_input, erased = erase({"input": dict(subject.policy_input or {})}, erase_pointers)
    verdict = "admit" if subject.allowed else "deny"
    document: dict[str, Any] = {
        "decision_id": record_id,
        "timestamp": decision.timestamp,
        "path": "fleetgate/gate",
        "input": policy_input["input"],
        "result": {
            "allowed": subject.allowed,
            "violations": [f.to_json() for f in subject.violations],
            "waived": [f.to_json() for f in subject.waived],
        },
        "bundles": {"fleetgate": {"revision": decision.policy_revision}},
        "labels": {"engine": decision.engine, "fleetgate": __version__},
        "erased": erased,
        "masked": [],
        "kind": "decision",
        "gate_decision_id": decision.decision_id,
        "stage": decision.stage,
        "decision": verdict,
        **subject.describe(),
        "artifact": artifact,
        "signer": signer,
        "commits": {
            "head": decision.context.get("head_commit"),
            "base": decision.context.get("base_commit"),
            "repo": decision.context.get("repo"),
        },
        "waivers": [f.waiver.to_json() for f in subject.waived if f.waiver is not None],
    }
    # The projected cost is the ledger entry the window envelopes sum (audit/ledger.py).
    cost = projected_cost(subject.policy_input)
    if cost is not None:
        document["cost"] = cost
    return PendingRecord(document=document, **record_columns(document).columns())


def override_record(
    denied: Mapping[str, Any], by: str, reason: str, ticket: str, timestamp: str
) -> PendingRecord:
    """A new event that overrides a denied record: who, why, which ticket. Nothing is edited."""
    if denied.get("decision") != "deny":
        raise AuditError(f"record {denied.get('decision_id')} is not a deny; only denies can be overridden")
    record_id = str(uuid.uuid4())
    document = {
        "decision_id": record_id,
        "timestamp": timestamp,
        "path": "fleetgate/override",
        "kind": "override",
        "overrides": denied.get("decision_id"),
        "stage": denied.get("stage"),
        "decision": "override",
        "namespace": denied.get("namespace"),
        "name": denied.get("name"),
        "modelId": denied.get("modelId"),
        "version": denied.get("version"),
        "artifact": denied.get("artifact"),
        "signer": denied.get("signer"),
        "by": by,
        "reason": reason,
        "ticket": ticket,
        "bundles": denied.get("bundles", {}),
        "labels": {"fleetgate": __version__},
        "erased": [],
        "masked": [],
    }
    return PendingRecord(document=document, **record_columns(document).columns())


def remediation_record(watched: Mapping[str, Any], ref: str, branch: str, timestamp: str) -> PendingRecord:
    """A ``remediation`` event: what ``fleetgate watch`` found about one deployment and the change
    it wrote (``watched``: the deployment entry of the watch report, with its remediation)."""
    namespace, _, name = str(watched["target"]).partition("/")
    document = {
        "decision_id": str(uuid.uuid4()),
        "timestamp": timestamp,
        "path": "fleetgate/watch",
        "kind": "remediation",
        "decision": "remediation",
        "stage": "watch",
        "namespace": namespace,
        "name": name,
        "version": watched.get("version"),
        "deployed": ref,
        "branch": branch,
        "remediation": watched.get("remediation"),
        "breaches": watched.get("breaches", []),
        "labels": {"fleetgate": __version__},
        "erased": [],
        "masked": [],
    }
    return PendingRecord(
        document=document,
        decision_id=document["decision_id"],
        timestamp=timestamp,
        stage="watch",
        kind="remediation",
        decision="remediation",
        namespace=namespace,
        name=name,
        version=watched.get("version"),
    )


def erase(document: Mapping[str, Any], pointers: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``document`` without the values at ``pointers`` (RFC 6901); the pointers erased."""
    result = copy.deepcopy(dict(document))
    erased: list[str] = []
    for pointer in pointers:
        if not pointer.startswith("/"):
            raise AuditError(f"mask {pointer!r} is not a JSON pointer (it must start with '/')")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        node: Any = result
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            del node[parts[-1]]
            erased.append(pointer)
    return result, erased
