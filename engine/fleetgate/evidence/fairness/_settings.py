"""The fairness collector's settings and the manifest's ``spec.evaluation`` block, validated.

Both are read without any heavy import: the cache key needs them before deciding whether the
model has to run at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgate.errors import ConfigError, EvidenceError

__all__ = ["Evaluation", "FairnessSettings", "evaluation_of", "parse_settings"]

_PREFIX = "fleetgate.yaml: evidence.fairness"
_KEYS = frozenset({"threshold", "minGroupRows", "maxBytes", "batchRows"})


@dataclass(frozen=True)
class FairnessSettings:
    """``evidence.fairness`` in fleetgate.yaml, with its defaults."""

    threshold: float = 0.5
    min_group_rows: int = 30
    max_bytes: int = 256 * 1024 * 1024
    batch_rows: int = 4096

    def to_key(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "minGroupRows": self.min_group_rows,
            "maxBytes": self.max_bytes,
            "batchRows": self.batch_rows,
        }


@dataclass(frozen=True)
class Evaluation:
    """The manifest's ``spec.evaluation``: which dataset, which label, which sensitive columns."""

    dataset: str
    label: str
    sensitive_features: tuple[str, ...]

    def to_key(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "label": self.label,
            "sensitiveFeatures": list(self.sensitive_features),
        }


def parse_settings(raw: Mapping[str, Any]) -> FairnessSettings:
    """Validate ``evidence.fairness``; raise :class:`ConfigError` naming the key on a bad value."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{_PREFIX}: must be a mapping, got {type(raw).__name__}")
    unknown = sorted(str(key) for key in raw if key not in _KEYS)
    if unknown:
        raise ConfigError(f"{_PREFIX}.{unknown[0]}: unknown setting")
    defaults = FairnessSettings()
    threshold = raw.get("threshold", defaults.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise ConfigError(
            f"{_PREFIX}.threshold: must be a number between 0 and 1 (exclusive), got {threshold!r}"
        )
    return FairnessSettings(
        threshold=float(threshold),
        min_group_rows=_positive_int(raw, "minGroupRows", defaults.min_group_rows, 1 << 31),
        max_bytes=_positive_int(raw, "maxBytes", defaults.max_bytes, 1 << 40),
        batch_rows=_positive_int(raw, "batchRows", defaults.batch_rows, 1 << 20),
    )


def _positive_int(raw: Mapping[str, Any], key: str, default: int, ceiling: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        raise ConfigError(f"{_PREFIX}.{key}: must be an integer from 1 to {ceiling}, got {value!r}")
    return value


def evaluation_of(manifest: Mapping[str, Any]) -> Evaluation | None:
    """The manifest's evaluation block, or ``None`` when it has none or says it does not apply.

    The schema already checks the block; a malformed one that reaches here anyway is refused
    with :class:`EvidenceError` rather than guessed at.
    """
    spec = manifest.get("spec")
    block = spec.get("evaluation") if isinstance(spec, Mapping) else None
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise EvidenceError("spec.evaluation: must be a mapping")
    if "notApplicable" in block:  # the model has no evaluation set, and says why
        return None
    dataset, label = block.get("dataset"), block.get("label")
    features = block.get("sensitiveFeatures")
    if not isinstance(dataset, str) or not dataset.strip():
        raise EvidenceError("spec.evaluation.dataset: must be a non-empty path")
    if not isinstance(label, str) or not label:
        raise EvidenceError("spec.evaluation.label: must be a non-empty column name")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(name, str) and name for name in features)
    ):
        raise EvidenceError("spec.evaluation.sensitiveFeatures: must be a non-empty list of column names")
    if label in features:
        raise EvidenceError(f"spec.evaluation: the label column {label!r} cannot also be a sensitive feature")
    if len(set(features)) != len(features):
        raise EvidenceError("spec.evaluation.sensitiveFeatures: a column is listed twice")
    return Evaluation(dataset=dataset, label=label, sensitive_features=tuple(features))
