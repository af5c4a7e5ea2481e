"""`fleetgate explain` and `fleetgate init`, through the CLI."""

from __future__ import annotations

from pathlib import Path

import yaml

from fleetgate import __version__
from fleetgate.commands.init import TEMPLATES

from support import GitRepo


def test_explain_lists_rules_and_explains_one_with_the_thresholds_in_force(repo: GitRepo) -> None:
    listing = repo.fleetgate("explain")
    assert listing.returncode == 0
    assert "rollout.step-limit" in listing.stdout and "schema.invalid" in listing.stdout
    repo.write("fleetgate.yaml", "policies:\n  data:\n    rollout: {initialMax: 5}\n")
    repo.commit("gate configuration")  # explain shows the configuration in force: HEAD's
    done = repo.fleetgate("explain", "rollout.step-limit")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rollout.step-limit: ")
    assert "rollout.initialMax = 5" in done.stdout
    assert "rollout.rungs = [1, 5, 10, 25, 50, 100]" in done.stdout
    assert "- rule: rollout.step-limit" in done.stdout


def test_explain_says_schema_invalid_cannot_be_waived(repo: GitRepo) -> None:
    done = repo.fleetgate("explain", "schema.invalid")
    assert done.returncode == 0 and "cannot be waived" in done.stdout and "- rule:" not in done.stdout


def test_explain_unknown_rule_suggests_close_names(repo: GitRepo) -> None:
    done = repo.fleetgate("explain", "rollout.step-limits")
    assert done.returncode == 2
    assert "did you mean rollout.step-limit" in done.stderr


def test_init_sets_up_a_repository_that_the_gate_admits(repo: GitRepo) -> None:
    done = repo.fleetgate("init")
    assert done.returncode == 0, done.stderr
    files, key, steps = done.stdout.split("\n\n", 2)
    assert sorted(line.split()[1] for line in files.splitlines()) == sorted(TEMPLATES)
    assert "checkpoint key" in key and "verifier key for auditors" in key
    assert steps.startswith("next steps:") and "pre-commit install" in steps
    for path in TEMPLATES:
        assert (repo.root / path).is_file()
        if path.endswith((".yaml", ".yml")):
            yaml.safe_load((repo.root / path).read_text())
    repo.commit("fleetgate init")
    code, decision = repo.decision(".")
    assert code == 0, decision
    assert [s["name"] for s in decision["subjects"]] == ["example-classifier"]


def test_init_keeps_existing_files_unless_forced(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "stage: pre-deploy\n")
    done = repo.fleetgate("init")
    assert "kept         fleetgate.yaml (exists; --force overwrites it)" in done.stdout
    assert (repo.root / "fleetgate.yaml").read_text() == "stage: pre-deploy\n"
    forced = repo.fleetgate("init", "--force")
    assert "overwritten  fleetgate.yaml" in forced.stdout
    assert "manifests:" in (repo.root / "fleetgate.yaml").read_text()


def test_init_hook_runs_the_installed_fleetgate_unless_asked_to_install_it(repo: GitRepo) -> None:
    assert repo.fleetgate("init").returncode == 0
    [hook] = yaml.safe_load((repo.root / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hook["language"] == "system" and hook["entry"] == "fleetgate check --pre-commit"
    assert "additional_dependencies" not in hook
    done = repo.fleetgate("init", "--force", "--hook", "pypi")
    assert done.returncode == 0, done.stderr
    assert "from your package index" in done.stdout
    [hook] = yaml.safe_load((repo.root / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hook["language"] == "python"
    assert hook["additional_dependencies"] == [f"fleetgate=={__version__}"]


def test_init_documents_the_audit_settings_in_a_commented_block(repo: GitRepo) -> None:
    from fleetgate.commands.audit import audit_settings

    assert repo.fleetgate("init").returncode == 0
    lines = (repo.root / "fleetgate.yaml").read_text().splitlines()
    start = lines.index("# audit:")
    block = [line[2:] for line in lines[start:] if line.startswith("# ")]
    settings = audit_settings(yaml.safe_load("\n".join(block))["audit"], repo.root)
    assert settings.log.startswith("postgresql://") and settings.origin == "example.com/fleetgate/production"
    assert settings.verifier_key is not None and settings.mask == ("/input/manifest/metadata/annotations",)
    assert "--audit-log" in "\n".join(lines[:start])


def test_init_writes_the_same_workflow_the_examples_document() -> None:
    from importlib import resources
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "ci" / "github" / "fleetgate.yml"
    shipped = resources.files("fleetgate.templates").joinpath("github-workflow.yml").read_text()
    assert shipped == example.read_text()


def test_init_makes_a_checkpoint_key_outside_the_repository(repo: GitRepo, tmp_path: Path) -> None:
    key = tmp_path / "secrets" / "checkpoint.key"
    done = repo.fleetgate("init", "--checkpoint-key", str(key))
    assert done.returncode == 0, done.stderr
    verifier = (tmp_path / "secrets" / "checkpoint.key.pub").read_text().strip()
    assert f"{key}" in done.stdout and verifier in done.stdout
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = repo.fleetgate("init", "--checkpoint-key", str(key))
    assert again.returncode == 0 and verifier in again.stdout  # kept, not replaced
    inside = repo.fleetgate("init", "--force", "--checkpoint-key", str(repo.root / "checkpoint.key"))
    assert inside.returncode == 2 and "must live outside the repository" in inside.stderr
    assert not (repo.root / "checkpoint.key").exists()
    # The key signs checkpoints the verifier accepts.
    log = f"sqlite:///{tmp_path / 'audit.db'}"
    repo.commit("init")
    assert repo.fleetgate("check", ".", "--evidence", "none", "--audit-log", log).returncode in (0, 1)
    signed = repo.fleetgate("audit", "--log", log, "checkpoint", "--key", str(key))
    assert signed.returncode == 0, signed.stderr
    verified = repo.fleetgate("audit", "--log", log, "verify", "--key", verifier)
    assert verified.returncode == 0 and "signed by key" in verified.stdout
