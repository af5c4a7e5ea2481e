"""Console fixtures: a decision log on each backend, filled with records whose columns are
computed from their documents as the gate computes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import DecisionLog, PendingRecord, open_log
from support_audit import fresh_schema, postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    yield from fresh_schema(postgres_server())


def record(
    n: int,
    *,
    decision: str = "admit",
    stage: str = "pre-merge",
    name: str = "a",
    model: str = "img-a",
    rollout: int = 10,
    timestamp: str | None = None,
    **extra: Any,
) -> PendingRecord:
    """A gate-shaped record document (its columns computed from it)."""
    document: dict[str, Any] = {
        "decision_id": f"record-{n}",
        "timestamp": timestamp or f"2026-01-{n + 1:02d}T12:00:00.000000Z",
        "kind": "decision",
        "stage": stage,
        "decision": decision,
        "namespace": "production",
        "name": name,
        "modelId": model,
        "version": f"1.{n}.0",
        "input": {"manifest": {"spec": {"updateStrategy": {"rolloutPercentage": rollout}}}},
        "result": {"violations": [], "waived": []},
        **extra,
    }
    return PendingRecord(document=document, **record_columns(document).columns())


def fill(url: str, pending: list[PendingRecord]) -> None:
    log: DecisionLog = open_log(url)
    try:
        log.append(pending, seal)
    finally:
        log.close()
