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
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _evidence_fixtures import MANIFEST_FILE, ModelRepository, SignedRelease, model_repository, signed_release
from run import child_environment, fleetgate, progress, run_child, verdict

from fleetgate import __version__
from fleetgate.commands.check import evidence_cache_dir
from fleetgate.commands.verify import Verified, run_verify
from fleetgate.evidence import Artifact, Collector, CollectorContext
from fleetgate.evidence.artifact import hash_file
from fleetgate.evidence.latency import cpu_model, runtime_version
from fleetgate.evidence.trust import load_trust

RESULTS = Path(__file__).resolve().parent / "results" / "evidence.json"
MIB = 1024 * 1024

TARGET_VERIFY_RATIO = 1.5
TARGET_COLD_S = 15.0
TARGET_CACHED_S = 0.5
TARGET_GATE_SPREAD = 0.10

MODEL_FACTS = "artifact,model,latency"
FAIRNESS_FACTS = "artifact,fairness"

# Run in a fresh interpreter: what `fleetgate verify` pays the first time it verifies, and how
# much of that is imports (the benchmark process has imported everything long before).
FRESH_VERIFY = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from fleetgate.commands.verify import run_verify
gate_imported = time.perf_counter()
before = set(sys.modules)
artifact, trust = Path(sys.argv[1]), Path(sys.argv[2])
first_started = time.perf_counter()
proven = run_verify(artifact, trust).proven
first = time.perf_counter() - first_started
loaded = set(sys.modules) - before
warm_started = time.perf_counter()
run_verify(artifact, trust)
warm = time.perf_counter() - warm_started
print(json.dumps({"gate_import_s": gate_imported - started, "first_call_s": first, "warm_call_s": warm,
                  "proven": proven, "modules_loaded": len(loaded),
                  "packages_loaded": sorted({name.split(".")[0] for name in loaded})}))
"""


@dataclass(frozen=True)
class Plan:
    artifact_mb: int
    repeats: int
    cold_runs: int
    cached_runs: int
    gate_runs: int
    rows: int
    fairness: bool


def fail(message: str) -> None:
    sys.exit(f"bench: {message}")


def stats(samples: Sequence[float], digits: int = 4) -> dict[str, Any]:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": [round(s, digits) for s in samples],
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


# -- (1) supply chain ------------------------------------------------------------------------


def page_cache_share(path: Path) -> float | None:
    """Share of ``path``'s bytes resident in the page cache (util-linux ``fincore``), if known."""
    if shutil.which("fincore") is None:
        return None
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    resident, size = (int(f) for f in fields)
    return resident / size if size else None


def check_verified(verified: Verified, release: SignedRelease) -> None:
    """A benchmark of a verification that failed would time the wrong thing: stop instead."""
    signature, provenance = verified.facts.get("signature", {}), verified.facts.get("provenance", {})
    if not verified.proven or verified.artifact["digest"] != release.digest:
        fail(f"verify did not prove the artifact: {json.dumps(verified.to_json())[:800]}")
    if signature.get("method") != "keyless" or provenance.get("kind") != "in-toto-layout+slsa":
        fail(f"unexpected verification kinds: {signature.get('method')}, {provenance.get('kind')}")


def collector_times(release: SignedRelease, repeats: int) -> dict[str, Any]:
    """Each verification collector alone, on the already-hashed artifact (where the time goes)."""
    from fleetgate.evidence.provenance import COLLECTOR as PROVENANCE
    from fleetgate.evidence.signature import COLLECTOR as SIGNATURE

    digest, size = hash_file(release.artifact)
    artifact = Artifact(f"file:{release.artifact}", release.artifact, digest, size, "file")
    context = CollectorContext(
        manifest={},
        previous=None,
        root=release.artifact.parent,
        artifact=artifact,
        trust=load_trust(release.trust),
    )
    result: dict[str, Any] = {
        "load_trust": stats([timed(lambda: load_trust(release.trust))[0] for _ in range(repeats)], 6)
    }
    for name, collector in (("signature", SIGNATURE), ("provenance", PROVENANCE)):
        result[name] = stats(_collect_times(collector, context, repeats), 6)
    return result


