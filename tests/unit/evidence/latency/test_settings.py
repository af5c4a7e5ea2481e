"""Validation of evidence.latency settings and the manifest's inference settings."""

from __future__ import annotations

from typing import Any

import pytest

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.latency import LatencySettings, parse_settings
from fleetgate.evidence.latency._settings import InferenceShape, inference_shape


def test_defaults() -> None:
    assert parse_settings({}) == LatencySettings(
        repeats=3, warmup_runs=5, timed_runs=30, timeout_seconds=120.0, max_memory_mb=4096
    )


def test_every_key_is_read() -> None:
    raw = {"repeats": 7, "warmupRuns": 0, "timedRuns": 100, "timeoutSeconds": 2, "maxMemoryMB": 512}

    settings = parse_settings(raw)

    assert settings == LatencySettings(7, 0, 100, 2.0, 512)
    assert settings.to_key() == {**raw, "timeoutSeconds": 2.0}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"repeats": 0}, "evidence.latency.repeats: must be an integer from 1 to 50"),
        ({"repeats": 51}, "evidence.latency.repeats: must be an integer from 1 to 50"),
        ({"repeats": "3"}, "evidence.latency.repeats: must be an integer from 1 to 50"),
        ({"repeats": True}, "evidence.latency.repeats: must be an integer from 1 to 50"),
        ({"repeats": 2.0}, "evidence.latency.repeats: must be an integer from 1 to 50"),
        ({"warmupRuns": -1}, "evidence.latency.warmupRuns: must be an integer from 0 to 1000"),
        ({"timedRuns": 0}, "evidence.latency.timedRuns: must be an integer from 1 to 10000"),
        ({"maxMemoryMB": 100}, "evidence.latency.maxMemoryMB: must be an integer from 256 to 1048576"),
        ({"timeoutSeconds": 0}, "evidence.latency.timeoutSeconds: must be a number above 0 and at most 3600"),
        ({"timeoutSeconds": "1"}, "evidence.latency.timeoutSeconds: must be a number above 0"),
        ({"timeoutSeconds": False}, "evidence.latency.timeoutSeconds: must be a number above 0"),
        ({"timeoutSeconds": 3601}, "evidence.latency.timeoutSeconds: must be a number above 0"),
        ({"timeoutSecs": 5}, "evidence.latency.timeoutSecs: unknown setting"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)

    assert caught.value.message.startswith(f"fleetgate.yaml: {message}")


def test_a_non_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^fleetgate\.yaml: evidence\.latency: must be a mapping$"):
        parse_settings([1, 2])  # type: ignore[arg-type]


def test_inference_shape_reads_threads_and_batch() -> None:
    spec = {"spec": {"inferenceConfig": {"numThreads": 4, "batchSize": 8, "quantization": "int8"}}}

    assert inference_shape(spec) == InferenceShape(threads=4, batch=8)


@pytest.mark.parametrize("manifest", [{}, {"spec": {}}, {"spec": "x"}, {"spec": {"inferenceConfig": None}}])
def test_inference_shape_defaults_to_one_and_one(manifest: dict[str, Any]) -> None:
    assert inference_shape(manifest) == InferenceShape(threads=1, batch=1)


@pytest.mark.parametrize("batch", [0, 65537, 1.5, None, "1"])
def test_unusable_batch_sizes_are_refused(batch: object) -> None:
    with pytest.raises(EvidenceError, match=r"^spec\.inferenceConfig\.batchSize: cannot time the model with"):
        inference_shape({"spec": {"inferenceConfig": {"batchSize": batch}}})
