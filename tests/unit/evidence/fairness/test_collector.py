"""The fairness fact on real models and datasets: metrics, groups, base model, progress, cache key."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.fairness import COLLECTOR
from fleetgate.evidence.interface import CollectorContext

import support_fairness
from support_fairness import EVALUATION

ContextFactory = Callable[..., CollectorContext]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_fair_model_on_fair_data_has_small_differences_and_high_accuracy(context: ContextFactory) -> None:
    fact = COLLECTOR.collect(context("fair"))
    assert fact is not None
    assert fact["rows"] == 400
    assert fact["accuracy"] > 0.85
    assert fact["demographic_parity_difference"] < 0.05
    assert fact["equalized_odds_difference"] < 0.05
    assert fact["insufficient"] == []
    assert fact["min_group_rows"] == 30
    assert fact["label"] == "label"
    assert fact["sensitive_features"] == ["gender"]
    assert "base" not in fact
    json.dumps(fact, allow_nan=False)  # JSON-ready, no NaN


def test_biased_model_has_large_differences(context: ContextFactory) -> None:
    fact = COLLECTOR.collect(context("biased"))
    assert fact is not None
    assert fact["demographic_parity_difference"] > 0.2
    assert fact["equalized_odds_difference"] > 0.2
    by_group = {group["group"]["gender"]: group for group in fact["groups"]}
    assert by_group["F"]["selection_rate"] < by_group["M"]["selection_rate"]


def test_biased_dataset_moves_label_rates_apart(tmp_path: Path) -> None:
    path = support_fairness.biased_dataset(tmp_path / "eval.csv", rows=400, bias=0.8)
    rows = _rows(path)
    rate = {
        group: sum(row["label"] == "1" for row in rows if row["gender"] == group) / 200
        for group in ("F", "M")
    }
    assert rate["M"] - rate["F"] > 0.3


def test_group_numbers_match_an_independent_count(context: ContextFactory, root: Path) -> None:
    fact = COLLECTOR.collect(context("biased"))
    assert fact is not None
    rows = _rows(root / "data" / "eval.csv")
    # The biased classifier is sigmoid(4 x1 + 4 x2 - 6 x3) >= 0.5, i.e. 4 x1 + 4 x2 - 6 x3 >= 0.
    predicted = [4 * float(r["x1"]) + 4 * float(r["x2"]) - 6 * float(r["x3"]) >= 0 for r in rows]
    for group in fact["groups"]:
        members = [i for i, row in enumerate(rows) if row["gender"] == group["group"]["gender"]]
        positives = sum(rows[i]["label"] == "1" for i in members)
        correct = sum(predicted[i] == (rows[i]["label"] == "1") for i in members)
        assert group["rows"] == len(members)
        assert group["positives"] == positives
        assert group["negatives"] == len(members) - positives
        assert group["selection_rate"] == pytest.approx(
            sum(predicted[i] for i in members) / len(members), abs=1e-4
        )
        assert group["accuracy"] == pytest.approx(correct / len(members), abs=1e-4)
    overall = sum(p == (r["label"] == "1") for p, r in zip(predicted, rows, strict=True)) / len(rows)
    assert fact["accuracy"] == pytest.approx(overall, abs=1e-4)
    assert fact["positive_rate"] == pytest.approx(sum(predicted) / len(rows), abs=1e-4)
    rates = [group["selection_rate"] for group in fact["groups"]]
    assert fact["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates), abs=2e-4)


def test_dataset_path_and_digest_are_recorded(context: ContextFactory, root: Path) -> None:
    fact = COLLECTOR.collect(context("fair"))
    assert fact is not None
    assert fact["dataset"] == "data/eval.csv"
    expected = hashlib.sha256((root / "data" / "eval.csv").read_bytes()).hexdigest()
    assert fact["dataset_digest"] == f"sha256:{expected}"


def test_base_model_is_scored_in_the_same_run(context: ContextFactory) -> None:
    ctx = context("fair", base="biased")
    fact = COLLECTOR.collect(ctx)
    assert fact is not None
    assert ctx.base_artifact is not None
    base = fact["base"]
    assert base["digest"] == ctx.base_artifact.digest
    assert base["accuracy"] < fact["accuracy"] - 0.05
    assert base["demographic_parity_difference"] > 0.2
    assert base["equalized_odds_difference"] > 0.2
    # The head's own numbers are not the base's.
    assert fact["demographic_parity_difference"] < 0.05


def test_base_model_that_does_not_fit_the_dataset_is_refused(context: ContextFactory) -> None:
    with pytest.raises(EvidenceError, match=r"wide\.onnx: model input 'features' takes 4 features"):
        COLLECTOR.collect(context("fair", base="wide"))


def test_two_sensitive_features_give_combination_groups(context: ContextFactory, root: Path) -> None:
    support_fairness.biased_dataset(root / "data" / "eval.csv", rows=480, regions=("EU", "US"))
    evaluation = {**EVALUATION, "sensitiveFeatures": ["gender", "region"]}
    fact = COLLECTOR.collect(context("biased", evaluation=evaluation))
    assert fact is not None
    assert [group["group"] for group in fact["groups"]] == [
        {"gender": "F", "region": "EU"},
        {"gender": "F", "region": "US"},
        {"gender": "M", "region": "EU"},
        {"gender": "M", "region": "US"},
    ]
    assert [group["rows"] for group in fact["groups"]] == [120, 120, 120, 120]
    assert fact["sensitive_features"] == ["gender", "region"]


def test_numeric_group_values_stay_labels(context: ContextFactory, root: Path) -> None:
    rows = _rows(root / "data" / "eval.csv")
    header = list(rows[0])
    support_fairness.write_rows(
        root / "data" / "eval.csv",
        header,
        [[*(r[k] for k in header[:3]), "01" if r["gender"] == "F" else "1", r["label"]] for r in rows],
    )
    fact = COLLECTOR.collect(context("fair"))
    assert fact is not None
    assert [group["group"] for group in fact["groups"]] == [{"gender": "01"}, {"gender": "1"}]


def test_progress_reports_batches_for_both_models(context: ContextFactory, progress: Any) -> None:
    COLLECTOR.collect(context("fair", base="biased", settings={"batchRows": 100}, progress=progress))
    assert progress.started == [("fairness data/eval.csv", 8)]
    assert progress.advanced == list(range(1, 9))
    assert len(progress.finished) == 1
    assert "400 rows" in progress.finished[0] and "\n" not in progress.finished[0]


def test_no_evaluation_block_or_no_artifact_gives_no_fact(context: ContextFactory) -> None:
    assert COLLECTOR.collect(context("fair", evaluation=None)) is None
    bare = context("fair")
    assert COLLECTOR.collect(type(bare)(manifest=bare.manifest, previous=None, root=bare.root)) is None
    assert COLLECTOR.cache_key(context("fair", evaluation=None)) is None


def test_cache_key_follows_models_dataset_and_settings(context: ContextFactory, root: Path) -> None:
    key = COLLECTOR.cache_key(context("fair"))
    assert key is not None
    assert key == COLLECTOR.cache_key(context("fair"))
    assert key["fairlearn"] and key["runtime"] and key["format"] == "onnx"
    assert key != COLLECTOR.cache_key(context("biased"))
    assert key != COLLECTOR.cache_key(context("fair", base="biased"))
    assert key != COLLECTOR.cache_key(context("fair", settings={"threshold": 0.6}))
    support_fairness.biased_dataset(root / "data" / "eval.csv", rows=400, seed=1)
    assert key != COLLECTOR.cache_key(context("fair"))


def test_cache_key_leaves_problems_to_collect(context: ContextFactory) -> None:
    missing = {**EVALUATION, "dataset": "data/none.csv"}
    assert COLLECTOR.cache_key(context("fair", evaluation=missing)) is None
    assert COLLECTOR.cache_key(context("fair", settings={"threshold": 2})) is None


def test_importing_the_collector_loads_no_heavy_library() -> None:
    heavy = [
        "pandas",
        "numpy",
        "fairlearn",
        "onnxruntime",
        "sklearn",
        "onnx",
        "ai_edge_litert",
        "coremltools",
    ]
    code = (
        "import sys, fleetgate.evidence.fairness as f; f.COLLECTOR.fact; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_counted_cells_give_the_numbers_fairlearn_gives_on_every_row(
    context: ContextFactory, root: Path
) -> None:
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    support_fairness.biased_dataset(root / "data" / "eval.csv", rows=600, bias=0.3, groups=("F", "M", "X"))
    fact = COLLECTOR.collect(context("biased"))
    assert fact is not None
    rows = _rows(root / "data" / "eval.csv")
    labels = [int(r["label"]) for r in rows]
    predicted = [int(4 * float(r["x1"]) + 4 * float(r["x2"]) - 6 * float(r["x3"]) >= 0) for r in rows]
    genders = [r["gender"] for r in rows]
    dp = demographic_parity_difference(labels, predicted, sensitive_features=genders)
    eo = equalized_odds_difference(labels, predicted, sensitive_features=genders)
    assert fact["demographic_parity_difference"] == pytest.approx(dp, abs=1e-4)
    assert fact["equalized_odds_difference"] == pytest.approx(eo, abs=1e-4)
    assert fact["equalized_odds_difference"] > 0.2
