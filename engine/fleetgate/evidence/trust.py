"""The trust file: which signers, keys, trusted roots and layouts the gate accepts.

The file is YAML or JSON (``attestations/trust.schema.json``). Its top level is checked here;
each section (``signature``, ``provenance``) is checked by the collector that reads it against
its own schema in ``attestations/``, through :func:`section_schema`. Paths inside the file are
relative to the file's folder. The digest of the file's bytes is recorded with every fact that
used it, so a decision names the exact trust material it relied on.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from fleetgate.errors import ConfigError, ManifestError
from fleetgate.evidence._files import read_capped
from fleetgate.evidence.interface import TrustConfig
from fleetgate.manifest import read_documents

__all__ = ["attestations_dir", "check_section", "load_trust", "section_schema"]

# A trust file is a few kilobytes; anything much larger is not one.
MAX_TRUST_BYTES = 1 << 20


def attestations_dir() -> Path:
    """The shipped ``attestations/`` folder: inside the wheel, or the checkout's top level."""
    package = Path(__file__).resolve().parent.parent
    shipped = package / "_attestations"
    if shipped.is_dir():
        return shipped
    return package.parent.parent / "attestations"


@functools.cache
def section_schema(name: str) -> Mapping[str, Any]:
    """The JSON Schema ``attestations/<name>`` (for example ``signature.schema.json``)."""
    path = attestations_dir() / name
    schema: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def check_section(trust: TrustConfig, section: str, schema_name: str) -> Mapping[str, Any]:
    """The ``section`` of ``trust``, validated against ``schema_name``; ConfigError naming the field."""
    value = getattr(trust, section)
    if value is None:
        raise ConfigError(f"{trust.path}: has no {section} section")
    _validate(value, section_schema(schema_name), trust.path, section)
    return value  # type: ignore[no-any-return]


def load_trust(path: Path) -> TrustConfig:
    """Read and check the trust file at ``path``."""
    data = read_capped(path, MAX_TRUST_BYTES, "trust file", ConfigError)
    try:
        documents = read_documents(data, str(path))
    except ManifestError as exc:
        raise ConfigError(exc.message) from None
    if len(documents) != 1:
        raise ConfigError(f"{path}: a trust file holds exactly one YAML or JSON document")
    document = documents[0].value
    _validate(document, section_schema("trust.schema.json"), path, None)
    assert isinstance(document, dict)
    return TrustConfig(
        path=path.resolve(),
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        base=path.resolve().parent,
        signature=document.get("signature"),
        provenance=document.get("provenance"),
    )


def _validate(value: Any, schema: Mapping[str, Any], path: Path, section: str | None) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    error = next(iter(sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return
    where = ".".join(str(p) for p in ([section] if section else []) + list(error.absolute_path))
    raise ConfigError(f"{path}: {where or 'top level'}: {error.message}")
