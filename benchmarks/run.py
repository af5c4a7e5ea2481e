"""How fast is the gate where speed matters? Two measurements, side by side in one run.

(a) pre-commit: wall time of ``fleetgate check --staged`` in a git repo with 200 committed
    manifests and 5 staged changes, next to ``python -c pass`` on the same interpreter (the floor
    any Python CLI pays), the two run alternately. Target: at most 12x ``python -c pass``.
(b) full scan: ``fleetgate check PATH`` over 10,000 generated manifests, next to the reading
    floor: one process parsing the same files with PyYAML's C loader, run alternately.
    Targets: at most 3x the reading floor; peak RSS of the gate process at most 300 MB.

Shared machines drift from day to day, so every target is a ratio to a baseline measured in the
same run. Every figure is the median of ``--repeats`` runs (default 7) after one untimed
warm-up run. Results go to stdout as a table and to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
MIB = 1024 * 1024
TIERS = {"lite": 10 * MIB, "standard": 50 * MIB, "premium": 200 * MIB}
NAMESPACES = ("production", "staging", "research", "dev", "partner-apps")
REGION_SETS = (["US"], ["US", "EU"], ["EU", "UK"], ["US", "CA", "JP"], ["IN", "BR", "AU"])
QUANTIZATIONS = ("int8", "uint8", "fp16")
DENY_EVERY = 40  # one manifest in 40 starts above the initial rollout maximum (a deny)
ROLLOUTS = (1, 5, 10)  # rungs at or below the initial maximum
NEXT_RUNG = {1: 5, 5: 10, 10: 25}

TARGET_STAGED_RATIO = 12.0  # check --staged / python -c pass
TARGET_SCAN_RATIO = 3.0  # scan / reading floor
TARGET_SCAN_RSS_MB = 300.0
READING_FLOOR = (
    "import pathlib, yaml\n"
    "for p in sorted(pathlib.Path('models').rglob('*.yaml')):\n"
    "    list(yaml.load_all(p.read_bytes(), Loader=yaml.CSafeLoader))\n"
)

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Benchmark",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Benchmark",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def manifest(i: int, rollout: int | None = None) -> str:
    """The i-th generated manifest: valid, varied, admitted unless i is a multiple of DENY_EVERY."""
    namespace = NAMESPACES[i % len(NAMESPACES)]
    tier = ("lite", "standard", "premium")[i % 3]
    size = int(TIERS[tier] * (0.2 + (i % 7) / 10))
    if rollout is None:
        rollout = 25 if i % DENY_EVERY == 0 else ROLLOUTS[i % len(ROLLOUTS)]
    checksum = hashlib.sha256(f"model-{i}".encode()).hexdigest()
    regions = ", ".join(REGION_SETS[i % len(REGION_SETS)])
    return f"""apiVersion: mobileai.example.com/v1
kind: OnDeviceModel
metadata:
  name: model-{i:05d}
  namespace: {namespace}
  labels: {{team: team-{i % 17}}}
spec:
  modelId: m-{i:05d}
  version: {1 + i % 4}.{i % 10}.{i % 3}
  modelUri: s3://bench-models/{namespace}/model-{i:05d}/model.onnx
  checksum: sha256:{checksum}
  tier: {tier}
  sizeBytes: {size}
  targetDevices:
    minOSVersion: iOS{15 + i % 3}
    minAPILevel: {26 + i % 8}
    minMemoryMB: {(2, 4, 8)[i % 3] * 1024}
    regions: [{regions}]
  updateStrategy:
    type: stagedRollout
    rolloutPercentage: {rollout}
    minBatteryLevel: {30 + i % 40}
    networkConstraint: WIFI
  inferenceConfig: {{batchSize: 1, numThreads: {1 + i % 4}, quantization: {QUANTIZATIONS[i % 3]}}}
