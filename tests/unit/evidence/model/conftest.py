"""Fixtures of the model-collector tests: a context for any model file, and quantized models."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence._format import detect_format
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.model import COLLECTOR

import support_onnx


def context_for(path: Path, root: Path, settings: Mapping[str, Any] | None = None) -> CollectorContext:
    """A collector context whose artifact is the file at ``path``, resolved like the orchestrator.

    A model whose external data the resolver refuses is handed over as one file, so the
    collector's own refusals are tested too.
    """
    try:
        artifact = resolve_artifact(path.as_uri(), ArtifactSource(root=path.parent))
    except EvidenceError:
        artifact = None
    if artifact is None:
        data = path.read_bytes()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        bare = Artifact(uri=path.as_uri(), path=path, digest=digest, size=len(data), source="file")
        artifact = replace(bare, format=detect_format(bare.uri, path, False))
    return CollectorContext(
        manifest={}, previous=None, root=root, artifact=artifact, settings=dict(settings or {})
    )


@pytest.fixture
def context(tmp_path: Path) -> Callable[..., CollectorContext]:
    """Build a context for a model file (see :func:`context_for`); the root defaults to ``tmp_path``."""

    def build(
        path: Path, settings: Mapping[str, Any] | None = None, root: Path | None = None
    ) -> CollectorContext:
        return context_for(path, root or tmp_path, settings)

    return build


@pytest.fixture
def measure(tmp_path: Path) -> Callable[..., Any]:
    """Collect the model fact of a file; the repository root is ``tmp_path`` unless given."""

    def run(path: Path, settings: Mapping[str, Any] | None = None, root: Path | None = None) -> Any:
        fact = COLLECTOR.collect(context_for(path, root or tmp_path, settings))
        assert fact is not None
        return fact

    return run


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A float CNN and MLP and their QDQ, QOperator and dynamic int8 versions, built once per module."""
    folder = tmp_path_factory.mktemp("quantized")
    cnn = support_onnx.save(support_onnx.cnn(channels=8), folder / "cnn.onnx")
    mlp = support_onnx.save(support_onnx.mlp(), folder / "mlp.onnx")
    shape = (1, 3, 32, 32)
    return {
        "cnn": cnn,
        "mlp": mlp,
        "qdq": support_onnx.quantize(cnn, folder / "qdq.onnx", "qdq", "input", shape),
        "qoperator": support_onnx.quantize(cnn, folder / "qoperator.onnx", "qoperator", "input", shape),
        "dynamic": support_onnx.quantize(mlp, folder / "dynamic.onnx", "dynamic", "features", (1, 16)),
    }
