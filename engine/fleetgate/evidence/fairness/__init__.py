"""The ``fairness`` fact: accuracy and group fairness of the deployed model on an evaluation set.

The manifest's ``spec.evaluation`` names a CSV in the repository, its binary label column and
its sensitive columns. The model runs on the CPU in a bounded child process, an ONNX model with
onnxruntime and a TFLite model with the LiteRT interpreter (and so does the previous
version's model, when the change replaced it); fairlearn scores the predictions per group.
Groups too small, or without positive or negative labels, are listed as ``insufficient``: thin
evidence is reported, never passed. See ``docs/evidence/fairness.md``.

This module stays light: pandas, onnxruntime and fairlearn are imported inside :meth:`collect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.errors import FleetgateError
from fleetgate.evidence._kit import library_version
from fleetgate.evidence.fairness._settings import (
    Evaluation,
    FairnessSettings,
    evaluation_of,
    parse_settings,
)
from fleetgate.evidence.fairness._source import dataset_digest
from fleetgate.evidence.interface import Artifact, CollectorContext

# The distribution that runs each format this collector scores, recorded in the cache key.
_RUNTIMES = {"onnx": "onnxruntime", "tflite": "ai-edge-litert"}
APPLE_ONLY = "Core ML runs only on Apple platforms"

__all__ = ["COLLECTOR", "FairnessCollector", "FairnessSettings", "parse_settings"]


class FairnessCollector:
    """Collects the ``fairness`` fact (see the module docstring)."""

    @property
    def fact(self) -> str:
        return "fairness"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Digests of both models and of the dataset, the evaluation block, settings, library versions.

        ``None`` (never cache) when the fact is not gathered or the dataset cannot be hashed:
        :meth:`collect` then reports the problem.
        """
        artifact = context.artifact
        if artifact is None or not _scored(artifact):
            return None
        try:
            evaluation = _evaluation(context)
            if evaluation is None:
                return None
            settings = parse_settings(context.settings)
            digest = dataset_digest(context.root, evaluation.dataset, settings.max_bytes, context.trusted)
        except FleetgateError:
            return None
        base = context.base_artifact
        return {
            "artifact": artifact.digest,
            "base": base.digest if base is not None else None,
            "dataset_digest": digest,
            "evaluation": evaluation.to_key(),
            "settings": settings.to_key(),
            "fairlearn": library_version("fairlearn"),
            "format": artifact.format,
            "runtime": library_version(_RUNTIMES[artifact.format]),
            "pandas": library_version("pandas"),
        }

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """The fact, or ``None`` without an artifact or an evaluation block.

        Raises :class:`~fleetgate.errors.ConfigError` on bad settings and
        :class:`~fleetgate.errors.EvidenceError` on a bad dataset, a model that does not fit it
        or fails to run, or a base model that cannot be scored on the same data.
        """
        settings = parse_settings(context.settings)
        artifact = context.artifact
        evaluation = _evaluation(context)
        if artifact is None or evaluation is None:
            return None
        if artifact.format == "coreml":
            return {"status": "absent", "reason": APPLE_ONLY}
        if not _scored(artifact):
            return None  # a format no runtime here can score (an .ort file, unknown bytes)
        from fleetgate.evidence.fairness._collect import fairness_fact

        return fairness_fact(context, artifact, evaluation, settings)


def _scored(artifact: Artifact) -> bool:
    return not artifact.directory and artifact.format in _RUNTIMES


def _evaluation(context: CollectorContext) -> Evaluation | None:
    """The evaluation block: the previous version's when it has one, else the manifest's.

    The label and sensitive features decide what the fairness rules measure: a change may not
    pick its own, so they come from the base manifest whenever it names them.
    """
    previous = evaluation_of(context.previous) if context.previous is not None else None
    return previous if previous is not None else evaluation_of(context.manifest)


COLLECTOR = FairnessCollector()
