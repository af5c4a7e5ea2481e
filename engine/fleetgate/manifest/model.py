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
    """The OnDeviceModel documents of one file; other kinds and empty documents are skipped.

    Raises :class:`ManifestError` for hostile or malformed YAML and for a document that is not
    a mapping (a manifest repo holds objects, never bare lists or scalars).
    """
    manifests: list[Manifest] = []
    for document in read_documents(data, file, limits):
        if document.value is None:
            continue
        if not isinstance(document.value, dict):
            kind = type(document.value).__name__.replace("list", "sequence").replace("str", "string")
            raise ManifestError(
                file, f"document {document.index + 1} is a {kind}, expected a mapping", document.lines.get(())
            )
        if document.value.get("kind") != KIND:
            continue
        manifests.append(Manifest(file, document.index, document.value, document.lines))
    return manifests
