"""What the decision log says was admitted to deploy: when this rung of this artifact was first
admitted (the bake clock), and the last other artifact admitted (a rollback's target).

When a decision log is configured it is the better clock than git: a merge is not a deployment,
and the log records the pre-deploy admission itself. The first admitted pre-deploy record whose
manifest has the same artifact (``rollout.newArtifactFields``) at the same rung starts the bake.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fleetgate.audit.store.interface import DecisionLog, QueryFilter
from fleetgate.telemetry.fields import identity_of, part

__all__ = ["first_admitted", "last_admitted"]

# The newest admissions of one deployment; a rung older than this many deploys has long baked.
_LIMIT = 1000


def first_admitted(
    log: DecisionLog, deployed: Mapping[str, Any], fields: Sequence[str], rung: Any
) -> dt.datetime | None:
    """The time of the first admitted pre-deploy record of ``deployed``'s artifact at ``rung``."""
    (namespace, name), spec = identity_of(deployed), part(deployed, "spec")
    wanted = QueryFilter(
        namespace=namespace,
        name=name,
        stage="pre-deploy",
        decision="admit",
        kinds=("decision",),
    )
    found = [
        record.timestamp
        for record in log.query(wanted, limit=_LIMIT)
        if _same_rung(_recorded_spec(record.body), spec, fields, rung)
    ]
    if not found:
        return None
    return dt.datetime.fromisoformat(min(found).replace("Z", "+00:00"))


def last_admitted(
    log: DecisionLog, deployed: Mapping[str, Any], fields: Sequence[str]
) -> Mapping[str, Any] | None:
    """The manifest spec of the newest admitted pre-deploy record of ``deployed`` whose artifact
    differs from ``deployed``'s: the version a rollback returns to."""
    (namespace, name), spec = identity_of(deployed), part(deployed, "spec")
    wanted = QueryFilter(
        namespace=namespace, name=name, stage="pre-deploy", decision="admit", kinds=("decision",)
    )
    offset = 0
    while True:
        page = log.query(wanted, limit=_LIMIT, offset=offset)  # newest first
        for record in page:
            recorded = _recorded_spec(record.body)
            if recorded and any(recorded.get(f) != spec.get(f) for f in fields):
                return recorded
        if len(page) < _LIMIT:
            return None
        offset += _LIMIT


def _recorded_spec(body: bytes) -> Mapping[str, Any]:
    try:
        spec = json.loads(body)["input"]["manifest"]["spec"]
    except (ValueError, KeyError, TypeError):
        return {}
    return spec if isinstance(spec, dict) else {}


def _same_rung(
    recorded: Mapping[str, Any], spec: Mapping[str, Any], fields: Sequence[str], rung: Any
) -> bool:
    strategy = recorded.get("updateStrategy")
    percentage = strategy.get("rolloutPercentage") if isinstance(strategy, dict) else None
    return bool(recorded) and percentage == rung and all(recorded.get(f) == spec.get(f) for f in fields)
