"""The evaluation dataset: where it may live, how big it may be, what its cells may hold."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.fairness import COLLECTOR
from fleetgate.evidence.interface import CollectorContext

import support_fairness
from support_fairness import EVALUATION

ContextFactory = Callable[..., CollectorContext]


def _with_dataset(name: str) -> dict[str, object]:
    return {**EVALUATION, "dataset": name}


def _rewrite(path: Path, change: Callable[[int, dict[str, str]], None]) -> None:
    """Rewrite the CSV at ``path``, letting ``change`` edit row ``index`` (0-based) in place."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for index, row in enumerate(rows):
        change(index, row)
    support_fairness.write_rows(path, list(rows[0]), [list(row.values()) for row in rows])


@pytest.mark.parametrize("dataset", ["../outside.csv", "data/../../outside.csv"])
def test_a_path_leaving_the_repository_is_refused(context: ContextFactory, root: Path, dataset: str) -> None:
    support_fairness.biased_dataset(root.parent / "outside.csv")
    with pytest.raises(EvidenceError, match="outside the repository"):
        COLLECTOR.collect(context(evaluation=_with_dataset(dataset)))


def test_an_absolute_path_is_refused(context: ContextFactory, root: Path) -> None:
    absolute = str(root / "data" / "eval.csv")
    with pytest.raises(EvidenceError, match="must be a path relative to the repository"):
        COLLECTOR.collect(context(evaluation=_with_dataset(absolute)))


def test_a_symlink_out_of_the_repository_is_refused(context: ContextFactory, root: Path) -> None:
    outside = support_fairness.biased_dataset(root.parent / "secret.csv")
    (root / "data" / "link.csv").symlink_to(outside)
    with pytest.raises(EvidenceError, match=r"data/link\.csv: .*outside the repository"):
        COLLECTOR.collect(context(evaluation=_with_dataset("data/link.csv")))


def test_a_symlink_inside_the_repository_is_followed(context: ContextFactory, root: Path) -> None:
    (root / "data" / "link.csv").symlink_to(root / "data" / "eval.csv")
    fact = COLLECTOR.collect(context(evaluation=_with_dataset("data/link.csv")))
    assert fact is not None
    assert fact["dataset"] == "data/eval.csv"
    assert fact["rows"] == 400


def test_a_missing_dataset_is_named(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match=r"^data/none\.csv: the evaluation dataset does not exist$"):
        COLLECTOR.collect(context(evaluation=_with_dataset("data/none.csv")))


def test_a_directory_or_fifo_is_not_a_dataset(context: ContextFactory, root: Path) -> None:
    with pytest.raises(EvidenceError, match="not a regular file"):
        COLLECTOR.collect(context(evaluation=_with_dataset("data")))
    os.mkfifo(root / "data" / "pipe.csv")
    with pytest.raises(EvidenceError, match="not a regular file"):
        COLLECTOR.collect(context(evaluation=_with_dataset("data/pipe.csv")))


def test_a_dataset_over_the_size_cap_is_refused(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match=r"data/eval\.csv: .* more than the 1000 allowed"):
        COLLECTOR.collect(context(settings={"maxBytes": 1000}))


def test_an_empty_sensitive_value_names_column_and_row(context: ContextFactory, root: Path) -> None:
    def blank(index: int, row: dict[str, str]) -> None:
        if index == 6:
            row["gender"] = ""

    _rewrite(root / "data" / "eval.csv", blank)
    with pytest.raises(EvidenceError, match=r"^data/eval\.csv: sensitive column 'gender' is empty at row 7$"):
        COLLECTOR.collect(context())


def test_na_text_is_a_group_not_a_missing_value(context: ContextFactory, root: Path) -> None:
    def north_america(index: int, row: dict[str, str]) -> None:
        if row["gender"] == "M":
            row["gender"] = "NA"

    _rewrite(root / "data" / "eval.csv", north_america)
    fact = COLLECTOR.collect(context())
    assert fact is not None
    assert [group["group"]["gender"] for group in fact["groups"]] == ["F", "NA"]


@pytest.mark.parametrize(("value", "shown"), [("2", "'2'"), ("yes", "'yes'"), ("", "empty")])
def test_a_non_binary_label_is_refused(context: ContextFactory, root: Path, value: str, shown: str) -> None:
    def spoil(index: int, row: dict[str, str]) -> None:
        if index == 11:
            row["label"] = value

    _rewrite(root / "data" / "eval.csv", spoil)
    with pytest.raises(EvidenceError, match=rf"column 'label' is not binary at row 12: {shown}"):
        COLLECTOR.collect(context())


def test_true_false_labels_are_binary(context: ContextFactory, root: Path) -> None:
    fact = COLLECTOR.collect(context())
    assert fact is not None

    def words(index: int, row: dict[str, str]) -> None:
        row["label"] = "True" if row["label"] == "1" else " false"

    _rewrite(root / "data" / "eval.csv", words)
    again = COLLECTOR.collect(context())
    assert again is not None
    assert again["accuracy"] == fact["accuracy"]
    assert again["groups"] == fact["groups"]


def test_a_non_numeric_feature_is_refused(context: ContextFactory, root: Path) -> None:
    def spoil(index: int, row: dict[str, str]) -> None:
        if index == 3:
            row["x2"] = "n/a"

    _rewrite(root / "data" / "eval.csv", spoil)
    with pytest.raises(EvidenceError, match=r"feature column 'x2' is not a finite number at row 4: 'n/a'"):
        COLLECTOR.collect(context())


def test_missing_columns_and_malformed_files_are_refused(context: ContextFactory, root: Path) -> None:
    path = root / "data" / "eval.csv"
    with pytest.raises(EvidenceError, match=r"no column 'age' \(named by spec.evaluation\)"):
        COLLECTOR.collect(context(evaluation={**EVALUATION, "sensitiveFeatures": ["age"]}))
    support_fairness.write_rows(path, ["x1", "x1", "gender", "label"], [[1, 2, "F", 1]])
    with pytest.raises(EvidenceError, match="column 'x1' appears more than once"):
        COLLECTOR.collect(context())
    support_fairness.write_rows(path, ["x1", "x2", "x3", "gender", "label"], [])
    with pytest.raises(EvidenceError, match="has no rows"):
        COLLECTOR.collect(context())
    path.write_bytes(b"x1,x2,x3,gender,label\n1,2,3,\xff\xfe,1\n")
    with pytest.raises(EvidenceError, match=r"^data/eval\.csv: not a readable CSV"):
        COLLECTOR.collect(context())
    path.write_bytes(b"x1,x2,x3,gender,label\n1,2,3,F,1,9,9\n")
    with pytest.raises(EvidenceError, match=r"^data/eval\.csv: not a readable CSV"):
        COLLECTOR.collect(context())


def test_a_malformed_evaluation_block_is_refused(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match="spec.evaluation.sensitiveFeatures"):
        COLLECTOR.collect(context(evaluation={**EVALUATION, "sensitiveFeatures": []}))
    with pytest.raises(EvidenceError, match="cannot also be a sensitive feature"):
        COLLECTOR.collect(context(evaluation={**EVALUATION, "sensitiveFeatures": ["label"]}))


def test_an_identifier_column_is_not_a_sensitive_feature(context: ContextFactory, root: Path) -> None:
    support_fairness.write_rows(
        root / "data" / "eval.csv",
        ["x1", "x2", "x3", "gender", "label"],
        [[0, 0, 0, f"id{i}", i % 2] for i in range(201)],
    )
    with pytest.raises(EvidenceError, match="form 201 groups, more than the 200 allowed"):
        COLLECTOR.collect(context())
