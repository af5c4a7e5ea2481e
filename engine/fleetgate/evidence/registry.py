"""The one list of evidence collectors: what each needs, whether it caches, and its settings.

Everything that used to keep its own copy of the list derives from :data:`COLLECTORS`: the
facts ``fleetgate.yaml`` and ``--evidence`` accept, the settings schema ``load_config``
checks at load (so a typo in a collector's settings is an error even when no artifact is
reachable), the libraries and extra a collector needs, which facts are never cached, and which
need the trust file. The collector itself lives in ``fleetgate.evidence.<module>`` and is only
imported when its fact is gathered. Light on purpose: no collector is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLLECTORS", "FACTS", "CollectorSpec", "settings_schema", "spec"]


def _integer(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


@dataclass(frozen=True)
class CollectorSpec:
    """One collector, as the rest of the gate needs to know it."""

    name: str
    extra: str  # the pip extra that installs its libraries
    libraries: tuple[str, ...]
    # Verdicts that depend on trust material and on time (expiry) are recomputed every run.
    cacheable: bool = True
    needs_trust: bool = False
    # Gathered for every added or modified change, reachable artifact or not (evidence/gather.py).
    deployment_scope: bool = False
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Artifact formats read with other libraries: format -> (extra, libraries).
    formats: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return f"fleetgate.evidence.{self.name}"

    def requirements(self, model_format: str = "") -> tuple[str, tuple[str, ...]]:
        """The extra and the libraries this collector needs for an artifact of ``model_format``."""
        return self.formats.get(model_format, (self.extra, self.libraries))


COLLECTORS: tuple[CollectorSpec, ...] = (
    CollectorSpec(
        "signature",
        "supplychain",
        ("sigstore", "model_signing"),
        cacheable=False,
        needs_trust=True,
        settings={"maxBundleBytes": _integer(1024, 16 << 20)},
    ),
    CollectorSpec(
        "provenance",
        "supplychain",
        ("in_toto", "securesystemslib"),
        cacheable=False,
        needs_trust=True,
        settings={"maxMetadataBytes": _integer(1 << 10, 64 << 20)},
    ),
    CollectorSpec(
        "model",
        "model",
        ("onnx", "onnxruntime"),
        settings={"allowedOperators": {"type": "string", "minLength": 1}, "maxBytes": _integer(1, 1 << 40)},
        formats={"tflite": ("formats", ("ai_edge_litert",)), "coreml": ("formats", ("coremltools",))},
    ),
    CollectorSpec(
        "latency",
        "model",
        ("onnxruntime", "numpy"),
        settings={
            "repeats": _integer(1, 50),
            "warmupRuns": _integer(0, 1000),
            "timedRuns": _integer(1, 10000),
            "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
            "maxMemoryMB": _integer(256, 1 << 20),
        },
        # Core ML is never timed here (Apple platforms only): nothing to install for it.
        formats={"tflite": ("formats", ("ai_edge_litert", "numpy")), "coreml": ("formats", ())},
    ),
    CollectorSpec(
        "fairness",
        "model",
        ("onnxruntime", "numpy", "pandas", "fairlearn"),
        settings={
            "threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "minGroupRows": _integer(1, 1 << 31),
            "maxBytes": _integer(1, 1 << 40),
            "batchRows": _integer(1, 1 << 20),
        },
        formats={
            "tflite": ("model,formats", ("ai_edge_litert", "numpy", "pandas", "fairlearn")),
            "coreml": ("formats", ()),
        },
    ),
    # Deployment scope: what the rollout costs across the fleet (the inventory and price sheet
    # named by `fleet:`). Needs no artifact and no library; recomputed every run because the
    # base of the comparison changes with every change.
    CollectorSpec("cost", "", (), cacheable=False, deployment_scope=True),
    # Deployment scope: the health of the current rung, for a promotion (the source named by
    # `telemetry:`). Never cached: telemetry changes by the minute.
    CollectorSpec("telemetry", "", (), cacheable=False, deployment_scope=True),
    # Deployment scope: whether a new artifact is one the base branch deployed before (a
    # rollback, which rollout.step-limit admits by rule). Reads only git history.
    CollectorSpec("rollback", "", (), cacheable=False, deployment_scope=True),
)

# The facts a check can gather, in the order they are gathered: the artifact first.
FACTS: tuple[str, ...] = ("artifact", *(c.name for c in COLLECTORS))


def spec(name: str) -> CollectorSpec:
    return next(c for c in COLLECTORS if c.name == name)


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of each ``evidence.<collector>`` section, keyed by collector name."""
    return {
        c.name: {"type": "object", "additionalProperties": False, "properties": dict(c.settings)}
        for c in COLLECTORS
    }
