"""What the gate needs from a policy engine, whichever engine it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["PolicyEngine", "PolicyResult", "RawFinding"]


@dataclass(frozen=True)
class RawFinding:
    """A finding as a policy produced it: ``field`` is a manifest path, not yet a line."""

    rule: str
    message: str
    field: str
    severity: str  # "deny" | "warn"
    package: str


@dataclass(frozen=True)
class PolicyResult:
    findings: tuple[RawFinding, ...]


class PolicyEngine(Protocol):
    """Compiles a policy library once, then evaluates one input per manifest change."""

    @property
    def engine_name(self) -> str: ...

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        """Evaluate every ``deny``/``warn`` rule; raise :class:`PolicyError` on any engine error."""
        ...
