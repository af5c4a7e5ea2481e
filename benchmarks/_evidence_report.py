"""The evidence benchmark's table and targets."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any

from _evidence_common import MIB, TARGET_CACHED_S, TARGET_COLD_S, TARGET_VERIFY_RATIO
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


# measure, value, baseline (what and its value, same run), ratio, target, ok/MISS
Row = tuple[str, str, str, str, str, str]


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def row(
    measure: str, value: float, base_name: str, base: float, target: str = "", ok: bool | None = None
) -> Row:
    """A figure in seconds beside its baseline in seconds, and their ratio."""
    shown = "" if ok is None else verdict(ok)
    return (measure, _s(value), f"{base_name} {_s(base)}", f"{value / base:.2f}x", target, shown)


def heading(text: str) -> Row:
    return (text, "", "", "", "", "")


def supply_chain_rows(sc: Mapping[str, Any]) -> list[Row]:
    share = sc["page_cache_share"]
    cached = "unknown" if share is None else f"{share:.0%}"
    sha = sc["sha256"]["median_s"]
    collectors, fresh = sc["collectors"], sc["fresh_process"]
    ratio = sc["verify_to_sha256"]
    return [
        heading(
            f"(1) supply chain: {sc['artifact_bytes'] // MIB} MiB random artifact, in page cache: {cached}"
        ),
        (
            "    sha256 of the artifact (hash_file)",
            _s(sha),
            "",
            "",
            "",
            f"{sc['sha256_mib_per_s']:,.0f} MiB/s",
        ),
        row(
            "    run_verify: digest + signature + provenance",
            sc["verify"]["median_s"],
            "sha256",
            sha,
            f"<= {TARGET_VERIFY_RATIO}x",
            ratio <= TARGET_VERIFY_RATIO,
        ),
        row("    signature collector alone", collectors["signature"]["median_s"], "sha256", sha),
        row("    provenance collector alone", collectors["provenance"]["median_s"], "sha256", sha),
        row("    first verify in a fresh process", fresh["first_call_s"], "warm", fresh["warm_call_s"]),
        row(
            "    fleetgate verify (CLI, whole process)",
            sc["cli"]["median_s"],
            "first call",
            fresh["first_call_s"],
        ),
    ]


def model_rows(model: Mapping[str, Any]) -> list[Row]:
    fmt, cold, cached = model["format"], model["cold"], model["cached"]["median_s"]
    bare, python = model["manifest_only"]["median_s"], model["python_pass"]["median_s"]
    target = TARGET_COLD_S[fmt]
    latency = model["latency_fact"]
    return [
        heading(f"(2) model evidence, {fmt}: CNN of {model['model_bytes'] / 1e6:.1f} MB, 1 thread, batch 1"),
        row(
            "    check, cold cache: model + latency",
            cold["median_s"],
            "manifest-only",
            cold["manifest_only"]["median_s"],
            f"<= {target:g} s",
            cold["median_s"] <= target,
        ),
        (
            f"    latency p50 ({latency['runtime']})",
            f"{latency['p50_ms']:.2f} ms",
            "",
            "",
            "",
            f"spread {latency['spread']:.1%}",
        ),
        row(
            "    check, cached",
            cached,
            "python -c pass",
            python,
            f"<= {TARGET_CACHED_S:g} s",
            cached <= TARGET_CACHED_S,
        ),
        row("    check, cached", cached, "manifest-only", bare),
        row("    check --evidence none (manifest only)", bare, "python -c pass", python),
    ]


def fairness_rows(fairness: Mapping[str, Any]) -> list[Row]:
    bare, cold = fairness["manifest_only"]["median_s"], fairness["cold"]
    return [
        heading(f"    fairness: linear classifier, {fairness['rows']:,} rows, {fairness['groups']} groups"),
        row(
            "    check, cold cache: fairness",
            cold["median_s"],
            "manifest-only",
            cold["manifest_only"]["median_s"],
        ),
        row("    check, cached", fairness["cached"]["median_s"], "manifest-only", bare),
    ]


def stability_rows(found: Mapping[str, Any]) -> list[Row]:
    runs, within = found["runs"], found["within_band"]
    ratios = " ".join(f"{r:.3f}" for r in found["ratios"])
    ok = within == runs and found["regressions"] == 0
    return [
        heading(f"(3) latency, identical base and head, {found['format']}: {runs} gate runs"),
        (
            "    head/base ratio within 1 +- 5 %",
            f"{within} of {runs}",
            "base timed in the same run",
            f"worst ±{found['worst_deviation']:.1%}",
            f"{runs} of {runs}",
            verdict(ok),
        ),
        ("    ratios", ratios, "", "", "", ""),
        (
            "    denied as cost.latency-regression",
            str(found["regressions"]),
            "",
            "",
            "0",
            verdict(found["regressions"] == 0),
        ),
    ]


def table(results: Mapping[str, Any]) -> list[str]:
    rows: list[Row] = []
    if "supply_chain" in results:
        rows += supply_chain_rows(results["supply_chain"])
        for model in results["model"]:
            rows += model_rows(model)
        if results.get("fairness"):
            rows += fairness_rows(results["fairness"])
    for found in results["latency_stability"]:
        rows += stability_rows(found)
    header: Row = ("measure", "value", "baseline (same run)", "ratio", "target", "")
    framed = [r for r in [header, *rows] if r[1] and r[0].strip() != "ratios"]
    widths = [max(len(r[i]) for r in framed) for i in range(5)]
    out = []
    for r in [header, *rows]:
        if not r[1] or r[0].strip() == "ratios":
            out.append(r[0] if not r[1] else f"{r[0]}: {r[1]}")
            continue
        cells = [f"{r[0]:{widths[0]}}", f"{r[1]:>{widths[1]}}", f"{r[2]:{widths[2]}}", f"{r[3]:>{widths[3]}}"]
        out.append("  ".join([*cells, f"{r[4]:{widths[4]}}", r[5]]).rstrip())
    return out


def targets_met(results: Mapping[str, Any]) -> dict[str, bool]:
    met: dict[str, bool] = {}
    if "supply_chain" in results:
        met["verify_to_sha256"] = results["supply_chain"]["verify_to_sha256"] <= TARGET_VERIFY_RATIO
        for model in results["model"]:
            fmt = model["format"]
            met[f"{fmt}_cold"] = model["cold"]["median_s"] <= TARGET_COLD_S[fmt]
            met[f"{fmt}_cached"] = model["cached"]["median_s"] <= TARGET_CACHED_S
    for found in results["latency_stability"]:
        met[f"{found['format']}_identical_ratio"] = (
            found["within_band"] == found["runs"] and not found["regressions"]
        )
    return met
