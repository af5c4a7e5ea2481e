"""The decision-log benchmark's table and environment."""

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
TARGET_BATCH_RATE = 5_000.0
TARGET_QUERY_MS = 50.0
TARGET_VERIFY_S = 30.0
TARGET_PROOF_MS = 10.0


def backend_rows(result: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    single, batched, built = result["single_appends"], result["batched_appends"], result["build"]
    query, proofs, into = result["query"], result["proofs"], result["single_appends_into_big_log"]
    size = f"{built['records']:,}"
    by_model, denied = query["model_admit_quarter"], query["deny_quarter"]
    ms = by_model["ms"]["median"], denied["ms"]["median"], proofs["bundle_ms"]["median"]
    return [
        (f"{result['backend']} ({result['seconds'] / 60:.1f} min)", "", "", ""),
        (
            f"(1) appends of 1 record, one commit each ({single['appends']:,} per run)",
            f"{single['records_per_s']:,.0f} records/s",
            f">= {TARGET_SINGLE_RATE:,.0f}/s",
            verdict(single["records_per_s"] >= TARGET_SINGLE_RATE),
        ),
        ("    one append", f"{single['ms_per_append']:.2f} ms", "", ""),
        (f"    into the {size}-record log", f"{into['records_per_s']:,.0f} records/s", "", ""),
        ("    open + close the log (every command)", f"{result['open_close_ms']['median']:.2f} ms", "", ""),
        (
            f"(2) appends of {batched['records_per_append']} records ({batched['records']:,} per run)",
            f"{batched['records_per_s']:,.0f} records/s",
            f">= {TARGET_BATCH_RATE:,.0f}/s",
            verdict(batched["records_per_s"] >= TARGET_BATCH_RATE),
        ),
        (
            f"    building the {size}-record log (appends of {built['records_per_append']:,})",
            f"{built['seconds']:.0f} s",
            f"{built['disk_bytes'] / 1e9:.2f} GB",
            "",
        ),
        (
            f"(3) query model + admit + quarter, limit 100 ({by_model['rows_median']:.0f} rows)",
            f"{ms[0]:.2f} ms",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(ms[0] <= TARGET_QUERY_MS),
        ),
        (
            "    same, on a log opened for each query (as the CLI)",
            f"{query['model_admit_quarter_new_log']['ms']['median']:.2f} ms",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(query["model_admit_quarter_new_log"]["ms"]["median"] <= TARGET_QUERY_MS),
        ),
        (
            f"    query deny + quarter, limit 100 ({denied['rows_median']:.0f} rows)",
            f"{ms[1]:.2f} ms",
            f"<= {TARGET_QUERY_MS:.0f} ms",
            verdict(ms[1] <= TARGET_QUERY_MS),
        ),
        (
            f"(4) verify_log, {size} records, {result['verify']['checkpoints']} checkpoints",
            f"{result['verify']['seconds']:.1f} s",
            f"<= {TARGET_VERIFY_S:.0f} s",
            verdict(result["verify"]["seconds"] <= TARGET_VERIFY_S),
        ),
        (
            f"(5) inclusion_bundle ({proofs['proof_hashes_median']:.0f} hashes)",
            f"{ms[2]:.2f} ms",
            f"<= {TARGET_PROOF_MS:.0f} ms",
            verdict(ms[2] <= TARGET_PROOF_MS),
        ),
        ("    verify_bundle (standalone)", f"{proofs['verify_bundle_ms']['median']:.2f} ms", "", ""),
    ]


def table(results: Mapping[str, Any]) -> list[str]:
    rows = [row for result in results["backends"] for row in backend_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = [f"{'measure':{widths[0]}}  {'median':>{widths[1]}}  target"]
    out += [f"{a:{widths[0]}}  {b:>{widths[1]}}  {c:{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    return out


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
