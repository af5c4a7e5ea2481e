"""Load stage: OnDeviceModel manifests read safely, with source lines, and schema-checked."""

from __future__ import annotations

from fleetgate.manifest._yaml import Limits, YamlDocument, read_documents
from fleetgate.manifest.model import KIND, Identity, Manifest, read_manifests
from fleetgate.manifest.paths import Path, format_path, parse_path
from fleetgate.manifest.schema import SchemaViolation, schema_document, validate

__all__ = [
    "KIND",
    "Identity",
    "Limits",
    "Manifest",
    "Path",
    "SchemaViolation",
    "YamlDocument",
    "format_path",
    "parse_path",
    "read_documents",
    "read_manifests",
    "schema_document",
    "validate",
]
