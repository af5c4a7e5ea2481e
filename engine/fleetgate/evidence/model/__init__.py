"""The ``model`` fact: ONNX structure, quantization and the operators a runtime cannot run.

Importing this package is cheap: onnx and onnxruntime are imported only when the fact is
gathered. See ``docs/evidence/model.md`` for what each number measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence._kit import library_version
from fleetgate.evidence.interface import CollectorContext
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


class ModelCollector:
    """Measures an ONNX artifact: checker verdict, opsets, quantization, runtime operators."""

    @property
    def fact(self) -> str:
        return "model"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Artifact digest (external-data files included), operator config digest, settings, libraries."""
        if context.artifact is None or context.artifact.directory:
            return None
        settings = parse_settings(context.settings, context.root, context.trusted)
        allowed = None
        if settings.allowed_operators is not None and settings.allowed_operators_shown is not None:
            config = load_allowed_operators(settings.allowed_operators, settings.allowed_operators_shown)
            allowed = config.digest
        return {
            "digest": context.artifact.digest,
            "allowed_operators": allowed,
            "max_bytes": settings.max_bytes,
            "onnxruntime": library_version("onnxruntime"),
            "onnx": library_version("onnx"),
        }

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """The model fact; EvidenceError for a refused model.

        None without an artifact, for a model directory, or when the artifact is neither ONNX
        nor named ``*.onnx`` (another model format: the fact stays absent and ``evidence.missing``
        speaks for it).

        ConfigError when ``evidence.model`` settings or the operator config are invalid.
        """
        settings = parse_settings(context.settings, context.root, context.trusted)
        if context.artifact is None or context.artifact.directory:
            return None  # a model directory (Core ML, say) is not an ONNX file
        from fleetgate.evidence.model._collect import model_fact

        return model_fact(context.artifact, context.root, settings)


COLLECTOR = ModelCollector()
