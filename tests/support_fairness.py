"""Evaluation datasets with a bias knob, and ONNX classifiers that match them.

``biased_dataset`` writes ``x1, x2, x3, gender, label``: the label follows ``x1 + x2`` (plus a
little noise); ``x3`` is a proxy of gender (about 1 for "F", about 0 otherwise). Every group gets
the *same* feature draws, so a model that ignores ``x3`` selects every group at exactly the same
rate on a fair dataset. ``bias`` flips that many of group F's positive labels to 0;
``classifier(uses_group=...)`` puts negative weight on the proxy, so group F is selected less.

Import only from tests that need ONNX: it imports numpy and onnx at module level.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from support_onnx import finish, linear_classifier, save

FEATURES = ("x1", "x2", "x3")
# The manifest's spec.evaluation block for a dataset written to data/eval.csv.
EVALUATION = {"dataset": "data/eval.csv", "label": "label", "sensitiveFeatures": ["gender"]}
# The fair classifier is sign(x1 + x2); the proxy weight pushes group F (x3 ~ 1) below the threshold.
FAIR_WEIGHTS = (4.0, 4.0, 0.0)
_PROXY_WEIGHT = -6.0


def biased_dataset(
    path: Path,
    rows: int = 400,
    bias: float = 0.0,
    seed: int = 0,
    groups: Sequence[str] = ("F", "M"),
    regions: Sequence[str] = (),
) -> Path:
    """Write the CSV; ``rows`` are split evenly over ``groups`` (any remainder goes to the first).

    With ``regions``, a ``region`` column (cycling through them) follows ``gender``: a second
    sensitive feature for combination groups.
    """
    rng = np.random.default_rng(seed)
    sizes = [rows // len(groups) + (1 if index < rows % len(groups) else 0) for index in range(len(groups))]
    draws = rng.standard_normal((max(sizes), 3))
    header = ["x1", "x2", "x3", "gender", *(["region"] if regions else []), "label"]
    table: list[list[object]] = []
    for group, size in zip(groups, sizes, strict=True):
        flips = rng.random(size) < bias
        proxy = rng.normal(0.0, 0.1, size) + (1.0 if group == "F" else 0.0)
        for index in range(size):
            x1, x2, noise = draws[index]
            label = int(x1 + x2 + 0.3 * noise > 0)
            if group == "F" and flips[index]:
                label = 0
            region = [regions[index % len(regions)]] if regions else []
            table.append([f"{x1:.6f}", f"{x2:.6f}", f"{proxy[index]:.6f}", group, *region, label])
    return write_rows(path, header, table)


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV file (used by tests that craft odd datasets by hand)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def classifier(path: Path, *, uses_group: float = 0.0) -> Path:
    """``sigmoid(4 x1 + 4 x2 - 6 uses_group x3)``: fair at 0, biased against group F as it grows.

    Input ``features [N, 3]``, output ``probability [N, 1]``.
    """
    weights = (FAIR_WEIGHTS[0], FAIR_WEIGHTS[1], _PROXY_WEIGHT * uses_group)
    return save(linear_classifier(weights), path)


def label_classifier(path: Path, weights: Sequence[float] = FAIR_WEIGHTS) -> Path:
    """Like :func:`classifier` but outputs ``label`` as int64 ``[N]`` (the ai.onnx.ml convention),
    after a float ``score`` output that must not be used."""
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["score2d"]),
        helper.make_node("Flatten", ["score2d"], ["score"], axis=0),
        helper.make_node("Greater", ["score2d", "zero"], ["positive2d"]),
        helper.make_node("Cast", ["positive2d"], ["label2d"], to=TensorProto.INT64),
        helper.make_node("Squeeze", ["label2d", "axis1"], ["label"]),
    ]
    graph = helper.make_graph(
        nodes,
        "label_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", w.shape[0]])],
        [
            helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, None]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        [
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
            numpy_helper.from_array(np.asarray([1], np.int64), "axis1"),
        ],
    )
    return save(finish(graph), path)


def two_class_classifier(path: Path, weights: Sequence[float] = FAIR_WEIGHTS, batch: int | str = "N") -> Path:
    """Outputs ``probabilities [N, 2]`` = (P(negative), P(positive)); ``batch`` may pin the batch size."""
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "two_class_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, w.shape[0]])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.ones(1, np.float32), "one")],
    )
    return save(finish(graph), path)


def per_column_classifier(
    path: Path, weights: Sequence[float] = FAIR_WEIGHTS, names: Sequence[str] = FEATURES
) -> Path:
    """One ``[N, 1]`` input per feature column, by name, listed in reverse CSV order."""
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    nodes = [
        helper.make_node("Concat", list(names), ["features"], axis=1),
        helper.make_node("MatMul", ["features", "w"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["probability"]),
    ]
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]) for name in reversed(names)]
    graph = helper.make_graph(
        nodes,
        "per_column_classifier",
        inputs,
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(w, "w")],
    )
    return save(finish(graph), path)


def scorer(path: Path, weights: Sequence[float] = FAIR_WEIGHTS) -> Path:
    """Outputs raw scores ``x @ w`` (logits, not probabilities): the collector must refuse them."""
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["score"])],
        "scorer",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", w.shape[0]])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(w, "w")],
    )
    return save(finish(graph), path)
