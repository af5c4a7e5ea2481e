"""The ``Manifest`` record: one OnDeviceModel document with the source line of every field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgate.errors import ManifestError
from fleetgate.manifest._yaml import Limits, read_documents
from fleetgate.manifest.paths import Path, parse_path

__all__ = ["KIND", "Identity", "Manifest", "read_manifests"]

KIND = "OnDeviceModel"

Identity = tuple[str, str]
"""(namespace, name): what a deployment *is*, whatever file it lives in."""


@dataclass(frozen=True)
class Manifest:
    """One OnDeviceModel document as found in one version of one file."""

    file: str
    index: int
    body: Mapping[str, Any]
    lines: Mapping[Path, int] = field(repr=False, compare=False)

    @property
    def namespace(self) -> str:
        return _text(self.body.get("metadata"), "namespace") or "default"

    @property
    def name(self) -> str:
        return _text(self.body.get("metadata"), "name") or f"{self.file}#{self.index}"

    @property
    def identity(self) -> Identity:
        return (self.namespace, self.name)

    @property
    def target(self) -> str:
        """``namespace/name``, the form waivers and reports use."""
        return f"{self.namespace}/{self.name}"

    def line_of(self, field_path: str | Path) -> int:
        """Line of ``field_path``, or of its nearest ancestor present in this document."""
        path = parse_path(field_path) if isinstance(field_path, str) else field_path
        if path is None:
            return self.lines.get((), 1)
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def has(self, field_path: Path) -> bool:
        return field_path in self.lines


def _text(mapping: Any, key: str) -> str | None:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) and value else None


def read_manifests(data: bytes, file: str, limits: Limits | None = None) -> list[Manifest]:
    """The OnDeviceModel documents of one file, and those that look like one; other kinds and
    empty documents are skipped.

    A document looks like an OnDeviceModel when its ``kind`` is a near miss of the name
    (``OnDeviceModle``), it has a ``spec.modelUri``, or its ``apiVersion`` group is the one an
    OnDeviceModel of the same file uses. Such a document is kept, and fails the schema, so a
    typo in ``kind`` cannot turn a deployment into a silent deletion.

    Raises :class:`ManifestError` for hostile or malformed YAML and for a document that is not
    a mapping (a manifest repo holds objects, never bare lists or scalars).
    """
    documents = []
    for document in read_documents(data, file, limits):
        if document.value is None:
            continue
        if not isinstance(document.value, dict):
            kind = type(document.value).__name__.replace("list", "sequence").replace("str", "string")
            raise ManifestError(
                file, f"document {document.index + 1} is a {kind}, expected a mapping", document.lines.get(())
            )
        documents.append(document)
    groups = {_group(d.value) for d in documents if d.value.get("kind") == KIND}
    return [
        Manifest(file, d.index, d.value, d.lines)
        for d in documents
        if _looks_like_a_manifest(d.value, groups - {None})
    ]


def _looks_like_a_manifest(value: dict[str, Any], groups: set[str | None]) -> bool:
    kind = value.get("kind")
    if kind == KIND or (isinstance(kind, str) and _distance(kind.casefold(), KIND.casefold()) <= _NEAR_MISS):
        return True
    spec = value.get("spec")
    return (isinstance(spec, dict) and "modelUri" in spec) or _group(value) in groups


_NEAR_MISS = 2
"""Edits (insert, delete, replace a letter) that still make a ``kind`` a typo of OnDeviceModel."""


def _group(value: dict[str, Any]) -> str | None:
    api = value.get("apiVersion")
    return api.split("/", 1)[0] if isinstance(api, str) and "/" in api else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (both strings are short)."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]
