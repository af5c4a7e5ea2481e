"""How fast is the decision log? Six measurements per backend, each beside a baseline measured
in the same run, with the ratio.

On SQLite, and on PostgreSQL too when FLEETGATE_TEST_POSTGRES_URL names a server (a fresh schema
is created for every log and dropped afterwards), with records made by ``records_for`` from a
real decision over 1,000 generated manifests (about 4.5 KB of canonical JSON each). Baselines
(see _audit_logs.py): the same rows through the bare driver, and the same bodies read and hashed.

(1) durable appends, one record per append (one transaction, one commit each): records/s.
    Target: >= 1,000/s. Also, after (5), appends of one record into the big log.
(2) batched appends, 100 records per append: records/s. Target: SQLite >= 20,000/s,
    PostgreSQL >= 10,000/s.
(6) WRITERS processes appending at once to one log, as CI runners sharing it: combined rate;
    the log must then hold every record, with no gap, and verify.
Then one log of ``--records`` records (default 1,000,000, a year of decisions) is built in
appends of 10,000, with a signed checkpoint at half and one at the end, and reused for:
(3) filtered queries as ``fleetgate audit query`` runs them, limit 100: "model X admitted last
    quarter" (a different X each time) and "denied in quarter Q": median latency of each.
    Target: <= 50 ms.
(4) ``verify_log`` over the whole log and both checkpoints: seconds per million records.
    Target: <= 10 s.
(5) ``inclusion_bundle`` for one record against the latest checkpoint: median latency.
    Target: <= 10 ms. Next to it, the standalone ``verify_bundle`` of that bundle.

Rates are medians of ``--repeats`` runs, each into a fresh log, after one smaller untimed run.
Results go to stdout as a table and to benchmarks/results/audit-latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from _audit_appends import WRITERS, bench_appends, bench_appends_into, bench_concurrent, summary
from _audit_logs import POSTGRES_ENV, Backend, PostgresBackend, SqliteBackend
from _audit_report import (
    TARGET_BATCH_RATE,
    TARGET_PROOF_MS,
    TARGET_QUERY_MS,
    TARGET_SINGLE_RATE,
    TARGET_VERIFY_S_PER_MILLION,
    environment_info,
    table,
)
from run import progress, write_manifests, write_results

from fleetgate.audit.checkpoint import generate_key
from fleetgate.audit.events import records_for
from fleetgate.audit.log import inclusion_bundle, make_checkpoint, verify_bundle, verify_log
from fleetgate.audit.record import seal
from fleetgate.audit.store import DecisionLog, PendingRecord, QueryFilter, StoredRecord, open_log
from fleetgate.commands.audit import opened, query_filter
from fleetgate.commands.check import CheckOptions, run_check
from fleetgate.decision import rfc3339

RESULTS = Path(__file__).resolve().parent / "results" / "audit-latest.json"
FLEET = 1_000  # deployments in the generated fleet: the model ids the log is about
BATCH = 100  # records per append in (2)
BUILD_BATCH = 10_000  # records per append while building the big log
SPAN = dt.timedelta(days=365)  # the big log holds a year of decisions, evenly spread
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
QUARTER = (rfc3339(START + SPAN * 3 / 4), rfc3339(START + SPAN))  # "last quarter"
ORIGIN = "bench.fleetgate.local/decision-log"
ID_NAMESPACE = uuid.UUID("0b5e1c1e-7a4d-4f0e-9c2b-6d3f8a1e5b70")
BYTES_PER_RECORD = 6_000  # disk needed per record of the big log, with room to spare
WARM_UP = 3  # untimed queries (or proofs) before the timed ones
MIN_SAMPLES = 5
LOOKUP_BUDGET_S = 10.0  # timed queries of one kind (or proofs) stop after this, if MIN_SAMPLES ran
T = TypeVar("T")
QUERY_KINDS = ("model_admit_quarter", "model_admit_quarter_new_log", "deny_quarter")


@dataclass(frozen=True)
class Plan:
    records: int  # size of the big log
    repeats: int
    single_appends: int  # appends per run of (1)
    batched_records: int  # records per run of (2)
    lookups: int  # queries and proofs timed in (3) and (5)
    writer_records: int  # records each of the WRITERS appends in (6)


@dataclass(frozen=True)
class RecordFactory:
    """Record i of a synthetic log: a real record of the fleet's decision, moved in time.

    Each record is one of the decision's records (its deployment picked by a multiplicative
    hash of i, so every model appears all year long) with its own decision_id and a timestamp
    i * SPAN / total after START. Everything else, input and findings included, is what
    ``records_for`` made, so sizes and the admit/deny mix are the gate's own.
    """

    templates: tuple[PendingRecord, ...]
    total: int

    def decision_id(self, i: int) -> str:
        return str(uuid.uuid5(ID_NAMESPACE, str(i)))

    def template(self, i: int) -> PendingRecord:
        return self.templates[(i * 2_654_435_761) % 2**32 % len(self.templates)]

    def record(self, i: int) -> PendingRecord:
        template = self.template(i)
        decision_id = self.decision_id(i)
        timestamp = rfc3339(START + SPAN * i / self.total)
        document = {**template.document, "decision_id": decision_id, "timestamp": timestamp}
        return replace(template, document=document, decision_id=decision_id, timestamp=timestamp)

    def records(self, start: int, end: int) -> list[PendingRecord]:
        return [self.record(i) for i in range(start, end)]


def fleet_records(tmp: Path) -> tuple[PendingRecord, ...]:
    """The records ``fleetgate check`` appends for a fleet of FLEET generated manifests."""
    root = tmp / "fleet"
    root.mkdir()
    write_manifests(root, FLEET)
    checked = run_check(CheckOptions(paths=(str(root / "models"),), cwd=root, record=False))
    return tuple(records_for(checked.decision))


# -- the measurements ------------------------------------------------------------------------


def build_log(log: DecisionLog, factory: RecordFactory, signer: str) -> dict[str, Any]:
    """Append ``factory.total`` records in appends of BUILD_BATCH; checkpoints at half and at the end."""
    total = factory.total
    checkpoint_at = {total // 2, total}
    marks = sorted({*range(BUILD_BATCH, total, BUILD_BATCH), *checkpoint_at})
    start, reported, began = 0, 0, time.perf_counter()
    for end in marks:
        log.append(factory.records(start, end), seal)
        if end in checkpoint_at:
            make_checkpoint(log, ORIGIN, signer, rfc3339(dt.datetime.now(dt.UTC)))
        start = end
        if end * 10 // total > reported:
            reported = end * 10 // total
            progress(f"    built {end:,} of {total:,} records ({time.perf_counter() - began:.0f} s)")
    seconds = time.perf_counter() - began
    if log.size() != total:
        sys.exit(f"bench: the log holds {log.size():,} records, {total:,} were appended")
    return {
        "records": total,
        "records_per_append": BUILD_BATCH,
        "checkpoint_sizes": sorted(checkpoint_at),
        "seconds": seconds,
        "records_per_s": total / seconds,
    }


def bench_open(url: str, count: int) -> dict[str, Any]:
    """What every fleetgate command pays before it reads or appends: open_log, then close."""
    walls = []
    for _ in range(count):
        start = time.perf_counter()
        open_log(url).close()
        walls.append(time.perf_counter() - start)
    return summary(walls, scale=1000)


def timed_calls(calls: Sequence[Callable[[], T]]) -> tuple[list[float], list[T]]:
    """Seconds taken by each call and its result, after WARM_UP untimed calls.

    Stops early, after at least MIN_SAMPLES timed calls, once LOOKUP_BUDGET_S is spent: a slow
    query plan would otherwise hold up the whole run.
    """
    for call in calls[:WARM_UP]:
        call()
    walls: list[float] = []
    results: list[T] = []
    for call in calls[WARM_UP:]:
        start = time.perf_counter()
        results.append(call())
        walls.append(time.perf_counter() - start)
        if len(walls) >= MIN_SAMPLES and sum(walls) > LOOKUP_BUDGET_S:
            break
    return walls, results


def bench_query(log: DecisionLog, url: str, factory: RecordFactory, count: int) -> dict[str, Any]:
    """(3): "which deployments of model X were admitted last quarter?", a different X each time.

    Filters are built by the function ``fleetgate audit query`` uses; ``log.query`` is timed on
    one open log, then, as the CLI runs it, on a log opened for each query (open and close
    timed too). Next to it, "which deployments were denied in quarter Q?" (no model id, the
    four quarters in turn): the same target, another plan for the database.
    """
    models = sorted({t.model_id for t in factory.templates if t.model_id is not None})
    quarters = [(rfc3339(START + SPAN * q / 4), rfc3339(START + SPAN * (q + 1) / 4)) for q in range(4)]
    per_kind = count + WARM_UP
    # k -> k * 7919 % 1000 visits every model once in 1000 calls: the second list asks about
    # other models than the first, so no query finds its rows cached by an earlier one.
    by_model, by_model_again = (
        [
            query_filter(
                {"model_id": models[k * 7_919 % len(models)], "decision": "admit"} | _window(QUARTER)
            )
            for k in range(start, start + per_kind)
        ]
        for start in (0, per_kind)
    )
    denied = [query_filter({"decision": "deny"} | _window(quarters[k % 4])) for k in range(per_kind)]
    kinds: dict[str, list[Callable[[], list[StoredRecord]]]] = {
        "model_admit_quarter": [partial(log.query, one, limit=100) for one in by_model],
        "model_admit_quarter_new_log": [partial(_query_once, url, one) for one in by_model_again],
        "deny_quarter": [partial(log.query, one, limit=100) for one in denied],
    }
    results: dict[str, Any] = {"limit": 100}
    for name, calls in kinds.items():
        walls, found = timed_calls(calls)
        results[name] = {
            "ms": summary(walls, scale=1000),
            "queries": len(walls),
            "rows_median": statistics.median(len(rows) for rows in found),
        }
    return results


def _query_once(url: str, filters: QueryFilter) -> list[StoredRecord]:
    with opened(url) as log:
        return log.query(filters, limit=100)


def _window(bounds: tuple[str, str]) -> dict[str, str]:
    return {"since": bounds[0], "until": bounds[1]}


def bench_verify(backend: Backend, url: str, log: DecisionLog, verifier: str) -> dict[str, Any]:
    """(4): one ``verify_log`` over the whole log with the verifier key, as ``audit verify`` runs
    it, then the baseline: every body read and hashed, nothing else."""
    start = time.perf_counter()
    report = verify_log(log, verifier, ORIGIN)
    seconds = time.perf_counter() - start
    if not report.ok:
        sys.exit(f"bench: verify_log found problems in a log it should accept: {report.problems[:3]}")
    baseline = backend.read_and_hash_seconds(url, report.size)
    return {
        "seconds": seconds,
        "records": report.size,
        "checkpoints": report.checkpoints,
        "s_per_million": seconds * 1e6 / report.size,
        "baseline_seconds": baseline,
        "baseline_s_per_million": baseline * 1e6 / report.size,
    }


def bench_proofs(log: DecisionLog, factory: RecordFactory, verifier: str, count: int) -> dict[str, Any]:
    """(5): inclusion bundles for records spread over the log, then their standalone check."""
    ids = [factory.decision_id((k * 2_654_435_761) % factory.total) for k in range(count + WARM_UP)]
    walls, bundles = timed_calls([partial(inclusion_bundle, log, decision_id) for decision_id in ids])
    checks = []
    for bundle in bundles:
        start = time.perf_counter()
        accepted = verify_bundle(bundle, verifier, ORIGIN)
        checks.append(time.perf_counter() - start)
        if not accepted or bundle["tree_size"] != factory.total:
            sys.exit(f"bench: the inclusion bundle for {bundle['decision_id']} does not verify")
    return {
        "bundle_ms": summary(walls, scale=1000),
        "verify_bundle_ms": summary(checks, scale=1000),
        "proof_hashes_median": statistics.median(len(b["proof"]) for b in bundles),
    }


def run_backend(
    backend: Backend, factory: RecordFactory, plan: Plan, signer: str, verifier: str
) -> dict[str, Any]:
    name, began = backend.name, time.perf_counter()
    progress(f"{name}: (1) {plan.single_appends:,} appends of one record, {plan.repeats} runs")
    single = bench_appends(backend, factory.records, plan.single_appends, 1, plan.repeats)
    progress(f"{name}: (2) {plan.batched_records:,} records in appends of {BATCH}, {plan.repeats} runs")
    batched = bench_appends(backend, factory.records, plan.batched_records, BATCH, plan.repeats)
    progress(f"{name}: (6) {WRITERS} processes appending {plan.writer_records:,} records each at once")
    concurrent = bench_concurrent(backend, factory.records, plan.writer_records)
    progress(f"{name}: building a log of {factory.total:,} records in appends of {BUILD_BATCH:,}")
    with backend.fresh_log() as url, opened(url) as log:
        built = build_log(log, factory, signer)
        built["disk_bytes"] = backend.disk_bytes(url)
        progress(f"{name}: built in {built['seconds']:.0f} s, {built['disk_bytes'] / 1e9:.2f} GB")
        opening = bench_open(url, plan.lookups)
        progress(f"{name}: (3) {plan.lookups} queries of each kind")
        query = bench_query(log, url, factory, plan.lookups)
        progress(f"{name}: (4) verify_log over {factory.total:,} records")
        verify = bench_verify(backend, url, log, verifier)
        progress(f"{name}: (5) {plan.lookups} inclusion bundles")
        proofs = bench_proofs(log, factory, verifier, plan.lookups)
        progress(f"{name}: (1) again, {plan.single_appends // 4:,} appends into the big log")
        into_big = bench_appends_into(
            log, factory.records(factory.total, factory.total + plan.single_appends // 4)
        )
    return {
        "backend": name,
        "info": backend.info(),
        "single_appends": single,
        "batched_appends": batched,
        "concurrent_appends": concurrent,
        "open_close_ms": opening,
        "build": built,
        "query": query,
        "verify": verify,
        "proofs": proofs,
        "single_appends_into_big_log": into_big,
        "seconds": time.perf_counter() - began,
    }


def targets_met(result: Mapping[str, Any]) -> dict[str, bool]:
    query, name = result["query"], result["backend"]
    return {
        "single_appends": result["single_appends"]["records_per_s"] >= TARGET_SINGLE_RATE,
        "batched_appends": result["batched_appends"]["records_per_s"] >= TARGET_BATCH_RATE[name],
        "concurrent_appends": result["concurrent_appends"]["all_there_no_gap_verifies"],
        "query": max(query[k]["ms"]["median"] for k in QUERY_KINDS) <= TARGET_QUERY_MS,
        "verify": result["verify"]["s_per_million"] <= TARGET_VERIFY_S_PER_MILLION,
        "proof": result["proofs"]["bundle_ms"]["median"] <= TARGET_PROOF_MS,
    }


# -- the run ---------------------------------------------------------------------------------


def make_plan(args: argparse.Namespace) -> Plan:
    quick = bool(args.quick)
    records = args.records or (50_000 if quick else 1_000_000)
    repeats = args.repeats or (3 if quick else 5)
    return Plan(
        records=records,
        repeats=repeats,
        single_appends=500 if quick else 2_000,
        batched_records=5_000 if quick else 10_000,
        lookups=20 * repeats + 1,
        writer_records=500 if quick else 2_000,
    )


def backends(tmp: Path, records: int, only: str | None) -> list[Backend]:
    """SQLite, and PostgreSQL when its server is named; checked before the long runs start."""
    free = shutil.disk_usage(tmp).free
    if free < records * BYTES_PER_RECORD:
        sys.exit(f"bench: {tmp} has {free / 1e9:.1f} GB free, a {records:,}-record log needs more")
    chosen: list[Backend] = [] if only == "postgresql" else [SqliteBackend(tmp)]
    server = os.environ.get(POSTGRES_ENV, "")
    if only == "sqlite":
        return chosen
    if not server:
        hint = f'{POSTGRES_ENV} is not set (eval "$(.ci/postgres.sh)" starts a local server)'
        if only == "postgresql":
            sys.exit(f"bench: {hint}")
        progress(f"{hint}: SQLite only")
        return chosen
    postgres = PostgresBackend(server)
    try:
        postgres.info()
    except Exception as exc:  # psycopg is imported lazily; any failure here means "no server"
        sys.exit(f"bench: cannot reach the PostgreSQL server in {POSTGRES_ENV}: {exc}")
    return [*chosen, postgres]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 50,000 records, 3 repeats")
    parser.add_argument("--records", type=int, help="records in the big log (default 1000000)")
    parser.add_argument("--repeats", type=int, help="timed runs per append measurement (default 5)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        help=f"only this one (default: SQLite, and PostgreSQL too when {POSTGRES_ENV} is set)",
    )
    args = parser.parse_args(argv)
    plan = make_plan(args)
    if plan.repeats < 1 or plan.records < 1_000:
        parser.error("--repeats must be positive and --records at least 1000")
    signer, verifier = generate_key("bench-checkpoints")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-audit-") as name:
        tmp = Path(name)
        chosen = backends(tmp, plan.records, args.backend)
        load = os.getloadavg()[0]  # before the runs: how busy the machine was
        progress(f"records_for over a decision on {FLEET:,} generated manifests")
        templates = fleet_records(tmp)
        env = environment_info(templates, load)
        factory = RecordFactory(templates, plan.records)
        results = [run_backend(b, factory, plan, signer, verifier) for b in chosen]
    report: dict[str, Any] = {"environment": env, "plan": asdict(plan), "backends": results}
    report["targets_met"] = {r["backend"]: targets_met(r) for r in results}
    report["total_seconds"] = time.perf_counter() - began
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print("\n".join(table(report)))
    print(
        f"(fleetgate {env['fleetgate']}, Python {env['python']}, {env['cpus']} CPUs, records of "
        f"{env['record_bytes']['median']:,.0f} bytes, medians of {plan.repeats} runs, "
        f"{report['total_seconds'] / 60:.1f} min in all, load average {env['load_average_1min']} "
        f"before and {report['load_average_after'][0]} after)"
    )
    write_results(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
