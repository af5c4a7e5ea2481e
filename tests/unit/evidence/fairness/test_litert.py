"""TFLite models are scored with the LiteRT interpreter in a child; Core ML is absent, never passed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.fairness import COLLECTOR

import support_tflite
from .conftest import ContextFactory
from support_fairness import FAIR_WEIGHTS

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def models(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tflite")
    biased = (FAIR_WEIGHTS[0], FAIR_WEIGHTS[1], -6.0)
    return {
        **models,
        "fair.tflite": support_tflite.save(support_tflite.classifier(FAIR_WEIGHTS), folder / "fair.tflite"),
        "biased.tflite": support_tflite.save(support_tflite.classifier(biased), folder / "biased.tflite"),
        "int8.tflite": support_tflite.save(
            support_tflite.classifier(FAIR_WEIGHTS, storage="int8"), folder / "int8.tflite"
        ),
        "custom.tflite": support_tflite.save(
            support_tflite.classifier(FAIR_WEIGHTS, custom_op="MyCustomOp"), folder / "custom.tflite"
        ),
    }


def test_a_tflite_model_with_an_evaluation_block_is_scored_not_refused(context: ContextFactory) -> None:
    # Regression: the ONNX runtime once tried to load every artifact and denied a .tflite.
    fact = COLLECTOR.collect(context("fair.tflite"))
    assert fact is not None and "error" not in fact
    assert fact["rows"] == 400 and fact["accuracy"] > 0.85
    assert fact["demographic_parity_difference"] < 0.05


def test_a_biased_tflite_model_has_large_differences_and_matches_its_onnx_twin(
    context: ContextFactory,
) -> None:
    tflite = COLLECTOR.collect(context("biased.tflite"))
    onnx = COLLECTOR.collect(context("biased"))
    assert tflite is not None and onnx is not None
    assert tflite["demographic_parity_difference"] > 0.2
    assert tflite["demographic_parity_difference"] == pytest.approx(onnx["demographic_parity_difference"])


def test_a_full_integer_model_is_quantized_in_and_dequantized_out(context: ContextFactory) -> None:
    fact = COLLECTOR.collect(context("int8.tflite"))
    assert fact is not None and fact["accuracy"] > 0.8


def test_an_onnx_base_is_scored_beside_a_tflite_head(context: ContextFactory) -> None:
    fact = COLLECTOR.collect(context("fair.tflite", base="biased"))
    assert fact is not None
    assert fact["base"]["demographic_parity_difference"] > 0.2


def test_a_tflite_model_the_runtime_cannot_load_fails_naming_it(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match=r"custom\.tflite: running the TFLite model failed .*MyCustomOp"):
        COLLECTOR.collect(context("custom.tflite"))


def test_core_ml_is_absent_because_it_runs_only_on_apple_platforms(context: ContextFactory) -> None:
    ctx = context("fair")
    assert ctx.artifact is not None
    coreml = dataclasses.replace(ctx, artifact=dataclasses.replace(ctx.artifact, format="coreml"))
    assert COLLECTOR.collect(coreml) == {"status": "absent", "reason": "Core ML runs only on Apple platforms"}
    assert COLLECTOR.collect(dataclasses.replace(coreml, manifest={"spec": {}})) is None


@pytest.mark.parametrize("model_format", ["ort", "unknown"])
def test_a_format_no_runtime_here_scores_gives_no_fact(context: ContextFactory, model_format: str) -> None:
    ctx = context("fair")
    assert ctx.artifact is not None
    other = dataclasses.replace(ctx, artifact=dataclasses.replace(ctx.artifact, format=model_format))
    assert COLLECTOR.collect(other) is None and COLLECTOR.cache_key(other) is None
