"""Gate integrity end to end: a change cannot change how it is judged.

Real repositories, real ed25519 keys from ssh-keygen and real SSH-signed commits verified by
git. Each test plays one attack from the threat model in the README and shows the gate holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import GIT_ENV, GitRepo, line_of, manifest, to_yaml, violations
from support_ssh import SSH_KEYGEN, Signer, signed_commit

pytestmark = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")

SIGNERS = ".gate/allowed_signers"
APPROVED = f"gate:\n  allowedSigners: {SIGNERS}\n  approvers: [alice@example.com]\n"
WAIVER = (
    "waivers:\n  - rule: rollout.step-limit\n    target: production/b\n    reason: launch day\n"
    "    approvedBy: alice@example.com\n    expires: '2099-01-01'\n"
)
CHECK = ("--evidence", "none", "--no-audit")


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Signer]:
    keys = tmp_path_factory.mktemp("keys")  # outside every repository
    return {name: Signer.generate(keys, f"{name}@example.com") for name in ("alice", "bob", "mallory")}


def base_repo(repo: GitRepo, people: dict[str, Signer], config: str = APPROVED, signers: str = "") -> str:
    """main: a gate that trusts alice and bob's keys, and one deployment at 10 %."""
    repo.write(SIGNERS, signers or people["alice"].allowed() + people["bob"].allowed())
    repo.write("fleetgate.yaml", config)
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    return base


def judged(repo: GitRepo, base: str, *more: str) -> tuple[int, dict[str, Any]]:
    return repo.decision("--base", base, "--head", "HEAD", *CHECK, *more)


def gate_subject(decision: dict[str, Any]) -> dict[str, Any]:
    [found] = [s for s in decision["subjects"] if s["kind"] == "gate"]
    return found


def subject(decision: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in decision["subjects"] if s["name"] == name]
    return found


def rules(subject: dict[str, Any], severity: str = "deny") -> list[str]:
    return [v["rule"] for v in subject["violations"] if v["severity"] == severity]


def loosen(repo: GitRepo, config: str = APPROVED) -> str:
    """The attack: raise the initial rollout cap and ship a deployment only that cap admits."""
    text = config + "policies:\n  data:\n    rollout:\n      initialMax: 100\n"
    repo.write("fleetgate.yaml", text)
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    return text


