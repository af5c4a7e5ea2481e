"""Parse the evaluation CSV into features, binary labels and sensitive groups.

Imported only from inside ``collect``: it imports pandas and numpy at module level. Every
refusal names the dataset and, where there is one, the column and row (row 1 is the first data
row, line 2 of the file).
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import first_line
from fleetgate.evidence.fairness._settings import Evaluation
from fleetgate.evidence.fairness._source import DatasetBytes

__all__ = ["EvaluationTable", "binary_values", "parse_table"]

# A tabular evaluation set with more columns than this is not one a model is fed row by row.
_MAX_COLUMNS = 10_000
# fairlearn's cost grows with the number of groups; a column with this many distinct values is an
# identifier, not a sensitive feature.
_MAX_GROUPS = 200
_BINARY = {"0": 0, "1": 1, "false": 0, "true": 1}


@dataclass(frozen=True)
class EvaluationTable:
    """The dataset split the way the model and fairlearn consume it."""

    feature_names: tuple[str, ...]
    features: Any  # float64 ndarray [rows, features]; cast to the model's input type when fed
    labels: Any  # int8 ndarray [rows] of 0/1
    sensitive: Any  # pandas DataFrame of str, one column per sensitive feature

    @property
    def rows(self) -> int:
        return int(self.labels.shape[0])


def parse_table(source: DatasetBytes, evaluation: Evaluation) -> EvaluationTable:
    """Parse and check the dataset; raise :class:`EvidenceError` on anything the metrics cannot trust."""
    header = _header(source)
    _check_columns(source.shown, header, evaluation)
    text_columns = [evaluation.label, *evaluation.sensitive_features]
    try:
        with warnings.catch_warnings():
            # A row longer than the header would silently lose cells (or shift into an index).
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(source.data),
                encoding="utf-8-sig",
                dtype={name: str for name in text_columns},
                index_col=False,
                # Only an empty cell is missing: "NA" may be a real group (North America) or a bad number.
                keep_default_na=False,
                na_values=[""],
            )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise EvidenceError(f"{source.shown}: not a readable CSV: {first_line(exc)}") from exc
    if len(frame) == 0:
        raise EvidenceError(f"{source.shown}: the evaluation dataset has no rows")
    sensitive = pd.DataFrame(
        {name: _groups(source.shown, frame[name]) for name in evaluation.sensitive_features}
    )
    groups = len(sensitive.drop_duplicates())
    if groups > _MAX_GROUPS:
        raise EvidenceError(
            f"{source.shown}: the sensitive columns form {groups} groups, more than the {_MAX_GROUPS} allowed"
        )
    labels = binary_values(frame[evaluation.label], f"{source.shown}: column {evaluation.label!r}")
    feature_names = tuple(name for name in header if name not in text_columns)
    if not feature_names:
        raise EvidenceError(f"{source.shown}: no feature columns besides the label and sensitive columns")
    features = np.column_stack([_numeric(source.shown, name, frame[name]) for name in feature_names])
    return EvaluationTable(feature_names, features, labels, sensitive)


def binary_values(values: Any, where: str, offset: int = 0) -> Any:
    """Map 0/1/true/false (any case, surrounding spaces ignored) to an int8 array; refuse the rest.

    ``offset`` is added to the row named in the refusal (the values may be one batch of many).
    """
    series = pd.Series(values)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.int8)
    mapped = series.astype(str).str.strip().str.lower().map(_BINARY)
    bad = np.flatnonzero(mapped.isna().to_numpy() | series.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        shown = "empty" if pd.isna(series.iloc[row]) else repr(str(series.iloc[row])[:40])
        raise EvidenceError(
            f"{where} is not binary at row {offset + row + 1}: {shown} (expected 0/1 or true/false)"
        )
    return mapped.to_numpy(dtype=np.int8)


def _header(source: DatasetBytes) -> list[str]:
    first = source.data.split(b"\n", 1)[0]
    try:
        line = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"{source.shown}: the header is not UTF-8") from exc
    header = next(csv.reader([line]), [])
    if not header or not any(name.strip() for name in header):
        raise EvidenceError(f"{source.shown}: the evaluation dataset has no header row")
    return header


def _check_columns(shown: str, header: list[str], evaluation: Evaluation) -> None:
    if len(header) > _MAX_COLUMNS:
        raise EvidenceError(f"{shown}: {len(header)} columns, more than the {_MAX_COLUMNS} allowed")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise EvidenceError(f"{shown}: column {duplicates[0]!r} appears more than once in the header")
    for name in (evaluation.label, *evaluation.sensitive_features):
        if name not in header:
            raise EvidenceError(f"{shown}: no column {name!r} (named by spec.evaluation)")


def _groups(shown: str, column: Any) -> Any:
    # fairlearn raises deep inside on a missing group value; name the cell instead.
    blank = column.isna().to_numpy() | (column.fillna("").str.strip() == "").to_numpy()
    missing = np.flatnonzero(blank)
    if missing.size:
        raise EvidenceError(
            f"{shown}: sensitive column {column.name!r} is empty at row {int(missing[0]) + 1}"
        )
    return column.astype(str)


def _numeric(shown: str, name: str, column: Any) -> Any:
    values = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=np.float64)))
    if bad.size:
        row = int(bad[0])
        cell = column.iloc[row]
        shown_cell = "empty" if pd.isna(cell) else repr(str(cell)[:40])
        raise EvidenceError(
            f"{shown}: feature column {name!r} is not a finite number at row {row + 1}: {shown_cell}"
        )
    return values.to_numpy(dtype=np.float64)
