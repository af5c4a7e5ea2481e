"""How the model is fed and read: input layouts, output conventions, refusals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.fairness import COLLECTOR
from fleetgate.evidence.interface import CollectorContext

ContextFactory = Callable[..., CollectorContext]


@pytest.fixture
def reference(context: ContextFactory) -> dict[str, object]:
    """The fact of the fair probability model: every fair model variant must agree with it."""
    fact = COLLECTOR.collect(context("fair"))
    assert fact is not None
    return dict(fact)


@pytest.mark.parametrize("model", ["label", "two_class", "per_column", "batch_one"])
def test_every_output_and_input_convention_gives_the_same_predictions(
    context: ContextFactory, reference: dict[str, object], model: str
) -> None:
    fact = COLLECTOR.collect(context(model))
    assert fact is not None
    for key in ("accuracy", "positive_rate", "demographic_parity_difference", "groups"):
        assert fact[key] == reference[key], key


def test_a_static_batch_dimension_runs_row_by_row(context: ContextFactory, progress: Any) -> None:
    COLLECTOR.collect(context("batch_one", progress=progress))
    assert progress.started == [("fairness data/eval.csv", 400)]


def test_the_threshold_decides_positive_probabilities(context: ContextFactory) -> None:
    default = COLLECTOR.collect(context("fair"))
    strict = COLLECTOR.collect(context("fair", settings={"threshold": 0.9}))
    assert default is not None and strict is not None
    assert strict["positive_rate"] < default["positive_rate"]
    assert strict["threshold"] == 0.9


def test_a_model_whose_width_does_not_match_the_features_is_refused(context: ContextFactory) -> None:
    with pytest.raises(
        EvidenceError,
        match=r"wide\.onnx: model input 'features' takes 4 features per row, "
        r"but the dataset has 3 feature columns \(x1, x2, x3\)",
    ):
        COLLECTOR.collect(context("wide"))


def test_a_score_output_is_not_read_as_a_probability(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match=r"scorer\.onnx: output 'score' is not a probability at row \d+"):
        COLLECTOR.collect(context("scorer"))


def test_per_column_inputs_must_name_the_feature_columns(context: ContextFactory, root: Path) -> None:
    path = root / "data" / "eval.csv"
    path.write_text(path.read_text().replace("x3,", "proxy,", 1))
    with pytest.raises(
        EvidenceError, match=r"per_column\.onnx: the model's 3 inputs must be the 3 feature columns"
    ):
        COLLECTOR.collect(context("per_column"))


def test_a_file_that_is_not_a_model_is_refused(context: ContextFactory, models: dict[str, Path]) -> None:
    ctx = context("fair")
    assert ctx.artifact is not None
    junk = models["fair"].with_name("junk.onnx")
    junk.write_bytes(b"\x08\x01not a model at all")
    bad = dataclasses.replace(ctx, artifact=dataclasses.replace(ctx.artifact, path=junk))
    with pytest.raises(EvidenceError, match=r"junk\.onnx: onnxruntime cannot load the model: "):
        COLLECTOR.collect(bad)
