"""Small Core ML models built with coremltools' own builders, offline.

``neural_network`` writes an ``.mlmodel`` (a NeuralNetworkBuilder classifier); ``ml_program``
writes an ``.mlpackage`` from a MIL program, at a chosen deployment target and precision.
Import only from tests that need Core ML: it imports coremltools.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder


def neural_network(
    path: Path, weights: Sequence[float] = (4.0, 4.0, 0.0), *, version: int | None = None, quantize: int = 0
) -> Path:
    """An ``.mlmodel`` ``sigmoid(w . features)``; ``quantize`` bits store the weights linearly quantized."""
    builder = NeuralNetworkBuilder(
        [("features", datatypes.Array(len(weights)))], [("probability", datatypes.Array(1))]
    )
    matrix = np.asarray([weights], np.float32)
    builder.add_inner_product(
        "fc", W=matrix, b=np.zeros(1, np.float32), input_channels=len(weights), output_channels=1,
        has_bias=True, input_name="features", output_name="logit",
    )  # fmt: skip
    builder.add_activation("sigmoid", "SIGMOID", "logit", "probability")
    spec = builder.spec
    if quantize:
        from coremltools.models.neural_network import quantization_utils

        model = quantization_utils.quantize_weights(ct.models.MLModel(spec, skip_model_load=True), quantize)
        spec = model.get_spec()
    if version is not None:
        spec.specificationVersion = version
    path.parent.mkdir(parents=True, exist_ok=True)
    ct.models.utils.save_spec(spec, str(path))
    return path


def ml_program(path: Path, *, target: object = None, fp16: bool = True, size: int = 64) -> Path:
    """An ``.mlpackage`` ML program: a dense layer of ``size`` x ``size`` weights and a sigmoid."""
    target = target or ct.target.iOS16
    weight = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, size))], opset_version=target)
    def program(x):  # type: ignore[no-untyped-def]
        return mb.sigmoid(x=mb.linear(x=x, weight=weight))

    precision = ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32
    model = ct.convert(
        program, convert_to="mlprogram", minimum_deployment_target=target, compute_precision=precision
    )
    model.save(str(path))
    return path
