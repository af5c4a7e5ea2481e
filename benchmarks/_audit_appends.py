"""The append measurements of the decision-log benchmark: (1) and (2) beside their bare-driver
baselines, and (6), WRITERS processes appending to one log at once."""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from _audit_logs import RAW_COLUMNS, Backend

from fleetgate.audit.log import verify_log
from fleetgate.audit.record import seal
from fleetgate.audit.store import DecisionLog, PendingRecord, open_log
from fleetgate.commands.audit import opened

Records = Callable[[int, int], list[PendingRecord]]
"""(start, end) -> records start..end-1 of the benchmark's synthetic log."""

WRITERS = 8  # processes appending at once in (6), as CI runners sharing one log
WRITER_BATCH = 10  # records per append in (6): a check of ten deployments


def summary(samples: Sequence[float], scale: float = 1.0, digits: int = 4) -> dict[str, Any]:
    scaled = [s * scale for s in samples]
    return {
        "median": statistics.median(scaled),
        "min": min(scaled),
        "max": max(scaled),
        "samples": [round(s, digits) for s in scaled],
    }


def timed_appends(backend: Backend, batches: Sequence[Sequence[PendingRecord]]) -> float:
    """Seconds to append ``batches`` one transaction each, with fleetgate's seal, into a fresh log."""
    with backend.fresh_log() as url, opened(url) as log:
        start = time.perf_counter()
        for batch in batches:
            log.append(batch, seal)
        elapsed = time.perf_counter() - start
        if log.size() != sum(len(b) for b in batches):
            sys.exit(f"bench: {backend.name} lost appended records")
    return elapsed


def raw_rows(records: Sequence[PendingRecord]) -> list[tuple[Any, ...]]:
    """The records-table rows fleetgate stores for ``records`` at seq 0, 1, ...: the baseline's input."""
    rows = []
    for seq, record in enumerate(records):
        body, leaf = seal(record.document, seq)
        columns = record.columns()
        rows.append((seq, record.decision_id, body, leaf, *(columns[c] for c in RAW_COLUMNS)))
    return rows


def bench_appends(
    backend: Backend, records_of: Records, total: int, per_append: int, repeats: int
) -> dict[str, Any]:
    """(1) and (2): ``total`` records, ``per_append`` per transaction, ``repeats`` fresh logs;
    interleaved with the baseline, the same rows through the bare driver."""
    records = records_of(0, total)  # made before the clock starts; sealing is timed
    batches = [records[i : i + per_append] for i in range(0, total, per_append)]
    rows = raw_rows(records)
    timed_appends(backend, batches[: max(1, len(batches) // 10)])  # warm-up
    walls, raw = [], []
    for _ in range(repeats):
        walls.append(timed_appends(backend, batches))
        raw.append(backend.raw_insert_seconds(rows, per_append))
    median = statistics.median(walls)
    return {
        "records": total,
        "records_per_append": per_append,
        "appends": len(batches),
        "wall_s": summary(walls),
        "records_per_s": total / median,
        "ms_per_append": 1000 * median / len(batches),
        "baseline_wall_s": summary(raw),
        "baseline_records_per_s": total / statistics.median(raw),
    }


def bench_appends_into(log: DecisionLog, records: Sequence[PendingRecord]) -> dict[str, Any]:
    """(1) again, but into the big log: its indexes are large and decision ids land anywhere in them."""
    start = time.perf_counter()
    for record in records:
        log.append([record], seal)
    seconds = time.perf_counter() - start
    return {"appends": len(records), "seconds": seconds, "records_per_s": len(records) / seconds}


def _writer(url: str, records: Sequence[PendingRecord], start: Any, spans: Any) -> None:
    """One of the concurrent writers of (6): waits for the others, then appends its share."""
    with opened(url) as log:
        start.wait()
        began = time.perf_counter()
        for first in range(0, len(records), WRITER_BATCH):
            log.append(records[first : first + WRITER_BATCH], seal)
        spans.put((began, time.perf_counter()))


def bench_concurrent(backend: Backend, records_of: Records, per_writer: int) -> dict[str, Any]:
    """(6): WRITERS processes append at once to one log; then it must hold every record, with no
    gap, and verify. Beside it, one process appending the same number of records the same way."""
    spawn = multiprocessing.get_context("spawn")
    shares = [records_of(w * per_writer, (w + 1) * per_writer) for w in range(WRITERS)]
    total = WRITERS * per_writer
    with backend.fresh_log() as url:
        open_log(url).close()  # the schema exists before the writers race to it
        start, spans = spawn.Barrier(WRITERS), spawn.Queue()
        writers = [spawn.Process(target=_writer, args=(url, share, start, spans)) for share in shares]
        for writer in writers:
            writer.start()
        times = [spans.get(timeout=3600) for _ in writers]
        for writer in writers:
            writer.join()
        with opened(url) as log:
            report = verify_log(log, None)
            ids = {record.decision_id for record in log.records(0, report.size)}
    wall = max(end for _, end in times) - min(began for began, _ in times)
    whole = report.ok and report.size == total and ids == {r.decision_id for s in shares for r in s}
    single = timed_appends(
        backend, [shares[0][i : i + WRITER_BATCH] for i in range(0, per_writer, WRITER_BATCH)]
    )
    return {
        "writers": WRITERS,
        "records": total,
        "records_per_append": WRITER_BATCH,
        "wall_s": wall,
        "records_per_s": total / wall,
        "all_there_no_gap_verifies": whole,
        "problems": [p.message for p in report.problems[:3]],
        "baseline_records_per_s": per_writer / single,
    }
