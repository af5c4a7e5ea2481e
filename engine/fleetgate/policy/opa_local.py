"""OPA's own evaluator, in process: the Go ``rego`` package through ``opa_bindings``.

It is what ``fleetgate policy test --engine opa`` runs a library on, the reference the
built-in library is held to in fleetgate's tests, and the check engine ``policies.engine:
opa-golib``: it compiles the library several times faster than the embedded engine and
evaluates each change about twice as fast (``benchmarks/engines.py``). When the bindings cannot
be imported, the error says what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy._aggregate import ENTRYPOINT, findings_of, gate_module, gate_packages, policy_data
from fleetgate.policy.interface import EngineInfo, PolicyResult
from fleetgate.policy.library import PolicyLibrary, PolicyModule

__all__ = ["MISSING", "OpaLocalEngine", "OpaTester", "opa_info"]

MISSING = (
    "OPA's evaluator is not available: the `opa_bindings` module cannot be imported "
    "(pip download --no-deps --only-binary :all: --python-version 3.14 opa-golib-python-bindings, "
    "then unpack the wheel into a folder on PYTHONPATH)"
)


def _bindings() -> Any:
    try:
        return importlib.import_module("opa_bindings")
    except (ImportError, OSError):
        raise PolicyError(MISSING) from None


def opa_info() -> EngineInfo:
    """``opa golib-<version>``: the version of the bindings that embed OPA's evaluator."""
    package = Path(_bindings().__file__).parent
    for info in sorted(package.parent.glob("opa_golib_python_bindings-*.dist-info")):
        return EngineInfo("opa", "golib-" + info.name.removesuffix(".dist-info").rpartition("-")[2])
    return EngineInfo("opa", "golib")


class _Compiled:
    """Modules and data loaded into one OPA engine; errors become :class:`PolicyError`."""

    def __init__(self, modules: Sequence[PolicyModule], data: Any) -> None:
        bindings = _bindings()
        self._error = bindings.OpaError
        self._undefined = bindings.OpaUndefinedError
        self._engine = bindings.OpaEngine()
        try:
            for module in modules:
                self._engine.add_policy(module.path, module.source)
            self._engine.add_data(data)
        except self._error as exc:
            raise PolicyError(f"OPA refused the library: {exc.message}") from None

    def value(self, entrypoint: str, policy_input: Any) -> Any:
        try:
            return self._engine.eval_document(entrypoint.replace("/", "."), policy_input)
        except self._undefined:
            return None
        except self._error as exc:
            raise PolicyError(f"OPA evaluation of {entrypoint} failed: {exc.message}") from None


class OpaLocalEngine:
    """The gate's aggregate rule evaluated by OPA, in process."""

    def __init__(self, library: PolicyLibrary) -> None:
        modules = [m for m in library.modules if not m.is_test]
        self._compiled = _Compiled([*modules, gate_module(gate_packages(modules))], policy_data(library.data))

    @property
    def info(self) -> EngineInfo:
        return opa_info()

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        return PolicyResult(findings_of(self._compiled.value(ENTRYPOINT, policy_input)))

    def evaluate_many(self, inputs: Sequence[dict[str, Any]], jobs: int) -> list[PolicyResult]:
        # One process: a child forked from a process running Go's runtime hangs (its threads do
        # not survive the fork), and OPA's engine serializes evaluations behind one lock anyway.
        return [self.evaluate(policy_input) for policy_input in inputs]


class OpaTester:
    """The whole library, tests included, loaded into OPA for ``fleetgate policy test``."""

    def __init__(self, library: PolicyLibrary) -> None:
        self._compiled = _Compiled(list(library.modules), policy_data(library.data))

    @property
    def info(self) -> EngineInfo:
        return opa_info()

    def value(self, entrypoint: str) -> Any:
        return self._compiled.value(entrypoint, {})
