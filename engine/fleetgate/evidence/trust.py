"""The trust file: which signers, keys, trusted roots and layouts the gate accepts.

The file is YAML or JSON (``attestations/trust.schema.json``). Its top level is checked here;
each section (``signature``, ``provenance``) is checked by the collector that reads it against
its own schema in ``attestations/``, through :func:`section_schema`. Paths inside the file are
relative to the file's folder. The digest of the file's bytes is recorded with every fact that
used it, so a decision names the exact trust material it relied on.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.conform import Check, quick_check
from fleetgate.errors import ConfigError, ManifestError
from fleetgate.evidence.interface import TrustConfig
from fleetgate.files import GateFiles
from fleetgate.manifest import read_documents

__all__ = [
    "attestations_dir",
    "check_section",
    "load_trust",
    "load_trust_file",
    "section_schema",
    "trust_material",
]

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
@functools.cache
def _quick_check(name: str) -> Check:
    return quick_check(section_schema(name))


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
    _validate(value, schema_name, trust.path, section)
    return value  # type: ignore[no-any-return]


def load_trust(files: GateFiles, path: str) -> TrustConfig:
    """Read and check the trust file ``path`` from ``files`` (the trusted revision)."""
    data = files.require(path, MAX_TRUST_BYTES, "trust file")
    try:
        documents = read_documents(data, path)
    except ManifestError as exc:
        raise ConfigError(exc.message) from None
    if len(documents) != 1:
        raise ConfigError(f"{path}: a trust file holds exactly one YAML or JSON document")
    document = documents[0].value
    _validate(document, "trust.schema.json", Path(path), None)
    assert isinstance(document, dict)
    return TrustConfig(
        path=Path(path),
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        files=files,
        base=posixpath.dirname(path),
        signature=document.get("signature"),
        provenance=document.get("provenance"),
    )


def load_trust_file(path: Path, root: Path | None = None) -> TrustConfig:
    """An operator's trust file on disk (``fleetgate verify --trust``, ``check --trust`` outside
    the repository); the material it names must stay inside ``root`` (default: its folder)."""
    from fleetgate.files import GateFiles

    full = path.resolve()
    base = (root or full.parent).resolve()
    if not full.is_relative_to(base):
        raise ConfigError(f"{path}: the trust file lies outside {base}")
    if not full.is_file():
        raise ConfigError(f"{path}: cannot read the trust file (not a file)")
    return load_trust(GateFiles.on_disk(base), full.relative_to(base).as_posix())


# The keys of the trust file's sections whose values name trust material (files).
_MATERIAL_KEYS = frozenset({"trustedRoot", "publicKeys", "certificateChain", "layout", "layoutKeys"})


def trust_material(trust: TrustConfig) -> list[str]:
    """The repository paths of every key, root, chain and layout the trust file names."""
    from fleetgate.files import repo_path

    found: list[str] = []

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, Mapping):
            for name, item in value.items():
                walk(item, str(name))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and key in _MATERIAL_KEYS:
            # A path outside the repository is refused when it is read.
            with contextlib.suppress(ConfigError):
                found.append(repo_path(value, trust.base))

    walk(trust.signature, None)
    walk(trust.provenance, None)
    return sorted(set(found))


def _validate(value: Any, schema_name: str, path: Path, section: str | None) -> None:
    if _quick_check(schema_name)(value):
        return  # valid: the common case, without jsonschema's import and validator build
    import jsonschema

    validator = jsonschema.Draft202012Validator(section_schema(schema_name))
    error = next(iter(sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return
    where = ".".join(str(p) for p in ([section] if section else []) + list(error.absolute_path))
    raise ConfigError(f"{path}: {where or 'top level'}: {error.message}")
