"""``--format json``: the decision document of the contract (apiVersion fleetgate.dev/v1)."""

from __future__ import annotations

from fleetgate.format._finops import finops_view
from fleetgate.format._json_text import indented
from fleetgate.format.interface import Report

__all__ = ["format_json"]


def format_json(report: Report) -> str:
    document = report.decision.to_json()
    finops = finops_view(report.decision)
    if finops is not None:
        document["finops"] = finops  # an added key: what the changes cost across the fleet
    return indented(document) + "\n"
