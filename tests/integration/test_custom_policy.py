"""A repository's own policy folder, taken verbatim from docs/writing-policies.md."""

from __future__ import annotations

import re
from pathlib import Path

from support import GitRepo, line_of, manifest, to_yaml, violations

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-policies.md"


def doc_files() -> dict[str, str]:
    """Every ``path``: followed by a fenced block in the guide."""
    text = DOC.read_text()
    found = re.findall(r"^`(policy/[^`]+)`:\n\n```\w+\n(.*?)```", text, re.M | re.S)
    return dict(found)


def test_the_guide_has_the_three_files() -> None:
    assert set(doc_files()) == {
        "policy/ownership/ownership.rego",
        "policy/ownership/ownership_test.rego",
        "policy/ownership/rules.yaml",
    }


def test_the_example_policy_tests_pass_with_the_builtin_helpers(repo: GitRepo) -> None:
    for path, text in doc_files().items():
        repo.write(path, text)
    done = repo.fleetgate("policy", "test", "policy", "--with-builtin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")
    alone = repo.fleetgate("policy", "test", "policy")
    assert alone.returncode == 2  # lib.finding is undefined without the built-in library
    assert "policy/ownership/ownership.rego:5: imports data.fleetgate.lib" in alone.stderr
    assert "--with-builtin" in alone.stderr


def test_the_example_policy_adds_a_located_finding_to_the_gate(repo: GitRepo) -> None:
    for path, text in doc_files().items():
        repo.write(path, text)
    repo.write("fleetgate.yaml", "manifests: ['models/**/*.yaml']\npolicies:\n  dirs: [policy]\n")
    repo.commit("gate configuration")
    labelled = manifest("labelled")
    labelled["metadata"]["labels"] = {"team": "vision"}
    text = to_yaml(manifest("unlabelled"))
    repo.write("models/unlabelled.yaml", text)
    repo.write("models/labelled.yaml", to_yaml(labelled))
    code, decision = repo.decision()
    assert code == 1
    [finding] = violations(decision, "ownership.team-label")
    assert finding["file"] == "models/unlabelled.yaml"
    assert finding["line"] == line_of(text, "metadata:")
    assert [s["name"] for s in decision["subjects"] if s["allowed"]] == ["labelled"]
