"""The decision-log benchmark's table and environment.

Each figure stands beside its baseline (the bare driver on the same rows, or the same bodies read
and hashed: see _audit_logs.py) and the ratio fleetgate / baseline: a rate ratio of 0.5 means
half the baseline's rate, a time ratio of 2 twice its time. Absolute targets drift with the
load of a shared machine; the ratios much less.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from run import verdict

from fleetgate import __version__
from fleetgate.audit.record import seal
from fleetgate.audit.store import PendingRecord

TARGET_SINGLE_RATE = 1_000.0
TARGET_BATCH_RATE = {"SQLite": 20_000.0, "PostgreSQL": 10_000.0}
TARGET_QUERY_MS = 50.0
TARGET_VERIFY_S_PER_MILLION = 10.0
TARGET_PROOF_MS = 10.0

Row = tuple[str, str, str, str, str, str]


def _rate(result: Mapping[str, Any], target: float) -> tuple[str, str, str, str, str]:
    """fleetgate's rate, the baseline's, their ratio, the target and the verdict."""
    rate, base = result["records_per_s"], result["baseline_records_per_s"]
    return (
        f"{rate:,.0f}/s",
        f"{base:,.0f}/s",
        f"{rate / base:.2f}",
        f">= {target:,.0f}/s",
        verdict(rate >= target),
    )


def append_rows(result: Mapping[str, Any]) -> list[Row]:
    single, batched, together = (
        result["single_appends"],
        result["batched_appends"],
        result["concurrent_appends"],
    )
    into = result["single_appends_into_big_log"]
    return [
        (f"{result['backend']} ({result['seconds'] / 60:.1f} min)", "", "", "", "", ""),
        (
            f"(1) appends of 1 record, one commit each ({single['appends']:,} per run)",
            *_rate(single, TARGET_SINGLE_RATE),
        ),
        ("    one append", f"{single['ms_per_append']:.2f} ms", "", "", "", ""),
        (
            f"    into the {result['build']['records']:,}-record log",
            f"{into['records_per_s']:,.0f}/s",
            "",
            "",
            "",
            "",
        ),
        (
            "    open + close the log (every command)",
            f"{result['open_close_ms']['median']:.2f} ms",
            "",
            "",
            "",
            "",
        ),
        (
            f"(2) appends of {batched['records_per_append']} records ({batched['records']:,} per run)",
            *_rate(batched, TARGET_BATCH_RATE[result["backend"]]),
        ),
        (
            f"(6) {together['writers']} processes at once, appends of {together['records_per_append']} "
            f"({together['records']:,} records)",
            f"{together['records_per_s']:,.0f}/s",
            f"{together['baseline_records_per_s']:,.0f}/s",
            f"{together['records_per_s'] / together['baseline_records_per_s']:.2f}",
            "all there, no gap, verifies",
            verdict(together["all_there_no_gap_verifies"]),
        ),
    ]


def log_rows(result: Mapping[str, Any]) -> list[Row]:
    built, query, proofs, verify = result["build"], result["query"], result["proofs"], result["verify"]
    size = f"{built['records']:,}"
    by_model, again, denied = (
        query[k] for k in ("model_admit_quarter", "model_admit_quarter_new_log", "deny_quarter")
    )
    ms = [q["ms"]["median"] for q in (by_model, again, denied)] + [proofs["bundle_ms"]["median"]]
    per_million, base = verify["s_per_million"], verify["baseline_s_per_million"]
    return [
        (
            f"    building the {size}-record log (appends of {built['records_per_append']:,})",
            f"{built['seconds']:.0f} s",
            f"{built['disk_bytes'] / 1e9:.2f} GB",
            "",
            "",
            "",
        ),
        (
            f"(3) query model + admit + quarter, limit 100 ({by_model['rows_median']:.0f} rows)",
            f"{ms[0]:.2f} ms",
            "",
            "",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(ms[0] <= TARGET_QUERY_MS),
        ),
        (
            "    same, on a log opened for each query (as the CLI)",
            f"{ms[1]:.2f} ms",
            "",
            "",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(ms[1] <= TARGET_QUERY_MS),
        ),
        (
            f"    query deny + quarter, limit 100 ({denied['rows_median']:.0f} rows)",
            f"{ms[2]:.2f} ms",
            "",
            "",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(ms[2] <= TARGET_QUERY_MS),
        ),
        (
            f"(4) verify_log, {size} records, {verify['checkpoints']} checkpoints, per million",
            f"{per_million:.1f} s",
            f"{base:.1f} s",
            f"{per_million / base:.2f}",
            f"<= {TARGET_VERIFY_S_PER_MILLION:.0f} s",
            verdict(per_million <= TARGET_VERIFY_S_PER_MILLION),
        ),
        (
            f"(5) inclusion_bundle ({proofs['proof_hashes_median']:.0f} hashes)",
            f"{ms[3]:.2f} ms",
            "",
            "",
            f"<= {TARGET_PROOF_MS:.0f} ms",
            verdict(ms[3] <= TARGET_PROOF_MS),
        ),
        ("    verify_bundle (standalone)", f"{proofs['verify_bundle_ms']['median']:.2f} ms", "", "", "", ""),
    ]


def table(results: Mapping[str, Any]) -> list[str]:
    rows = [row for result in results["backends"] for row in append_rows(result) + log_rows(result)]
    header: Row = ("measure", "fleetgate", "baseline", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = []
    for a, b, c, d, e, f in [header, *rows]:
        line = f"{a:{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d:>{widths[3]}}  {e:{widths[4]}}  {f}"
        lines.append(line.rstrip())
    return lines


def environment_info(templates: Sequence[PendingRecord], load: float) -> dict[str, Any]:
    sizes = [len(seal(t.document, 0)[0]) for t in templates]
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(load, 2),
        "fleetgate": __version__,
        "record_bytes": {"min": min(sizes), "median": statistics.median(sizes), "max": max(sizes)},
        "deny_share": sum(t.decision == "deny" for t in templates) / len(templates),
    }
