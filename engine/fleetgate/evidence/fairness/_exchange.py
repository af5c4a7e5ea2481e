"""Hand a feature matrix to a bounded probe child and take an array back, through private files."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import Limits, run_probe

__all__ = ["LIMITS", "run_over"]

# Scoring an evaluation set runs the model once per batch: minutes at most.
LIMITS = Limits(timeout_seconds=600.0, max_memory_mb=4096)


def run_over(
    task: str, before: Sequence[str], after: Sequence[str], features: Any, dtype: Any, shown: str, what: str
) -> tuple[Any, Any]:
    """Run ``task`` with ``before + [features.npy, result.npy] + after``; its answer and result.

    EvidenceError naming ``shown`` when the child fails or writes no readable array.
    """
    with tempfile.TemporaryDirectory(prefix="fleetgate-fairness-") as folder:
        given, taken = Path(folder) / "features.npy", Path(folder) / "result.npy"
        np.save(given, np.ascontiguousarray(features, dtype=dtype), allow_pickle=False)
        answer = run_probe(task, [*before, str(given), str(taken), *after], shown, what, LIMITS)
        try:
            return answer, np.load(taken, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"{shown}: {what} wrote no readable result ({exc})") from None
