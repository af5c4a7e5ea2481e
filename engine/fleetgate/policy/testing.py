"""``fleetgate policy test``: run every ``test_*`` rule of a policy library, like ``opa test``.

Tests are discovered here, whichever engine runs them (``--engine``): every rule whose name
starts with ``test_`` in any module. A test passes when it evaluates to ``true``; undefined or
false fails; an evaluation error is reported as an error (and fails the run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from fleetgate.errors import PolicyError
from fleetgate.policy.engines import DEFAULT_ENGINE, build_tester
from fleetgate.policy.library import BUILTIN_LABEL, PolicyLibrary

__all__ = ["PolicyTest", "TestOutcome", "discover_tests", "run_policy_tests"]

_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\s*(?:if\b|:?=|\{)", re.M)
_FLEETGATE_IMPORT = re.compile(r"^[ \t]*import[ \t]+data\.(fleetgate(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", re.M)

Outcome = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class PolicyTest:
    package: str
    name: str
    file: str
    line: int

    @property
    def entrypoint(self) -> str:
        return f"{self.package.replace('.', '/')}/{self.name}"


@dataclass(frozen=True)
class TestOutcome:
    test: PolicyTest
    outcome: Outcome
    detail: str = ""


def discover_tests(library: PolicyLibrary) -> list[PolicyTest]:
    """Every distinct ``test_*`` rule, in file order (a rule split over bodies counts once)."""
    found: dict[tuple[str, str], PolicyTest] = {}
    for module in library.modules:
        for match in _TEST_RULE.finditer(module.source):
            key = (module.package, match.group(1))
            found.setdefault(
                key, PolicyTest(module.package, match.group(1), module.path, module.line_at(match.start()))
            )
    return list(found.values())


def run_policy_tests(
    library: PolicyLibrary, builtin_tests: bool = True, engine: str = DEFAULT_ENGINE
) -> list[TestOutcome]:
    """Compile the whole library (tests included) once with ``engine`` and evaluate each test rule.

    ``builtin_tests=False`` loads the built-in library (its helpers) but runs only the tests of
    the other directories: a team testing its own policies sees only its own results.
    """
    tests = [t for t in discover_tests(library) if builtin_tests or not t.file.startswith(BUILTIN_LABEL)]
    if not tests:
        return []
    _check_imports(library)
    tester = build_tester(engine, library, [t.entrypoint for t in tests])
    outcomes: list[TestOutcome] = []
    for test in tests:
        try:
            value = tester.value(test.entrypoint)
        except PolicyError as exc:
            outcomes.append(TestOutcome(test, "error", exc.message))
            continue
        if value is True:
            outcomes.append(TestOutcome(test, "pass"))
        else:
            outcomes.append(
                TestOutcome(test, "fail", "undefined" if value is None else f"evaluated to {value!r}")
            )
    return outcomes


def _check_imports(library: PolicyLibrary) -> None:
    """Name the missing package when a module imports one no loaded module defines.

    The engine reports that only as "compile error" at the first use. The usual cause is a
    repository's policies tested without the built-in library whose helpers they import.
    """
    packages = {m.package for m in library.modules}
    builtin = any(m.path.startswith(BUILTIN_LABEL) for m in library.modules)
    for module in library.modules:
        for found in _FLEETGATE_IMPORT.finditer(module.source):
            name = found.group(1)
            if name == "fleetgate.config" or name.startswith("fleetgate.config."):
                continue  # thresholds: data, not a package
            if any(p == name or p.startswith(f"{name}.") or name.startswith(f"{p}.") for p in packages):
                continue
            hint = (
                ""
                if builtin
                else (
                    "; the built-in library defines data.fleetgate.* helpers such as data.fleetgate.lib: "
                    "run `fleetgate policy test DIR --with-builtin` to load it underneath"
                )
            )
            raise PolicyError(
                f"{module.path}:{module.line_at(found.start())}: imports data.{name}, "
                f"which no loaded policy module defines{hint}"
            )
