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
    repository, as ONNX and as TFLite (``check models --evidence artifact,model,latency``,
    1 thread, batch 1):
    (a) cold evidence cache, ``--cold-runs`` times (default 3), each beside a manifest-only
        check (``--evidence none``). Targets: ONNX <= 15 s, TFLite <= 8 s.
    (b) cached re-run, ``--cached-runs`` times (default 5), interleaved with a manifest-only
        check and ``python -c pass``. Target: <= 0.3 s.
    Separately: the fairness fact of a linear classifier on ``--rows`` rows (default 10,000).
(3) Latency regression on an unchanged model: a pull request replacing a model with one that
    computes exactly the same (other bytes, same graph), as ONNX and as TFLite, checked
    ``--gate-runs`` times (default 20) from an empty cache. Each gate run times base and head
    in the same processes and gives the head/base ratio. Target: all ratios within 1 +- 5 %,
    and none a regression (``cost.latency-regression``).

Every figure is printed beside a baseline measured in the same run, with the ratio, and ok or
MISS where there is a target. Results go to stdout as a table and to benchmarks/results/evidence.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _evidence_common import FAIRNESS_FACTS, MODEL_FACTS, RESULTS, Plan, fail, stats
from _evidence_fixtures import model_repository
from _evidence_gate import Accept, Gate, a_number, gate_environment, measured, measured_fairness
from _evidence_latency import FORMATS, bench_latency_stability
from _evidence_report import environment_info, table, targets_met
from _evidence_supplychain import bench_supply_chain
from run import progress, run_child, write_results

# -- (2) model evidence through the CLI ------------------------------------------------------


def cold_runs(gate: Gate, facts: str, runs: int, key: str, accept: Accept) -> dict[str, Any]:
    """``runs`` checks, each on an emptied evidence cache (after one untimed warm-up check),
    interleaved with a manifest-only check of the same repository (the baseline)."""
    gate.clear_cache()
    gate.run(facts)  # warm-up: bytecode of the gate, of the latency child, of the runtimes
    walls, values, bare = [], [], []
    for _ in range(runs):
        gate.clear_cache()
        wall, summary = gate.run(facts)
        walls.append(wall)
        values.append(measured(summary, key, accept))
        bare.append(manifest_only(gate))
    return {**stats(walls), "values": values, "manifest_only": stats(bare)}


def manifest_only(gate: Gate) -> float:
    wall, summary = gate.run("none")
    if summary:
        fail(f"--evidence none gathered evidence: {summary}")
    return wall


def cached_runs(gate: Gate, facts: str, runs: int, key: str, accept: Accept) -> dict[str, Any]:
    """The same check with a filled cache, interleaved with its two baselines: a manifest-only
    check, and ``python -c pass`` (the start-up any Python tool pays)."""
    gate.run(facts)  # fills the cache if the last run left it empty
    cached, bare, python = [], [], []
    for _ in range(runs):
        wall, summary = gate.run(facts)
        measured(summary, key, accept)
        cached.append(wall)
        bare.append(manifest_only(gate))
        python.append(run_child([sys.executable, "-c", "pass"], gate.repo.root, dict(gate.env))[0])
    return {"cached": stats(cached), "manifest_only": stats(bare), "python_pass": stats(python)}


def bench_model(tmp: Path, plan: Plan, model_format: str) -> dict[str, Any]:
    repo = model_repository(tmp / f"cnn-{model_format}", "cnn", channels=256, model_format=model_format)
    gate = Gate(repo, tmp, gate_environment(tmp))
    progress(f"(2) {model_format}: check, cold evidence cache, {plan.cold_runs} runs (a few s each)")
    cold = cold_runs(gate, MODEL_FACTS, plan.cold_runs, "latency_p50_ms", a_number)
    latency, model = gate.cached_fact("latency"), gate.cached_fact("model")
    if latency is None or model is None:
        fail(f"the cold run left no cached model and latency facts in {gate.cache}")
    assert latency is not None and model is not None
    measured(latency, "p50_ms", a_number)
    progress(
        f"(2) {model_format}: check, cached, --evidence none and python -c pass, {plan.cached_runs} runs each"
    )
    return {
        "format": model_format,
        "model_bytes": repo.model_bytes,
        "cold": cold,
        "latency_fact": latency,
        "model_fact": model,
        **cached_runs(gate, MODEL_FACTS, plan.cached_runs, "latency_p50_ms", a_number),
    }


def bench_fairness(tmp: Path, plan: Plan) -> dict[str, Any]:
    repo = model_repository(tmp / "fairness-repository", "fairness", rows=plan.rows)
    gate = Gate(repo, tmp, gate_environment(tmp))
    progress(f"fairness, {plan.rows} rows: cold ({plan.cold_runs} runs), cached ({plan.cached_runs} runs)")
    cold = cold_runs(gate, FAIRNESS_FACTS, plan.cold_runs, "fairness", measured_fairness)
    fact = gate.cached_fact("fairness")
    if fact is None or not a_number(fact.get("rows")):
        fail(f"the cold run left no cached fairness fact with rows in {gate.cache}: {fact}")
    assert fact is not None
    return {
        "rows": fact["rows"],
        "groups": len(fact.get("groups", [])),
        "accuracy": fact.get("accuracy"),
        "cold": cold,
        **cached_runs(gate, FAIRNESS_FACTS, plan.cached_runs, "fairness", measured_fairness),
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
        gate_runs=pick(args.gate_runs, 20, 5),
        rows=pick(args.rows, 10_000, 2_000),
        fairness=not args.no_fairness,
    )
    if min(plan.artifact_mb, plan.repeats, plan.cold_runs, plan.cached_runs, plan.rows) < 1:
        raise SystemExit("bench: sizes and run counts must be positive")
    return plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 MiB, fewer runs, 2,000 rows")
    parser.add_argument("--artifact-mb", type=int, help="supply-chain artifact size in MiB (default 100)")
    parser.add_argument("--repeats", type=int, help="sha256 / verify runs, interleaved (default 5)")
    parser.add_argument("--cold-runs", type=int, help="checks on an empty evidence cache (default 3)")
    parser.add_argument("--cached-runs", type=int, help="cached and manifest-only checks (default 5)")
    parser.add_argument(
        "--gate-runs", type=int, help="gate runs of identical base and head, for (3) (default 20)"
    )
    parser.add_argument("--only-latency", action="store_true", help="run (3) alone")
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
        if not args.only_latency:
            results["supply_chain"] = bench_supply_chain(tmp, plan)
            results["model"] = [bench_model(tmp, plan, fmt) for fmt in FORMATS]
            results["fairness"] = bench_fairness(tmp, plan) if plan.fairness else None
        results["latency_stability"] = [bench_latency_stability(tmp, plan, fmt) for fmt in FORMATS]
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
