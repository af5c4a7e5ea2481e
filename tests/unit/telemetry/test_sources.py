"""Both telemetry sources on the same generated data: a real Prometheus and a snapshot file."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetgate.telemetry import Deployment, TelemetryUnavailable, Thresholds, assess
from fleetgate.telemetry.prometheus import DEFAULT_QUERIES, PrometheusSource, escape_label
from fleetgate.telemetry.snapshot import load_snapshot
from support_telemetry import Telemetry, prometheus

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CURRENT = Deployment("production", "clf", "img-cls-003", "3.2.1")
PREVIOUS = Deployment("production", "clf", "img-cls-003", "3.2.0")


def _telemetry() -> Telemetry:
    data = Telemetry(now=NOW)
    for segment in ("android-34-8g-us-high", "ios-17-6g-eu-mid"):
        data.add("production", "clf", "3.2.0", segment)
    data.add("production", "clf", "3.2.1", "android-34-8g-us-high")
    data.add("production", "clf", "3.2.1", "ios-17-6g-eu-mid", batteryDrainPctPerDay=0.55)
    data.add("production", "stale", "1.0.0", "android-34-8g-us-high").ends_minutes_ago = 180
    data.add("production", "nan", "1.0.0", "android-34-8g-us-high", crashFreeRate=float("nan"))
    data.add("production", "twice", "1.0.0", "android-34-8g-us-high")
    data.add("production", "twice", "1.0.0", "android-34-8g-us-high").extra_labels = ',region="EU"'
    return data


DATA = _telemetry()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prometheus(DATA, tmp_path_factory.mktemp("prometheus")) as url:
        yield url


def test_prometheus_and_snapshot_read_the_same_values(server: str) -> None:
    from_prometheus = PrometheusSource(server).read(CURRENT, NOW)
    from_snapshot = load_snapshot(DATA.snapshot_json().encode(), "telemetry.json").read(CURRENT, NOW)
    assert (
        sorted(from_prometheus.series)
        == sorted(from_snapshot.series)
        == [
            "android-34-8g-us-high",
            "ios-17-6g-eu-mid",
        ]
    )
    assert from_prometheus.problems == ()
    for segment, expected in from_snapshot.series.items():
        found = from_prometheus.series[segment]
        assert found.values == pytest.approx(expected.values)
        assert found.problems == ()
        assert expected.newest_sample is not None and found.newest_sample is not None
        # Prometheus finds the newest sample to five minutes, never fresher than it is.
        lag = (expected.newest_sample - found.newest_sample).total_seconds()
        assert 0 <= lag < 300


def test_a_battery_regression_in_one_segment_is_a_breach_there_only(server: str) -> None:
    source = PrometheusSource(server)
    judged = assess(source.read(CURRENT, NOW), source.read(PREVIOUS, NOW), Thresholds(), NOW)
    outcomes = {s["segment"]: s["outcome"] for s in judged}
    assert outcomes == {"android-34-8g-us-high": "healthy", "ios-17-6g-eu-mid": "breach"}
    [breach] = judged[1]["breaches"]
    assert breach == {
        "metric": "batteryDrainPctPerDay",
        "measured": 0.55,
        "threshold": 1.1,
        "baseline": 0.4,
        "ratio": 1.375,
    }


def test_stale_series_are_insufficient_not_healthy(server: str) -> None:
    stale = Deployment("production", "stale", "m", "1.0.0")
    [segment] = assess(PrometheusSource(server).read(stale, NOW), None, Thresholds(), NOW)
    assert segment["outcome"] == "insufficient"
    assert re.match(r"the newest sample is 18\d(\.\d)? minutes old", segment["reasons"][0])


def test_nan_and_duplicate_series_are_insufficient_naming_the_query(server: str) -> None:
    source = PrometheusSource(server)
    [nan] = source.read(Deployment("production", "nan", "m", "1.0.0"), NOW).series.values()
    assert any(
        p.startswith("crashFreeRate is NaN: last_over_time(fleetgate_crash_free_rate{") for p in nan.problems
    )
    [twice] = source.read(Deployment("production", "twice", "m", "1.0.0"), NOW).series.values()
    assert any(p.startswith("more than one devicesReporting series") for p in twice.problems)
    for series in (nan, twice):
        [judged] = assess(_reading(series), None, Thresholds(), NOW)
        assert judged["outcome"] == "insufficient"


def _reading(series: object) -> object:
    from fleetgate.telemetry import Reading

    return Reading({series.segment: series})  # type: ignore[attr-defined]


def test_a_query_that_drops_the_version_label_does_not_pass(server: str) -> None:
    # Summing over versions mixes the old and new devices: the answer must be refused.
    mixed = {
        **DEFAULT_QUERIES,
        "crashFreeRate": 'avg by (segment) (fleetgate_crash_free_rate{name="${name}"})',
    }
    reading = PrometheusSource(server, mixed).read(CURRENT, NOW)
    assert any("has no version label, not version 3.2.1" in p for p in reading.problems)
    judged = assess(reading, None, Thresholds(), NOW)
    assert {s["outcome"] for s in judged} == {"insufficient"}


def test_a_quoted_model_name_cannot_inject_promql(server: str) -> None:
    hostile = Deployment("production", 'clf"} or fleetgate_devices_reporting{name="clf', "m", "3.2.1")
    query = PrometheusSource(server).query_for("devicesReporting", hostile)
    assert 'name="clf\\"} or fleetgate_devices_reporting{name=\\"clf"' in query
    reading = PrometheusSource(server).read(hostile, NOW)
    assert reading.series == {}
    assert reading.problems and "returned no series" in reading.problems[0]


def test_escape_label_escapes_backslash_quote_and_newline() -> None:
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def test_an_erroring_query_is_unavailable_naming_the_query(server: str) -> None:
    broken = {**DEFAULT_QUERIES, "loadFailures": "rate(fleetgate_load_failures{"}
    with pytest.raises(
        TelemetryUnavailable, match=r"answered HTTP 400: .*for the query rate\(fleetgate_load_failures\{"
    ):
        PrometheusSource(server, broken).read(CURRENT, NOW)


def test_an_unreachable_server_is_unavailable_naming_the_query() -> None:
    source = PrometheusSource("http://127.0.0.1:9", timeout_seconds=0.5)
    with pytest.raises(TelemetryUnavailable, match=r"is unreachable .* for the query last_over_time"):
        source.read(CURRENT, NOW)


def test_a_range_result_is_refused(server: str) -> None:
    ranged = {**DEFAULT_QUERIES, "devicesReporting": 'fleetgate_devices_reporting{name="${name}"}[5m]'}
    with pytest.raises(TelemetryUnavailable, match="returned a matrix, not an instant vector"):
        PrometheusSource(server, ranged).read(CURRENT, NOW)


def test_the_snapshot_round_trips_as_csv(tmp_path: Path) -> None:
    rows = json.loads(DATA.snapshot_json())["series"]
    columns = list(rows[0])
    text = ",".join(columns) + "\n" + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows)
    from_csv = load_snapshot(text.encode(), "telemetry.csv").read(CURRENT, NOW)
    from_json = load_snapshot(DATA.snapshot_json().encode(), "telemetry.json").read(CURRENT, NOW)
    assert from_csv.series == from_json.series


def test_a_server_that_never_answers_times_out_within_the_bound() -> None:
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections into the backlog, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(TelemetryUnavailable, match=r"is unreachable \(timed out\) for the query"):
            PrometheusSource(url, timeout_seconds=0.3).read(CURRENT, NOW)
    assert time.monotonic() - started < 3


def test_one_request_for_several_readings_answers_as_one_request_each(server: str) -> None:
    # The queries of both versions go to the server joined in one expression; each sample must
    # still land with the query it answers, duplicates and missing series included.
    source = PrometheusSource(server)
    twice = Deployment("production", "twice", "m", "1.0.0")
    together = source.read_many([CURRENT, PREVIOUS, twice], NOW)
    assert together == [source.read(CURRENT, NOW), source.read(PREVIOUS, NOW), source.read(twice, NOW)]
    assert together[2].series["android-34-8g-us-high"].problems[0].startswith("more than one")


def test_a_trailing_window_comes_back_per_segment_and_metric(server: str) -> None:
    start, end = NOW - dt.timedelta(hours=2), NOW - dt.timedelta(minutes=10)
    found = PrometheusSource(server).history(CURRENT, ("batteryDrainPctPerDay",), start, end, 600)
    points = found.points["ios-17-6g-eu-mid"]["batteryDrainPctPerDay"]
    assert len(points) == 12 and points[0][0] == pytest.approx(start.timestamp())
    assert all(0.5 < value < 0.6 for _, value in points)
    assert found.problems == ()
    assert (
        load_snapshot(DATA.snapshot_json().encode(), "t.json").history(CURRENT, (), start, end, 600) is None
    )