def _collect_times(collector: Collector, context: CollectorContext, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        wall, fact = timed(lambda: collector.collect(context))
        if not fact or fact.get("status") != "verified":
            fail(f"the {collector.fact} collector did not verify: {fact}")
        times.append(wall)
    return times


def fresh_process_verify(release: SignedRelease, tmp: Path, repeats: int) -> dict[str, Any]:
    """Import and first-call cost in a fresh interpreter (after one run that fills the bytecode cache)."""
    argv = [sys.executable, "-c", FRESH_VERIFY, str(release.artifact), str(release.trust)]
    env = child_environment(tmp)
    runs = []
    for _ in range(repeats + 1):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            fail(f"fresh-process verify failed: {done.stderr.strip()[-800:]}")
        runs.append(json.loads(done.stdout))
    runs = runs[1:]
    if not all(run["proven"] for run in runs):
        fail("fresh-process verify did not prove the artifact")
    keys = ("gate_import_s", "first_call_s", "warm_call_s")
    result: dict[str, Any] = {key: statistics.median(run[key] for run in runs) for key in keys}
    result["first_call_above_warm_s"] = statistics.median(r["first_call_s"] - r["warm_call_s"] for r in runs)
    result["modules_loaded_by_first_call"] = runs[-1]["modules_loaded"]
    result["packages_loaded_by_first_call"] = runs[-1]["packages_loaded"]
    return result


def cli_verify(release: SignedRelease, tmp: Path, repeats: int) -> dict[str, Any]:
    """``fleetgate verify`` end to end, as a release engineer runs it: a whole process."""
    argv = [*fleetgate(), "verify", str(release.artifact), "--trust", str(release.trust), "--format", "json"]
    env = child_environment(tmp)
    run_child(argv, tmp, env)  # warm-up: bytecode cache
    samples = []
    for _ in range(repeats):
        wall, status, _ = run_child(argv, tmp, env)
        if status != 0:
            fail(f"fleetgate verify exited {status}: the artifact was not proven")
        samples.append(wall)
    return stats(samples)


def bench_supply_chain(tmp: Path, plan: Plan) -> dict[str, Any]:
    size = plan.artifact_mb * MIB
    progress(f"(1) building a signed {plan.artifact_mb} MiB release (signature, in-toto layout, SLSA)")
    build_s, release = timed(lambda: signed_release(tmp / "supply-chain", size))
    hash_file(release.artifact)  # one full read: every timed run then reads from the page cache
    resident = page_cache_share(release.artifact)
    warm_up_s, verified = timed(lambda: run_verify(release.artifact, release.trust))
    check_verified(verified, release)
    progress(f"(1) sha256 and verify, {plan.repeats} runs each, interleaved")
    hashes, verifies = [], []
    for _ in range(plan.repeats):
        hashes.append(timed(lambda: hash_file(release.artifact))[0])
        wall, verified = timed(lambda: run_verify(release.artifact, release.trust))
        check_verified(verified, release)
        verifies.append(wall)
    hashed, verify = stats(hashes), stats(verifies)
    progress("(1) where verification time goes; import cost in a fresh process; the CLI")
    return {
        "artifact_bytes": size,
        "build_s": round(build_s, 3),
        "page_cache_share": resident,
        "sha256": hashed,
        "verify": verify,
        "verify_to_sha256": verify["median_s"] / hashed["median_s"],
        "sha256_mib_per_s": plan.artifact_mb / hashed["median_s"],
        "warm_up_call_s": warm_up_s,
        "collectors": collector_times(release, plan.repeats),
        "fresh_process": fresh_process_verify(release, tmp, max(1, min(plan.repeats, 3))),
        "cli": cli_verify(release, tmp, max(1, min(plan.repeats, 3))),
        "facts": {name: dict(fact) for name, fact in verified.facts.items()},
    }


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


# -- report ----------------------------------------------------------------------------------


def environment_info() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(one, 2),
        "load_average_5min": round(five, 2),
        "load_average_15min": round(fifteen, 2),
        "fleetgate": __version__,
        "onnxruntime": runtime_version(),
    }


Row = tuple[str, str, str, str]


