"""What both parts of the demo share: running git and fleetgate, and reading decisions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_UNEXPECTED, EXIT_BROKEN = 0, 1, 2


class DemoError(Exception):
    """The demo could not run, or the gate did not behave as expected."""

    def __init__(self, message: str, code: int = EXIT_UNEXPECTED) -> None:
        super().__init__(message)
        self.code = code


def summarize(decision: dict[str, Any]) -> None:
    """Print what a reviewer needs from the JSON decision."""
    subjects: list[dict[str, Any]] = decision.get("subjects", [])
    findings = [f for s in subjects for f in s.get("violations", [])] + decision.get("findings", [])
    print(f"\nsummary of the JSON decision {decision.get('decision_id')}:")
    denied = sum(1 for s in subjects if not s.get("allowed"))
    print(f"  decision: {decision.get('decision')} ({denied} of {len(subjects)} deployment(s) denied)")
    counts = Counter((f["severity"], f["rule"]) for f in findings)
    counts.update(("waived", f["rule"]) for s in subjects for f in s.get("waived", []))
    for (severity, rule), count in sorted(counts.items()):
        print(f"  {severity:6}  {rule:28}  {count}")
    print("  denied and waived findings:")
    for subject in subjects:
        denies = [f for f in subject.get("violations", []) if f["severity"] == "deny"]
        for finding in denies + subject.get("waived", []):
            where = f"{finding['file']}:{finding['line']}"
            state = "waived" if finding in subject.get("waived", []) else "deny"
            print(
                f"    {state:6}  {where:48}  {finding['rule']:24}  {subject['namespace']}/{subject['name']}"
            )


def fleetgate() -> list[str]:
    """The installed console script next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "fleetgate"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "fleetgate"]


def git(repo: Path, *args: str) -> None:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DemoError(f"git {args[0]} failed: {done.stderr.strip()}", EXIT_BROKEN)


def environment() -> dict[str, str]:
    """The caller's environment without their git settings, with a fixed author and clock."""
    when = "2025-04-01T09:00:00Z"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Platform Demo",
        "GIT_AUTHOR_EMAIL": "platform-demo@example.com",
        "GIT_COMMITTER_NAME": "Platform Demo",
        "GIT_COMMITTER_EMAIL": "platform-demo@example.com",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
