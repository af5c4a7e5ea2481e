"""Score an ONNX model over the evaluation features in bounded child processes.

onnxruntime is native code over untrusted bytes, so the model is never loaded in the gate's
process. Two probe tasks (:mod:`fleetgate.evidence._probe`):

* ``onnx-inputs`` loads the model and checks its inputs fit the feature columns; it answers
  with the model's static batch size, if any, so progress counts real batches;
* ``onnx-predict`` runs it over the feature matrix (a private ``.npy`` file) batch by batch and
  writes the 0/1 predictions back as ``.npy``.

Both run :mod:`fleetgate.evidence.fairness._inference` inside the child; a refusal keeps its
located message (``model input 'features' takes 4 features ...``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import run_probe
from fleetgate.evidence.fairness._exchange import LIMITS, run_over
from fleetgate.evidence.fairness._table import EvaluationTable

__all__ = ["ContainedOnnxRun", "open_contained", "predict_file", "static_batch"]


@dataclass(frozen=True)
class ContainedOnnxRun:
    """An ONNX model checked against one evaluation table, run in a child when asked."""

    shown: str
    path: Path
    fixed_batch: int | None

    def batches(self, rows: int, batch_rows: int) -> int:
        return -(-rows // (self.fixed_batch or batch_rows))

    def predict(
        self, table: EvaluationTable, threshold: float, batch_rows: int, advance: Callable[[], None]
    ) -> Any:
        """0/1 predictions for every row."""
        names = json.dumps(list(table.feature_names))
        _, predicted = run_over(
            "onnx-predict",
            [str(self.path), self.shown, names],
            [repr(threshold), str(batch_rows)],
            table.features,
            np.float64,
            self.shown,
            "running the model",
        )
        if predicted.shape != (table.rows,):
            raise EvidenceError(f"{self.shown}: the model run returned {predicted.shape} predictions")
        for _ in range(self.batches(table.rows, batch_rows)):
            advance()
        return predicted


def open_contained(path: Path, shown: str, table: EvaluationTable) -> ContainedOnnxRun:
    """Check in a child that the model loads and fits the table's feature columns."""
    names = json.dumps(list(table.feature_names))
    answer = run_probe("onnx-inputs", [str(path), shown, names], shown, "loading the model", LIMITS)
    batch = answer.get("fixed_batch") if isinstance(answer, dict) else None
    return ContainedOnnxRun(shown, path, batch if isinstance(batch, int) and batch > 0 else None)


def static_batch(model: str, shown: str, names: str) -> dict[str, Any]:
    """Child side of ``onnx-inputs``."""
    from fleetgate.evidence.fairness._inference import open_model

    run = open_model(Path(model), shown, _table(names, np.zeros((0, len(json.loads(names))))))
    return {"fixed_batch": run.feed.fixed_batch}


def predict_file(
    model: str, shown: str, names: str, features: str, outputs: str, threshold: str, rows: str
) -> None:
    """Child side of ``onnx-predict``."""
    from fleetgate.evidence.fairness._inference import open_model

    table = _table(names, np.load(features, allow_pickle=False))
    run = open_model(Path(model), shown, table)
    predicted = run.predict(table, float(threshold), int(rows), lambda: None)
    np.save(outputs, np.asarray(predicted, dtype=np.int8), allow_pickle=False)


def _table(names: str, features: Any) -> EvaluationTable:
    # The model run reads the features and their names only; labels just carry the row count.
    return EvaluationTable(tuple(json.loads(names)), features, np.zeros(len(features), np.int8), None)
