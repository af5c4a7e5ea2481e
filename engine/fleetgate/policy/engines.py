"""The policy engines a check or a test run can use, chosen by name (``policies.engine``).

Engines import lazily: a check on the embedded engine never loads an HTTP client, and the
OPA evaluator used by ``policy test --engine opa`` loads only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy.interface import PolicyEngine, PolicyTester
from fleetgate.policy.library import PolicyLibrary

__all__ = ["DEFAULT_ENGINE", "ENGINES", "TESTERS", "build_engine", "build_tester"]

DEFAULT_ENGINE = "embedded"


def _embedded(library: PolicyLibrary, settings: Mapping[str, Any]) -> PolicyEngine:
    from fleetgate.policy.embedded import EmbeddedEngine

    return EmbeddedEngine(library)


def _opa_golib(library: PolicyLibrary, settings: Mapping[str, Any]) -> PolicyEngine:
    from fleetgate.policy.opa_local import OpaLocalEngine

    return OpaLocalEngine(library)


def _opa_server(library: PolicyLibrary, settings: Mapping[str, Any]) -> PolicyEngine:
    from fleetgate.policy.opa_server import OpaServerEngine

    return OpaServerEngine(library, settings)


def _embedded_tester(library: PolicyLibrary, entrypoints: Sequence[str]) -> PolicyTester:
    from fleetgate.policy.embedded import EmbeddedTester

    return EmbeddedTester(library, entrypoints)


def _opa_tester(library: PolicyLibrary, entrypoints: Sequence[str]) -> PolicyTester:
    from fleetgate.policy.opa_local import OpaTester

    return OpaTester(library)


ENGINES: dict[str, Callable[[PolicyLibrary, Mapping[str, Any]], PolicyEngine]] = {
    "embedded": _embedded,
    "opa": _opa_server,
    "opa-golib": _opa_golib,
}
"""Decision engines: in process (regopy, or OPA's own Go evaluator), or a remote OPA server's Data API."""

TESTERS: dict[str, Callable[[PolicyLibrary, Sequence[str]], PolicyTester]] = {
    "embedded": _embedded_tester,
    "opa": _opa_tester,
}
"""Test runners: in process, or OPA's own evaluator (an ``opa`` binary or OPA's Go library)."""


def build_engine(
    name: str, library: PolicyLibrary, settings: Mapping[str, Any] | None = None
) -> PolicyEngine:
    return ENGINES[_known(name, ENGINES)](library, settings or {})


def build_tester(name: str, library: PolicyLibrary, entrypoints: Sequence[str]) -> PolicyTester:
    return TESTERS[_known(name, TESTERS)](library, entrypoints)


def _known(name: str, registry: Mapping[str, object]) -> str:
    if name not in registry:
        raise PolicyError(f"unknown policy engine {name!r} (expected one of {', '.join(sorted(registry))})")
    return name
