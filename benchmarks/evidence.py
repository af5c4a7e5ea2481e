"""How much does evidence cost? Supply chain and model evidence, side by side in one run.

(1) Supply chain, in process, on a random artifact of ``--artifact-mb`` MiB (default 100) that
    is in the page cache, interleaved, ``--repeats`` times each (default 5):
    (a) one streaming SHA-256 of the file (``fleetgate.evidence.artifact.hash_file``);
    (b) ``run_verify`` as ``fleetgate verify ARTIFACT --trust FILE`` runs it: the digest, the
        OpenSSF model signature (keyless, private sigstore root) and the provenance (in-toto
        layout train -> quantize -> evaluate plus a key-signed SLSA statement).
    Target: median (b) / median (a) <= 1.5 (verification must not read the file again).
    Timed after one warm-up call; the cost of importing the verification libraries is measured
    apart, in a fresh process, next to the CLI's own wall time.
(2) Model evidence, through the real CLI in a child process, on a CNN of ~2.4 MB in a git
    repository (``check models --evidence artifact,model,latency``, 1 thread, batch 1):
    (a) cold evidence cache, ``--cold-runs`` times (default 3). Target: <= 15 s.
    (b) cached re-run, ``--cached-runs`` times (default 5), interleaved with a manifest-only
        run (``--evidence none``). Target: <= 0.5 s.
    (c) ``--gate-runs`` gate runs (default 3) with ``evidence: {cache: false}``: each run's
        latency p50 and (max - min) / median of them. Target: <= 10 %.
    Separately: the fairness fact of a linear classifier on ``--rows`` rows (default 10,000).

Results go to stdout as a table and to benchmarks/results/evidence.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _evidence_common import FAIRNESS_FACTS, MODEL_FACTS, RESULTS, Plan, fail, stats
from _evidence_fixtures import MANIFEST_FILE, ModelRepository, model_repository
from _evidence_report import environment_info, table, targets_met
from _evidence_supplychain import bench_supply_chain
from run import child_environment, fleetgate, progress, run_child, write_results

from fleetgate.commands.check import evidence_cache_dir

# -- (2) model evidence through the CLI ------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """Runs ``fleetgate check models`` in one repository and reads what it decided."""

    repo: ModelRepository
    tmp: Path
    env: Mapping[str, str]

    @property
    def cache(self) -> Path:
        return evidence_cache_dir(self.repo.root)

    @property
    def report(self) -> Path:
        return self.tmp / f"decision-{self.repo.root.name}.json"

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def run(self, facts: str, *extra: str) -> tuple[float, dict[str, Any]]:
        """(wall seconds, the subject's evidence summary) of one check."""
        argv = [*fleetgate(), "check", "models", "--no-audit", "--quiet", "--format", "json"]
        argv += ["--output", str(self.report), "--evidence", facts, *extra]
        wall, _, _ = run_child(argv, self.repo.root, dict(self.env))
        decision = json.loads(self.report.read_text(encoding="utf-8"))
        subjects = decision["subjects"]
        if len(subjects) != 1 or subjects[0]["file"] != MANIFEST_FILE:
            fail(f"expected one subject from {MANIFEST_FILE}, got {[s.get('file') for s in subjects]}")
        return wall, dict(subjects[0]["evidence"])

    def cached_fact(self, name: str) -> dict[str, Any] | None:
        """The one cached fact of collector ``name`` (the decision shows only a summary)."""
        entries = sorted((self.cache / "facts" / name).glob("*.json"))
        if len(entries) != 1:
            return None
        value: dict[str, Any] = json.loads(entries[0].read_text(encoding="utf-8"))
        return value


Accept = Callable[[Any], bool]


def a_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def measured_fairness(value: Any) -> bool:
    return isinstance(value, str) and value == "measured"


def measured(summary: Mapping[str, Any], key: str, accept: Accept) -> Any:
    """``summary[key]``, which must have been measured: an absent or failed fact stops the run.

    A benchmark that timed a collector failing fast would report a fine number for nothing.
    """
    value = summary.get(key)
    if not accept(value):
        fail(f"the check did not measure {key}: evidence summary {json.dumps(summary)}")
    return value


def cold_runs(gate: Gate, facts: str, runs: int, key: str, accept: Accept) -> tuple[list[float], list[Any]]:
    """``runs`` checks, each on an emptied evidence cache (after one untimed warm-up check)."""
    gate.clear_cache()
    gate.run(facts)  # warm-up: bytecode of the gate, of the latency child, of onnxruntime
    walls, values = [], []
    for _ in range(runs):
        gate.clear_cache()
        wall, summary = gate.run(facts)
        walls.append(wall)
        values.append(measured(summary, key, accept))
    return walls, values


def cached_runs(gate: Gate, facts: str, runs: int, key: str, accept: Accept) -> dict[str, Any]:
    """The same check with a filled cache, interleaved with a manifest-only check."""
    gate.run(facts)  # fills the cache if the last run left it empty
    cached, manifest_only = [], []
    for _ in range(runs):
        wall, summary = gate.run(facts)
        measured(summary, key, accept)
        cached.append(wall)
        wall, summary = gate.run("none")
        if summary:
            fail(f"--evidence none gathered evidence: {summary}")
        manifest_only.append(wall)
    return {"cached": stats(cached), "manifest_only": stats(manifest_only)}


def gate_runs(gate: Gate, runs: int) -> dict[str, Any]:
    """Repeated checks with ``evidence: {cache: false}``: does each re-measure the same p50?"""
    config = gate.tmp / "no-cache.yaml"
    config.write_text("evidence:\n  cache: false\n", encoding="utf-8")
    gate.clear_cache()
    walls, p50s = [], []
    for _ in range(runs):
        wall, summary = gate.run(MODEL_FACTS, "--config", str(config))
        walls.append(wall)
        p50s.append(measured(summary, "latency_p50_ms", a_number))
    if gate.cache.exists():
        fail(f"evidence.cache: false still wrote {gate.cache}")
    median = statistics.median(p50s)
    return {"wall": stats(walls), "p50_ms": p50s, "spread": (max(p50s) - min(p50s)) / median}


def bench_model(tmp: Path, plan: Plan) -> dict[str, Any]:
    repo = model_repository(tmp / "cnn-repository", "cnn", channels=256)
    gate = Gate(repo, tmp, child_environment(tmp))
    progress(f"(2a) check, cold evidence cache, {plan.cold_runs} runs (about 3 s each)")
    walls, p50s = cold_runs(gate, MODEL_FACTS, plan.cold_runs, "latency_p50_ms", a_number)
    latency, model = gate.cached_fact("latency"), gate.cached_fact("model")
    if latency is None or model is None:
        fail(f"the cold run left no cached model and latency facts in {gate.cache}")
    assert latency is not None and model is not None
    progress(f"(2b) check, cached, and --evidence none, {plan.cached_runs} runs each")
    cached = cached_runs(gate, MODEL_FACTS, plan.cached_runs, "latency_p50_ms", a_number)
    progress(f"(2c) {plan.gate_runs} gate runs with the cache off")
    return {
        "model_bytes": repo.model_bytes,
        "cold": {**stats(walls), "latency_p50_ms": p50s},
        "latency_fact": latency,
        "model_fact": model,
        **cached,
        "gate_runs": gate_runs(gate, plan.gate_runs),
    }


def bench_fairness(tmp: Path, plan: Plan) -> dict[str, Any]:
    repo = model_repository(tmp / "fairness-repository", "fairness", rows=plan.rows)
    gate = Gate(repo, tmp, child_environment(tmp))
    progress(f"fairness, {plan.rows} rows: cold ({plan.cold_runs} runs), cached ({plan.cached_runs} runs)")
    walls, _ = cold_runs(gate, FAIRNESS_FACTS, plan.cold_runs, "fairness", measured_fairness)
    fact = gate.cached_fact("fairness") or {}
    cached = cached_runs(gate, FAIRNESS_FACTS, plan.cached_runs, "fairness", measured_fairness)
    return {
        "rows": fact.get("rows"),
        "groups": len(fact.get("groups", [])),
        "accuracy": fact.get("accuracy"),
        "cold": stats(walls),
        **cached,
    }


def make_plan(args: argparse.Namespace) -> Plan:
    quick = bool(args.quick)

    def pick(value: int | None, normal: int, small: int) -> int:
        return value if value is not None else small if quick else normal

    plan = Plan(
        artifact_mb=pick(args.artifact_mb, 100, 20),
        repeats=pick(args.repeats, 5, 3),
        cold_runs=pick(args.cold_runs, 3, 1),
        cached_runs=pick(args.cached_runs, 5, 3),
        gate_runs=pick(args.gate_runs, 3, 3),
        rows=pick(args.rows, 10_000, 2_000),
        fairness=not args.no_fairness,
    )
    if min(plan.artifact_mb, plan.repeats, plan.cold_runs, plan.cached_runs, plan.rows) < 1:
        raise SystemExit("bench: sizes and run counts must be positive")
    if plan.gate_runs < 2:
        raise SystemExit("bench: --gate-runs must be at least 2 (a spread needs two numbers)")
    return plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 MiB, fewer runs, 2,000 rows")
    parser.add_argument("--artifact-mb", type=int, help="supply-chain artifact size in MiB (default 100)")
    parser.add_argument("--repeats", type=int, help="sha256 / verify runs, interleaved (default 5)")
    parser.add_argument("--cold-runs", type=int, help="checks on an empty evidence cache (default 3)")
    parser.add_argument("--cached-runs", type=int, help="cached and manifest-only checks (default 5)")
    parser.add_argument("--gate-runs", type=int, help="checks with the cache off, for (2c) (default 3)")
    parser.add_argument("--rows", type=int, help="rows of the fairness evaluation set (default 10000)")
    parser.add_argument("--no-fairness", action="store_true", help="skip the fairness measurement")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = make_plan(args)
    env = environment_info()  # before the runs: the load average says how busy the machine was
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-evidence-") as name:
        tmp = Path(name)
        results: dict[str, Any] = {"environment": env, "plan": plan.__dict__}
        results["supply_chain"] = bench_supply_chain(tmp, plan)
        results["model"] = bench_model(tmp, plan)
        results["fairness"] = bench_fairness(tmp, plan) if plan.fairness else None
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["targets_met"] = targets_met(results)
    print("\n".join(table(results)))
    print(
        f"(fleetgate {env['fleetgate']}, Python {env['python']}, {env['cpu']}, {env['cpus']} CPUs, "
        f"load {env['load_average_1min']} at start, {results['total_s']:.0f} s in all)"
    )
    write_results(args.output, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
