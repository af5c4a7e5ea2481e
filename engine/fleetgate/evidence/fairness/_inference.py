"""Run the deployed ONNX model on the evaluation features and turn its output into 0/1 predictions.

Imported only inside the bounded probe child (:mod:`fleetgate.evidence.fairness._contained`):
onnxruntime and numpy at module level. The output is judged by
:func:`fleetgate.evidence.fairness._decide.decide`, as a TFLite model's is.

Input convention: a model with one input receives every feature column, in CSV order, as
``[rows, features]``; a model with one input per feature column receives each by name as
``[rows]`` or ``[rows, 1]``. Output convention: the output named ``label`` when there is one
(ai.onnx.ml classifiers), else the first output; integer, boolean and string outputs are the
predicted labels; a float output ``[rows]``/``[rows, 1]`` is P(positive) and ``[rows, 2]`` gives
it in column 1, compared with the threshold (``>=``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import first_line
from fleetgate.evidence.fairness._decide import decide
from fleetgate.evidence.fairness._table import EvaluationTable

__all__ = ["ModelRun", "open_model"]

_FLOAT_INPUTS = {"tensor(float)": np.float32, "tensor(double)": np.float64}


@dataclass(frozen=True)
class _Feed:
    """How the table's columns reach the model's inputs."""

    names: tuple[str, ...]  # model input names
    columns: tuple[tuple[int, ...], ...]  # feature column indexes per input
    ranks: tuple[int, ...]
    dtypes: tuple[Any, ...]
    fixed_batch: int | None  # a model exported with a static batch dimension


@dataclass(frozen=True)
class ModelRun:
    """A loaded model bound to one evaluation table."""

    shown: str
    session: Any
    feed: _Feed
    output: str

    def batches(self, rows: int, batch_rows: int) -> int:
        size = self.feed.fixed_batch or batch_rows
        return -(-rows // size)

    def predict(
        self, table: EvaluationTable, threshold: float, batch_rows: int, advance: Callable[[], None]
    ) -> Any:
        """0/1 predictions for every row, computed batch by batch to bound memory."""
        size = self.feed.fixed_batch or batch_rows
        parts = []
        for start in range(0, table.rows, size):
            chunk = table.features[start : start + size]
            raw = self._run(chunk, size, start)
            parts.append(decide(raw, len(chunk), threshold, start, f"{self.shown}: output {self.output!r}"))
            advance()
        return np.concatenate(parts)

    def _run(self, chunk: Any, size: int, start: int) -> Any:
        count = len(chunk)
        if self.feed.fixed_batch is not None and count < size:
            # A static batch dimension needs full batches: pad with the last row, drop the extra results.
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], size - count, axis=0)])
        inputs = {}
        for name, columns, rank, dtype in zip(
            self.feed.names, self.feed.columns, self.feed.ranks, self.feed.dtypes, strict=True
        ):
            block = chunk[:, list(columns)].astype(dtype)
            inputs[name] = block.reshape(-1) if rank == 1 else block
        try:
            result = self.session.run([self.output], inputs)[0]
        except Exception as exc:  # onnxruntime raises its own exception types for any failure
            raise EvidenceError(
                f"{self.shown}: onnxruntime failed on rows {start + 1}-{start + count}: {first_line(exc)}"
            ) from exc
        output = np.asarray(result)
        return output[:count] if output.ndim else output


def open_model(path: Path, shown: str, table: EvaluationTable) -> ModelRun:
    """Load the model on the CPU and check that its inputs fit the dataset's feature columns."""
    options = ort.SessionOptions()
    # One thread: collectors run side by side on shared CI runners; fairness needs answers, not speed.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for any load failure
        raise EvidenceError(f"{shown}: onnxruntime cannot load the model: {first_line(exc)}") from exc
    feed = _feed(session.get_inputs(), shown, table.feature_names)
    outputs = [item.name for item in session.get_outputs()]
    if not outputs:
        raise EvidenceError(f"{shown}: the model has no outputs")
    return ModelRun(shown, session, feed, "label" if "label" in outputs else outputs[0])


def _feed(inputs: list[Any], shown: str, features: tuple[str, ...]) -> _Feed:
    if len(inputs) == 1:
        return _single_input(inputs[0], shown, features)
    unmatched = sorted({item.name for item in inputs} ^ set(features))
    if unmatched:
        raise EvidenceError(
            f"{shown}: the model's {len(inputs)} inputs must be the {len(features)} feature columns by name "
            f"({', '.join(features)}); {unmatched[0]!r} is not in both"
        )
    dtypes, ranks, batches = [], [], set()
    for item in inputs:
        dtypes.append(_dtype(item, shown))
        shape = list(item.shape)
        # [rows] or [rows, 1]; a symbolic second dimension is accepted and checked by onnxruntime.
        if len(shape) not in (1, 2) or (len(shape) == 2 and isinstance(shape[1], int) and shape[1] != 1):
            raise EvidenceError(
                f"{shown}: model input {item.name!r} has shape {shape}; expected [rows] or [rows, 1]"
            )
        ranks.append(len(shape))
        batches.add(shape[0] if isinstance(shape[0], int) else None)
    index = {name: position for position, name in enumerate(features)}
    return _Feed(
        names=tuple(item.name for item in inputs),
        columns=tuple((index[item.name],) for item in inputs),
        ranks=tuple(ranks),
        dtypes=tuple(dtypes),
        fixed_batch=_fixed_batch(batches, shown),
    )


def _single_input(item: Any, shown: str, features: tuple[str, ...]) -> _Feed:
    shape = list(item.shape)
    if len(shape) != 2:
        raise EvidenceError(
            f"{shown}: model input {item.name!r} has shape {shape}; the dataset is fed as [rows, features]"
        )
    width = shape[1]
    if isinstance(width, int) and width != len(features):
        raise EvidenceError(
            f"{shown}: model input {item.name!r} takes {width} features per row, but the dataset has "
            f"{len(features)} feature columns ({', '.join(features)})"
        )
    batch = shape[0] if isinstance(shape[0], int) else None
    return _Feed(
        names=(item.name,),
        columns=(tuple(range(len(features))),),
        ranks=(2,),
        dtypes=(_dtype(item, shown),),
        fixed_batch=_fixed_batch({batch}, shown),
    )


def _dtype(item: Any, shown: str) -> Any:
    dtype = _FLOAT_INPUTS.get(item.type)
    if dtype is None:
        raise EvidenceError(
            f"{shown}: model input {item.name!r} has type {item.type}; expected float or double"
        )
    return dtype


def _fixed_batch(batches: set[int | None], shown: str) -> int | None:
    if len(batches) > 1:
        raise EvidenceError(f"{shown}: the model's inputs disagree on the batch dimension")
    batch = next(iter(batches))
    if batch is not None and batch < 1:
        raise EvidenceError(f"{shown}: the model's batch dimension is {batch}")
    return batch
