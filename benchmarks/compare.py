"""Today's code against an earlier commit, side by side in one run: the manifest-only hook path.

    python benchmarks/compare.py --baseline fa16ab8 [--repeats 15]

The baseline commit is checked out into a temporary git worktree; both trees run as
``python -m fleetgate check --staged`` (PYTHONPATH selects the tree) on the same generated
repository (run.py's 200 committed manifests, 5 staged), alternating one run of each so that
drift of a shared machine hits both alike. Two repositories: without fleetgate.yaml, and with
one that names a policy folder and a waiver file (gate files, read from the trusted revision).
Reports each median and the ratio today / baseline.
Target: ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import git, run_child, write_manifests

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.05
# Settings both trees understand (a baseline may predate newer sections).
CONFIG = (
    "policies:\n  dirs: [policy]\n  data:\n    rollout: {initialMax: 10}\nwaivers: fleetgate-waivers.yaml\n"
)
POLICY = "package fleetgate.team\n\nimport rego.v1\n\ndeny contains x if {\n\tfalse\n\tx := 1\n}\n"


def staged_repo(tmp: Path, name: str, configured: bool) -> Path:
    """run.py's hook repository: 200 committed manifests and 5 staged rollout steps."""
    from run import DENY_EVERY, NAMESPACES, NEXT_RUNG, ROLLOUTS, manifest

    repo = tmp / name
    repo.mkdir()
    write_manifests(repo, 200)
    if configured:
        (repo / "fleetgate.yaml").write_text(CONFIG)
        (repo / "policy").mkdir()
        (repo / "policy" / "team.rego").write_text(POLICY)
        (repo / "fleetgate-waivers.yaml").write_text("waivers: []\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=fleet")
    changed = [i for i in range(1, 200, 40) if i % DENY_EVERY][:5]
    for i in changed:
        path = repo / "models" / NAMESPACES[i % len(NAMESPACES)] / f"model-{i:05d}.yaml"
        path.write_text(manifest(i, rollout=NEXT_RUNG[ROLLOUTS[i % len(ROLLOUTS)]]), encoding="utf-8")
    git(repo, "add", "--all")
    return repo


def environment(tmp: Path, tree: Path, label: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=str(tree / "engine"),
        PYTHONPYCACHEPREFIX=str(tmp / f"pycache-{label}"),
        XDG_STATE_HOME=str(tmp / f"state-{label}"),
    )
    return env


def side_by_side(repo: Path, trees: dict[str, Path], tmp: Path, repeats: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "fleetgate", "check", "--staged", "--no-audit"]
    envs = {label: environment(tmp, tree, label) for label, tree in trees.items()}
    walls: dict[str, list[float]] = {label: [] for label in trees}
    for label in trees:  # warm-up: bytecode and page caches
        run_child(argv, repo, envs[label])
    for _ in range(repeats):
        for label in trees:
            walls[label].append(run_child(argv, repo, envs[label])[0])
    medians = {label: statistics.median(w) for label, w in walls.items()}
    return {
        "median_s": {label: round(m, 4) for label, m in medians.items()},
        "ratio": round(medians["today"] / medians["baseline"], 3),
        "samples_s": {label: [round(w, 4) for w in ws] for label, ws in walls.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, metavar="COMMIT")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetgate-compare-") as scratch:
        tmp = Path(scratch)
        baseline = tmp / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(baseline), args.baseline],
            check=True,
        )
        try:
            trees = {"baseline": baseline, "today": ROOT}
            results = {
                name: side_by_side(staged_repo(tmp, name, configured), trees, tmp, args.repeats)
                for name, configured in (("no-config", False), ("gate-files", True))
            }
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=True
            )
    print(f"check --staged, 200 committed / 5 staged, median of {args.repeats}, baseline {args.baseline}")
    for name, result in results.items():
        medians, ratio = result["median_s"], result["ratio"]
        verdict = "ok" if ratio <= TARGET_RATIO else "MISS"
        print(
            f"  {name:10}  baseline {medians['baseline']:.3f} s  today {medians['today']:.3f} s  "
            f"ratio {ratio:.3f}  ({verdict}, target <= {TARGET_RATIO})"
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
