"""``fleetgate explain [RULE]``: what a rule asks, why, its thresholds, how to fix or waive it."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from fleetgate.errors import FleetgateError
from fleetgate.policy import PolicyLibrary
from fleetgate.waivers import UNWAIVABLE

__all__ = ["explain_rule", "list_rules"]


def list_rules(library: PolicyLibrary) -> str:
    width = max((len(name) for name in library.rules), default=0)
    return "".join(f"{name.ljust(width)}  {info.title}\n" for name, info in sorted(library.rules.items()))


def explain_rule(library: PolicyLibrary, name: str) -> str:
    """The rule's metadata with the thresholds in force (defaults merged with fleetgate.yaml)."""
    info = library.rules.get(name)
    if info is None:
        raise FleetgateError(f"unknown rule {name!r}{_hint(library, name)}")
    lines = [
        f"{info.name}: {info.title}",
        f"severity: {info.severity}",
        "",
        "Why:",
        f"  {info.description}",
        "",
    ]
    if info.config:
        lines.append("Thresholds (policies.data in fleetgate.yaml overrides them):")
        lines.extend(f"  {key} = {_value(library.data, key)}" for key in info.config)
        lines.append("")
    lines += ["How to fix:", f"  {info.remediation}", ""]
    if name in UNWAIVABLE:
        lines.append("This rule cannot be waived.")
    elif info.severity == "warn":
        lines.append("A warning never blocks a change, so there is nothing to waive.")
    else:
        lines += [
            "To waive it for one deployment, add to fleetgate-waivers.yaml:",
            f"  - rule: {name}",
            "    target: <namespace>/<name>",
            "    reason: <why it must ship anyway>",
            "    approvedBy: <who approved it>",
            "    expires: <YYYY-MM-DD>",
        ]
    return "\n".join(lines) + "\n"


def _hint(library: PolicyLibrary, name: str) -> str:
    family = sorted(rule for rule in library.rules if rule.startswith(f"{name}."))
    if family:  # a rule split into one rule per case, such as evidence.missing per fact
        return f"; it is split into {', '.join(family)}"
    close = difflib.get_close_matches(name, list(library.rules), n=3)
    return f"; did you mean {', '.join(close)}?" if close else "; `fleetgate explain` lists every rule"


def _value(data: Mapping[str, Any], key: str) -> str:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return "(not set)"
        node = node[part]
    return json.dumps(node, separators=(", ", ": "))
