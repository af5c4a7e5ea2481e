"""Snapshot files: JSON and CSV, refused with file and line when malformed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fleetgate.errors import ConfigError
from fleetgate.telemetry import Deployment
from fleetgate.telemetry.snapshot import load_snapshot

ROW = {
    "namespace": "production",
    "name": "clf",
    "version": "3.2.1",
    "segment": "android-34-8g-us-high",
    "devicesReporting": 1200,
    "crashFreeRate": 0.998,
    "p95LatencyMs": 41.0,
    "batteryDrainPctPerDay": 0.4,
    "networkBytesPerDevicePerDay": 120000,
    "loadFailures": 2,
    "newestSample": "2026-12-02T09:58:00Z",
}
AT = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
CLF = Deployment("production", "clf", "img", "3.2.1")


def snapshot(*rows: dict[str, object]) -> bytes:
    document = {"apiVersion": "fleetgate.dev/v1", "kind": "TelemetrySnapshot", "series": list(rows)}
    return json.dumps(document, indent=1).encode()


def csv_of(*rows: dict[str, object]) -> bytes:
    columns = list(ROW)
    lines = [",".join(columns), *(",".join(str(r.get(c, "")) for c in columns) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def test_the_spec_example_loads() -> None:
    [series] = load_snapshot(snapshot(ROW), "t.json").read(CLF, AT).series.values()
    assert series.values["devicesReporting"] == 1200
    assert series.newest_sample == dt.datetime(2026, 12, 2, 9, 58, tzinfo=dt.UTC)
    assert series.problems == ()


def test_a_duplicate_series_names_both_lines() -> None:
    with pytest.raises(ConfigError, match=r"^t\.json:18: duplicate series .* \(first at line 5\)$"):
        load_snapshot(snapshot(ROW, ROW), "t.json")


def test_a_duplicate_csv_row_names_its_line() -> None:
    with pytest.raises(ConfigError, match=r"^t\.csv:3: duplicate series .*\(first at line 2\)$"):
        load_snapshot(csv_of(ROW, ROW), "t.csv")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crashFreeRate": "high"}, r"t\.json:5: crashFreeRate is 'high', not a number"),
        ({"devicesReporting": -1}, r"t\.json:5: devicesReporting is -1, not a finite number >= 0"),
        ({"newestSample": "yesterday"}, r"t\.json:5: 'yesterday' is not an RFC 3339 time"),
        ({"newestSample": "2026-12-02T09:58:00"}, r"has no time zone"),
        ({"segmnt": "x"}, r"t\.json:5: unknown series field 'segmnt'"),
        ({"segment": ""}, r"t\.json:5: the series needs a non-empty 'segment'"),
    ],
)
def test_malformed_rows_are_refused_with_the_line(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_snapshot(snapshot({**ROW, **change}), "t.json")


def test_malformed_files_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"t\.json:1: expected apiVersion fleetgate.dev/v1"):
        load_snapshot(b'{"apiVersion": "v0", "kind": "TelemetrySnapshot", "series": []}', "t.json")
    with pytest.raises(ConfigError, match=r"^t\.json"):
        load_snapshot(b'{"apiVersion": ', "t.json")
    with pytest.raises(ConfigError, match=r"t\.csv:1: unknown column 'crashes'"):
        load_snapshot(b"namespace,name,version,segment,crashes\n", "t.csv")
    with pytest.raises(ConfigError, match=r"t\.csv:3: the row does not have 11 columns"):
        load_snapshot(csv_of(ROW) + b"a,b\n", "t.csv")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_snapshot(b"\xff\xfe{", "t.json")


def test_absent_and_nan_values_load_as_problems_not_values() -> None:
    data = csv_of({**ROW, "crashFreeRate": "nan", "loadFailures": ""})
    [series] = load_snapshot(data, "t.csv").read(CLF, AT).series.values()
    assert "crashFreeRate" not in series.values and "loadFailures" not in series.values
    assert series.problems == ("crashFreeRate is NaN (t.csv:2)", "loadFailures is missing (t.csv:2)")


def test_hostile_nesting_is_refused_not_a_traceback() -> None:
    with pytest.raises(ConfigError, match=r"^t\.json: nested too deeply"):
        load_snapshot(b'{"series": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "t.json")
    with pytest.raises(ConfigError, match=r"^t\.json: Infinity is not a usable number"):
        load_snapshot(snapshot({**ROW, "crashFreeRate": 1e999}), "t.json")
