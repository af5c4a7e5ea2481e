"""The CI examples in ``examples/ci`` keep the properties their README promises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ci"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
FORMATS = ("--format github", "--format sarif=fleetgate.sarif", "--format json=fleetgate-decision.json")


def load(path: str) -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLES / path).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def github() -> dict[str, Any]:
    return load("github/fleetgate.yml")


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


def test_github_runs_on_pull_request_and_never_on_pull_request_target() -> None:
    workflow = github()
    # YAML 1.1 reads the key `on` as the boolean true.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"pull_request"}
    text = (EXAMPLES / "github" / "fleetgate.yml").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "pull_request_target" not in code  # only in the comment that explains why not


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version_in_a_comment() -> None:
    text = (EXAMPLES / "github" / "fleetgate.yml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(lines) == 9  # checkout in two jobs, setup-python, upload and download in two
    for line in lines:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line
    refs = [str(s["uses"]) for job in github()["jobs"].values() for s in steps(job) if "uses" in s]
    assert refs and all(PINNED.match(ref) for ref in refs), refs
    assert {ref.split("@")[0] for ref in refs} == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/download-artifact",
        "github/codeql-action/upload-sarif",
    }


def test_permissions_are_minimal_and_only_the_upload_job_writes_security_events() -> None:
    workflow = github()
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    writers = {name for name, job in jobs.items() if "security-events" in job.get("permissions", {})}
    assert writers == {"code-scanning"}
    assert jobs["code-scanning"]["permissions"] == {"contents": "read", "security-events": "write"}
    assert jobs["gate"]["permissions"] == {"contents": "read"}
    [upload] = [s for s in steps(jobs["code-scanning"]) if uses(s) == "github/codeql-action/upload-sarif"]
    assert upload["with"]["sarif_file"] == "fleetgate.sarif"
    assert not any(uses(s).endswith("upload-sarif") for s in steps(jobs["gate"]))


def test_the_gate_compares_with_the_merge_base_and_keeps_its_exit_status() -> None:
    gate = github()["jobs"]["gate"]
    [checkout] = [s for s in steps(gate) if uses(s) == "actions/checkout"]
    assert checkout["with"]["fetch-depth"] == 0
    [check] = [s for s in steps(gate) if "fleetgate check" in s.get("run", "")]
    script = check["run"]
    assert check["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert script.startswith("# ") and "\nset -eu\n" in script
    assert 'BASE="$(git merge-base "origin/${BASE_REF}" HEAD)"' in script
    command = " ".join(script.split("fleetgate check", 1)[1].split("\\\n"))
    assert '--base "${BASE:?no merge base}" --head HEAD' in command
    assert "--audit-log sqlite:///fleetgate-audit.db" in command
    assert all(f in " ".join(command.split()) for f in FORMATS)
    assert script.rstrip().endswith('exit "$status"')
    assert any("pip install 'fleetgate[evidence]" in s.get("run", "") for s in steps(gate))


def test_the_sarif_and_the_decision_are_kept_even_when_the_gate_denies() -> None:
    jobs = github()["jobs"]
    [keep] = [s for s in steps(jobs["gate"]) if uses(s) == "actions/upload-artifact"]
    assert keep["if"] == "always()"
    assert "fleetgate-decision.json" in keep["with"]["path"] and "fleetgate.sarif" in keep["with"]["path"]
    scanning = jobs["code-scanning"]
    assert scanning["needs"] == "gate" and scanning["if"].startswith("always()")
    [upload] = [s for s in steps(scanning) if uses(s).endswith("upload-sarif")]
    assert upload["if"] == "always()"


def test_gitlab_runs_on_merge_requests_against_the_merge_base() -> None:
    job = load("gitlab/fleetgate.gitlab-ci.yml")["fleetgate"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    script = "\n".join(job["script"])
    assert 'BASE="${CI_MERGE_REQUEST_DIFF_BASE_SHA:' in script and "\nset -eu\n" in script
    command = " ".join(script.split("fleetgate check", 1)[1].replace("\\\n", " ").split())
    assert command.startswith('--base "${BASE:?no merge base}" --head HEAD --audit-log "$LOG"')
    assert "--format gitlab=gl-code-quality-report.json" in command
    assert "--format junit=fleetgate-junit.xml" in command
    assert "pip install 'fleetgate[evidence," in script


def test_gitlab_keeps_the_reports_when_the_job_fails() -> None:
    artifacts = load("gitlab/fleetgate.gitlab-ci.yml")["fleetgate"]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"] == {
        "codequality": "gl-code-quality-report.json",
        "junit": "fleetgate-junit.xml",
    }
    assert "allow_failure" not in load("gitlab/fleetgate.gitlab-ci.yml")["fleetgate"]
    assert "fleetgate-audit.db" in artifacts["paths"] and "fleetgate-checkpoint.txt" in artifacts["paths"]


def test_the_github_decision_log_and_its_checkpoint_are_kept() -> None:
    jobs = github()["jobs"]
    [keep] = [s for s in steps(jobs["gate"]) if uses(s) == "actions/upload-artifact"]
    assert "fleetgate-audit.db" in keep["with"]["path"]
    audit = jobs["audit-log"]
    assert audit["needs"] == "gate" and audit["permissions"] == {}
    [upload] = [s for s in steps(audit) if uses(s) == "actions/upload-artifact"]
    assert upload["with"]["name"] == "fleetgate-audit-log"
    assert upload["with"]["path"].split() == ["fleetgate-audit.db", "fleetgate-checkpoint.txt"]
    # Only this job, which never reads the pull request's files, sees the signing key.
    text = (EXAMPLES / "github" / "fleetgate.yml").read_text(encoding="utf-8")
    assert text.count("${{ secrets.") == 1 and "secrets" not in str(jobs["gate"])


def test_every_example_folder_shows_its_files() -> None:
    for folder in (EXAMPLES / "github", EXAMPLES / "gitlab"):
        assert any(not f.name.startswith(".") for f in folder.iterdir()), folder


def test_every_documented_base_computation_stops_when_it_fails() -> None:
    """A failed `git merge-base` must not leave an empty base that admits everything."""
    root = EXAMPLES.parents[1]
    documents = [root / "README.md", EXAMPLES / "README.md", *sorted((root / "docs").rglob("*.md"))]
    documents += [EXAMPLES / "github" / "fleetgate.yml", EXAMPLES / "gitlab" / "fleetgate.gitlab-ci.yml"]
    documents.append(root / "engine" / "fleetgate" / "templates" / "github-workflow.yml")
    for document in documents:
        for block in _shell_blocks(document.read_text(encoding="utf-8")):
            if "merge-base" in block and "BASE=" in block:
                assert "set -eu" in block or "${BASE:?" in block, f"{document.name}: {block}"


def _shell_blocks(text: str) -> list[str]:
    """Fenced ```sh blocks of Markdown, or the whole file for a pipeline definition."""
    if "```" not in text:
        return [text]
    return [part.split("\n", 1)[1] for part in text.split("```")[1::2] if part.startswith(("sh", "bash"))]
