"""A collector whose libraries are not installed leaves its fact absent, with the reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fleetgate.config import EvidenceConfig
from fleetgate.evidence import _collecting, gather, registry
from fleetgate.evidence._collecting import CollectorRunner
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.interface import CollectorContext


def needing(monkeypatch: pytest.MonkeyPatch, name: str, libraries: tuple[str, ...]) -> None:
    changed = replace(registry.spec(name), libraries=libraries)
    monkeypatch.setattr(_collecting, "collector_spec", lambda n: changed if n == name else registry.spec(n))


def test_a_missing_library_is_found_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    needing(monkeypatch, "model", ("json", "fleetgate_no_such_library"))
    assert _collecting._missing_library("model") == "fleetgate_no_such_library"


def test_installed_libraries_are_not_missing() -> None:
    for name in gather.COLLECTORS:
        assert _collecting._missing_library(name) is None, name


def test_the_fact_is_absent_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    needing(monkeypatch, "latency", ("fleetgate_no_such_library",))
    runner = CollectorRunner(EvidenceConfig(), FactCache(None, "0.0.0-test"))
    fact = runner.collect("latency", CollectorContext(manifest={}, previous=None, root=Path(".")))
    assert fact == {
        "status": "absent",
        "reason": "fleetgate_no_such_library is not installed here (pip install 'fleetgate[model]')",
    }


def test_a_tflite_artifact_needs_litert_not_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = replace(
        registry.spec("model"),
        libraries=("fleetgate_no_onnx",),
        formats={"tflite": ("formats", ("fleetgate_no_litert",))},
    )
    monkeypatch.setattr(
        _collecting, "collector_spec", lambda n: changed if n == "model" else registry.spec(n)
    )
    assert _collecting._missing_library("model", "onnx") == "fleetgate_no_onnx"
    assert _collecting._missing_library("model", "tflite") == "fleetgate_no_litert"


def test_core_ml_latency_and_fairness_need_nothing_installed() -> None:
    for name in ("latency", "fairness"):
        assert registry.spec(name).requirements("coreml")[1] == ()
