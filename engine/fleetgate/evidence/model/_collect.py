"""Assemble the ONNX model fact. Runs only in the bounded probe child: it imports onnx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence.interface import Artifact, ArtifactFile
from fleetgate.evidence.model._allowed import load_allowed_operators
from fleetgate.evidence.model._graph import NodeUse, node_uses, shown_domain
from fleetgate.evidence.model._load import LoadedModel, load_model
from fleetgate.evidence.model._quantization import measure_quantization
from fleetgate.evidence.model._runtime import RuntimeCheck, check_allowed, check_cpu
from fleetgate.evidence.model._settings import ModelSettings

__all__ = ["model_fact", "model_fact_of"]


def model_fact_of(request: str) -> dict[str, Any] | None:
    """Child side (:mod:`fleetgate.evidence._probe`): the model fact for a JSON ``request``
    naming the artifact, the repository root and the settings (see ``model._formats``)."""
    asked = json.loads(request)
    files = tuple(ArtifactFile(**item) for item in asked["artifact"].pop("files"))
    artifact = Artifact(**asked["artifact"], path=Path(asked["path"]), files=files)
    allowed = asked["allowed_operators"]
    settings = ModelSettings(asked["max_bytes"], Path(allowed) if allowed else None, asked["allowed_shown"])
    return model_fact(artifact, Path(asked["root"]), settings)


def model_fact(artifact: Artifact, root: Path, settings: ModelSettings) -> dict[str, Any] | None:
    """The model fact for ``artifact``, or EvidenceError when the model is refused.

    None when the bytes are not ONNX and neither the file nor the URI is named ``*.onnx``.
    """
    shown = artifact.to_fact(root)["path"]
    claims_onnx = any(_named_onnx(name) for name in (artifact.path.name, artifact.uri))
    main_size = next((f.size for f in artifact.files if f.name == artifact.path.name), artifact.size)
    loaded = load_model(artifact.path, shown, claims_onnx, main_size, settings.max_bytes)
    if loaded is None:
        return None
    _check_covered(loaded, artifact, shown)
    model = loaded.proto
    uses = node_uses(model, shown)
    quantization = measure_quantization(model, uses)
    opsets: dict[str, int] = {}
    for use in uses:
        if not use.calls_function:
            opsets[shown_domain(use.domain)] = use.opset
    return {
        "path": shown,
        "format": "onnx",
        "size": artifact.size,  # the model and every external-data file
        "ir_version": model.ir_version,
        "opsets": dict(sorted(opsets.items())),
        "nodes": len(uses),
        "weight_bytes": quantization.weight_bytes,
        "weight_types": quantization.weight_types,
        "quantized_weight_share": quantization.quantized_weight_share,
        "compute_nodes": quantization.compute_nodes,
        "quantized_compute_nodes": quantization.quantized_compute_nodes,
        "quantized_compute_share": quantization.quantized_compute_share,
        "quantization": quantization.label,
        "fake_quantized": quantization.fake_quantized,
        "external_data": [{"location": item.location, "size": item.size} for item in loaded.external],
        "runtime": _runtime(artifact.path, settings, uses).to_fact(),
    }


def _check_covered(loaded: LoadedModel, artifact: Artifact, shown: str) -> None:
    """Every external-data file onnx found must be one the artifact hashed (its digest covers)."""
    folder = artifact.path.resolve().parent
    names = {f.name for f in artifact.files}
    for item in loaded.external:
        name = item.path.relative_to(folder).as_posix()
        if name not in names:
            raise EvidenceError(f"{shown}: external data file {name} is not part of the artifact's digest")


def _named_onnx(name: str) -> bool:
    # A URI may carry a query or fragment after the file name (presigned https URLs do).
    return name.split("?", 1)[0].split("#", 1)[0].lower().endswith(".onnx")


def _runtime(path: Path, settings: ModelSettings, uses: list[NodeUse]) -> RuntimeCheck:
    if settings.allowed_operators is not None and settings.allowed_operators_shown is not None:
        allowed = load_allowed_operators(settings.allowed_operators, settings.allowed_operators_shown)
        return check_allowed(uses, allowed)
    return check_cpu(uses, path)
