"""`fleetgate check` end to end: the real CLI in a child process on real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support import GitRepo, line_of, manifest, to_yaml, violations


def one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_staged_change_that_breaks_a_rule_is_denied_at_its_line(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(manifest()))
    repo.commit("base")
    text = to_yaml(manifest(updateStrategy={"rolloutPercentage": 7}))
    repo.write("models/img.yaml", text)
    repo.git("add", "models/img.yaml")
    code, decision = repo.decision("--staged")
    assert code == 1 and decision["decision"] == "deny"
    [finding] = violations(decision, "rollout.ladder")
    assert (finding["file"], finding["line"]) == ("models/img.yaml", line_of(text, "rolloutPercentage"))
    assert finding["field"] == "spec.updateStrategy.rolloutPercentage"
    assert decision["subjects"][0]["change"] == "modified"
    assert decision["context"]["head"] == "index"


def test_unstaged_edits_are_not_seen_by_staged_mode(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(manifest()))
    repo.commit("base")
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 7})))
    code, decision = repo.decision("--staged")
    assert code == 0 and decision["subjects"] == []


def test_good_change_is_admitted_in_text_format(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(manifest()))
    base = repo.commit("base")
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 25})))
    head = repo.commit("rollout to 25")
    done = repo.fleetgate("check", "--base", base, "--head", head)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ADMIT" in done.stdout and "production/image-classifier-v3" in done.stdout


def test_first_commit_is_checked_in_staged_mode(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 7})))
    repo.git("add", "-A")
    code, decision = repo.decision("--staged")
    assert code == 1 and violations(decision, "rollout.ladder")
    assert decision["subjects"][0]["change"] == "added"


def test_paths_are_evaluated_as_added_and_report_is_written_to_a_file(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 3})))
    out = tmp_path / "decision.json"
    done = repo.fleetgate("check", "models", "--format", "json", "--output", str(out))
    assert done.returncode == 1 and done.stdout == ""
    decision = json.loads(out.read_text())
    assert [(s["name"], s["change"], s["allowed"]) for s in decision["subjects"]] == [
        ("a", "added", True),
        ("b", "added", False),
    ]


def test_deleting_a_deployment_is_admitted(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 7})))
    base = repo.commit("base")
    (repo.root / "models/a.yaml").unlink()
    code, decision = repo.decision("--base", base)
    assert code == 0
    assert [(s["name"], s["change"]) for s in decision["subjects"]] == [("a", "deleted")]


def test_shallow_clone_with_the_base_fetched(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    for n in range(3):
        repo.write("notes.txt", str(n))
        repo.commit(f"noise {n}")
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 7})))
    repo.commit("pr")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    shallow = GitRepo.__new__(GitRepo)
    shallow.root = clone
    missing = shallow.fleetgate("check", "--base", base)
    one_line_error(missing, "unknown revision", base, "shallow clone")
    shallow.git("fetch", "-q", "--depth", "1", "origin", base)
    code, decision = shallow.decision("--base", base, "--head", "HEAD")
    assert code == 1 and violations(decision, "rollout.ladder")


def test_waiver_in_the_change_turns_the_deny_into_waived(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 7})))
    repo.write(
        "fleetgate-waivers.yaml",
        "waivers:\n  - rule: rollout.ladder\n    target: production/a\n    reason: canary cohort\n"
        "    approvedBy: sre-lead\n    expires: 2999-01-01\n",
    )
    head = repo.commit("pr with waiver")
    code, decision = repo.decision("--base", base, "--head", head)
    assert code == 0, decision
    [subject] = decision["subjects"]
    assert [w["rule"] for w in subject["waived"]] == ["rollout.ladder"]
    assert decision["waivers"]["applied"][0]["approvedBy"] == "sre-lead"


def test_config_narrows_the_manifest_globs(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "manifests: ['models/**/*.yaml']\n")
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("charts/values.yaml", "image: {tag: '{{ .Values.tag }}'\n")  # not YAML we could read
    repo.commit("base")
    code, decision = repo.decision(".")
    assert code == 0 and [s["name"] for s in decision["subjects"]] == ["a"]


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (
            b"kind: OnDeviceModel\nmetadata: {name: a}\nmetadata: {name: b}\n",
            ["models/bad.yaml:3", "duplicate key"],
        ),
        (b"kind: OnDeviceModel\nname: \xff\n", ["models/bad.yaml:2", "UTF-8"]),
        (b"- kind: OnDeviceModel\n", ["models/bad.yaml:1", "expected a mapping"]),
        (
            b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
            ["models/bad.yaml:5", "alias bomb"],
        ),
        (b"kind: OnDeviceModel\n" + b"a: " + b"x" * 2_000_000 + b"\n", ["models/bad.yaml", "size limit"]),
        (b"kind: OnDeviceModel\nspec: [unclosed\n", ["models/bad.yaml:3", "invalid YAML"]),
    ],
)
def test_hostile_or_malformed_manifests_exit_2_with_one_line(
    repo: GitRepo, content: bytes, needles: list[str]
) -> None:
    repo.commit("base")
    repo.write("models/bad.yaml", content)
    one_line_error(repo.fleetgate("check", "--base", "HEAD"), *needles)
    one_line_error(repo.fleetgate("check", "models/bad.yaml"), *needles)


def test_broken_policy_exits_2_naming_the_rego_line(repo: GitRepo) -> None:
    repo.write(
        "policy/broken.rego", "package fleetgate.mine\n\nimport rego.v1\n\ndeny contains x if {\n\tx := \n}\n"
    )
    repo.write("fleetgate.yaml", "policies:\n  dirs: [policy]\n")
    repo.commit("gate configuration")  # gate files are read from the trusted revision (HEAD)
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    one_line_error(repo.fleetgate("check", "models"), "policy/broken.rego:6")


def test_missing_base_ref_exits_2(repo: GitRepo) -> None:
    repo.commit("base")
    one_line_error(repo.fleetgate("check", "--base", "origin/main"), "unknown revision 'origin/main'")


def test_non_git_directory_exits_2(tmp_path: Path) -> None:
    outside = GitRepo.__new__(GitRepo)
    outside.root = tmp_path
    one_line_error(outside.fleetgate("check", "--staged"), "not inside a git repository")
    one_line_error(outside.fleetgate("check"), "not inside a git repository")


def test_bad_config_exits_2_at_its_line(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "manifests: ['*.yaml']\nstrict: true\n")
    repo.commit("a broken gate configuration")
    one_line_error(repo.fleetgate("check", "--staged"), "fleetgate.yaml:2", "unknown setting 'strict'")


def test_bad_usage_exits_2(repo: GitRepo) -> None:
    one_line_error(repo.fleetgate("check", "--format", "xml"), "unknown format 'xml'")
    done = repo.fleetgate("check", "--jobs", "0")
    assert done.returncode == 2 and "expected a number of processes" in done.stderr
    one_line_error(repo.fleetgate("check", "models", "--staged"), "either PATHs or --base/--staged")


def test_base_without_any_manifest(repo: GitRepo) -> None:
    repo.write("README.md", "models will live here\n")
    base = repo.commit("base")
    repo.write(
        "models/a.yaml", to_yaml(manifest("a"), manifest("b", updateStrategy={"rolloutPercentage": 50}))
    )
    head = repo.commit("first models")
    code, decision = repo.decision("--base", base, "--head", head)
    assert code == 1
    assert [(s["name"], s["change"], s["allowed"]) for s in decision["subjects"]] == [
        ("a", "added", True),
        ("b", "added", False),
    ]


def test_fresh_clone_compares_with_the_remote_branch(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.commit("base")
    clone_dir = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repo.root}", str(clone_dir)], check=True)
    clone = GitRepo.__new__(GitRepo)
    clone.root = clone_dir
    clone.git("checkout", "-q", "-b", "pr")
    clone.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 25})))
    clone.commit("rollout to 25")
    code, decision = clone.decision("--base", "origin/main", "--head", "HEAD")
    assert code == 0
    assert decision["context"]["base_commit"] == repo.git("rev-parse", "HEAD")
    assert [(s["name"], s["change"]) for s in decision["subjects"]] == [("a", "modified")]


def test_quotes_backslashes_and_non_ascii_values_reach_policies_intact(repo: GitRepo) -> None:
    doc = manifest("a", targetDevices={"regions": ['F"R\\é']})
    doc["metadata"]["labels"] = {"team": "vision"}
    doc["spec"]["featureFlags"] = {"note": 'say "hi" \\ café'}
    repo.write("models/a.yaml", to_yaml(doc))
    code, decision = repo.decision()
    assert code == 1
    [finding] = violations(decision, "targeting.regions")
    assert 'F"R\\é' in finding["message"]


def test_a_parallel_scan_decides_exactly_like_a_serial_one(repo: GitRepo) -> None:
    for i in range(260):
        rollout = 7 if i % 50 == 0 else 10
        repo.write(
            f"models/m{i:03}.yaml",
            to_yaml(manifest(f"m{i:03}", updateStrategy={"rolloutPercentage": rollout})),
        )
    serial_code, serial = repo.decision("models", "--jobs", "1")
    parallel_code, parallel = repo.decision("models", "--jobs", "2")
    assert serial_code == parallel_code == 1
    for document in (serial, parallel):
        del document["decision_id"], document["timestamp"]
    assert parallel == serial
    assert len(violations(serial, "rollout.ladder")) == 6


def test_without_arguments_it_checks_what_changed_since_head(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 50})))
    repo.write("models/b.yaml", to_yaml(manifest("b")))
    repo.commit("base")
    repo.write("models/b.yaml", to_yaml(manifest("b", version="3.3.0")))
    code, decision = repo.decision()
    assert code == 0, decision
    assert [(s["name"], s["change"]) for s in decision["subjects"]] == [("b", "modified")]
    # Scanning the repository evaluates every deployment as new: a at 50 % exceeds the initial maximum.
    code, decision = repo.decision(".")
    assert code == 1 and [v["rule"] for v in violations(decision) if v["severity"] == "deny"] == [
        "rollout.step-limit"
    ]


WAIVERS = """\
waivers:
  - rule: rollout.ladder
    target: production/a
    reason: canary
    approvedBy: sre
    expires: 2999-01-01
  - rule: rollout.ladder
    target: staging/b
    reason: old
    approvedBy: sre
    expires: 2001-01-01
"""


def test_unused_and_expired_waivers_are_reported_only_where_relevant(repo: GitRepo) -> None:
    repo.write("fleetgate-waivers.yaml", WAIVERS)
    repo.write("models/production/a.yaml", to_yaml(manifest("a")))
    repo.write("models/staging/b.yaml", to_yaml(manifest("b", "staging")))
    repo.commit("base")
    _, only_a = repo.decision("models/production")
    assert [f["rule"] for f in only_a["findings"]] == ["waiver.unused"]
    assert only_a["waivers"]["expired"] == []
    _, everything = repo.decision(".")
    assert sorted(f["rule"] for f in everything["findings"]) == ["waiver.unused"]
    [b] = [s for s in everything["subjects"] if s["name"] == "b"]
    assert b["violations"][0]["rule"] == "waiver.expired"
    assert sorted(v["rule"] for v in b["violations"][1:]) == [
        f"evidence.missing.{fact}"
        for fact in ("artifact", "fairness", "latency", "model", "provenance", "signature")
    ]
