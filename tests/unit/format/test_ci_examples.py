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
    assert len(lines) == 6  # checkout in both jobs
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
    assert 'BASE="$(git merge-base "origin/${BASE_REF}" HEAD)"' in script
    command = " ".join(script.split("fleetgate check", 1)[1].split("\\\n"))
    assert '--base "$BASE" --head HEAD' in command
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
    job = load("gitlab/.gitlab-ci.yml")["fleetgate"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    script = "\n".join(job["script"])
    assert 'BASE="${CI_MERGE_REQUEST_DIFF_BASE_SHA:' in script
    command = " ".join(script.split("fleetgate check", 1)[1].replace("\\\n", " ").split())
    assert command.startswith('--base "$BASE" --head HEAD')
    assert "--format gitlab=gl-code-quality-report.json" in command
    assert "--format junit=fleetgate-junit.xml" in command
    assert "pip install 'fleetgate[evidence]" in script


def test_gitlab_keeps_the_reports_when_the_job_fails() -> None:
    artifacts = load("gitlab/.gitlab-ci.yml")["fleetgate"]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"] == {
        "codequality": "gl-code-quality-report.json",
        "junit": "fleetgate-junit.xml",
    }
    assert "allow_failure" not in load("gitlab/.gitlab-ci.yml")["fleetgate"]