def test_a_change_that_loosens_its_own_gate_is_judged_by_the_base(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    base = base_repo(repo, people)
    text = loosen(repo)
    signed_commit(repo, None, "loosen the gate")
    code, decision = judged(repo, base)
    assert code == 1
    assert "rollout.step-limit" in rules(subject(decision, "b"))  # the base's initialMax: 10
    gate = gate_subject(decision)
    [change] = [v for v in gate["violations"] if v["rule"] == "gate.config-changed"]
    assert change["severity"] == "deny" and change["file"] == "fleetgate.yaml"
    assert (
        change["line"] == line_of(text, "initialMax")
        and change["field"] == "policies.data.rollout.initialMax"
    )
    assert "initialMax added: 100" in change["message"] and "gate.approvers" in change["message"]
    trusted = decision["context"]["trusted"]
    assert trusted["revision"] == base and trusted["files"]["fleetgate.yaml"].startswith("sha256:")


def test_an_approved_gate_change_passes_but_still_does_not_judge_its_own_change(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    base = base_repo(repo, people)
    loosen(repo)
    signed_commit(repo, people["alice"], "loosen the gate, approved")
    code, decision = judged(repo, base)
    gate = gate_subject(decision)
    assert gate["allowed"] and rules(gate, "warn") == ["gate.config-changed"]
    assert "approved by alice@example.com" in gate["violations"][0]["message"]
    assert code == 1 and "rollout.step-limit" in rules(subject(decision, "b"))


def test_every_deployment_is_evaluated_again_when_the_gate_changes(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    base = base_repo(repo, people)
    loosen(repo)
    signed_commit(repo, people["alice"], "loosen")
    _, decision = judged(repo, base)
    assert subject(decision, "a")["reasons"] == ["gate configuration changed"]
    assert subject(decision, "b")["reasons"] == ["manifest changed"]


def test_k_of_n_approvers_and_a_later_edit_voids_the_approval(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    config = (
        f"gate:\n  allowedSigners: {SIGNERS}\n  approvers:\n"
        "    principals: [alice@example.com, bob@example.com]\n    threshold: 2\n"
    )
    base = base_repo(repo, people, config)
    repo.write("fleetgate.yaml", config + "stage: pre-merge\n")
    signed_commit(repo, people["alice"], "one approver")
    _, decision = judged(repo, base)
    assert rules(gate_subject(decision)) == ["gate.config-changed"]
    assert "has alice@example.com" in gate_subject(decision)["violations"][0]["message"]
    signed_commit(repo, people["bob"], "second approval")  # an empty signed commit on top
    _, decision = judged(repo, base)
    assert gate_subject(decision)["allowed"]
    repo.write("fleetgate.yaml", config + "stage: pre-deploy\n")
    signed_commit(repo, None, "a later unsigned edit")
    _, decision = judged(repo, base)
    [finding] = gate_subject(decision)["violations"]
    assert finding["severity"] == "deny" and "is not signed" in finding["message"]


def test_a_key_nobody_listed_approves_nothing(repo: GitRepo, people: dict[str, Signer]) -> None:
    base = base_repo(repo, people)
    loosen(repo)
    signed_commit(repo, people["mallory"], "signed by a key not in allowed_signers")
    _, decision = judged(repo, base)
    [finding] = [v for v in gate_subject(decision)["violations"] if v["field"].endswith("initialMax")]
    assert finding["severity"] == "deny" and "does not list" in finding["message"]


def test_a_change_cannot_list_its_own_key_as_a_signer(repo: GitRepo, people: dict[str, Signer]) -> None:
    base = base_repo(repo, people)
    repo.write(SIGNERS, people["alice"].allowed() + people["mallory"].allowed())
    repo.write("fleetgate.yaml", APPROVED.replace("[alice@example.com]", "[mallory@example.com]"))
    signed_commit(repo, people["mallory"], "mallory approves herself")
    _, decision = judged(repo, base)
    gate = gate_subject(decision)
    assert not gate["allowed"]
    assert {v["file"] for v in gate["violations"]} == {SIGNERS, "fleetgate.yaml"}


@pytest.mark.parametrize(
    ("signer", "applied", "said"),
    [
        (None, False, "is not signed"),
        ("bob", False, "signed by bob@example.com, not by alice@example.com"),
        ("mallory", False, "does not list as valid now"),
        ("alice", True, ""),
    ],
)
def test_a_waiver_added_by_the_change_needs_its_approver_s_signature(
    repo: GitRepo, people: dict[str, Signer], signer: str | None, applied: bool, said: str
) -> None:
    base = base_repo(repo, people)
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("fleetgate-waivers.yaml", WAIVER)
    signed_commit(repo, people[signer] if signer else None, "ship b with a waiver")
    code, decision = judged(repo, base)
    b = subject(decision, "b")
    assert ("rollout.step-limit" in [w["rule"] for w in b["waived"]]) is applied
    assert code == (0 if applied else 1)
    unverified = [f for f in decision["findings"] if f["rule"] == "waiver.unverified"]
    if applied:
        assert not unverified
    else:
        [finding] = unverified
        assert said in finding["message"] and finding["line"] == 2


def test_a_later_unsigned_edit_of_an_approved_waiver_voids_it(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    base = base_repo(repo, people)
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("fleetgate-waivers.yaml", WAIVER)
    signed_commit(repo, people["alice"], "approved waiver")
    repo.write("fleetgate-waivers.yaml", WAIVER.replace("2099-01-01", "2099-12-31"))
    signed_commit(repo, None, "extend it quietly")
    code, decision = judged(repo, base)
    assert code == 1 and not subject(decision, "b")["waived"]


def test_a_waiver_of_the_trusted_revision_applies_as_it_is(repo: GitRepo, people: dict[str, Signer]) -> None:
    repo.write("fleetgate-waivers.yaml", WAIVER)
    base = base_repo(repo, people)
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    signed_commit(repo, None, "ship b under the existing waiver")
    code, decision = judged(repo, base)
    assert code == 0 and subject(decision, "b")["waived"]


def test_an_expired_signer_key_cannot_approve_with_a_backdated_commit(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    alice = people["alice"]
    signers = alice.allowed('valid-before="20200101"')
    base = base_repo(repo, people, signers=signers)
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("fleetgate-waivers.yaml", WAIVER)
    sha = signed_commit(repo, alice, "backdated approval", date="2019-06-01T12:00:00+00:00")
    # git alone compares validity with the committer date, which the committer wrote: it says good.
    raw = repo.root / SIGNERS
    verdict = repo.git("-c", f"gpg.ssh.allowedSignersFile={raw}", "log", "-1", "--format=%G?", sha)
    assert verdict == "G"
    code, decision = judged(repo, base)
    assert code == 1 and not subject(decision, "b")["waived"]
    [finding] = [f for f in decision["findings"] if f["rule"] == "waiver.unverified"]
    assert "does not list as valid now" in finding["message"]


def test_without_allowed_signers_waivers_apply_and_say_they_are_unverified(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("fleetgate-waivers.yaml", WAIVER)
    repo.commit("waiver")
    code, decision = judged(repo, base)
    assert code == 0 and subject(decision, "b")["waived"]
    [finding] = [f for f in decision["findings"] if f["rule"] == "waiver.unverified"]
    assert finding["severity"] == "warn" and "gate.allowedSigners is not configured" in finding["message"]


def test_a_malformed_allowed_signers_file_exits_2_at_its_line(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    signers = people["alice"].allowed() + "bob@example.com ssh-ed25519 not*base64\n"
    base = base_repo(repo, people, signers=signers)
    repo.write("fleetgate-waivers.yaml", WAIVER)
    repo.commit("waiver")
    done = repo.fleetgate("check", "--base", base, "--head", "HEAD", *CHECK)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{SIGNERS}:2: the public key is not base64" in done.stderr


def test_the_first_configuration_is_judged_by_the_defaults_and_warns(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("before fleetgate")
    loosen(repo, config="")
    repo.commit("adopt fleetgate")
    _, decision = judged(repo, base)
    assert "rollout.step-limit" in rules(subject(decision, "b"))  # the built-in initialMax
    gate = gate_subject(decision)
    assert gate["allowed"] and "built-in defaults judge this change" in gate["violations"][0]["message"]


def test_a_local_check_of_a_gate_change_warns(repo: GitRepo, people: dict[str, Signer]) -> None:
    base_repo(repo, people)
    loosen(repo)
    repo.git("add", "-A")
    code, decision = repo.decision("--staged", *CHECK)
    assert rules(gate_subject(decision), "warn") == ["gate.config-changed"]
    assert code == 1 and "rollout.step-limit" in rules(subject(decision, "b"))  # HEAD's config


def test_a_proposed_configuration_that_does_not_load_is_denied_at_its_line(
    repo: GitRepo, people: dict[str, Signer]
) -> None:
    base = base_repo(repo, people)
    repo.write("fleetgate.yaml", APPROVED + "stage: production\n")
    repo.commit("typo")
    _, decision = judged(repo, base)
    [invalid] = [v for v in gate_subject(decision)["violations"] if v["rule"] == "gate.config-invalid"]
    assert (
        invalid["severity"] == "deny"
        and invalid["line"] == 4
        and "'production' is not one of" in invalid["message"]
    )


def test_a_deployment_is_evaluated_when_only_its_signature_bundle_changes(repo: GitRepo) -> None:
    spec = {"modelUri": "file:models/a/model.onnx"}
    repo.write("models/a.yaml", to_yaml(manifest("a", **spec)))
    repo.write("models/a/model.onnx", b"model")
    repo.write("models/a/model.onnx.sig", b"bundle one")
    repo.write("data/other.csv", b"x\n")
    base = repo.commit("base")
    repo.write("models/a/model.onnx.sig", b"bundle two")
    repo.write("data/other.csv", b"y\n")  # no deployment depends on it
    repo.commit("replace the bundle only")
    _, decision = judged(repo, base)
    [a] = decision["subjects"]
    assert a["name"] == "a" and a["change"] == "modified"
    assert a["reasons"] == ["signature bundle models/a/model.onnx.sig changed"]


@pytest.mark.parametrize("blank", ["", " "])
def test_an_empty_base_from_a_failed_merge_base_exits_2(repo: GitRepo, blank: str) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.commit("base")
    done = repo.fleetgate("check", "--base", blank, "--head", "HEAD")
    assert done.returncode == 2 and "merge-base" in done.stderr


def test_the_readme_snippet_fails_closed_when_merge_base_fails(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 100})))
    repo.commit("base")
    script = 'BASE="$(git merge-base origin/nope HEAD)"; "$PY" -m fleetgate check --base "$BASE" --head HEAD'
    env = {**os.environ, **GIT_ENV, "PY": sys.executable}
    done = subprocess.run(["sh", "-c", script], cwd=repo.root, env=env, capture_output=True, text=True)
    assert done.returncode == 2


def test_a_waiver_file_outside_the_repository_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text(WAIVER)
    repo.write("fleetgate.yaml", "waivers: ../waivers.yaml\n")
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.commit("base")
    done = repo.fleetgate("check", "models", *CHECK)
    assert (
        done.returncode == 2
        and "fleetgate.yaml:1: waivers" in done.stderr
        and "leaves the repository" in done.stderr
    )


def test_the_decision_names_every_gate_file_it_used(repo: GitRepo, people: dict[str, Signer]) -> None:
    base = base_repo(repo, people)
    repo.write("fleetgate-waivers.yaml", WAIVER)
    signed_commit(repo, people["alice"], "waiver")
    _, decision = judged(repo, base)
    assert set(decision["context"]["trusted"]["files"]) == {"fleetgate.yaml", SIGNERS}
    assert violations(decision) == [] or all(v["rule"] != "gate.config-changed" for v in violations(decision))


def test_a_manifest_moved_into_a_submodule_is_not_a_plain_deletion(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    other = GitRepo(repo.root.parent / "vendored")
    other.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 100})))
    sha = other.commit("the deployment, out of the gate's sight")
    repo.git("rm", "-q", "models/a.yaml")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},models/vendor")
    repo.git("commit", "-q", "-m", "move the manifest into a submodule")
    code, decision = judged(repo, base)
    assert code == 1
    [layout] = [s for s in decision["subjects"] if s["kind"] == "repository"]
    [finding] = layout["violations"]
    assert finding["file"] == "models/vendor" and "may not live in submodules" in finding["message"]
    scan = repo.fleetgate("check", ".", *CHECK)
    assert scan.returncode == 1 and "models/vendor is a git submodule" in scan.stdout


def test_a_second_definition_of_an_existing_deployment_is_denied(repo: GitRepo) -> None:
    paused = to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 1}))
    repo.write("models/a.yaml", paused)
    base = repo.commit("base")
    copy = to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 10}))
    repo.write("models/zz-copy.yaml", copy)
    repo.commit("a second definition in a new file")
    for args in (("--base", base, "--head", "HEAD"), ("--base", base)):
        code, decision = repo.decision(*args, *CHECK)
        assert code == 1
        [a] = decision["subjects"]
        [finding] = [v for v in a["violations"] if v["severity"] == "deny"]
        assert finding["rule"] == "schema.invalid" and finding["file"] == "models/zz-copy.yaml"
        assert finding["message"] == "deployment production/a is also defined in models/a.yaml:1"


