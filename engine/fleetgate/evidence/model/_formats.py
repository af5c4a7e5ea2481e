"""The model fact of a TFLite or Core ML artifact, read in a bounded child process.

The readers (:mod:`._tflite`, :mod:`._coreml`) run inside :mod:`fleetgate.evidence._probe`;
this module only checks the size cap first, so a model over ``evidence.model.maxBytes`` is
refused before any parser sees it, and adds what the gate already knows (path, size).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import Limits, run_probe
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.model._settings import ModelSettings

__all__ = ["PROBE_LIMITS", "READERS", "format_fact"]

# Reading a model's structure takes seconds and a fraction of the memory running it takes.
PROBE_LIMITS = Limits(timeout_seconds=120.0, max_memory_mb=4096)
# format -> (probe task, what the message calls the step)
READERS = {
    "tflite": ("tflite-model", "reading the TFLite model"),
    "coreml": ("coreml-model", "reading the Core ML model"),
}


def format_fact(artifact: Artifact, root: Path, settings: ModelSettings) -> dict[str, Any]:
    """The model fact of ``artifact`` (a format in :data:`READERS`); EvidenceError when refused."""
    shown = artifact.to_fact(root)["path"]
    if artifact.size > settings.max_bytes:
        raise EvidenceError(
            f"{shown}: the model is {artifact.size} bytes, over the "
            f"{settings.max_bytes}-byte cap (evidence.model.maxBytes)"
        )
    task, what = READERS[artifact.format]
    answer = run_probe(task, [str(artifact.path)], shown, what, PROBE_LIMITS)
    if not isinstance(answer, dict):
        raise EvidenceError(f"{shown}: {what} returned malformed output")
    return {"path": shown, "format": artifact.format, "size": artifact.size, **answer}
