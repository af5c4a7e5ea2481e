"""Turn a model's raw output for a batch of rows into 0/1 predictions, whatever ran the model.

Output convention: integer, boolean and string outputs are the predicted labels; a float output
``[rows]``/``[rows, 1]`` is P(positive) and ``[rows, 2]`` gives it in column 1, compared with
the threshold (``>=``). Anything else is refused, naming the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fleetgate.errors import EvidenceError
from fleetgate.evidence.fairness._table import binary_values

__all__ = ["decide"]


def decide(raw: Any, count: int, threshold: float, start: int, where: str) -> Any:
    """0/1 predictions for the ``count`` rows from ``start``; ``where`` names the output."""
    if raw.shape[:1] != (count,):
        raise EvidenceError(f"{where} has shape {list(raw.shape)}, expected one prediction per row")
    if raw.dtype.kind in "iub" or raw.dtype.kind in "OSU":
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1:
            raise EvidenceError(f"{where} has shape {list(raw.shape)}, expected [rows] labels")
        return binary_values(raw, f"{where} (predicted label)", offset=start)
    if raw.dtype.kind != "f":
        raise EvidenceError(f"{where} has unsupported type {raw.dtype}")
    return _threshold(raw, threshold, where, start)


def _threshold(raw: Any, threshold: float, where: str, start: int) -> Any:
    if raw.ndim == 2 and raw.shape[1] in (1, 2):
        raw = raw[:, raw.shape[1] - 1]
    if raw.ndim != 1:
        raise EvidenceError(f"{where} has shape {list(raw.shape)}; expected [rows], [rows, 1] or [rows, 2]")
    # A logit or score read as a probability would give meaningless predictions: refuse it.
    bad = np.flatnonzero(~np.isfinite(raw) | (raw < 0) | (raw > 1))
    if bad.size:
        row = int(bad[0])
        raise EvidenceError(f"{where} is not a probability at row {start + row + 1}: {float(raw[row])!r}")
    return (raw >= threshold).astype(np.int8)
