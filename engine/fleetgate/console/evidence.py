"""A short summary of the evidence a record's decision was made on.

The facts the gate gathered (signature, provenance, model structure, latency, fairness, cost,
artifact) are in the record's policy input; the summary shows each one's plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["evidence_summary"]

_ORDER = ("signature", "provenance", "model", "latency", "fairness", "cost", "artifact")
_MAX_VALUES = 12  # per fact: enough to read, not a dump
_MAX_TEXT = 200


def evidence_summary(doc: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(fact, [(field, value)]) for each fact the record holds, in a fixed order first."""
    policy_input = doc.get("input")
    facts = policy_input.get("facts") if isinstance(policy_input, Mapping) else None
    if not isinstance(facts, Mapping):
        return []
    names = [n for n in _ORDER if n in facts] + sorted(str(n) for n in facts if n not in _ORDER)
    return [(name, _values(facts[name])) for name in names]


def _values(fact: Any, prefix: str = "") -> list[tuple[str, str]]:
    if not isinstance(fact, Mapping):
        return [(prefix or "value", _short(fact))]
    found: list[tuple[str, str]] = []
    for key, value in fact.items():
        label = f"{prefix}{key}"
        if isinstance(value, Mapping) and not prefix:
            found.extend(_values(value, f"{label}."))
        elif isinstance(value, list):
            found.append(
                (
                    label,
                    f"{len(value)} item(s)" if any(isinstance(v, Mapping) for v in value) else _short(value),
                )
            )
        elif not isinstance(value, Mapping):
            found.append((label, _short(value)))
    return found[:_MAX_VALUES]


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
