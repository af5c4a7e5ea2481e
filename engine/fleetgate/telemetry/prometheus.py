"""Telemetry from the Prometheus HTTP API: ``/api/v1/query`` (instant, one query per metric) and
``/api/v1/query_range`` (a trailing window). The queries of one reading go to the server in one
request: joined with ``or``, each tagged with a label that says which query a sample answers, so
a check pays one round trip per deployment rather than one per metric and version.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetgate.telemetry.interface import (
    METRICS,
    Deployment,
    History,
    Points,
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
# The label each query's samples are tagged with inside a combined expression.
_TAG = "fleetgate_query"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_Sample = tuple[dict[str, str], list[tuple[float, float]]]  # labels, (time, value) points


class _Refused(TelemetryUnavailable):
    """The server answered that it cannot evaluate the expression (HTTP 400 or 422)."""


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
        [reading] = self.read_many([deployment], at)
        return reading

    def read_many(self, deployments: Sequence[Deployment], at: dt.datetime) -> list[Reading]:
        """Each deployment's reading, every metric of every deployment asked in one request."""
        metrics = (*METRICS, "newestSample")
        asked = [[self.query_for(m, d) for m in metrics] for d in deployments]
        answers = iter(self._answers([q for qs in asked for q in qs], "/api/v1/query", _at(at), "vector"))
        readings = []
        for deployment, queries in zip(deployments, asked, strict=True):
            answered = [(m, q, next(answers)) for m, q in zip(metrics, queries, strict=True)]
            readings.append(_reading(deployment, answered))
        return readings

    def history(
        self,
        deployment: Deployment,
        metrics: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        step: float,
    ) -> History:
        """``metrics`` every ``step`` seconds (``/api/v1/query_range``), one request for all."""
        queries = [self.query_for(m, deployment) for m in metrics]
        window = {"start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": f"{step:g}"}
        points: dict[str, dict[str, Points]] = {}
        problems: list[str] = []
        for metric, query, samples in zip(
            metrics, queries, self._answers(queries, "/api/v1/query_range", window, "matrix"), strict=True
        ):
            for labels, values in samples:
                segment = _labels_ok(labels, deployment.version, query, problems)
                if segment is None:
                    continue
                seen = points.setdefault(segment, {})
                if metric in seen:
                    problems.append(f"more than one {metric} series for segment {segment}: {query}")
                seen[metric] = tuple((t, v) for t, v in values if not math.isnan(v))
        return History(points, tuple(queries), tuple(dict.fromkeys(problems)))

    def _answers(
        self, queries: Sequence[str], path: str, params: Mapping[str, str], kind: str
    ) -> list[list[_Sample]]:
        """Every query's samples from one request: the queries joined with ``or``, each tagged
        with a label naming it. A combined expression the server refuses is asked again one
        query at a time, so the message names the query at fault."""
        if len(queries) == 1:
            return [self._ask(queries[0], path, params, kind)]
        combined = " or ".join(
            f'label_replace(({q}), "{_TAG}", "{n}", "", "")' for n, q in enumerate(queries)
        )
        try:
            tagged = self._ask(combined, path, params, kind, shown=queries[0])
        except _Refused:
            for query in queries:
                self._ask(query, path, params, kind)
            raise
        answers: list[list[_Sample]] = [[] for _ in queries]
        for labels, values in tagged:
            index = int(labels.pop(_TAG, -1))
            if not 0 <= index < len(queries):
                raise TelemetryUnavailable(f"prometheus {self.url}: an untagged answer to {queries[0]}")
            answers[index].append((labels, values))
        return answers

    def _ask(
        self, query: str, path: str, params: Mapping[str, str], kind: str, shown: str | None = None
    ) -> list[_Sample]:
        """One PromQL request (a POST form, so a long combined expression fits). urllib, so the
        usual proxy variables (``https_proxy``, ``no_proxy``) apply as they do to other tools."""
        import urllib.error
        import urllib.parse
        import urllib.request

        named = shown or query  # messages name a query the user wrote, never the combined form
        form = urllib.parse.urlencode({"query": query, **params}).encode()
        request = urllib.request.Request(f"{self.url.rstrip('/')}{path}", form, _FORM, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                body = response.read(_MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            refused = _Refused if exc.code in (400, 422) else TelemetryUnavailable
            raise refused(
                _failure(self.url, named, f"HTTP {exc.code}", exc.read(_MAX_RESPONSE + 1))
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise TelemetryUnavailable(
                f"prometheus {self.url} is unreachable ({reason}) for the query {named}"
            ) from None
        if len(body) > _MAX_RESPONSE:
            raise TelemetryUnavailable(f"prometheus {self.url}: the answer to {named} is too large")
        return _samples(self.url, named, body, kind)


def _at(at: dt.datetime) -> dict[str, str]:
    return {"time": f"{at.timestamp():.3f}"}


def _reading(deployment: Deployment, answered: list[tuple[str, str, list[_Sample]]]) -> Reading:
    """One deployment's series by segment from its metrics' samples, the problems set apart."""
    collected: dict[str, dict[str, float]] = {}
    problems: dict[str, list[str]] = {}
    reading_problems: list[str] = []
    for metric, query, samples in answered:
        if not samples:
            reading_problems.append(f"the query for {metric} returned no series: {query}")
        for labels, values in samples:
            segment = _labels_ok(labels, deployment.version, query, reading_problems)
            if segment is None:
                continue
            seen = collected.setdefault(segment, {})
            value = values[-1][1]
            if metric in seen:
                problems.setdefault(segment, []).append(f"more than one {metric} series: {query}")
            elif math.isnan(value):
                problems.setdefault(segment, []).append(f"{metric} is NaN: {query}")
            else:
                seen[metric] = value
    series = {s: _series(s, v, problems.get(s, [])) for s, v in collected.items()}
    return Reading(series, tuple(q for _, q, _ in answered), tuple(dict.fromkeys(reading_problems)))


def _failure(url: str, query: str, status: str, body: bytes) -> str:
    try:
        detail = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError):
        detail = ""
    return f"prometheus {url} answered {status}{': ' + detail if detail else ''} for the query {query}"


def _samples(url: str, query: str, body: bytes, kind: str) -> list[_Sample]:
    """The (labels, points) of an instant vector or a range matrix; anything else is unavailable."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise TelemetryUnavailable(f"prometheus {url} did not answer JSON for the query {query}") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise TelemetryUnavailable(_failure(url, query, "an error", body))
    data = answer.get("data") or {}
    if data.get("resultType") != kind:
        wanted = "an instant vector" if kind == "vector" else "a range matrix"
        raise TelemetryUnavailable(
            f"prometheus {url}: the query {query} returned a {data.get('resultType')}, not {wanted}"
        )
    samples = []
    for item in data.get("result", []):
        labels = dict(item.get("metric", {}))
        raw = [item.get("value", [None, None])] if kind == "vector" else item.get("values", [])
        try:
            points = [(float(when), float(value)) for when, value in raw]
        except (TypeError, ValueError, IndexError):
            shown = raw[0] if len(raw) == 1 else raw
            raise TelemetryUnavailable(
                f"prometheus {url}: the query {query} returned the non-numeric value {shown!r}"
            ) from None
        samples.append((labels, points))
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