def supply_chain_rows(sc: Mapping[str, Any]) -> list[Row]:
    share = sc["page_cache_share"]
    cached = "unknown" if share is None else f"{share:.0%}"
    mib = sc["artifact_bytes"] // MIB
    ratio = sc["verify_to_sha256"]
    ok_ratio = ratio <= TARGET_VERIFY_RATIO
    collectors, fresh = sc["collectors"], sc["fresh_process"]
    return [
        (f"supply chain: {mib} MiB random artifact, in page cache: {cached}", "", "", ""),
        (
            "(1a) sha256 of the artifact (hash_file)",
            f"{sc['sha256']['median_s']:.3f} s",
            "",
            f"{sc['sha256_mib_per_s']:,.0f} MiB/s",
        ),
        ("(1b) run_verify: digest + signature + provenance", f"{sc['verify']['median_s']:.3f} s", "", ""),
        ("     ratio (1b) / (1a)", f"{ratio:.2f}", f"<= {TARGET_VERIFY_RATIO}", verdict(ok_ratio)),
        ("     signature collector alone", f"{collectors['signature']['median_s'] * 1000:.1f} ms", "", ""),
        ("     provenance collector alone", f"{collectors['provenance']['median_s'] * 1000:.1f} ms", "", ""),
        ("     first call in a fresh process", f"{fresh['first_call_s']:.3f} s", "", ""),
        ("       of which imports + one-time set-up", f"{fresh['first_call_above_warm_s']:.3f} s", "", ""),
        ("     import fleetgate.commands.verify", f"{fresh['gate_import_s']:.3f} s", "", ""),
        ("     fleetgate verify (CLI, whole process)", f"{sc['cli']['median_s']:.3f} s", "", ""),
    ]


def model_rows(model: Mapping[str, Any]) -> list[Row]:
    cold, cached, bare = model["cold"], model["cached"], model["manifest_only"]
    latency, gates = model["latency_fact"], model["gate_runs"]
    p50s = ", ".join(f"{p:.2f}" for p in gates["p50_ms"])
    return [
        (f"model evidence: CNN of {model['model_bytes'] / 1e6:.1f} MB, 1 thread, batch 1", "", "", ""),
        (
            "(2a) check, cold cache: model + latency",
            f"{cold['median_s']:.2f} s",
            f"<= {TARGET_COLD_S:g} s",
            verdict(cold["median_s"] <= TARGET_COLD_S),
        ),
        (
            f"     latency p50, {latency['repeats']} repeats x {latency['timed_runs']} runs",
            f"{latency['p50_ms']:.2f} ms",
            "",
            f"spread {latency['spread']:.1%}",
        ),
        (
            "(2b) check, cached",
            f"{cached['median_s']:.3f} s",
            f"<= {TARGET_CACHED_S:g} s",
            verdict(cached["median_s"] <= TARGET_CACHED_S),
        ),
        ("     check --evidence none (manifest only)", f"{bare['median_s']:.3f} s", "", ""),
        (f"(2c) p50 of {len(gates['p50_ms'])} gate runs, cache off (ms)", p50s, "", ""),
        (
            "     (max - min) / median",
            f"{gates['spread']:.1%}",
            f"<= {TARGET_GATE_SPREAD:.0%}",
            verdict(gates["spread"] <= TARGET_GATE_SPREAD),
        ),
    ]


def fairness_rows(fairness: Mapping[str, Any]) -> list[Row]:
    bare = fairness["manifest_only"]
    return [
        (f"fairness: linear classifier, {fairness['rows']:,} rows, {fairness['groups']} groups", "", "", ""),
        ("     check, cold cache: fairness", f"{fairness['cold']['median_s']:.2f} s", "", ""),
        ("     check, cached", f"{fairness['cached']['median_s']:.3f} s", "", ""),
        ("     check --evidence none (manifest only)", f"{bare['median_s']:.3f} s", "", ""),
    ]


def table(results: Mapping[str, Any]) -> list[str]:
    rows = supply_chain_rows(results["supply_chain"]) + model_rows(results["model"])
    if results.get("fairness"):
        rows += fairness_rows(results["fairness"])
    widths = [max(len(r[i]) for r in rows if r[1]) for i in range(3)]
    out = [f"{'measure':{widths[0]}}  {'median':>{widths[1]}}  target"]
    for a, b, c, d in rows:
        out.append(a if not b else f"{a:{widths[0]}}  {b:>{widths[1]}}  {c:{widths[2]}}  {d}".rstrip())
    return out


def targets_met(results: Mapping[str, Any]) -> dict[str, bool]:
    sc, model = results["supply_chain"], results["model"]
    return {
        "verify_to_sha256": sc["verify_to_sha256"] <= TARGET_VERIFY_RATIO,
        "model_cold": model["cold"]["median_s"] <= TARGET_COLD_S,
        "model_cached": model["cached"]["median_s"] <= TARGET_CACHED_S,
        "gate_p50_spread": model["gate_runs"]["spread"] <= TARGET_GATE_SPREAD,
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
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
