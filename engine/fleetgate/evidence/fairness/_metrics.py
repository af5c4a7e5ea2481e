"""Accuracy and group fairness of 0/1 predictions, computed with fairlearn.

Imported only from inside ``collect`` (fairlearn, sklearn, pandas at module level).

fairlearn's metric functions cost Python work per row (about 70 ms per metric and group for
100,000 rows). Every metric here depends only on how many rows share each (group, label,
prediction) cell, so the rows are first counted into those cells and fairlearn runs on the
cells with the counts as ``sample_weight``: the same numbers, at a cost set by the number of
groups instead of rows.

fairlearn gives a true positive rate of 0 (and so a large equalized-odds difference) for a
group without positive labels, without a word: :func:`group_report` reports such rates as
``None`` and lists the group under ``insufficient``, so the policy can refuse a pass it cannot
trust.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score

__all__ = ["Cells", "Scores", "count_cells", "group_report", "scores"]

_TRUE, _PRED, _WEIGHT = "__y_true", "__y_pred", "__weight"


@dataclass(frozen=True)
class Cells:
    """Rows counted per (sensitive groups, label, prediction): fairlearn's input, weighted."""

    labels: Any
    predictions: Any
    sensitive: Any  # DataFrame, one column per sensitive feature
    weights: Any


@dataclass(frozen=True)
class Scores:
    """The overall numbers compared between the head and the base model."""

    accuracy: float
    positive_rate: float
    demographic_parity_difference: float
    equalized_odds_difference: float

    def to_fact(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "demographic_parity_difference": self.demographic_parity_difference,
            "equalized_odds_difference": self.equalized_odds_difference,
        }


def count_cells(labels: Any, predictions: Any, sensitive: Any) -> Cells:
    """Count the rows of each (group, label, prediction) combination."""
    names = list(sensitive.columns)
    frame = sensitive.assign(**{_TRUE: labels, _PRED: predictions})
    counted = frame.groupby([*names, _TRUE, _PRED], sort=True, observed=True).size().reset_index(name=_WEIGHT)
    return Cells(
        labels=counted[_TRUE].to_numpy(),
        predictions=counted[_PRED].to_numpy(),
        sensitive=counted[names].reset_index(drop=True),
        weights=counted[_WEIGHT].to_numpy(),
    )


def scores(cells: Cells) -> Scores:
    """Overall accuracy, selection rate and the two fairness differences across the groups."""
    y, p, weight = cells.labels, cells.predictions, cells.weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Scores(
            accuracy=_round(accuracy_score(y, p, sample_weight=weight)),
            positive_rate=_round(selection_rate(y, p, sample_weight=weight)),
            demographic_parity_difference=_difference(
                demographic_parity_difference(y, p, sensitive_features=cells.sensitive, sample_weight=weight)
            ),
            equalized_odds_difference=_difference(
                equalized_odds_difference(y, p, sensitive_features=cells.sensitive, sample_weight=weight)
            ),
        )


def group_report(cells: Cells, min_rows: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-group numbers (combinations of the sensitive columns) and the groups too thin to judge."""
    metrics = {
        "rows": _rows,
        "positives": _positives,
        "selection_rate": selection_rate,
        "accuracy": accuracy_score,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
    }
    weighted = {"sample_weight": cells.weights}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(
            metrics=metrics,
            y_true=cells.labels,
            y_pred=cells.predictions,
            sensitive_features=cells.sensitive,
            sample_params={name: weighted for name in metrics},
        )
    names = list(cells.sensitive.columns)
    groups: list[dict[str, Any]] = []
    insufficient: list[dict[str, Any]] = []
    for key, row in frame.by_group.iterrows():
        values = key if isinstance(key, tuple) else (key,)
        group = {name: str(value) for name, value in zip(names, values, strict=True)}
        # How messages name the group: "gender=F", or "gender=F, region=EU" for a combination.
        label = ", ".join(f"{name}={value}" for name, value in group.items())
        rows, positives = int(row["rows"]), int(row["positives"])
        negatives = rows - positives
        groups.append(
            {
                "group": group,
                "name": label,
                "rows": rows,
                "positives": positives,
                "negatives": negatives,
                "selection_rate": _round(row["selection_rate"]),
                "accuracy": _round(row["accuracy"]),
                "true_positive_rate": _round(row["true_positive_rate"]) if positives else None,
                "false_positive_rate": _round(row["false_positive_rate"]) if negatives else None,
            }
        )
        insufficient.extend(
            {"group": group, "name": label, "reason": reason} for reason in _thin(rows, positives, min_rows)
        )
    return groups, insufficient


def _thin(rows: int, positives: int, min_rows: int) -> list[str]:
    reasons = []
    if rows < min_rows:
        reasons.append(f"{rows} rows, fewer than {min_rows}")
    if positives == 0:
        reasons.append("no positive labels")
    if positives == rows:
        reasons.append("no negative labels")
    return reasons


def _rows(y_true: Any, y_pred: Any, sample_weight: Any) -> int:
    return int(pd.Series(sample_weight).sum())


def _positives(y_true: Any, y_pred: Any, sample_weight: Any) -> int:
    return int((pd.Series(y_true) * pd.Series(sample_weight)).sum())


def _round(value: Any) -> float:
    return round(float(value), 4)


def _difference(value: Any) -> float:
    number = float(value)
    # An undefined difference is reported as the worst one: never a pass by NaN.
    return 1.0 if math.isnan(number) else round(number, 4)
