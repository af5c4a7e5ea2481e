"""The ``model`` fact: structure, quantization and the operators a runtime cannot run.

One reader per format, chosen by the artifact's format (detected from its bytes): ONNX with
onnx and onnxruntime, TFLite with LiteRT's schema and interpreter, Core ML with coremltools'
specification. Another format is not measured (no fact). Importing this package is cheap: the
libraries are imported only when the fact is gathered, and TFLite and Core ML are read in a
bounded child process. See ``docs/evidence/model.md`` for what each number measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence._kit import library_version
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.model._allowed import AllowedOperators, load_allowed_operators
from fleetgate.evidence.model._settings import DEFAULT_MAX_BYTES, ModelSettings, parse_settings

__all__ = [
    "COLLECTOR",
    "DEFAULT_MAX_BYTES",
    "AllowedOperators",
    "ModelCollector",
    "ModelSettings",
    "load_allowed_operators",
    "parse_settings",
]


# The libraries each format's reader uses, recorded in the cache key.
_LIBRARIES = {"onnx": ("onnx", "onnxruntime"), "tflite": ("ai-edge-litert",), "coreml": ("coremltools",)}


def _measured(artifact: Artifact | None) -> bool:
    if artifact is None or artifact.format not in _LIBRARIES:
        return False
    return artifact.format == "coreml" or not artifact.directory


class ModelCollector:
    """Measures a model artifact: structure, quantization, runtime operators."""

    @property
    def fact(self) -> str:
        return "model"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Artifact digest (external-data files included), operator config digest, settings, libraries."""
        artifact = context.artifact
        if artifact is None or not _measured(artifact):
            return None
        settings = parse_settings(context.settings, context.root, context.trusted)
        allowed = None
        if settings.allowed_operators is not None and settings.allowed_operators_shown is not None:
            config = load_allowed_operators(settings.allowed_operators, settings.allowed_operators_shown)
            allowed = config.digest
        return {
            "digest": artifact.digest,
            "format": artifact.format,
            "allowed_operators": allowed,
            "max_bytes": settings.max_bytes,
            **{name: library_version(name) for name in _LIBRARIES[artifact.format]},
        }

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """The model fact; EvidenceError for a refused model.

        None without an artifact or for a format no reader measures (the fact stays absent
        and ``evidence.missing`` speaks for it).

        ConfigError when ``evidence.model`` settings or the operator config are invalid.
        """
        settings = parse_settings(context.settings, context.root, context.trusted)
        artifact = context.artifact
        if artifact is None or not _measured(artifact):
            return None
        from fleetgate.evidence.model._formats import model_fact

        return model_fact(artifact, context.root, settings)


COLLECTOR = ModelCollector()
