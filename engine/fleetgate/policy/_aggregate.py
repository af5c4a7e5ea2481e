"""The aggregate rule every engine evaluates, and where the library's data lives.

Any engine, embedded or remote, asks one question per change: ``data.fleetgate_engine.gate.findings``,
which gathers ``deny``/``warn`` of every ``fleetgate.*`` package. Its answer is read back here, so
a malformed finding is refused the same way whichever engine produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy.interface import RawFinding
from fleetgate.policy.library import PolicyModule

__all__ = ["ENTRYPOINT", "GATE_PACKAGE", "findings_of", "gate_module", "gate_packages", "policy_data"]

GATE_PACKAGE = "fleetgate_engine.gate"
ENTRYPOINT = "fleetgate_engine/gate/findings"
"""The aggregate rule as a path: the embedded entrypoint, and the OPA Data API path."""


def policy_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data document: the library's thresholds live at ``data.fleetgate.config``."""
    return {"fleetgate": {"config": dict(data)}}


def gate_packages(modules: Iterable[PolicyModule]) -> list[str]:
    """The packages whose ``deny``/``warn`` make the decision (helpers and tests excluded)."""
    return sorted(
        {
            m.package
            for m in modules
            if not m.is_test and m.package.startswith("fleetgate.") and m.package != "fleetgate.lib"
        }
    )


def gate_module(packages: list[str]) -> PolicyModule:
    """One aggregate rule returning ``deny``/``warn`` of every ``fleetgate.*`` package.

    Findings stay grouped by package (so a malformed one can be traced to its source) and each
    package's sets are referenced directly: wrapping every finding into a new set element made
    evaluation measurably slower in the embedded engine.
    """
    lines = [f"package {GATE_PACKAGE}", "", "import rego.v1", ""]
    entries = []
    for index, package in enumerate(packages):
        for severity in ("deny", "warn"):
            name = f"p{index}_{severity}"
            lines.append(f"default {name} := set()")
            lines.append(f"{name} := data.{package}.{severity}")
        entries.append(f'"{package}": {{"deny": p{index}_deny, "warn": p{index}_warn}}')
    lines.append("findings := {" + ", ".join(entries) + "}")
    return PolicyModule("<gate>", "\n".join(lines) + "\n", GATE_PACKAGE)


def findings_of(value: Any) -> tuple[RawFinding, ...]:
    """The findings of one evaluation of the aggregate rule, in a stable order."""
    if not isinstance(value, dict):
        raise PolicyError("policy evaluation returned no findings (is the library compiled?)")
    findings = [
        _finding(package, severity, item)
        for package, sets in value.items()
        for severity in ("deny", "warn")
        for item in _members(package, severity, sets)
    ]
    return tuple(sorted(findings, key=_order))


def _members(package: str, severity: str, sets: Any) -> list[Any]:
    found = sets.get(severity) if isinstance(sets, dict) else None
    if not isinstance(found, list):
        raise PolicyError(f"package {package}: {severity} must be a set of findings, got {str(found)[:60]}")
    return found


def _finding(package: str, severity: str, raw: Any) -> RawFinding:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("rule"), str)
        or not isinstance(raw.get("msg"), str)
        or not isinstance(raw.get("field", ""), str)
    ):
        raise PolicyError(
            f"package {package} produced a malformed finding {str(raw)[:120]}: "
            'expected {"rule": string, "msg": string, "field": string}'
        )
    return RawFinding(raw["rule"], raw["msg"], raw.get("field", ""), severity, package)


def _order(finding: RawFinding) -> tuple[str, str, str, str]:
    return (finding.severity, finding.rule, finding.field, finding.message)
