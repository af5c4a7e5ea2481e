"""The evidence benchmark's table and targets."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any

from _evidence_common import MIB, TARGET_CACHED_S, TARGET_COLD_S, TARGET_GATE_SPREAD, TARGET_VERIFY_RATIO
from run import verdict

from fleetgate import __version__
from fleetgate.evidence.latency import cpu_model, runtime_version

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
        _latency_row(latency),
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


def _latency_row(latency: dict[str, Any]) -> tuple[str, str, str, str]:
    """The gate's latency measurement, or that the fact did not come back (its reason is in the JSON)."""
    if "p50_ms" not in latency:
        return (
            "     latency p50",
            "not measured",
            "",
            str(latency.get("error") or latency.get("reason") or "")[:60],
        )
    runs = f"{latency.get('repeats', '?')} repeats x {latency.get('timed_runs', '?')} runs"
    return (f"     latency p50, {runs}", f"{latency['p50_ms']:.2f} ms", "", f"spread {latency['spread']:.1%}")


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
