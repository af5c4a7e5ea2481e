"""What a telemetry source answers, and how it fails (SPEC section 12).

A source reports, for one version of one deployment, one :class:`Series` per device segment.
Two ways to fail, kept apart on purpose:

* :class:`TelemetryUnavailable`: the source could not answer at all (unreachable, erroring,
  timed out, non-numeric). Nothing can be said about health; the promotion rule treats it like
  missing telemetry.
* a problem inside an answer (NaN, a duplicate series, a metric missing for a segment) is a
  *reason* recorded on the series or the reading: the segment's outcome is ``insufficient``,
  never healthy and never a breach.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fleetgate.errors import EvidenceError

__all__ = [
    "METRICS",
    "Deployment",
    "History",
    "Reading",
    "Series",
    "TelemetrySource",
    "TelemetryUnavailable",
]

# The numeric metrics of a series, as named in a snapshot (newestSample is the sample time).
METRICS: tuple[str, ...] = (
    "devicesReporting",
    "crashFreeRate",
    "p95LatencyMs",
    "batteryDrainPctPerDay",
    "networkBytesPerDevicePerDay",
    "loadFailures",
)


class TelemetryUnavailable(EvidenceError):
    """The telemetry source could not answer (the message names the query or the file)."""


@dataclass(frozen=True)
class Deployment:
    """One version of one deployment, as a telemetry query asks for it."""

    namespace: str
    name: str
    model_id: str
    version: str


@dataclass(frozen=True)
class Series:
    """One version's telemetry in one segment."""

    segment: str
    values: Mapping[str, float] = field(default_factory=dict)
    newest_sample: dt.datetime | None = None
    problems: tuple[str, ...] = ()  # why this series cannot be judged (NaN, duplicate, missing)


@dataclass(frozen=True)
class Reading:
    """A source's answer for one version: the series by segment, and what was asked."""

    series: Mapping[str, Series]
    queries: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # problems of the whole answer (a series with the wrong labels)


Points = tuple[tuple[float, float], ...]  # (unix time, value), oldest first


@dataclass(frozen=True)
class History:
    """One version's values over a trailing window: per segment, per metric, the points."""

    points: Mapping[str, Mapping[str, Points]]
    queries: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # problems of the whole answer (a series with the wrong labels)


class TelemetrySource(Protocol):
    """A place telemetry is read from: a snapshot file or a Prometheus server."""

    @property
    def description(self) -> str:
        """How messages and the decision log name this source."""
        ...

    def read(self, deployment: Deployment, at: dt.datetime) -> Reading:
        """The series of ``deployment`` as of ``at``; :class:`TelemetryUnavailable` if it cannot."""
        ...

    def read_many(self, deployments: Sequence[Deployment], at: dt.datetime) -> list[Reading]:
        """:meth:`read` of each deployment, asked together where the source can."""
        ...

    def history(
        self,
        deployment: Deployment,
        metrics: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        step: float,
    ) -> History | None:
        """``metrics`` of ``deployment`` every ``step`` seconds from ``start`` to ``end``; ``None``
        when the source keeps no history (a snapshot is one moment)."""
        ...
