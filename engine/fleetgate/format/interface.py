"""What every output format receives, and the shape of a formatter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fleetgate.decision import Decision
from fleetgate.policy.library import RuleInfo

__all__ = ["Formatter", "Report"]


@dataclass(frozen=True)
class Report:
    """One decision plus what formats need to explain it.

    ``rules`` is the metadata of the policy library that produced the decision (titles, why,
    how to fix), so machine formats such as SARIF can describe every rule they mention.
    ``evidence_off`` says the run gathered no evidence (``--evidence none``), so the formats say
    that once instead of one ``evidence.missing`` warning per fact; ``job_summary`` says the CLI
    also writes the GitHub job summary (it runs in GitHub Actions).
    """

    decision: Decision
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)
    colour: bool = False
    evidence_off: bool = False
    job_summary: bool = False


Formatter = Callable[[Report], str]
"""Render a report as the text of one output file (or stdout)."""
