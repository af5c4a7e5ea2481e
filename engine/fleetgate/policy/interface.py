"""What the gate needs from a policy engine, whichever engine it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["EngineInfo", "PolicyEngine", "PolicyResult", "PolicyRevision", "PolicyTester", "RawFinding"]


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


@dataclass(frozen=True)
class EngineInfo:
    """Which evaluator decided: ``regopy 1.5.2``, ``opa 1.4.0``."""

    name: str
    version: str

    @property
    def label(self) -> str:
        """The decision document's ``policy.engine``."""
        return f"{self.name} {self.version}" if self.version else self.name

    @classmethod
    def of_label(cls, label: str) -> EngineInfo:
        """The inverse of :attr:`label`, for a decision read back from the log."""
        name, _, version = label.partition(" ")
        return cls(name, version)


@dataclass(frozen=True)
class PolicyRevision:
    """Which policies decided.

    ``digest`` (``sha256:<hex>``) covers every module and the merged data, whatever their source;
    a signed OPA bundle adds the revision its ``.manifest`` names and the key that signed it.
    """

    digest: str
    bundle_revision: str | None = None
    signer: str | None = None


class PolicyEngine(Protocol):
    """Compiles a policy library once, then evaluates one input per manifest change."""

    @property
    def info(self) -> EngineInfo: ...

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        """Evaluate every ``deny``/``warn`` rule; raise :class:`PolicyError` on any engine error."""
        ...

    def evaluate_many(self, inputs: Sequence[dict[str, Any]], jobs: int) -> list[PolicyResult]:
        """``[evaluate(i) for i in inputs]``, with the engine's own concurrency (at most ``jobs``
        workers where the engine computes locally); the first failure fails the whole batch."""
        ...


class PolicyTester(Protocol):
    """A library compiled with its ``*_test.rego`` modules, for ``fleetgate policy test``."""

    @property
    def info(self) -> EngineInfo: ...

    def value(self, entrypoint: str) -> Any:
        """The value of the rule at ``entrypoint`` (``pkg/path/rule``), ``None`` when undefined;
        :class:`PolicyError` on an evaluation error."""
        ...
