"""A telemetry snapshot file: JSON or CSV exported from any telemetry platform (SPEC section 12).

The whole file is checked as it is loaded: a malformed row, an unknown column, a bad timestamp
or the same (namespace, name, version, segment) twice is a :class:`SnapshotError` naming the
file and line. Values that are present but unusable for a verdict (``null``, NaN, an empty CSV
cell) load fine and become problems of their series: the segment is ``insufficient``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.telemetry.interface import METRICS, Deployment, History, Reading, Series

__all__ = ["MAX_SNAPSHOT_BYTES", "Snapshot", "SnapshotError", "load_snapshot"]

MAX_SNAPSHOT_BYTES = 64 << 20
_IDENTITY = ("namespace", "name", "version", "segment")
_COLUMNS = (*_IDENTITY, *METRICS, "newestSample")
_REQUIRED = ("apiVersion", "kind", "series")


class SnapshotError(ConfigError):
    """A telemetry snapshot is malformed (the message names the file and line).

    A gate file like the fleet inventory: the check cannot decide (exit 2).
    """


@dataclass(frozen=True)
class Snapshot:
    """A loaded snapshot: one series per (namespace, name, version, segment)."""

    file: str
    series: Mapping[tuple[str, str, str], Mapping[str, Series]]
    generated_at: dt.datetime | None = None

    @property
    def description(self) -> str:
        return f"snapshot {self.file}"

    def read(self, deployment: Deployment, at: dt.datetime) -> Reading:
        found = self.series.get((deployment.namespace, deployment.name, deployment.version), {})
        return Reading(
            series=found,
            queries=(f"{self.file}: {deployment.namespace}/{deployment.name} version {deployment.version}",),
        )

    def read_many(self, deployments: Sequence[Deployment], at: dt.datetime) -> list[Reading]:
        return [self.read(d, at) for d in deployments]

    def history(
        self,
        deployment: Deployment,
        metrics: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        step: float,
    ) -> History | None:
        return None  # a snapshot is one moment: no trailing history


def load_snapshot(data: bytes, file: str) -> Snapshot:
    """Parse ``data`` (JSON when it starts with ``{``, else CSV) read from ``file``."""
    text = _text(data, file)
    if text.lstrip().startswith("{"):
        rows, generated = _json_rows(data, file)
    else:
        rows, generated = _csv_rows(text, file), None
    series: dict[tuple[str, str, str], dict[str, Series]] = {}
    first_line: dict[tuple[str, ...], int] = {}
    for line, row in rows:
        key = tuple(row[k] for k in _IDENTITY)
        if key in first_line:
            raise SnapshotError(
                f"{file}:{line}: duplicate series {key[0]}/{key[1]} version {key[2]} segment {key[3]} "
                f"(first at line {first_line[key]})"
            )
        first_line[key] = line
        deployment = series.setdefault((key[0], key[1], key[2]), {})
        deployment[key[3]] = _series(row, file, line)
    return Snapshot(file, series, generated)


def _text(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SnapshotError(f"{file}: the telemetry snapshot is not UTF-8") from None


def _json_rows(data: bytes, file: str) -> tuple[list[tuple[int, dict[str, Any]]], dt.datetime | None]:
    text = _text(data, file)
    try:
        raw = json.loads(text, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise SnapshotError(f"{file}: {exc}") from None
    except RecursionError:
        raise SnapshotError(f"{file}: nested too deeply to be a telemetry snapshot; refused") from None
    if not isinstance(raw, dict):
        raise SnapshotError(f"{file}:1: expected one JSON object")
    for key in _REQUIRED:
        if key not in raw:
            raise SnapshotError(f"{file}:1: the telemetry snapshot has no {key!r}")
    if raw["kind"] != "TelemetrySnapshot" or raw["apiVersion"] != "fleetgate.dev/v1":
        raise SnapshotError(f"{file}:1: expected apiVersion fleetgate.dev/v1, kind TelemetrySnapshot")
    if not isinstance(raw["series"], list):
        raise SnapshotError(f"{file}:1: 'series' must be a list")
    generated = raw.get("generatedAt")
    when = _time(generated, file, 1) if generated is not None else None
    lines = _series_lines(text)
    rows = []
    for index, item in enumerate(raw["series"]):
        line = lines[index] if index < len(lines) else 1
        if not isinstance(item, dict):
            raise SnapshotError(f"{file}:{line}: a series must be a mapping")
        rows.append((line, _row(item, file, line)))
    return rows, when


def _constant(name: str) -> float:
    # NaN is how some exporters write "no value": it loads, and makes its series insufficient.
    if name == "NaN":
        return math.nan
    raise ValueError(f"{name} is not a usable number")


def _series_lines(text: str) -> list[int]:
    """The line each element of the top-level ``series`` array starts on (json has no positions).

    Walks the top-level object with :meth:`json.JSONDecoder.raw_decode`, so a 40,000-series
    snapshot is located at the speed of the json module, not of a YAML parser.
    """
    decoder, at = json.JSONDecoder(parse_constant=_constant), _skip(text, text.index("{") + 1)
    while at < len(text) and text[at] != "}":
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, _skip(text, at) + 1)  # past the colon
        if key != "series":
            _, at = decoder.raw_decode(text, at)
            at = _skip(text, at)
            at = _skip(text, at + 1) if text[at] == "," else at
            continue
        starts, at = [], _skip(text, at + 1)
        line, counted = 1, 0
        while text[at] != "]":
            line, counted = line + text.count("\n", counted, at), at
            starts.append(line)
            _, at = decoder.raw_decode(text, at)
            at = _skip(text, at)
            at = _skip(text, at + 1) if text[at] == "," else at
        return starts
    return []


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _csv_rows(text: str, file: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in _COLUMNS]
    if unknown:
        raise SnapshotError(f"{file}:1: unknown column {unknown[0]!r} (expected {', '.join(_COLUMNS)})")
    rows = []
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise SnapshotError(f"{file}:{reader.line_num}: the row does not have {len(header)} columns")
            cells = {k: (v if v.strip() else None) for k, v in row.items()}
            rows.append((reader.line_num, _row(cells, file, reader.line_num)))
    except csv.Error as exc:
        raise SnapshotError(f"{file}:{reader.line_num}: {exc}") from None
    return rows


def _row(item: Mapping[str, Any], file: str, line: int) -> dict[str, Any]:
    unknown = [k for k in item if k not in _COLUMNS]
    if unknown:
        raise SnapshotError(f"{file}:{line}: unknown series field {unknown[0]!r}")
    row: dict[str, Any] = {}
    for key in _IDENTITY:
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise SnapshotError(f"{file}:{line}: the series needs a non-empty {key!r}")
        row[key] = value
    for key in METRICS:
        row[key] = _number(item.get(key), key, file, line)
    sample = item.get("newestSample")
    row["newestSample"] = _time(sample, file, line) if sample is not None else None
    return row


def _number(value: Any, key: str, file: str, line: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SnapshotError(f"{file}:{line}: {key} is {value!r}, not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SnapshotError(f"{file}:{line}: {key} is {value!r}, not a number")
    number = float(value)
    if math.isinf(number) or (not math.isnan(number) and number < 0):
        raise SnapshotError(f"{file}:{line}: {key} is {value!r}, not a finite number >= 0")
    return number


def _time(value: Any, file: str, line: int) -> dt.datetime:
    text = value.isoformat() if isinstance(value, dt.datetime) else value
    try:
        when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotError(f"{file}:{line}: {value!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise SnapshotError(f"{file}:{line}: {value!r} has no time zone (use Z or an offset)")
    return when


def _series(row: Mapping[str, Any], file: str, line: int) -> Series:
    values = {k: row[k] for k in METRICS if row[k] is not None and not math.isnan(row[k])}
    problems = [f"{k} is NaN ({file}:{line})" for k in METRICS if row[k] is not None and math.isnan(row[k])]
    problems += [f"{k} is missing ({file}:{line})" for k in METRICS if row[k] is None]
    if row["newestSample"] is None:
        problems.append(f"newestSample is missing ({file}:{line})")
    return Series(row["segment"], values, row["newestSample"], tuple(problems))
