"""Telemetry from the Prometheus HTTP API (``GET /api/v1/query``), one instant query per metric.

Guards, each against a way a promotion check could be fooled:

* label values are escaped before they enter a PromQL string literal, so a model id holding a
  quote cannot rewrite the query (``model="x"} or vector(1) #``);
* every returned sample must carry the ``version`` label asked for and a ``segment`` label: a
  query that silently sums the old and new versions is a problem of the reading, not data;
* two samples for one segment, NaN, or a metric with no sample for a segment are problems of
  that segment (``insufficient``), never values;
* an unreachable server, an HTTP or PromQL error, a timeout (bounded) or a non-numeric value is
  :class:`TelemetryUnavailable` naming the query.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgate.telemetry.interface import (
    METRICS,
    Deployment,
    Reading,
    Series,
    TelemetryUnavailable,
)

__all__ = ["DEFAULT_QUERIES", "PrometheusSource", "escape_label"]

_SELECTOR = 'namespace="${namespace}",name="${name}",version="${version}"'
# The window each value is read over: the newest sample of the last 6 hours, so a series that
# stopped reporting shows as stale (newestSample) until it leaves the window, then as missing;
# both are insufficient. 6 hours is three times the default staleness limit.
_WINDOW = "6h"


def _latest(metric: str) -> str:
    return f"last_over_time({metric}{{{_SELECTOR}}}[{_WINDOW}])"


# Metric names a team exports under; each can be replaced in fleetgate.yaml.
DEFAULT_QUERIES: Mapping[str, str] = {
    "devicesReporting": _latest("fleetgate_devices_reporting"),
    "crashFreeRate": _latest("fleetgate_crash_free_rate"),
    "p95LatencyMs": _latest("fleetgate_inference_p95_latency_ms"),
    "batteryDrainPctPerDay": _latest("fleetgate_battery_drain_pct_per_day"),
    "networkBytesPerDevicePerDay": _latest("fleetgate_network_bytes_per_device_per_day"),
    "loadFailures": _latest("fleetgate_load_failures"),
    # The sample time of the freshest devicesReporting sample in the window (to five minutes, never
    # fresher than it is: the subquery steps lag the newest sample by less than five minutes).
    "newestSample": f"max_over_time(timestamp(fleetgate_devices_reporting{{{_SELECTOR}}})[{_WINDOW}:5m])",
}
_MAX_RESPONSE = 16 << 20


def escape_label(value: str) -> str:
    """``value`` as the inside of a double-quoted PromQL string literal."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class PrometheusSource:
    url: str
    queries: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_QUERIES))
    timeout_seconds: float = 5.0

    @property
    def description(self) -> str:
        return f"prometheus {self.url}"

    def query_for(self, metric: str, deployment: Deployment) -> str:
        """The PromQL of ``metric`` for ``deployment``, its label values escaped."""
        values = {
            "namespace": deployment.namespace,
            "name": deployment.name,
            "modelId": deployment.model_id,
            "version": deployment.version,
        }
        return string.Template(self.queries[metric]).safe_substitute(
            {k: escape_label(v) for k, v in values.items()}
        )

    def read(self, deployment: Deployment, at: dt.datetime) -> Reading:
        collected: dict[str, dict[str, float]] = {}
        problems: dict[str, list[str]] = {}
        reading_problems: list[str] = []
        metrics = (*METRICS, "newestSample")
        queries = [self.query_for(m, deployment) for m in metrics]
        for metric, query, samples in zip(metrics, queries, self._answers(queries, at), strict=True):
            if not samples:
                reading_problems.append(f"the query for {metric} returned no series: {query}")
            for labels, value in samples:
                segment = _labels_ok(labels, deployment.version, query, reading_problems)
                if segment is None:
                    continue
                seen = collected.setdefault(segment, {})
                if metric in seen:
                    problems.setdefault(segment, []).append(f"more than one {metric} series: {query}")
                elif math.isnan(value):
                    problems.setdefault(segment, []).append(f"{metric} is NaN: {query}")
                else:
                    seen[metric] = value
        series = {s: _series(s, v, problems.get(s, [])) for s, v in collected.items()}
        return Reading(series, tuple(queries), tuple(dict.fromkeys(reading_problems)))

    def _answers(self, queries: list[str], at: dt.datetime) -> list[list[tuple[Mapping[str, str], float]]]:
        """Every query's samples, asked concurrently (each instant query is one server thread)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(queries)) as pool:
            return list(pool.map(lambda q: self._instant(q, at), queries))

    def _instant(self, query: str, at: dt.datetime) -> list[tuple[Mapping[str, str], float]]:
        import urllib.error
        import urllib.parse
        import urllib.request

        params = urllib.parse.urlencode({"query": query, "time": f"{at.timestamp():.3f}"})
        target = f"{self.url.rstrip('/')}/api/v1/query?{params}"
        try:
            with urllib.request.urlopen(target, timeout=self.timeout_seconds) as response:
                body = response.read(_MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            body = exc.read(_MAX_RESPONSE + 1)
            raise TelemetryUnavailable(_failure(self.url, query, f"HTTP {exc.code}", body)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TelemetryUnavailable(
                f"prometheus {self.url} is unreachable ({reason}) for the query {query}"
            ) from None
        if len(body) > _MAX_RESPONSE:
            raise TelemetryUnavailable(f"prometheus {self.url}: the answer to {query} is too large")
        return _vector(self.url, query, body)


def _failure(url: str, query: str, status: str, body: bytes) -> str:
    try:
        detail = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError):
        detail = ""
    return f"prometheus {url} answered {status}{': ' + detail if detail else ''} for the query {query}"


def _vector(url: str, query: str, body: bytes) -> list[tuple[Mapping[str, str], float]]:
    try:
        answer = json.loads(body)
    except ValueError:
        raise TelemetryUnavailable(f"prometheus {url} did not answer JSON for the query {query}") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise TelemetryUnavailable(_failure(url, query, "an error", body))
    data = answer.get("data") or {}
    if data.get("resultType") != "vector":
        raise TelemetryUnavailable(
            f"prometheus {url}: the query {query} returned a {data.get('resultType')}, not an instant vector"
        )
    samples = []
    for item in data.get("result", []):
        labels, value = item.get("metric", {}), item.get("value", [None, None])
        try:
            number = float(value[1])
        except (TypeError, ValueError, IndexError):
            raise TelemetryUnavailable(
                f"prometheus {url}: the query {query} returned the non-numeric value {value!r}"
            ) from None
        samples.append((labels, number))
    return samples


def _labels_ok(labels: Mapping[str, Any], version: str, query: str, problems: list[str]) -> str | None:
    """The segment of a sample whose labels are the ones asked for; else a problem and ``None``."""
    found = labels.get("version")
    if found != version:
        what = "no version label" if found is None else f"version {found}"
        problems.append(f"a series has {what}, not version {version}: {query}")
        return None
    segment = labels.get("segment")
    if not isinstance(segment, str) or not segment:
        problems.append(f"a series has no segment label: {query}")
        return None
    return segment


def _series(segment: str, values: dict[str, float], problems: list[str]) -> Series:
    newest = values.pop("newestSample", None)
    missing = [f"no {m} series for this segment" for m in METRICS if m not in values]
    when = dt.datetime.fromtimestamp(newest, dt.UTC) if newest is not None else None
    if when is None:
        missing.append("no newestSample series for this segment")
    return Series(segment, values, when, tuple(problems + missing))
