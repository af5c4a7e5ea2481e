"""Telemetry benchmarks: what a promotion check costs, and how long watch takes on a large fleet.

(a) A repository with 5 deployments, each promoted one rung (10 -> 25 %) over a baked rung,
    judged against a real local Prometheus (20 segments per deployment, previous and current
    version). The figure is the median wall time of ``fleetgate check --base main --evidence
    telemetry`` minus that of ``--evidence none`` (the same check without the telemetry fact).
    Target: at most 100 ms.
(b) ``fleetgate watch`` over 1,000 deployments x 20 segments from a snapshot (one regression).
    Target: at most 15 s on a 2-core machine.

With ``--baseline COMMIT`` the commit is checked out into a temporary git worktree and both trees
run on the same repositories, alternating one run of each (PYTHONPATH selects the tree), so that a
shared machine's drift hits both alike. Both run with their bytecode cached (as an installed package
does), in a cache of their own.

Run: PYTHONPATH=engine:tests .venv/bin/python benchmarks/telemetry.py [--repeats N] [--baseline COMMIT]
Needs prometheus and promtool (part (a) is skipped without them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from support_telemetry import Telemetry, prometheus

from support import GIT_ENV, GitRepo, manifest, to_yaml

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _commit_at(repo: GitRepo, hours_ago: float, message: str) -> str:
    repo.git("add", "-A")
    stamp = (NOW - dt.timedelta(hours=hours_ago)).isoformat()
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.root, env=env, check=True)
    return repo.git("rev-parse", "HEAD")


def _fleet(deployments: int, segments: int) -> Telemetry:
    data = Telemetry(now=NOW, hours=1, exact_newest=False)
    for d in range(deployments):
        for s in range(segments):
            for version in ("3.2.0", "3.2.1"):
                battery = {"batteryDrainPctPerDay": 0.6} if (d, s, version) == (0, 3, "3.2.1") else {}
                data.add("production", f"m{d:04d}", version, f"seg-{s:02d}", **battery)
    return data


def _repo(root: Path, deployments: int, source: dict[str, object], percentages: tuple[int, int]) -> GitRepo:
    repo = GitRepo(root)
    repo.write("fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": source}}))
    for version, hours, percentage in (("3.2.0", 240, 100), ("3.2.1", 48, percentages[0])):
        for d in range(deployments):
            body = manifest(f"m{d:04d}", version=version, updateStrategy={"rolloutPercentage": percentage})
            repo.write(f"models/m{d:04d}.yaml", to_yaml(body))
        _commit_at(repo, hours, f"{version}")
    return repo


ROOT = Path(__file__).resolve().parent.parent
Trees = dict[str, Path]


def _environment(work: Path, tree: Path, label: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **env,
        **GIT_ENV,
        "PYTHONPATH": str(tree / "engine"),
        "PYTHONPYCACHEPREFIX": str(work / f"pycache-{label}"),
    }


def _wall(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def _overheads(
    variants: dict[str, list[str]], cwd: Path, envs: dict[str, dict[str, str]], repeats: int
) -> dict[str, dict[str, float]]:
    """Per tree, the wall time of the ``telemetry`` variant minus that of ``none``, by median and
    by minimum (the run least disturbed by the rest of a shared machine), every run of every
    tree and variant interleaved."""
    walls: dict[tuple[str, str], list[float]] = {(t, v): [] for t in envs for v in variants}
    for env in envs.values():  # warm-up: bytecode and page caches
        for argv in variants.values():
            _wall(argv, cwd, env)
    for _ in range(repeats):
        for label, env in envs.items():
            for variant, argv in variants.items():
                walls[(label, variant)].append(_wall(argv, cwd, env))
    found: dict[str, dict[str, float]] = {}
    for tree in envs:
        with_it, without = walls[(tree, "telemetry")], walls[(tree, "none")]
        found[tree] = {
            "median": statistics.median(with_it) - statistics.median(without),
            "min": min(with_it) - min(without),
        }
    return found


def promotion_overhead(work: Path, repeats: int, trees: Trees) -> dict[str, dict[str, float]] | None:
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        return None
    data = _fleet(5, 20)
    with prometheus(data, work / "prometheus") as url:
        repo = _repo(work / "promotion", 5, {"kind": "prometheus", "url": url}, (10, 25))
        for d in range(5):
            body = manifest(f"m{d:04d}", version="3.2.1", updateStrategy={"rolloutPercentage": 25})
            repo.write(f"models/m{d:04d}.yaml", to_yaml(body))
        check = [sys.executable, "-m", "fleetgate", "check", "--no-audit", "--base", "main", "--evidence"]
        variants = {"telemetry": [*check, "telemetry"], "none": [*check, "none"]}
        envs = {label: _environment(work, tree, label) for label, tree in trees.items()}
        return _overheads(variants, repo.root, envs, repeats)


def watch_time(work: Path, repeats: int, trees: Trees) -> dict[str, float]:
    repo = _repo(work / "watch", 1000, {"kind": "snapshot", "path": "telemetry.json"}, (25, 25))
    repo.write("telemetry.json", _fleet(1000, 20).snapshot_json())
    repo.commit("telemetry")
    argv = [sys.executable, "-m", "fleetgate", "watch", "--no-audit", "--format", "json", "--branch"]
    samples: dict[str, list[float]] = {label: [] for label in trees}
    for n in range(repeats):
        for label, tree in trees.items():
            start = time.perf_counter()
            done = subprocess.run(
                [*argv, f"fix-{label}-{n}"],
                cwd=repo.root,
                env=_environment(work, tree, label),
                capture_output=True,
                text=True,
            )
            samples[label].append(time.perf_counter() - start)
            # The one injected regression must be found and remediated (exit 1), nothing else.
            if done.returncode != 1:
                raise SystemExit(
                    f"{label}: watch exited {done.returncode}: {done.stderr.strip() or done.stdout[-500:]}"
                )
    return {label: statistics.median(s) for label, s in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", metavar="COMMIT", help="also time this commit, side by side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-telemetry-") as folder:
        work = Path(folder)
        trees: Trees = {"today": ROOT}
        if args.baseline:
            trees = {"baseline": work / "baseline", "today": ROOT}
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "add",
                    "-q",
                    "--detach",
                    str(trees["baseline"]),
                    args.baseline,
                ],
                check=True,
            )
        try:
            _report(work, args.repeats, trees)
        finally:
            if args.baseline:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees["baseline"])],
                    check=True,
                )
    return 0


def _report(work: Path, repeats: int, trees: Trees) -> None:
    overheads = promotion_overhead(work, repeats, trees)
    if overheads is None:
        print("promotion check, 5 changes, local Prometheus: skipped (no prometheus)")
    for label, overhead in (overheads or {}).items():
        median, least = overhead["median"] * 1000, overhead["min"] * 1000
        shown = f"+{median:.0f} ms median, +{least:.0f} ms min (target <= 100 ms)"
        print(f"{label:8} promotion check, 5 changes, local Prometheus: {shown}")
    for label, seconds in watch_time(work, max(1, repeats // 5), trees).items():
        print(f"{label:8} watch, 1,000 deployments x 20 segments: {seconds:.1f} s (target <= 15 s)")


if __name__ == "__main__":
    sys.exit(main())
