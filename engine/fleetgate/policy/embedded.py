"""The embedded policy engine: the whole library compiled once, one query per manifest change."""

from __future__ import annotations

from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy._rego import compile_modules, engine_version
from fleetgate.policy.interface import PolicyResult, RawFinding
from fleetgate.policy.library import PolicyLibrary, PolicyModule

__all__ = ["EmbeddedEngine", "gate_module"]

_GATE_PACKAGE = "fleetgate_engine.gate"
_ENTRYPOINT = "fleetgate_engine/gate/findings"


def gate_module(packages: list[str]) -> PolicyModule:
    """One aggregate rule returning ``deny``/``warn`` of every ``fleetgate.*`` package.

    Findings stay grouped by package (so a malformed one can be traced to its source) and each
    package's sets are referenced directly: wrapping every finding into a new set element made
    evaluation measurably slower in the embedded engine.
    """
    lines = [f"package {_GATE_PACKAGE}", "", "import rego.v1", ""]
    entries = []
    for index, package in enumerate(packages):
        for severity in ("deny", "warn"):
            name = f"p{index}_{severity}"
            lines.append(f"default {name} := set()")
            lines.append(f"{name} := data.{package}.{severity}")
        entries.append(f'"{package}": {{"deny": p{index}_deny, "warn": p{index}_warn}}')
    lines.append("findings := {" + ", ".join(entries) + "}")
    return PolicyModule("<gate>", "\n".join(lines) + "\n", _GATE_PACKAGE)


class EmbeddedEngine:
    """Evaluates a :class:`PolicyLibrary` in process with regopy."""

    def __init__(self, library: PolicyLibrary) -> None:
        modules = [m for m in library.modules if not m.is_test]
        packages = sorted(
            {
                m.package
                for m in modules
                if m.package.startswith("fleetgate.") and m.package != "fleetgate.lib"
            }
        )
        self._compiled = compile_modules(
            [*modules, gate_module(packages)], {"fleetgate": {"config": dict(library.data)}}, [_ENTRYPOINT]
        )
        self.evaluations = 0

    @property
    def engine_name(self) -> str:
        return engine_version()

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        self.evaluations += 1
        value = self._compiled.query(_ENTRYPOINT, policy_input)
        if not isinstance(value, dict):
            raise PolicyError("policy evaluation returned no findings (is the library compiled?)")
        findings = [
            _finding(package, severity, item)
            for package, sets in value.items()
            for severity in ("deny", "warn")
            for item in _members(package, severity, sets)
        ]
        return PolicyResult(tuple(sorted(findings, key=_order)))


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
