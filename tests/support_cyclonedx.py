"""Validation against the official CycloneDX JSON schema, as cyclonedx-python-lib ships it.

The schema files (bom-1.6 with the SPDX and JSF schemas it references) come with the package;
nothing is downloaded and nothing is written by hand here.
"""

from __future__ import annotations

import json
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def schema_errors(document: Any) -> list[str]:
    """Every violation of the CycloneDX 1.6 JSON schema in ``document`` (empty when valid)."""
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document), all_errors=True)
    return [str(error) for error in errors or ()]


def properties(component: dict[str, Any]) -> dict[str, str]:
    """The model card's properties by name (fleetgate writes each name once)."""
    found = component["modelCard"]["properties"]
    names = [p["name"] for p in found]
    assert len(names) == len(set(names)), names
    return {p["name"]: p["value"] for p in found}
