"""Run a TFLite model over the evaluation features with the LiteRT interpreter, in a bounded child.

The parent (:class:`LiteRTRun`) hands the feature matrix over as a private ``.npy`` file and asks the
probe child (:mod:`fleetgate.evidence._probe`, task ``tflite-predict``) to run the model over it,
batch by batch. The child (:func:`predict_file`) quantizes an integer input with the input's
scale and zero point, dequantizes an integer output with the output's, and writes the raw
outputs back as ``.npy``. The parent judges them as it judges an ONNX model's
(:func:`fleetgate.evidence.fairness._decide.decide`).

Input convention: one input ``[rows, features]`` that takes every feature column in CSV order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fleetgate.evidence.fairness._decide import decide
from fleetgate.evidence.fairness._exchange import run_over
from fleetgate.evidence.fairness._table import EvaluationTable

__all__ = ["LiteRTRun", "predict_file"]


@dataclass(frozen=True)
class LiteRTRun:
    """A TFLite model bound to one evaluation table (the same interface as the ONNX run)."""

    shown: str
    path: Path

    def batches(self, rows: int, batch_rows: int) -> int:
        return -(-rows // batch_rows)

    def predict(
        self, table: EvaluationTable, threshold: float, batch_rows: int, advance: Callable[[], None]
    ) -> Any:
        """0/1 predictions for every row."""
        answer, raw = run_over(
            "tflite-predict",
            [str(self.path)],
            [str(batch_rows)],
            table.features,
            np.float32,
            self.shown,
            "running the TFLite model",
        )
        for _ in range(self.batches(table.rows, batch_rows)):
            advance()
        output = answer.get("output", "output") if isinstance(answer, dict) else "output"
        return decide(raw, table.rows, threshold, 0, f"{self.shown}: output {output!r}")


def predict_file(model: str, features: str, outputs: str, batch_rows: str) -> dict[str, Any]:
    """Child side: run ``model`` over the ``.npy`` feature matrix, write the raw outputs."""
    from ai_edge_litert.interpreter import Interpreter

    matrix = np.load(features, allow_pickle=False)
    interpreter = Interpreter(model_path=model, num_threads=1)
    inputs, results = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or not results:
        raise ValueError(f"the model has {len(inputs)} inputs and {len(results)} outputs; expected 1 input")
    source, target = inputs[0], results[0]
    signature = [int(d) for d in source.get("shape_signature", source["shape"])]
    if len(signature) != 2 or signature[1] not in (-1, matrix.shape[1]):
        raise ValueError(
            f"model input {source['name']!r} has shape {signature}; the dataset is fed as "
            f"[rows, {matrix.shape[1]}]"
        )
    size = int(batch_rows) if signature[0] < 0 else signature[0]
    interpreter.resize_tensor_input(source["index"], [size, matrix.shape[1]])
    interpreter.allocate_tensors()
    parts = []
    for start in range(0, len(matrix), size):
        chunk = matrix[start : start + size]
        count = len(chunk)
        if count < size:  # a fixed batch needs full batches: pad with the last row, drop the extra
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], size - count, axis=0)])
        interpreter.set_tensor(source["index"], _quantized(chunk, source))
        interpreter.invoke()
        parts.append(_dequantized(interpreter.get_tensor(target["index"]), target)[:count])
    np.save(outputs, np.concatenate(parts), allow_pickle=False)
    return {"output": target["name"]}


def _quantized(chunk: Any, detail: dict[str, Any]) -> Any:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return chunk.astype(dtype)
    scale, zero = detail.get("quantization", (0.0, 0))
    if not scale:
        return chunk.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(chunk / scale + zero), info.min, info.max).astype(dtype)


def _dequantized(values: Any, detail: dict[str, Any]) -> Any:
    scale, zero = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        return ((values.astype(np.float32) - zero) * scale).astype(np.float32)
    return values
