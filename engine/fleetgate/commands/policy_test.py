"""``fleetgate policy test [DIR]``: run the ``test_*`` rules of a policy library."""

from __future__ import annotations

from pathlib import Path

from fleetgate.errors import PolicyError
from fleetgate.policy import builtin_policy_dir, load_library
from fleetgate.policy.testing import TestOutcome, run_policy_tests

__all__ = ["run_policy_test"]


def run_policy_test(
    directory: Path | None, with_builtin: bool = False, engine: str = "embedded"
) -> list[TestOutcome]:
    """Run the tests of ``directory`` (default: the built-in library).

    A repository's own policy directory usually builds on the built-in helpers
    (``fleetgate.lib``); ``with_builtin`` loads the built-in library underneath it. ``engine``
    names the evaluator (``opa``: OPA's own, see :mod:`fleetgate.policy.opa_local`).
    """
    target = directory if directory is not None else builtin_policy_dir()
    if not target.is_dir():
        raise PolicyError(f"{target}: policy directory not found")
    dirs = [target]
    underneath = with_builtin and target.resolve() != builtin_policy_dir().resolve()
    if underneath:
        dirs.insert(0, builtin_policy_dir())
    return run_policy_tests(load_library(dirs, root=Path.cwd()), not underneath, engine)
