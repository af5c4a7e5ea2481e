"""``fleetgate policy test --engine opa``: a library's tests under OPA's own evaluator."""

from __future__ import annotations

import os

import pytest

from support_opa import opa_path

from support import GitRepo

FAILS_UNDER_OPA = """package fleetgate.team

import rego.v1

test_a_whole_number_in_a_float_verb if {
\tsprintf("%.1f", [50]) == "50.0"
}
"""


def with_opa(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(opa_path())
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([folder, os.environ.get("PYTHONPATH", "")]))


def test_the_builtin_library_passes_under_opa(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    with_opa(monkeypatch)
    done = repo.fleetgate("policy", "test", "--engine", "opa")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(" passed, 0 failed")


def test_a_test_that_holds_only_on_the_embedded_engine_fails_under_opa(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("policy/team_test.rego", FAILS_UNDER_OPA)
    assert repo.fleetgate("policy", "test", "policy").returncode == 0
    with_opa(monkeypatch)
    done = repo.fleetgate("policy", "test", "policy", "--engine", "opa")
    assert done.returncode == 1
    assert "FAIL  fleetgate.team.test_a_whole_number_in_a_float_verb  policy/team_test.rego:5" in done.stdout


def test_without_the_evaluator_it_says_what_to_install(repo: GitRepo) -> None:
    done = repo.fleetgate("policy", "test", "--engine", "opa")
    assert done.returncode == 2 and done.stdout == ""
    assert "opa_bindings" in done.stderr and "opa-golib-python-bindings" in done.stderr
