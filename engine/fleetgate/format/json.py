"""``--format json``: the decision document of the contract (apiVersion fleetgate.dev/v1)."""

from __future__ import annotations

import json

from fleetgate.decision import Decision

__all__ = ["format_json"]


def format_json(decision: Decision) -> str:
    return json.dumps(decision.to_json(), indent=2, ensure_ascii=False) + "\n"
