"""What the cost fact adds to the gate: side by side with ``--evidence none``, in one run.

(a) full scan: ``fleetgate check models`` over 10,000 generated manifests (the scan of run.py)
    whose ``fleetgate.yaml`` names a 500-segment fleet inventory and a price sheet, once with
    ``--evidence none`` and once with ``--evidence cost``, interleaved run by run so both see the
    same machine. Target: the cost fact adds at most 10 % to the median wall time.
(b) pre-commit: ``fleetgate check --staged`` with 200 committed manifests and 5 staged changes,
    the same fleet, both ways. Target: the cost fact adds at most 5 ms to the median.

Each run is timed by wall clock (the target) and by the CPU time of the process and the git
processes it waits for: on a shared machine the CPU figure shows what the cost fact itself costs
when other work stretches the wall clock. Results go to stdout as a table and to
benchmarks/results/cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from run import (
    DENY_EVERY,
    NAMESPACES,
    NEXT_RUNG,
    ROLLOUTS,
    child_environment,
    environment_info,
    fleetgate,
    git,
    manifest,
    write_manifests,
)

RESULTS = Path(__file__).resolve().parent / "results" / "cost.json"
TARGET_SCAN_OVERHEAD = 0.10
TARGET_STAGED_MS = 5.0
REGIONS = ["US", "EU", "UK", "CA", "JP", "AU", "IN", "BR"]
MEMORY_MB = (2048, 3072, 4096, 6144, 8192, 12288)
DEVICE_CLASS = {2048: "low", 3072: "low", 4096: "mid", 6144: "mid", 8192: "high", 12288: "high"}
CONFIG = "fleet: {inventory: fleet/inventory.yaml, prices: fleet/prices.yaml}\n"


def write_fleet(root: Path, segments: int) -> None:
    """A ``segments``-row inventory over every region, class, platform and OS level, and prices.

    Device classes follow memory (low 2-3 GB, mid 4-6 GB, high 8-12 GB), so the generated
    manifests' tiers fit the classes their ``minMemoryMB`` reaches: standard models (4 GB and up)
    reach mid and high phones, premium models (8 GB) high ones. targeting.tier-segment still
    evaluates every change, and the lite rule still weighs each lite model against its lowest class.
    """
    rows = []
    for k in range(segments):
        row: dict[str, Any] = {
            "name": f"segment-{k:04d}",
            "platform": "android" if k % 2 else "ios",
            "memoryMB": MEMORY_MB[k % len(MEMORY_MB)],
            "region": REGIONS[k % len(REGIONS)],
            # A device class follows the phone's capability, as in any real inventory.
            "deviceClass": DEVICE_CLASS[MEMORY_MB[k % len(MEMORY_MB)]],
            "devices": 10_000 + 997 * k,
            "wifiShare": round(0.4 + (k % 7) / 10, 1),
        }
        if k % 2:
            row["apiLevel"] = 26 + k % 10
        else:
            row["osVersion"] = f"{15 + k % 4}.{k % 3}"
        rows.append(row)
    (root / "fleet").mkdir(parents=True, exist_ok=True)
    inventory = {"apiVersion": "fleetgate.dev/v1", "kind": "FleetInventory", "segments": rows}
    prices = {
        "apiVersion": "fleetgate.dev/v1",
        "kind": "PriceSheet",
        "currency": "USD",
        "egressPerGB": {r: 0.08 + n / 100 for n, r in enumerate(REGIONS)},
        "cellularSurchargePerGB": 0.02,
    }
    (root / "fleet" / "inventory.yaml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (root / "fleet" / "prices.yaml").write_text(yaml.safe_dump(prices), encoding="utf-8")
    (root / "fleetgate.yaml").write_text(CONFIG, encoding="utf-8")


def timed_child(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """One run of ``argv``: (wall seconds, CPU seconds of it and the children it waited for)."""
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
    return elapsed, usage.ru_utime + usage.ru_stime


def side_by_side(argv: list[str], cwd: Path, repeats: int, env: dict[str, str]) -> dict[str, Any]:
    """Median wall and CPU time of ``argv`` with ``--evidence none`` and ``--evidence cost``, interleaved."""
    runs: dict[str, list[tuple[float, float]]] = {"none": [], "cost": []}
    for facts in runs:
        timed_child([*argv, "--evidence", facts], cwd, env)  # warm-up
    for _ in range(repeats):
        for facts, samples in runs.items():
            samples.append(timed_child([*argv, "--evidence", facts], cwd, env))
    none, cost = (statistics.median(w for w, _ in runs[k]) for k in ("none", "cost"))
    none_cpu, cost_cpu = (statistics.median(c for _, c in runs[k]) for k in ("none", "cost"))
    return {
        "none_median_s": none,
        "cost_median_s": cost,
        "added_s": cost - none,
        "overhead": cost / none - 1,
        "none_cpu_median_s": none_cpu,
        "cost_cpu_median_s": cost_cpu,
        "added_cpu_s": cost_cpu - none_cpu,
        "samples_s": {k: [round(w, 4) for w, _ in vs] for k, vs in runs.items()},
    }


def bench_scan(tmp: Path, count: int, segments: int, repeats: int) -> dict[str, Any]:
    root = tmp / "scan"
    write_manifests(root, count)
    write_fleet(root, segments)
    argv = [
        *fleetgate(),
        "check",
        "models",
        "--no-audit",
        "--format",
        "json",
        "--output",
        str(tmp / "d.json"),
    ]
    result = side_by_side(argv, root, repeats, child_environment(tmp))
    decision = json.loads((tmp / "d.json").read_text(encoding="utf-8"))
    priced = len(decision.get("finops", {}).get("deployments", []))
    if priced != count:
        sys.exit(f"bench: the scan priced {priced} deployments, {count} were generated")
    return {**result, "manifests": count, "segments": segments}


def bench_staged(tmp: Path, committed: int, staged: int, segments: int, repeats: int) -> dict[str, Any]:
    repo = tmp / "staged-repo"
    write_manifests(repo, committed)
    write_fleet(repo, segments)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=fleet")
    step = max(1, committed // staged)
    changed = [i for i in range(1, committed, step) if i % DENY_EVERY][:staged]
    for i in changed:
        path = repo / "models" / NAMESPACES[i % len(NAMESPACES)] / f"model-{i:05d}.yaml"
        path.write_text(manifest(i, rollout=NEXT_RUNG[ROLLOUTS[i % len(ROLLOUTS)]]), encoding="utf-8")
    git(repo, "add", "--all")
    argv = [*fleetgate(), "check", "--staged", "--no-audit"]
    return {**side_by_side(argv, repo, repeats, child_environment(tmp)), "staged_changes": len(changed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of the scan, each way")
    parser.add_argument("--staged-repeats", type=int, default=21, help="runs of the pre-commit check")
    parser.add_argument("--manifests", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="3 repeats, 1,000 manifests")
    args = parser.parse_args(argv)
    repeats, count = (3, 1000) if args.quick else (args.repeats, args.manifests)
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-cost-") as folder:
        tmp = Path(folder)
        staged = bench_staged(tmp, 200, 5, args.segments, 5 if args.quick else args.staged_repeats)
        scan = bench_scan(tmp, count, args.segments, repeats)
    results = {"environment": environment_info(), "staged": staged, "scan": scan}
    staged_count = staged["staged_changes"]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    added_ms = staged["added_s"] * 1000
    scan_ok = scan["overhead"] <= TARGET_SCAN_OVERHEAD
    staged_ok = added_ms <= TARGET_STAGED_MS
    print(
        f"{'measurement':40} {'--evidence none':>16} {'--evidence cost':>16} {'added':>9} "
        f"{'added CPU':>10}  target"
    )
    print(
        f"{f'pre-commit, {staged_count} staged changes':40} {staged['none_median_s']:>15.3f}s "
        f"{staged['cost_median_s']:>15.3f}s {added_ms:>7.1f}ms {staged['added_cpu_s'] * 1000:>8.1f}ms"
        f"  <= {TARGET_STAGED_MS:.0f} ms: {'met' if staged_ok else 'MISSED'}"
    )
    cpu_overhead = scan["cost_cpu_median_s"] / scan["none_cpu_median_s"] - 1
    print(
        f"{f'scan, {count} manifests x {args.segments} segments':40} {scan['none_median_s']:>15.3f}s "
        f"{scan['cost_median_s']:>15.3f}s {scan['overhead']:>8.1%} {cpu_overhead:>9.1%}"
        f"  <= 10 %: {'met' if scan_ok else 'MISSED'}"
    )
    return 0 if scan_ok and staged_ok else 1


if __name__ == "__main__":
    sys.exit(main())
