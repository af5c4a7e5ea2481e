"""Telemetry benchmarks: what a promotion check costs, and how long watch takes on a large fleet.

(a) A repository with 5 deployments, each promoted one rung (10 -> 25 %) over a baked rung,
    judged against a real local Prometheus (20 segments per deployment, previous and current
    version). The figure is the median wall time of ``fleetgate check --base main --evidence
    telemetry`` minus that of ``--evidence none`` (the same check without the telemetry fact).
    Target: at most 100 ms.
(b) ``fleetgate watch`` over 1,000 deployments x 20 segments from a snapshot (one regression).
    Target: at most 15 s on a 2-core machine.

Run: PYTHONPATH=engine:tests .venv/bin/python benchmarks/telemetry.py [--repeats N]
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


def _time(argv: list[str], cwd: Path, repeats: int) -> float:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)  # warm caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def promotion_overhead(work: Path, repeats: int) -> float | None:
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        return None
    data = _fleet(5, 20)
    with prometheus(data, work / "prometheus") as url:
        repo = _repo(work / "promotion", 5, {"kind": "prometheus", "url": url}, (10, 25))
        for d in range(5):
            body = manifest(f"m{d:04d}", version="3.2.1", updateStrategy={"rolloutPercentage": 25})
            repo.write(f"models/m{d:04d}.yaml", to_yaml(body))
        check = [sys.executable, "-m", "fleetgate", "check", "--no-audit", "--base", "main", "--evidence"]
        with_telemetry = _time([*check, "telemetry"], repo.root, repeats)
        without = _time([*check, "none"], repo.root, repeats)
    return with_telemetry - without


def watch_time(work: Path, repeats: int) -> float:
    repo = _repo(work / "watch", 1000, {"kind": "snapshot", "path": "telemetry.json"}, (25, 25))
    repo.write("telemetry.json", _fleet(1000, 20).snapshot_json())
    repo.commit("telemetry")
    argv = [sys.executable, "-m", "fleetgate", "watch", "--no-audit", "--format", "json", "--branch"]
    samples = []
    for n in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(
            [*argv, f"fix-{n}"], cwd=repo.root, env={**os.environ, **GIT_ENV}, capture_output=True, text=True
        )
        samples.append(time.perf_counter() - start)
        # The one injected regression must be found and remediated (exit 1), nothing else.
        if done.returncode != 1:
            raise SystemExit(f"watch exited {done.returncode}: {done.stderr.strip() or done.stdout[-500:]}")
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-telemetry-") as folder:
        work = Path(folder)
        overhead = promotion_overhead(work, args.repeats)
        shown = (
            "skipped (no prometheus)" if overhead is None else f"{overhead * 1000:.0f} ms (target <= 100 ms)"
        )
        print(f"promotion check, 5 changes, local Prometheus: +{shown}")
        watched = watch_time(work, max(1, args.repeats // 2))
        print(f"watch, 1,000 deployments x 20 segments: {watched:.1f} s (target <= 15 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
