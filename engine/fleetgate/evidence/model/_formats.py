"""The model fact, read in a bounded child process whatever the format.

The readers (:mod:`._collect` for ONNX, :mod:`._tflite`, :mod:`._coreml`) run inside
:mod:`fleetgate.evidence._probe`: a parser crash or a runaway allocation ends the child, never
the gate. This module checks what the gate can check without parsing first (a TFLite or Core
ML model over ``evidence.model.maxBytes`` is refused before any parser sees it; the operator
config is loaded here, so its errors stay configuration errors) and adds what the gate already
knows (path, size).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import Limits, run_probe
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.model._allowed import load_allowed_operators
from fleetgate.evidence.model._settings import ModelSettings

__all__ = ["PROBE_LIMITS", "READERS", "model_fact"]

# Reading a model's structure takes seconds and a fraction of the memory running it takes.
PROBE_LIMITS = Limits(timeout_seconds=120.0, max_memory_mb=4096)
# format -> (probe task, what the message calls the step)
READERS = {
    "onnx": ("onnx-model", "reading the ONNX model"),
    "tflite": ("tflite-model", "reading the TFLite model"),
    "coreml": ("coreml-model", "reading the Core ML model"),
}


def model_fact(artifact: Artifact, root: Path, settings: ModelSettings) -> dict[str, Any] | None:
    """The model fact of ``artifact`` (a format in :data:`READERS`); EvidenceError when refused.

    None when the ONNX reader finds bytes that are no ONNX model and nothing named them so.
    """
    shown = artifact.to_fact(root)["path"]
    task, what = READERS[artifact.format]
    if artifact.format == "onnx":
        answer = run_probe(task, [_onnx_request(artifact, root, settings)], shown, what, PROBE_LIMITS)
        if answer is not None and not isinstance(answer, dict):
            raise EvidenceError(f"{shown}: {what} returned malformed output")
        return answer
    if artifact.size > settings.max_bytes:
        raise EvidenceError(
            f"{shown}: the model is {artifact.size} bytes, over the "
            f"{settings.max_bytes}-byte cap (evidence.model.maxBytes)"
        )
    answer = run_probe(task, [str(artifact.path)], shown, what, PROBE_LIMITS)
    if not isinstance(answer, dict):
        raise EvidenceError(f"{shown}: {what} returned malformed output")
    return {"path": shown, "format": artifact.format, "size": artifact.size, **answer}


def _onnx_request(artifact: Artifact, root: Path, settings: ModelSettings) -> str:
    if settings.allowed_operators is not None and settings.allowed_operators_shown is not None:
        load_allowed_operators(settings.allowed_operators, settings.allowed_operators_shown)
    fields = asdict(artifact)
    path = str(fields.pop("path"))
    return json.dumps(
        {
            "artifact": fields,
            "path": path,
            "root": str(root),
            "max_bytes": settings.max_bytes,
            "allowed_operators": str(settings.allowed_operators) if settings.allowed_operators else None,
            "allowed_shown": settings.allowed_operators_shown,
        }
    )
