"""Telemetry for tests: realistic generated series, written as OpenMetrics (backfilled into a
real Prometheus with promtool) and as a snapshot file, so both sources are tested on the same data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Metric name in Prometheus for each snapshot field (the defaults of fleetgate's queries).
METRIC_NAMES = {
    "devicesReporting": "fleetgate_devices_reporting",
    "crashFreeRate": "fleetgate_crash_free_rate",
    "p95LatencyMs": "fleetgate_inference_p95_latency_ms",
    "batteryDrainPctPerDay": "fleetgate_battery_drain_pct_per_day",
    "networkBytesPerDevicePerDay": "fleetgate_network_bytes_per_device_per_day",
    "loadFailures": "fleetgate_load_failures",
}
HEALTHY = {
    "devicesReporting": 1200.0,
    "crashFreeRate": 0.998,
    "p95LatencyMs": 41.0,
    "batteryDrainPctPerDay": 0.40,
    "networkBytesPerDevicePerDay": 120000.0,
    "loadFailures": 0.0,
}

# The metrics that follow the daily cycle of device use, and how strongly (times ``diurnal``).
# Battery drain is a rate per day: a day's cycle does not show in it.
_DAILY = {"devicesReporting": 1.0, "p95LatencyMs": 0.25}


@dataclass
class SeriesSpec:
    """One version in one segment: its level per metric, and when its samples stop."""

    namespace: str
    name: str
    version: str
    segment: str
    values: dict[str, float] = field(default_factory=lambda: dict(HEALTHY))
    ends_minutes_ago: float = 1.0
    extra_labels: str = ""  # e.g. ',region="EU"': a second series for the same segment
    # The values hold only for this many recent minutes; before that the series was healthy.
    since_minutes_ago: float | None = None
    # Or only within these (from, to) minutes ago, healthy outside them: a regression that flaps.
    episodes: tuple[tuple[float, float], ...] = ()


@dataclass
class Telemetry:
    """Series sampled every minute over the last hours, with small realistic noise."""

    now: dt.datetime
    series: list[SeriesSpec] = field(default_factory=list)
    hours: int = 3
    seed: int = 7
    # The newest sample is the level itself (exact assertions), or noisy like the rest.
    exact_newest: bool = True
    step_minutes: int = 1  # one sample every this many minutes
    diurnal: float = 0.0  # a daily cycle: 0.2 is +-20 % devices reporting and +-5 % p95 latency

    def add(self, namespace: str, name: str, version: str, segment: str, **values: float) -> SeriesSpec:
        spec = SeriesSpec(namespace, name, version, segment, {**HEALTHY, **values})
        self.series.append(spec)
        return spec

    def samples(self, spec: SeriesSpec) -> list[tuple[float, dict[str, float]]]:
        rng = random.Random(f"{self.seed}:{spec.namespace}/{spec.name}:{spec.version}:{spec.segment}")
        end = self.now.timestamp() - spec.ends_minutes_ago * 60
        points = []
        start = self.now.timestamp() - spec.since_minutes_ago * 60 if spec.since_minutes_ago else None
        for step in range(self.hours * 60 // self.step_minutes, -1, -1):
            when = end - step * 60 * self.step_minutes
            levels = spec.values if self._holds(spec, start, when) else HEALTHY
            cycle = self.diurnal * math.sin(2 * math.pi * (when % 86400) / 86400)
            daily = {k: v * (1 + cycle * _DAILY.get(k, 0.0)) for k, v in levels.items()}
            points.append((when, {k: _noisy(k, v, rng) for k, v in daily.items()}))
        if self.exact_newest:
            points[-1] = (end, dict(spec.values))
        return points

    def _holds(self, spec: SeriesSpec, start: float | None, when: float) -> bool:
        """Whether the series' own values (not the healthy levels) hold at ``when``."""
        if spec.episodes:
            ago = (self.now.timestamp() - when) / 60
            return any(to <= ago <= since for since, to in spec.episodes)
        return start is None or when >= start

    def openmetrics(self) -> str:
        lines = []
        for key, metric in METRIC_NAMES.items():
            lines.append(f"# TYPE {metric} gauge")
            for spec in self.series:
                labels = (
                    f'namespace="{spec.namespace}",name="{spec.name}",'
                    f'version="{spec.version}",segment="{spec.segment}"{spec.extra_labels}'
                )
                for when, values in self.samples(spec):
                    value = "NaN" if math.isnan(values[key]) else repr(values[key])
                    lines.append(f"{metric}{{{labels}}} {value} {when:.3f}")
        return "\n".join([*lines, "# EOF", ""])

    def snapshot(self) -> dict[str, object]:
        rows = []
        for spec in self.series:
            if spec.extra_labels:
                continue  # a snapshot cannot hold a second series for one segment
            when, values = self.samples(spec)[-1]
            newest = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            rows.append(
                {
                    "namespace": spec.namespace,
                    "name": spec.name,
                    "version": spec.version,
                    "segment": spec.segment,
                    **values,
                    "newestSample": newest,
                }
            )
        generated = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "apiVersion": "fleetgate.dev/v1",
            "kind": "TelemetrySnapshot",
            "generatedAt": generated,
            "series": rows,
        }

    def snapshot_json(self) -> str:
        return json.dumps(self.snapshot(), indent=1)


def _noisy(metric: str, level: float, rng: random.Random) -> float:
    if math.isnan(level):
        return level
    if metric == "loadFailures":
        return float(max(0, round(level + rng.gauss(0, 0.3))))
    if metric == "crashFreeRate":
        return min(1.0, level + rng.gauss(0, 0.0003))
    return max(0.0, level * (1 + rng.gauss(0, 0.02)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def prometheus(telemetry: Telemetry, workdir: Path) -> Iterator[str]:
    """A real Prometheus on a loopback port over ``telemetry`` backfilled with promtool; its URL.

    Skipped (as skipped) only when the prometheus or promtool binary is missing.
    """
    binaries = shutil.which("prometheus"), shutil.which("promtool")
    if None in binaries:
        pytest.skip("prometheus/promtool are not installed (.ci/run installs Debian's prometheus)")
    workdir.mkdir(parents=True, exist_ok=True)
    data, source = workdir / "tsdb", workdir / "series.om"
    source.write_text(telemetry.openmetrics())
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
    )
    config = workdir / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1h}\n")
    port = _free_port()
    log = (workdir / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, workdir / "prometheus.log")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"prometheus did not become ready: {log.read_text()[-2000:]}")
