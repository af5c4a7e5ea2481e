"""fleetgate's telemetry-gated promotion and closed loop, end to end, offline.

Builds a throwaway repository whose ``fleetgate.yaml`` judges promotions by a telemetry snapshot
kept in the repository (a gate file). ``main`` ships image-classifier 3.2.0 everywhere, then 3.2.1
at 10 %; the pull request raises 3.2.1 to 25 %:

1. 3.2.1 reached 10 % three hours ago: denied by ``rollout.promotion-health``, too little bake time;
2. 3.2.1 reached 10 % thirty hours ago, but in one segment its devices drain 1.375 times the battery
   of 3.2.0's devices there: denied again, naming the segment, the value, the limit and the baseline;
3. ``fleetgate watch --remediation rollback`` writes the rollback to 3.2.0 as a git branch, and
   ``fleetgate check`` admits that branch by rule.

Exits 0 when the gate behaved so, non-zero with a message otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from demo_classifier import classifier, new_repository
from demo_support import EXIT_BROKEN, EXIT_OK, DemoError, environment, fleetgate, git

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SEGMENTS = ("android-34-8g-us-high", "android-30-4g-eu-mid", "ios-17-6g-us-high", "ios-16-4g-eu-mid")
CONFIG = """\
telemetry:
  source: {kind: snapshot, path: telemetry/snapshot.json}
policies:
  data:
    evidence: {enforce: {pre-merge: warn, pre-deploy: warn}}  # the demo's artifacts live nowhere
"""


def snapshot(drain_in_last_segment: float) -> str:
    """Both versions healthy in every segment, except 3.2.1's battery drain in the last one."""
    rows = []
    for version in ("3.2.0", "3.2.1"):
        for segment in SEGMENTS:
            drain = drain_in_last_segment if (version, segment) == ("3.2.1", SEGMENTS[-1]) else 0.40
            rows.append(
                {
                    "namespace": "production",
                    "name": "image-classifier-v3",
                    "version": version,
                    "segment": segment,
                    "devicesReporting": 1200,
                    "crashFreeRate": 0.998,
                    "p95LatencyMs": 41.0,
                    "batteryDrainPctPerDay": drain,
                    "networkBytesPerDevicePerDay": 120000,
                    "loadFailures": 0,
                    "newestSample": (NOW - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {"apiVersion": "fleetgate.dev/v1", "kind": "TelemetrySnapshot", "generatedAt": stamp, "series": rows},
        indent=1,
    )


def manifest(version: str, percent: int) -> str:
    digest_byte = "ab" if version == "3.2.0" else "cd"
    return classifier(version, digest_byte, percent, size=12_582_912, regions=("US", "EU"))


def main() -> int:
    if shutil.which("git") is None:
        print("demo: git is not installed", file=sys.stderr)
        return EXIT_BROKEN
    try:
        with tempfile.TemporaryDirectory(prefix="fleetgate-telemetry-") as tmp:
            build(Path(tmp) / "young", rung_hours=3, drain=0.40)
            expect(Path(tmp) / "young", 1, "less than the minimum bake time of 24 hours")
            build(Path(tmp) / "baked", rung_hours=30, drain=0.55)
            expect(Path(tmp) / "baked", 1, "ios-16-4g-eu-mid: version 3.2.1 drains 0.55 % battery per day")
            roll_back(Path(tmp) / "baked")
    except DemoError as exc:
        print(f"\ndemo: FAILED: {exc}", file=sys.stderr)
        return exc.code
    print("\ndemo: OK: denied for bake time, then for a battery regression; the rollback was admitted")
    return EXIT_OK


def build(repo: Path, rung_hours: float, drain: float) -> None:
    """main: 3.2.0 everywhere ten days ago, 3.2.1 at 10 % ``rung_hours`` ago; the PR raises it to 25 %."""
    target = new_repository(repo)
    (repo / "telemetry").mkdir()
    (repo / "fleetgate.yaml").write_text(CONFIG)
    (repo / "telemetry" / "snapshot.json").write_text(snapshot(drain))
    for version, percent, hours in (("3.2.0", 100, 240), ("3.2.1", 10, rung_hours)):
        target.write_text(manifest(version, percent))
        commit(repo, NOW - dt.timedelta(hours=hours), f"image-classifier {version} at {percent} %")
    target.write_text(manifest("3.2.1", 25))


def commit(repo: Path, when: dt.datetime, message: str) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {**environment(), "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    git(repo, "add", "--all")
    done = subprocess.run(
        ["git", "commit", "--quiet", f"--message={message}"], cwd=repo, env=env, check=False
    )
    if done.returncode != 0:
        raise DemoError("git commit failed", EXIT_BROKEN)


def expect(repo: Path, code: int, text: str) -> None:
    """Run the promotion check and compare with what should happen."""
    args = ["check", "--base", "main", "--stage", "pre-deploy", "--evidence", "telemetry", "--no-audit"]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    done = subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), capture_output=True, text=True)
    print(done.stdout, end="")
    if done.returncode != code or text not in done.stdout:
        raise DemoError(
            f"the gate exited {done.returncode} (expected {code}) without {text!r}: {done.stderr}"
        )


def roll_back(repo: Path) -> None:
    """The regression is on main at 10 %: watch writes the rollback, and check admits it."""
    args = ["watch", "--remediation", "rollback", "--branch", "rollback-image-classifier", "--no-audit"]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    done = subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), capture_output=True, text=True)
    print(done.stdout, end="")
    if (
        done.returncode != 1
        or "remediation branch: rollback-image-classifier (check: admit)" not in done.stdout
    ):
        raise DemoError(f"watch exited {done.returncode}: {done.stderr.strip()}")
    args = [
        "check",
        "--base",
        "main",
        "--head",
        "rollback-image-classifier",
        "--evidence",
        "rollback",
        "--no-audit",
    ]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    done = subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), capture_output=True, text=True)
    print(done.stdout, end="")
    if done.returncode != 0:
        raise DemoError(f"the rollback was not admitted (exit {done.returncode}): {done.stderr.strip()}")


if __name__ == "__main__":
    sys.exit(main())
