"""Gather the ``fairness`` fact: run the model (and the base model) on the evaluation set, score it.

Imported only from inside ``FairnessCollector.collect``: it pulls in pandas and fairlearn
through its siblings; each model runs in a bounded child process (onnxruntime for ONNX, the
LiteRT interpreter for TFLite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import shown
from fleetgate.evidence.fairness._metrics import count_cells, group_report, scores
from fleetgate.evidence.fairness._settings import Evaluation, FairnessSettings
from fleetgate.evidence.fairness._source import read_dataset
from fleetgate.evidence.fairness._table import EvaluationTable, parse_table
from fleetgate.evidence.interface import Artifact, CollectorContext

__all__ = ["fairness_fact"]


def fairness_fact(
    context: CollectorContext, artifact: Artifact, evaluation: Evaluation, settings: FairnessSettings
) -> dict[str, Any]:
    """The fact for ``artifact`` (the context's head artifact) on the manifest's evaluation set.

    Steps, each raising :class:`~fleetgate.errors.EvidenceError` on bad evidence:

    1. read the dataset once (inside the repository, within ``maxBytes``) and hash those bytes;
    2. parse it: binary labels, non-empty sensitive groups, finite numeric features;
    3. load the head model (and the base model) and check their inputs fit the feature columns;
    4. predict batch by batch, reporting progress;
    5. score with fairlearn: overall accuracy, demographic parity and equalized odds differences,
       per-group numbers, and the groups too thin to judge.
    """
    source = read_dataset(context.root, evaluation.dataset, settings.max_bytes, context.trusted)
    table = parse_table(source, evaluation)
    base_artifact = context.base_artifact
    models = [_opened(artifact, context, table)]
    if base_artifact is not None:
        models.append(_opened(base_artifact, context, table))
    progress = context.progress
    total = sum(model.batches(table.rows, settings.batch_rows) for model in models)
    progress.start(f"fairness {source.shown}", total)
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        progress.advance(done)

    predictions = [_predict(model, table, settings, advance) for model in models]
    cells = [count_cells(table.labels, predicted, table.sensitive) for predicted in predictions]
    head = scores(cells[0])
    groups, insufficient = group_report(cells[0], settings.min_group_rows)
    fact: dict[str, Any] = {
        "dataset": source.shown,
        "dataset_digest": source.digest,
        "rows": table.rows,
        "label": evaluation.label,
        "sensitive_features": list(evaluation.sensitive_features),
        "positive_rate": head.positive_rate,
        **head.to_fact(),
        "threshold": settings.threshold,
        "min_group_rows": settings.min_group_rows,
        "groups": groups,
        "insufficient": insufficient,
    }
    if base_artifact is not None:
        base = scores(cells[1])
        fact["base"] = {"digest": base_artifact.digest, **base.to_fact()}
    progress.finish(_summary(fact))
    return fact


def _opened(artifact: Artifact, context: CollectorContext, table: EvaluationTable) -> Any:
    """The model bound to the table, run by its format's runtime (imported only when needed)."""
    where = shown(artifact.path, context.root)
    if artifact.format == "tflite":
        from fleetgate.evidence.fairness._litert import LiteRTRun

        return LiteRTRun(where, artifact.path)
    if artifact.format != "onnx":
        raise EvidenceError(f"{where}: a {artifact.format} model cannot be scored here")
    from fleetgate.evidence.fairness._contained import open_contained

    return open_contained(artifact.path, where, table)


def _predict(
    model: Any, table: EvaluationTable, settings: FairnessSettings, advance: Callable[[], None]
) -> Any:
    return model.predict(table, settings.threshold, settings.batch_rows, advance)


def _summary(fact: dict[str, Any]) -> str:
    text = (
        f"fairness {fact['dataset']}: {fact['rows']} rows, accuracy {fact['accuracy']}, "
        f"DP diff {fact['demographic_parity_difference']}, EO diff {fact['equalized_odds_difference']}"
    )
    if "base" in fact:
        text += f", base accuracy {fact['base']['accuracy']}"
    if fact["insufficient"]:
        text += f", {len(fact['insufficient'])} insufficient-group finding(s)"
    return text
