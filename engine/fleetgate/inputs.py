"""Build the policy input for one manifest change (SPEC: policy input). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.changes import GitContext, ManifestChange

__all__ = ["ABSENT", "for_policies", "policy_input"]

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


def for_policies(facts: Mapping[str, Any]) -> dict[str, Any]:
    """``facts`` without each fact's ``report`` part (breakdowns kept for people and the log).

    The embedded engine's evaluation time grows with the size of its input, read or not, so a
    fact that carries a large breakdown (the cost fact's regions and segments) keeps it apart.
    """
    return {
        name: {k: v for k, v in fact.items() if k != "report"}
        if isinstance(fact, Mapping) and "report" in fact
        else fact
        for name, fact in facts.items()
    }
