"""JSON Schema (draft 2020-12) check of OnDeviceModel v1 documents.

The schema ships inside the package (``schemas/ondevicemodel-v1.schema.json``) and is published
in the docs. Each schema error becomes one :class:`SchemaViolation` located at the field it is
about, so the gate can report ``schema.invalid`` at ``file:line``.

Every ``pattern`` ends in ``$(?!\\n)``: JSON Schema patterns are ECMA regular expressions, in
which ``$`` is the end of the text, but this validator runs them with Python's ``re``, whose
``$`` also matches before a final newline (``namespace: "production\\n"`` would pass a DNS
label pattern and then miss every rule about the ``production`` namespace).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from fleetgate.conform import Check, quick_check
from fleetgate.manifest.paths import Path, format_path

__all__ = ["SchemaViolation", "schema_document", "validate"]

_MAX_MESSAGE = 200


@dataclass(frozen=True)
class SchemaViolation:
    """One way a document breaks the schema, at the field it is about."""

    path: Path
    message: str


@cache
def schema_document() -> dict[str, Any]:
    """The OnDeviceModel v1 JSON Schema as shipped in the package."""
    # Next to this module in every install (a wheel is unpacked, never imported from a zip).
    path = FilePath(__file__).parent / "schemas" / "ondevicemodel-v1.schema.json"
    text = path.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _conforms() -> Check:
    return quick_check(schema_document())


@cache
def _validator() -> Any:
    # jsonschema (and its dependency tree) costs ~0.1 s to import: load it on first use only.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema_document())


def validate(document: Any) -> list[SchemaViolation]:
    """Every schema violation of ``document`` (empty when it is valid)."""
    if _conforms()(document):
        return []  # valid: the common case, without jsonschema's import and validator build
    violations: list[SchemaViolation] = []
    for error in _validator().iter_errors(document):
        violations.extend(_violations(error))
    return violations


def _violations(error: Any) -> list[SchemaViolation]:
    path: Path = tuple(error.absolute_path)
    where = format_path(path) or "document"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        return [
            SchemaViolation((*path, key), _unknown_field((*path, key), known))
            for key in sorted(set(error.instance) - set(known))
        ]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        why = _REQUIRED_WHEN.get((*path, missing), "")
        return [SchemaViolation(path, f"missing required field {format_path((*path, missing))!r}{why}")]
    if error.validator == "pattern":
        # The schema's description says in words what the regular expression accepts.
        expected = error.schema.get("description") or f"a match of {error.validator_value}"
        value = json.dumps(error.instance, ensure_ascii=False)
        return [SchemaViolation(path, f"{where} {_clip(value)} is not valid: expected {expected}")]
    if error.validator == "const":
        value = json.dumps(error.instance, ensure_ascii=False)
        return [SchemaViolation(path, f"{where} is {_clip(value)}, expected {error.validator_value}")]
    if error.validator == "maxProperties" and path == ("spec", "evaluation"):
        exclusive = "notApplicable excludes dataset, label and sensitiveFeatures"
        return [SchemaViolation(path, f"{where}: {exclusive}")]
    return [SchemaViolation(path, f"{where}: {_clip(error.message)}")]


# Fields required only in some cases, with the case in words.
_REQUIRED_WHEN: dict[Path, str] = {
    ("spec", "updateStrategy", "rolloutPercentage"): (
        " (a stagedRollout must declare how much of the fleet it reaches)"
    ),
}


def _unknown_field(path: Path, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(path[-1]), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown field {format_path(path)!r} (not in the v1 schema){hint}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."
