"""The one list of evidence collectors: what each needs, whether it caches, and its settings.

Everything that used to keep its own copy of the list derives from :data:`COLLECTORS`: the
facts ``fleetgate.yaml`` and ``--evidence`` accept, the settings schema ``load_config``
checks at load (so a typo in a collector's settings is an error even when no artifact is
reachable), the libraries and extra a collector needs, which facts are never cached, and which
need the trust file, and how each fact is obtained (its evidence class). The collector itself
lives in ``fleetgate.evidence.<module>`` and is only imported when its fact is gathered. Light on
purpose: no collector is imported here.

Evidence classes say how a fact was obtained, so nobody reads a latency timed on a CI runner as
the latency on a phone:

* ``observed``: measured here, by running the model (latency and memory on this machine's CPU,
  fairness from inference over the evaluation set), or reported by the fleet (telemetry);
* ``derived``: computed from the artifact's bytes and the trust material (digest, signature and
  provenance verification, quantization shares, the operators the runtime lacks);
* ``declared``: taken from the manifest as written (what it claims, never checked by itself);
* ``not-assessable``: could not be obtained here, with the reason (Core ML runs only on Apple
  platforms, no signature bundle, a library not installed). Policies and ``evidence.missing``
  treat such a fact as absent: a warning at pre-merge, a denial at pre-deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ARTIFACT",
    "COLLECTORS",
    "DECLARED",
    "DERIVED",
    "EVIDENCE_CLASSES",
    "FACTS",
    "NOT_ASSESSABLE",
    "OBSERVED",
    "CollectorSpec",
    "Obtained",
    "evidence_class",
    "obtained",
    "settings_schema",
    "spec",
]

OBSERVED, DERIVED, DECLARED, NOT_ASSESSABLE = "observed", "derived", "declared", "not-assessable"
EVIDENCE_CLASSES: tuple[str, ...] = (OBSERVED, DERIVED, DECLARED, NOT_ASSESSABLE)


@dataclass(frozen=True)
class Obtained:
    """How one fact was obtained: its evidence class and, in a few words, how."""

    evidence_class: str  # one of EVIDENCE_CLASSES
    how: str


# The artifact fact is not a collector's: the gate hashes the bytes itself.
ARTIFACT = Obtained(DERIVED, "hashed from the artifact's bytes")


def _integer(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


@dataclass(frozen=True)
class CollectorSpec:
    """One collector, as the rest of the gate needs to know it."""

    name: str
    extra: str  # the pip extra that installs its libraries
    libraries: tuple[str, ...]
    obtained: Obtained
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
        Obtained(DERIVED, "verified over the artifact's bytes against the trust file"),
        cacheable=False,
        needs_trust=True,
        settings={"maxBundleBytes": _integer(1024, 16 << 20)},
    ),
    CollectorSpec(
        "provenance",
        "supplychain",
        ("in_toto", "securesystemslib"),
        Obtained(DERIVED, "verified from the supply-chain metadata against the trust file"),
        cacheable=False,
        needs_trust=True,
        settings={"maxMetadataBytes": _integer(1 << 10, 64 << 20)},
    ),
    CollectorSpec(
        "model",
        "model",
        ("onnx", "onnxruntime"),
        Obtained(DERIVED, "read from the model's bytes"),
        settings={"allowedOperators": {"type": "string", "minLength": 1}, "maxBytes": _integer(1, 1 << 40)},
        formats={"tflite": ("formats", ("ai_edge_litert",)), "coreml": ("formats", ("coremltools",))},
    ),
    CollectorSpec(
        "latency",
        "model",
        ("onnxruntime", "numpy"),
        Obtained(OBSERVED, "timed on this machine's CPU, not on a device"),
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
        Obtained(OBSERVED, "inference here over the evaluation set"),
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
    CollectorSpec(
        "cost",
        "",
        (),
        Obtained(DERIVED, "computed from the fleet inventory, the price sheet and the model size"),
        cacheable=False,
        deployment_scope=True,
    ),
    # Deployment scope: the health of the current rung, for a promotion (the source named by
    # `telemetry:`). Never cached: telemetry changes by the minute.
    CollectorSpec(
        "telemetry",
        "",
        (),
        Obtained(OBSERVED, "reported by the fleet's devices through the telemetry source"),
        cacheable=False,
        deployment_scope=True,
    ),
    # Deployment scope: whether a new artifact is one the base branch deployed before (a
    # rollback, which rollout.step-limit admits by rule). Reads only git history.
    CollectorSpec(
        "rollback",
        "",
        (),
        Obtained(DERIVED, "read from the base branch's history"),
        cacheable=False,
        deployment_scope=True,
    ),
)

# The facts a check can gather, in the order they are gathered: the artifact first.
FACTS: tuple[str, ...] = ("artifact", *(c.name for c in COLLECTORS))


def spec(name: str) -> CollectorSpec:
    return next(c for c in COLLECTORS if c.name == name)


def obtained(name: str) -> Obtained:
    """How the fact ``name`` is obtained when it is gathered."""
    return ARTIFACT if name == "artifact" else spec(name).obtained


def evidence_class(name: str, fact: object) -> str | None:
    """The evidence class of the gathered fact ``name``, or ``None`` when it holds no evidence.

    A fact that came back absent or unavailable with a reason is ``not-assessable``; one whose
    collector failed (``{"error": ...}``) has no class: it is ``evidence.failed``, not evidence.
    """
    if not isinstance(fact, Mapping) or "error" in fact:
        return None
    if fact.get("status") in ("absent", "unavailable"):
        return NOT_ASSESSABLE
    return obtained(name).evidence_class


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of each ``evidence.<collector>`` section, keyed by collector name."""
    return {
        c.name: {"type": "object", "additionalProperties": False, "properties": dict(c.settings)}
        for c in COLLECTORS
    }
