"""JSON Schema (draft 2020-12) check of OnDeviceModel v1 documents.

The schema ships inside the package (``schemas/ondevicemodel-v1.schema.json``) and is published
in the docs. Each schema error becomes one :class:`SchemaViolation` located at the field it is
about, so the gate can report ``schema.invalid`` at ``file:line``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

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
    text = resources.files("fleetgate.manifest").joinpath("schemas/ondevicemodel-v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    # jsonschema (and its dependency tree) costs ~0.1 s to import: load it on first use only.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema_document())


def validate(document: Any) -> list[SchemaViolation]:
    """Every schema violation of ``document`` (empty when it is valid)."""
    violations: list[SchemaViolation] = []
    for error in _validator().iter_errors(document):
        violations.extend(_violations(error))
    return violations


def _violations(error: Any) -> list[SchemaViolation]:
    path: Path = tuple(error.absolute_path)
    where = format_path(path) or "document"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            SchemaViolation(
                (*path, key), f"unknown field {format_path((*path, key))!r} (not in the v1 schema)"
            )
            for key in sorted(set(error.instance) - known)
        ]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return [SchemaViolation(path, f"missing required field {format_path((*path, missing))!r}")]
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return [SchemaViolation(path, f"{where}: {message}")]
