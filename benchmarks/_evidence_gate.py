"""A fleetgate check of one model repository, run as a user runs it, and what it measured."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _evidence_common import fail
from _evidence_fixtures import MANIFEST_FILE, ModelRepository
from run import child_environment, fleetgate, run_child

from fleetgate import __version__
from fleetgate.commands.check import evidence_cache_dir
from fleetgate.evidence.cache import FactCache, cache_secret

__all__ = ["Accept", "Gate", "a_number", "gate_environment", "measured", "measured_fairness"]


@dataclass(frozen=True)
class Gate:
    """Runs ``fleetgate check models`` in one repository and reads what it decided."""

    repo: ModelRepository
    tmp: Path
    env: Mapping[str, str]

    @property
    def cache(self) -> Path:
        return evidence_cache_dir(self.repo.root)

    @property
    def report(self) -> Path:
        return self.tmp / f"decision-{self.repo.root.name}.json"

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def run(self, facts: str, *extra: str) -> tuple[float, dict[str, Any]]:
        """(wall seconds, the subject's evidence summary) of one check."""
        # A pull request (--base) is checked as a whole; otherwise the models folder is.
        paths = [] if "--base" in extra else ["models"]
        argv = [*fleetgate(), "check", *paths, "--no-audit", "--quiet", "--format", "json"]
        argv += ["--output", str(self.report), "--evidence", facts, *extra]
        wall, _, _ = run_child(argv, self.repo.root, dict(self.env))
        decision = json.loads(self.report.read_text(encoding="utf-8"))
        subjects = decision["subjects"]
        if len(subjects) != 1 or subjects[0]["file"] != MANIFEST_FILE:
            fail(f"expected one subject from {MANIFEST_FILE}, got {[s.get('file') for s in subjects]}")
        return wall, dict(subjects[0]["evidence"])

    def denied_rules(self) -> list[str]:
        """The rules that denied the subject in the last run's decision."""
        decision = json.loads(self.report.read_text(encoding="utf-8"))
        return [v["rule"] for v in decision["subjects"][0].get("violations", [])]

    def cached_fact(self, name: str) -> dict[str, Any] | None:
        """The one cached fact of collector ``name`` (the decision shows only a summary).

        Entries are authenticated with the per-user secret of the gate's own environment
        (``XDG_CONFIG_HOME``), read here through the cache itself.
        """
        secret = cache_secret(Path(self.env["XDG_CONFIG_HOME"]) / "fleetgate")
        facts = FactCache(self.cache, __version__, secret=secret).stored(name)
        return facts[0] if len(facts) == 1 and secret is not None else None


def gate_environment(tmp: Path) -> dict[str, str]:
    """The checks' environment: the fact cache's secret is private to this run."""
    return {**child_environment(tmp), "XDG_CONFIG_HOME": str(tmp / "config")}


Accept = Callable[[Any], bool]


def a_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def measured_fairness(value: Any) -> bool:
    return isinstance(value, str) and value == "measured"


def measured(summary: Mapping[str, Any], key: str, accept: Accept) -> Any:
    """``summary[key]``, which must have been measured: an absent or failed fact stops the run.

    A benchmark that timed a collector failing fast would report a fine number for nothing.
    """
    value = summary.get(key)
    if not accept(value):
        fail(f"the check did not measure {key}: evidence summary {json.dumps(summary)}")
    return value
