"""``--format json``: the decision document of the contract (apiVersion fleetgate.dev/v1)."""

from __future__ import annotations

import json

from fleetgate.format.interface import Report

__all__ = ["format_json"]


def format_json(report: Report) -> str:
    return json.dumps(report.decision.to_json(), indent=2, ensure_ascii=False) + "\n"
