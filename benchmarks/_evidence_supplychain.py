"""(1) Supply chain: one SHA-256 of the artifact against verifying it, in process."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _evidence_common import MIB, Plan, fail, stats, timed
from _evidence_fixtures import SignedRelease, signed_release
from run import child_environment, fleetgate, progress, run_child

from fleetgate.commands.verify import Verified, run_verify
from fleetgate.evidence import Artifact, Collector, CollectorContext
from fleetgate.evidence.artifact import hash_file
from fleetgate.evidence.trust import load_trust_file

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
        trust=load_trust_file(release.trust, Path("/")),
    )
    result: dict[str, Any] = {
        "load_trust": stats(
            [timed(lambda: load_trust_file(release.trust, Path("/")))[0] for _ in range(repeats)], 6
        )
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
