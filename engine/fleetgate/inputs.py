"""Build the policy input for one manifest change (SPEC: policy input). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.changes import GitContext, ManifestChange

__all__ = ["ABSENT", "policy_input"]

ABSENT = "absent"
"""The key under a deployment's facts where the evidence stage says why facts are missing; the
policy input carries it as ``input.absent`` (``{fact: reason}``), beside the facts, never as one."""


def policy_input(
    change: ManifestChange, stage: str, facts: Mapping[str, Any], context: GitContext
) -> dict[str, Any]:
    """The document every policy sees as ``input``.

    A fact that was not gathered is absent from ``facts`` (never faked), so policies can tell
    "not measured" from "measured and fine".
    """
    gathered = {k: v for k, v in facts.items() if k != ABSENT}
    document = {
        "stage": stage,
        "change": change.kind,
        "manifest": change.manifest.body,
        "previous": change.base.body if change.base is not None else None,
        "diff": [c.to_json() for c in change.field_changes()],
        "facts": gathered,
        "context": context.to_json(),
    }
    if ABSENT in facts:
        document[ABSENT] = dict(facts[ABSENT])
    return document
