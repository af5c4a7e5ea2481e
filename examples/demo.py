"""fleetgate on a pull request, end to end, offline.

Builds a throwaway git repository from ``examples/gitops-repo`` (one commit on ``main``), opens a
pull-request branch with the changes of ``examples/pr`` as a second commit, then runs the real
CLI the way a CI required check would: ``fleetgate check --base main --head <branch>``, first as
a text table, then as JSON, and prints a summary derived from the JSON decision.

Exits 0 when the gate behaved as expected (the pull request is denied, exit status 1, with every
violation located at file:line), non-zero with a message otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from demo_support import (
    EXIT_BROKEN,
    EXIT_OK,
    EXIT_UNEXPECTED,
    DemoError,
    environment,
    fleetgate,
    git,
    summarize,
)

EXAMPLES = Path(__file__).resolve().parent
BASE_REPO = EXAMPLES / "gitops-repo"
PULL_REQUEST = EXAMPLES / "pr"
BRANCH = "pr/spring-model-updates"

# Files the pull request removes: a deployment being retired, and the old path of a manifest
# that moved to models/staging/imaging/ (identity is namespace/name, so that is a modification).
REMOVED = ("models/research/pose-estimator.yaml", "models/staging/photo-enhancer.yaml")

# What each deployment of the pull request should get: (change, rules that deny, rules waived).
EXPECTED: dict[str, tuple[str, set[str], set[str]]] = {
    "production/image-classifier-v3": ("modified", set(), set()),
    "production/next-word-predictor": ("modified", {"rollout.step-limit"}, set()),
    "production/speech-to-text-en": ("modified", {"targeting.quantization"}, set()),
    "production/object-detector": ("added", {"rollout.step-limit", "targeting.regions"}, set()),
    "staging/smart-reply": ("modified", {"cost.model-size"}, set()),
    "staging/photo-enhancer": ("modified", set(), set()),
    "research/llm-summarizer": ("modified", set(), {"cost.threads"}),
    "research/pose-estimator": ("deleted", set(), set()),
}

GATE_DENY = 1


def main() -> int:
    if shutil.which("git") is None:
        print("demo: git is not installed", file=sys.stderr)
        return EXIT_BROKEN
    try:
        with tempfile.TemporaryDirectory(prefix="fleetgate-demo-") as tmp:
            repo = Path(tmp) / "gitops-repo"
            build_repository(repo)
            run_gate(repo)
            print("\n--- part 2: evidence about the model artifacts ---")
            from demo_evidence import run_release_demo

            run_release_demo(Path(tmp))
    except DemoError as exc:
        print(f"\ndemo: FAILED: {exc}", file=sys.stderr)
        return exc.code
    print(
        "\ndemo: OK: the gate denied both pull requests and located every violation: the manifest"
        "\nchanges, a tampered model, a model declared int8 that is fp32, and a biased model; it admitted"
        "\na TFLite model whose int8 claim the bytes bear out, and wrote its ML-BOM"
    )
    return EXIT_OK


def build_repository(repo: Path) -> None:
    """``main`` holds the base repo; BRANCH adds the pull request's changes on top."""
    shutil.copytree(BASE_REPO, repo)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=Model deployments as of the last release")
    git(repo, "switch", "--quiet", "--create", BRANCH)
    for source in sorted(PULL_REQUEST.rglob("*")):
        relative = source.relative_to(PULL_REQUEST)
        if source.is_file() and relative.name != "README.md":
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, repo / relative)
    git(repo, "rm", "--quiet", *REMOVED)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=Spring model updates")


def run_gate(repo: Path) -> None:
    args = ["check", "--base", "main", "--head", BRANCH]
    print(f"$ fleetgate {' '.join(args)}", flush=True)
    text = subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), check=False)
    expect_deny(text.returncode, "text")
    print(f"\n$ fleetgate {' '.join(args)} --format json", flush=True)
    done = subprocess.run(
        [*fleetgate(), *args, "--format", "json"],
        cwd=repo,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.stderr:
        print(done.stderr, end="", file=sys.stderr)
    expect_deny(done.returncode, "json")
    try:
        decision: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise DemoError(f"--format json printed something that is not JSON ({exc})") from None
    summarize(decision)
    check_expectations(decision)


def expect_deny(code: int, fmt: str) -> None:
    if code == GATE_DENY:
        return
    meaning = {0: "admitted the pull request", 2: "could not decide (see its error above)"}
    reason = meaning.get(code, "ended abnormally")
    raise DemoError(
        f"the gate ({fmt} format) exited {code}: it {reason}; expected exit 1 (deny)",
        EXIT_BROKEN if code == 2 else EXIT_UNEXPECTED,
    )


def check_expectations(decision: dict[str, Any]) -> None:
    """Each deployment got the change kind, denies and waivers EXPECTED lists; all are located."""
    if decision.get("decision") != "deny" or decision.get("allowed") is not False:
        raise DemoError(f"JSON decision is {decision.get('decision')!r}, expected 'deny'")
    problems: list[str] = []
    seen: set[str] = set()
    for subject in decision.get("subjects", []):
        target = f"{subject['namespace']}/{subject['name']}"
        seen.add(target)
        denies = [f for f in subject["violations"] if f["severity"] == "deny"]
        for finding in denies + subject["waived"]:
            if not finding.get("file") or not isinstance(finding.get("line"), int) or finding["line"] < 1:
                problems.append(f"{target}: {finding['rule']} is not located at file:line")
        if target not in EXPECTED:
            problems.append(f"{target}: not part of the pull request")
            continue
        change, deny_rules, waived_rules = EXPECTED[target]
        got = (subject["change"], {f["rule"] for f in denies}, {f["rule"] for f in subject["waived"]})
        if got != (change, deny_rules, waived_rules):
            problems.append(
                f"{target}: expected {describe(change, deny_rules, waived_rules)}, got {describe(*got)}"
            )
    problems += [f"{target}: missing from the decision" for target in sorted(EXPECTED.keys() - seen)]
    if problems:
        raise DemoError(
            "the decision differs from what the pull request should get:\n  " + "\n  ".join(problems)
        )


def describe(change: str, denies: set[str], waived: set[str]) -> str:
    return f"{change}, deny {sorted(denies) or 'none'}, waived {sorted(waived) or 'none'}"


if __name__ == "__main__":
    sys.exit(main())
