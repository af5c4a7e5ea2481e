"""The embedded policy engine: the whole library compiled once, one query per manifest change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fleetgate.parallel import map_in_workers
from fleetgate.policy._aggregate import ENTRYPOINT, findings_of, gate_module, gate_packages, policy_data
from fleetgate.policy._rego import compile_modules, regopy_version
from fleetgate.policy.interface import EngineInfo, PolicyResult
from fleetgate.policy.library import PolicyLibrary

__all__ = ["EmbeddedEngine", "EmbeddedTester"]


def _info() -> EngineInfo:
    return EngineInfo("regopy", regopy_version())


class EmbeddedEngine:
    """Evaluates a :class:`PolicyLibrary` in process with regopy."""

    def __init__(self, library: PolicyLibrary) -> None:
        modules = [m for m in library.modules if not m.is_test]
        self._compiled = compile_modules(
            [*modules, gate_module(gate_packages(modules))], policy_data(library.data), [ENTRYPOINT]
        )
        self.evaluations = 0

    @property
    def info(self) -> EngineInfo:
        return _info()

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        self.evaluations += 1
        return PolicyResult(findings_of(self._compiled.query(ENTRYPOINT, policy_input)))

    def evaluate_many(self, inputs: Sequence[dict[str, Any]], jobs: int) -> list[PolicyResult]:
        """Large runs fork workers that inherit the compiled library and the inputs."""
        return map_in_workers(self.evaluate, inputs, jobs)


class EmbeddedTester:
    """The whole library, tests included, compiled once for ``fleetgate policy test``."""

    def __init__(self, library: PolicyLibrary, entrypoints: Sequence[str]) -> None:
        self._compiled = compile_modules(list(library.modules), policy_data(library.data), entrypoints)

    @property
    def info(self) -> EngineInfo:
        return _info()

    def value(self, entrypoint: str) -> Any:
        return self._compiled.query(entrypoint, {})