def test_a_misspelt_rule_in_a_waiver_is_named_with_a_suggestion(repo: GitRepo) -> None:
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("fleetgate-waivers.yaml", WAIVER.replace("rollout.step-limit", "rollout.step-limt"))
    repo.commit("a waiver with a typo")
    code, decision = repo.decision("models", *CHECK)
    assert code == 1
    [finding] = [f for f in decision["findings"] if f["rule"].startswith("waiver.")]
    assert finding["rule"] == "waiver.unknown-rule" and finding["line"] == 2
    assert "did you mean 'rollout.step-limit'?" in finding["message"]


def test_a_deployment_hidden_in_a_file_that_still_exists_is_not_a_deletion(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b")))
    base = repo.commit("base")
    hidden = manifest("a", updateStrategy={"rolloutPercentage": 100})
    hidden["kind"] = "ConfigMap"  # far from any near-miss spelling: the gate would not read it
    hidden["apiVersion"] = "v1"
    del hidden["spec"]["modelUri"]
    repo.write("models/a.yaml", to_yaml(hidden))
    repo.git("rm", "-q", "models/b.yaml")  # a real deletion stays admitted
    repo.commit("hide a, delete b")
    code, decision = judged(repo, base)
    assert code == 1
    a, b = subject(decision, "a"), subject(decision, "b")
    assert a["change"] == "deleted" and rules(a) == ["schema.invalid"]
    assert "no longer defined in models/a.yaml, which keeps its documents" in a["violations"][0]["message"]
    assert b["change"] == "deleted" and b["allowed"]


def test_removing_one_document_of_a_file_is_a_plain_deletion(repo: GitRepo) -> None:
    repo.write("models/pair.yaml", to_yaml(manifest("a"), manifest("b")))
    base = repo.commit("two deployments in one file")
    repo.write("models/pair.yaml", to_yaml(manifest("b")))
    repo.commit("un-deploy a")
    code, decision = judged(repo, base)
    assert code == 0 and subject(decision, "a")["change"] == "deleted"


def test_a_repository_without_commits_uses_the_configuration_on_disk(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "policies:\n  data:\n    rollout: {initialMax: 25}\n")
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 25})))
    code, decision = repo.decision("models", *CHECK)
    assert code == 0, violations(decision)
