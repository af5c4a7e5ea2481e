"""Fairness collector fixtures: a repository with an evaluation set, models, and a context builder."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleetgate.evidence._format import detect_format
from fleetgate.evidence.interface import Artifact, CollectorContext

import support_fairness
from support_onnx import linear_classifier, save

ContextFactory = Callable[..., CollectorContext]


@dataclass
class RecordedProgress:
    """A Progress that remembers every call."""

    started: list[tuple[str, int]] = field(default_factory=list)
    advanced: list[int] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def start(self, task: str, total: int) -> None:
        self.started.append((task, total))

    def advance(self, done: int) -> None:
        self.advanced.append(done)

    def finish(self, summary: str) -> None:
        self.finished.append(summary)


def artifact(path: Path) -> Artifact:
    """An artifact as the orchestrator would hand it over (real digest and size)."""
    data = path.read_bytes()
    return Artifact(
        uri=f"file:{path.name}",
        path=path,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        size=len(data),
        source="file",
        format=detect_format(f"file:{path.name}", path, path.is_dir()),
    )


def manifest(evaluation: Mapping[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"modelUri": "file:model.onnx"}
    if evaluation is not None:
        spec["evaluation"] = dict(evaluation)
    return {"kind": "OnDeviceModel", "spec": spec}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every model the tests use, built once per module (outside any repository)."""
    folder = tmp_path_factory.mktemp("models")
    return {
        "fair": support_fairness.classifier(folder / "fair.onnx"),
        "biased": support_fairness.classifier(folder / "biased.onnx", uses_group=1.0),
        "label": support_fairness.label_classifier(folder / "label.onnx"),
        "two_class": support_fairness.two_class_classifier(folder / "two_class.onnx"),
        "batch_one": support_fairness.two_class_classifier(folder / "batch_one.onnx", batch=1),
        "per_column": support_fairness.per_column_classifier(folder / "per_column.onnx"),
        "scorer": support_fairness.scorer(folder / "scorer.onnx"),
        # Four inputs per row where the dataset has three feature columns.
        "wide": save(linear_classifier([1.0, 1.0, 1.0, 1.0]), folder / "wide.onnx"),
    }


@pytest.fixture
def progress() -> RecordedProgress:
    return RecordedProgress()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository root with the fair evaluation set at data/eval.csv."""
    support_fairness.biased_dataset(tmp_path / "data" / "eval.csv", rows=400)
    return tmp_path


@pytest.fixture
def context(root: Path, models: dict[str, Path]) -> ContextFactory:
    """Build a context: ``context("fair", base="biased", settings={...}, evaluation={...})``."""

    def make(
        model: str = "fair",
        *,
        base: str | None = None,
        settings: Mapping[str, Any] | None = None,
        evaluation: Mapping[str, Any] | None = support_fairness.EVALUATION,
        progress: RecordedProgress | None = None,
    ) -> CollectorContext:
        return CollectorContext(
            manifest=manifest(evaluation),
            previous=None,
            root=root,
            artifact=artifact(models[model]),
            base_artifact=artifact(models[base]) if base is not None else None,
            settings=dict(settings or {}),
            progress=progress or RecordedProgress(),
        )

    return make
