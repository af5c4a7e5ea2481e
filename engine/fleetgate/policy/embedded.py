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
    """One aggregate rule collecting ``deny``/``warn`` of every ``fleetgate.*`` package.

    Each finding is tagged with its package, so a malformed finding can be traced to its source.
    """
    lines = [f"package {_GATE_PACKAGE}", "", "import rego.v1", ""]
    for package in packages:
        for severity in ("deny", "warn"):
            lines.append(
                f'findings contains {{"package": "{package}", "severity": "{severity}", "finding": f}} '
                f"if some f in data.{package}.{severity}"
            )
    if not packages:
        lines.append("findings := set()")
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
        if not isinstance(value, list):
            raise PolicyError("policy evaluation returned no findings set (is the library compiled?)")
        return PolicyResult(tuple(sorted((_finding(item) for item in value), key=_order)))


def _finding(item: Any) -> RawFinding:
    package = item.get("package", "?") if isinstance(item, dict) else "?"
    raw = item.get("finding") if isinstance(item, dict) else None
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
    return RawFinding(raw["rule"], raw["msg"], raw.get("field", ""), item["severity"], package)


def _order(finding: RawFinding) -> tuple[str, str, str, str]:
    return (finding.severity, finding.rule, finding.field, finding.message)