"""


def write_manifests(root: Path, count: int) -> None:
    for i in range(count):
        path = root / "models" / NAMESPACES[i % len(NAMESPACES)] / f"model-{i:05d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(manifest(i), encoding="utf-8")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def fleetgate() -> list[str]:
    script = Path(sys.executable).parent / "fleetgate"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "fleetgate"]


def child_environment(tmp: Path) -> dict[str, str]:
    """Bytecode cached in a private folder: every run after the warm-up starts like an installed tool.

    Without this the figures would depend on how the environment was installed (with or
    without compiled bytecode) and on PYTHONDONTWRITEBYTECODE, and the repository would be
    left with __pycache__ folders.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    # Every check records its decision; outside a repository the log goes to the state folder,
    # kept inside the temporary folder so the benchmark measures that cost without leaving a log.
    env["XDG_STATE_HOME"] = str(tmp / "state")
    return env


def run_child(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, float]:
    """Run one child process: (wall seconds, exit status, peak RSS in MB)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(argv[-4:])} exited {child.returncode}: {errors.decode(errors='replace')}")
    # ru_maxrss is KiB on Linux, bytes on macOS. It is the largest single process of the child's
    # tree: worker processes the gate forks (and waits for) are included, but not summed.
    rss_mb = usage.ru_maxrss / (MIB if sys.platform == "darwin" else 1024)
    return elapsed, child.returncode, rss_mb


def measure(argv: list[str], cwd: Path, repeats: int, env: dict[str, str]) -> dict[str, Any]:
    return measure_side_by_side([argv], cwd, repeats, env)[0]


def measure_side_by_side(
    commands: list[list[str]], cwd: Path, repeats: int, env: dict[str, str]
) -> list[dict[str, Any]]:
    """Each command warmed up once, then run ``repeats`` times, the commands alternating.

    Alternating puts a slow minute of a shared machine on every command alike.
    """
    for argv in commands:
        run_child(argv, cwd, env)  # warm-up: bytecode cache, page cache
    samples: list[list[tuple[float, int, float]]] = [[] for _ in commands]
    for _ in range(repeats):
        for argv, kept in zip(commands, samples, strict=True):
            kept.append(run_child(argv, cwd, env))
    return [_summary(kept) for kept in samples]


def _summary(samples: list[tuple[float, int, float]]) -> dict[str, Any]:
    walls = [s[0] for s in samples]
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "samples_s": [round(w, 4) for w in walls],
        "exit_status": sorted({s[1] for s in samples}),
        "peak_rss_mb": max(s[2] for s in samples),
    }


def bench_staged(tmp: Path, committed: int, staged: int, repeats: int) -> dict[str, Any]:
    repo = tmp / "staged-repo"
    repo.mkdir()
    write_manifests(repo, committed)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=fleet")
    step = max(1, committed // staged)
    changed = [i for i in range(1, committed, step) if i % DENY_EVERY][:staged]
    for i in changed:  # widen the rollout one rung: an admitted change
        path = repo / "models" / NAMESPACES[i % len(NAMESPACES)] / f"model-{i:05d}.yaml"
        path.write_text(manifest(i, rollout=NEXT_RUNG[ROLLOUTS[i % len(ROLLOUTS)]]), encoding="utf-8")
    git(repo, "add", "--all")
    floor, check = measure_side_by_side(
        [[sys.executable, "-c", "pass"], [*fleetgate(), "check", "--staged"]],
        repo,
        repeats,
        child_environment(tmp),
    )
    return {
        "committed_manifests": committed,
        "staged_changes": len(changed),
        "python_pass": floor,
        "check_staged": check,
        "ratio": check["median_s"] / floor["median_s"],
    }


def bench_scan(tmp: Path, count: int, repeats: int, jobs: int | None) -> dict[str, Any]:
    root = tmp / "scan"
    root.mkdir()
    write_manifests(root, count)
    report = tmp / "scan-decision.json"
    argv = [*fleetgate(), "check", "models", "--format", "json", "--output", str(report)]
    argv += [] if jobs is None else ["--jobs", str(jobs)]
    floor, result = measure_side_by_side(
        [[sys.executable, "-c", READING_FLOOR], argv], root, repeats, child_environment(tmp)
    )
    decision = json.loads(report.read_text(encoding="utf-8"))
    evaluated = len(decision["subjects"])
    if evaluated != count:
        sys.exit(f"bench: the scan evaluated {evaluated} manifests, {count} were generated")
    result["jobs"] = jobs or "default (one worker per core)"
    result["manifests"] = evaluated
    result["admitted"] = sum(1 for s in decision["subjects"] if s["allowed"])
    result["manifests_per_s"] = evaluated / result["median_s"]
    result["reading_floor"] = floor
    result["ratio"] = result["median_s"] / floor["median_s"]
    return result


def environment_info() -> dict[str, Any]:
    version = subprocess.run([*fleetgate(), "--version"], capture_output=True, text=True, check=False)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "fleetgate": version.stdout.strip(),
    }


def progress(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Keep ``results`` as JSON at ``path`` and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path}")


def table(results: dict[str, Any]) -> list[str]:
    staged, scan = results["staged"], results["scan"]
    base, check = staged["python_pass"], staged["check_staged"]
    floor, rss = scan["reading_floor"], scan["peak_rss_mb"]
    jobs = f", --jobs {scan['jobs']}" if isinstance(scan["jobs"], int) else ""
    rows: list[tuple[str, str, str, str, str]] = [
        ("(a) python -c pass (baseline)", f"{base['median_s']:.3f} s", "", "", ""),
        (
            f"(a) check --staged ({staged['committed_manifests']} + {staged['staged_changes']} staged)",
            f"{check['median_s']:.3f} s",
            f"x{staged['ratio']:.1f}",
            f"<= x{TARGET_STAGED_RATIO:.0f}",
            verdict(staged["ratio"] <= TARGET_STAGED_RATIO),
        ),
        ("(b) reading floor: PyYAML C loader (baseline)", f"{floor['median_s']:.2f} s", "", "", ""),
        (
            f"(b) check PATH, {scan['manifests']} manifests" + jobs,
            f"{scan['median_s']:.2f} s",
            f"x{scan['ratio']:.1f}",
            f"<= x{TARGET_SCAN_RATIO:.0f}",
            verdict(scan["ratio"] <= TARGET_SCAN_RATIO),
        ),
        ("    throughput", f"{scan['manifests_per_s']:,.0f}/s", "", "", ""),
        (
            "    peak RSS",
            f"{rss:.0f} MB",
            "",
            f"<= {TARGET_SCAN_RSS_MB:.0f} MB",
            verdict(rss <= TARGET_SCAN_RSS_MB),
        ),
        ("    admitted", f"{scan['admitted']} / {scan['manifests']}", "", "", ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("measure", "median", "ratio", "target")
    out = ["  ".join(f"{h:{w}}" for h, w in zip(head, widths, strict=True)).rstrip()]
    out += [
        f"{a:{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d:{widths[3]}}  {e}".rstrip()
        for a, b, c, d, e in rows
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (default 7)")
    parser.add_argument("--manifests", type=int, default=10_000, help="manifests in the scan (default 10000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 manifests, 3 repeats")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to the scan (default: the gate's own)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    args = parser.parse_args(argv)
    repeats, count = (3, 1_000) if args.quick else (args.repeats, args.manifests)
    if repeats < 1 or count < 1:
        parser.error("--repeats and --manifests must be positive")
    env = environment_info()  # before the runs: the load average says how busy the machine was
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-") as name:
        tmp = Path(name)
        progress(f"(a) check --staged, {repeats} runs")
        staged = bench_staged(tmp, committed=200, staged=5, repeats=repeats)
        progress(f"(b) scan of {count} manifests, {repeats} runs")
        scan = bench_scan(tmp, count, repeats, args.jobs)
    results: dict[str, Any] = {"environment": env, "repeats": repeats, "staged": staged, "scan": scan}
    results["targets_met"] = {
        "staged_ratio": staged["ratio"] <= TARGET_STAGED_RATIO,
        "scan_ratio": scan["ratio"] <= TARGET_SCAN_RATIO,
        "scan_rss": scan["peak_rss_mb"] <= TARGET_SCAN_RSS_MB,
    }
    print("\n".join(table(results)))
    print(f"({env['fleetgate']}, Python {env['python']}, {env['cpus']} CPUs, medians of {repeats} runs)")
    write_results(args.output, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
