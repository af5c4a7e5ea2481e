"""Models and contexts shared by the latency tests (built once per session: they are small)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleetgate.evidence._format import detect_format
from fleetgate.evidence.interface import Artifact, CollectorContext, Progress

import support_onnx

# Few, short runs: the tests check the plumbing and the shape of the numbers, not the numbers.
FAST: dict[str, Any] = {"repeats": 2, "warmupRuns": 1, "timedRuns": 5}


@dataclass
class RecordingProgress:
    """A progress sink that remembers every call, in order."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def start(self, task: str, total: int) -> None:
        self.calls.append(("start", (task, total)))

    def advance(self, done: int) -> None:
        self.calls.append(("advance", done))

    def finish(self, summary: str) -> None:
        self.calls.append(("finish", summary))


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository root with ``models/small.onnx`` (16 channels) and ``models/large.onnx`` (128)."""
    root = tmp_path_factory.mktemp("latency")
    support_onnx.save(support_onnx.cnn(channels=16), root / "models" / "small.onnx")
    support_onnx.save(support_onnx.cnn(channels=128), root / "models" / "large.onnx")
    return root


def artifact(path: Path, digest_byte: str = "a") -> Artifact:
    return Artifact(
        uri=f"file:{path.name}",
        path=path.resolve(),
        digest="sha256:" + digest_byte * 64,
        size=path.stat().st_size,
        source="file",
        format=detect_format(f"file:{path.name}", path, path.is_dir()),
    )


def manifest(threads: int | None = 1, batch: int | None = 1) -> dict[str, Any]:
    config = {k: v for k, v in (("numThreads", threads), ("batchSize", batch)) if v is not None}
    return {"kind": "OnDeviceModel", "spec": {"inferenceConfig": config}}


def _context(
    root: Path,
    model: Path | None,
    *,
    base: Path | None = None,
    settings: Mapping[str, Any] | None = None,
    spec: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> CollectorContext:
    return CollectorContext(
        manifest=spec if spec is not None else manifest(),
        previous=None,
        root=root,
        artifact=artifact(model) if model is not None else None,
        base_artifact=artifact(base, "b") if base is not None else None,
        settings=dict(FAST if settings is None else settings),
        progress=progress if progress is not None else RecordingProgress(),
    )


@pytest.fixture
def make_context() -> Callable[..., CollectorContext]:
    """Build a context: ``make_context(root, model, base=, settings=, spec=, progress=)``.

    ``settings`` defaults to a fast run (2 repeats of 5 timed runs); ``spec`` to a manifest
    with 1 thread and batch 1; the artifact digest is ``sha256:aaa...``, the base's ``bbb...``.
    """
    return _context


@pytest.fixture
def progress() -> RecordingProgress:
    return RecordingProgress()


@pytest.fixture
def spec() -> Callable[..., dict[str, Any]]:
    """Build a manifest: ``spec(threads=1, batch=1)``; None leaves the key out."""
    return manifest
