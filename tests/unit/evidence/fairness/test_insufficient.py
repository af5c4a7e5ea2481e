"""Thin evidence is reported, never passed: small groups and groups without positives or negatives."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from fleetgate.evidence.fairness import COLLECTOR
from fleetgate.evidence.interface import CollectorContext

import support_fairness

ContextFactory = Callable[..., CollectorContext]


def _relabel(path: Path, group_of: Callable[[int, dict[str, str]], str | None]) -> None:
    """Move rows to other groups; ``None`` keeps a row's group."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for index, row in enumerate(rows):
        row["gender"] = group_of(index, row) or row["gender"]
    support_fairness.write_rows(path, list(rows[0]), [list(row.values()) for row in rows])


def test_a_tiny_group_is_insufficient(context: ContextFactory, root: Path) -> None:
    _relabel(root / "data" / "eval.csv", lambda index, row: "X" if index % 40 == 0 else None)
    fact = COLLECTOR.collect(context())
    assert fact is not None
    tiny = next(group for group in fact["groups"] if group["group"] == {"gender": "X"})
    assert tiny["rows"] == 10
    assert {"group": {"gender": "X"}, "name": "gender=X", "reason": "10 rows, fewer than 30"} in fact[
        "insufficient"
    ]
    assert all(entry["group"] == {"gender": "X"} for entry in fact["insufficient"])


def test_the_minimum_comes_from_the_settings(context: ContextFactory) -> None:
    fact = COLLECTOR.collect(context(settings={"minGroupRows": 300}))
    assert fact is not None
    assert fact["min_group_rows"] == 300
    assert fact["insufficient"] == [
        {"group": {"gender": "F"}, "name": "gender=F", "reason": "200 rows, fewer than 300"},
        {"group": {"gender": "M"}, "name": "gender=M", "reason": "200 rows, fewer than 300"},
    ]


def test_a_group_without_positives_is_insufficient_and_its_rate_is_null(
    context: ContextFactory, root: Path
) -> None:
    # Every negative F row becomes group "N": 103 rows, none of them positive.
    _relabel(
        root / "data" / "eval.csv",
        lambda i, row: "N" if row["label"] == "0" and row["gender"] == "F" else None,
    )
    fact = COLLECTOR.collect(context())
    assert fact is not None
    groups = {group["group"]["gender"]: group for group in fact["groups"]}
    assert groups["N"]["positives"] == 0 and groups["N"]["rows"] >= 30
    assert groups["N"]["true_positive_rate"] is None
    assert groups["F"]["negatives"] == 0
    assert groups["F"]["false_positive_rate"] is None
    assert {"group": {"gender": "N"}, "name": "gender=N", "reason": "no positive labels"} in fact[
        "insufficient"
    ]
    assert {"group": {"gender": "F"}, "name": "gender=F", "reason": "no negative labels"} in fact[
        "insufficient"
    ]
    # fairlearn scores N's missing true positive rate as 0, so the difference is as large as
    # the other groups' true positive rate: a number the policy must not read without the list above.
    assert fact["equalized_odds_difference"] == groups["M"]["true_positive_rate"]
