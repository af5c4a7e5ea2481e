"""``fleetgate explain`` knows every rule a report can name, including the engine's own."""

from __future__ import annotations

import pytest

from support import GitRepo


@pytest.mark.parametrize("rule", ["waiver.expired", "waiver.unused"])
def test_the_waiver_findings_are_explained(repo: GitRepo, rule: str) -> None:
    done = repo.fleetgate("explain", rule)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{rule}: ")
    assert "severity: warn" in done.stdout
    assert "nothing to waive" in done.stdout
    assert f"rule: {rule}" not in done.stdout


def test_every_rule_a_decision_can_name_is_listed(repo: GitRepo) -> None:
    listed = {line.split()[0] for line in repo.fleetgate("explain").stdout.splitlines()}
    assert {"schema.invalid", "waiver.expired", "waiver.unused", "evidence.missing.fairness"} <= listed


def test_the_former_evidence_missing_rule_names_its_per_fact_rules(repo: GitRepo) -> None:
    done = repo.fleetgate("explain", "evidence.missing")
    assert done.returncode == 2
    assert "it is split into evidence.missing.artifact, evidence.missing.cost" in done.stderr


def test_a_per_fact_rule_shows_the_waiver_for_that_fact_only(repo: GitRepo) -> None:
    done = repo.fleetgate("explain", "evidence.missing.signature")
    assert done.returncode == 0, done.stderr
    assert "  - rule: evidence.missing.signature\n" in done.stdout
