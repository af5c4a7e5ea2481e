"""A bounded, position-keeping YAML reader for manifests.

PyYAML's own loaders build objects recursively, expand aliases without limit and resolve
YAML 1.1 scalars (``NO`` becomes ``False``: a region code silently turns into a boolean).
This reader consumes libyaml's event stream instead and builds plain JSON values itself, so it
can enforce, while reading and before any large structure exists:

- a size limit on the raw bytes and strict UTF-8;
- a nesting depth limit (checked on every start event, no recursion anywhere);
- a node budget that counts every alias expansion (billion-laughs bombs stop early);
- unique mapping keys, string keys only, and the YAML 1.2 core schema for plain scalars
  (only ``true``/``false`` are booleans; dates stay strings; no arbitrary tags).

For every value it records the 1-based source line under its path, so a policy finding about
``spec.updateStrategy.rolloutPercentage`` can be reported at ``file:line``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetgate.errors import ManifestError
from fleetgate.manifest.paths import Path, format_path

__all__ = ["Limits", "YamlDocument", "read_documents"]

try:  # libyaml is part of PyYAML's wheels; the pure-Python parser is the fallback.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_NONFINITE = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class Limits:
    """Bounds that make reading hostile input cheap to refuse."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 100_000


@dataclass(frozen=True)
class YamlDocument:
    """One document of a YAML stream, as plain JSON values plus source lines."""

    index: int
    value: Any
    lines: dict[Path, int] = field(repr=False)


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path
    anchor: str | None
    start_nodes: int
    key: str | None = None
    key_line: int = 0


class _Reader:
    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.lines: dict[Path, int] = {}
        self.stack: list[_Frame] = []
        self.nodes = 0
        self.root: Any = None

    def fail(self, line: int, message: str) -> ManifestError:
        return ManifestError(self.file, message, line)

    def count(self, n: int, line: int) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise self.fail(
                line,
                f"document expands to more than {self.limits.max_nodes} nodes (an alias bomb?); refused",
            )

    def place(self, value: Any, line: int) -> Path:
        """Attach a finished value to its parent; return its path."""
        if not self.stack:
            self.root = value
            self.lines[()] = line
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            path = (*top.path, len(top.container))
            top.container.append(value)
            self.lines.setdefault(path, line)
            return path
        assert top.key is not None
        path = (*top.path, top.key)
        top.container[top.key] = value
        self.lines.setdefault(path, top.key_line)
        top.key = None
        return path

    def scalar(self, event: Any) -> None:
        line = event.start_mark.line + 1
        self.count(1, line)
        top = self.stack[-1] if self.stack else None
        if isinstance(top, _Frame) and isinstance(top.container, dict) and top.key is None:
            self.key(top, event, line)
            return
        value = self.resolve(event, line)
        self.place(value, line)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)

    def key(self, frame: _Frame, event: Any, line: int) -> None:
        if event.tag not in (None, "!", _TAG + "str"):
            raise self.fail(line, f"mapping key {event.value!r} must be a plain string")
        assert isinstance(frame.container, dict)
        if event.value in frame.container:
            where = format_path(frame.path) or "the document root"
            raise self.fail(line, f"duplicate key {event.value!r} in {where}")
        frame.key = event.value
        frame.key_line = line

    def resolve(self, event: Any, line: int) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None and event.implicit[0]:
            return self.plain(text, line)
        if tag in (None, "!", _TAG + "str"):
            return text
        if tag in (_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"):
            value = self.plain(text, line)
            if tag == _TAG + "float" and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            kinds = {_TAG + "int": int, _TAG + "float": float, _TAG + "bool": bool, _TAG + "null": type(None)}
            if type(value) is kinds[tag]:
                return value
            raise self.fail(line, f"{text!r} is not a valid {tag.removeprefix(_TAG)}")
        raise self.fail(line, f"unsupported YAML tag {tag!r}")

    def plain(self, text: str, line: int) -> Any:
        if _NULL.match(text):
            return None
        if text in _BOOL:
            return _BOOL[text]
        try:
            if _INT10.match(text):
                return int(text, 10)
            if _INT8.match(text):
                return int(text[2:], 8)
            if _INT16.match(text):
                return int(text[2:], 16)
        except ValueError:
            raise self.fail(line, "integer is too large") from None
        if _FLOAT.match(text):
            number = float(text)
            if math.isfinite(number):
                return number
        if _NONFINITE.match(text):
            raise self.fail(line, f"non-finite number {text!r} is not allowed")
        return text

    def start(self, event: Any, container: dict[str, Any] | list[Any]) -> None:
        line = event.start_mark.line + 1
        if len(self.stack) >= self.limits.max_depth:
            raise self.fail(line, f"nesting deeper than {self.limits.max_depth} levels; refused")
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            raise self.fail(line, "mapping keys must be plain strings, not collections")
        self.count(1, line)
        if top is None:
            path: Path = ()
        elif isinstance(top.container, list):
            path = (*top.path, len(top.container))
        else:
            assert top.key is not None
            path = (*top.path, top.key)
        self.lines.setdefault(path, line if top is None or isinstance(top.container, list) else top.key_line)
        self.stack.append(_Frame(container, path, event.anchor, self.nodes))

    def end(self, event: Any) -> None:
        frame = self.stack.pop()
        size = self.nodes - frame.start_nodes + 1
        self.place(frame.container, self.lines.get(frame.path, event.start_mark.line + 1))
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, size)

    def alias(self, event: Any) -> None:
        line = event.start_mark.line + 1
        if event.anchor not in self.anchors:
            raise self.fail(line, f"alias *{event.anchor} refers to an unknown or enclosing anchor")
        value, size = self.anchors[event.anchor]
        self.count(size, line)
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            raise self.fail(line, "mapping keys must be plain strings, not aliases")
        self.place(value, line)


def read_documents(data: bytes, file: str, limits: Limits | None = None) -> list[YamlDocument]:
    """Parse every document of ``data`` within ``limits``.

    Raises :class:`ManifestError` (naming ``file`` and the line) for input that is too large,
    not UTF-8, not valid YAML, too deep, too expanded, or has duplicate keys or unsupported tags.
    """
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise ManifestError(
            file, f"{len(data)} bytes exceeds the {limits.max_bytes}-byte manifest size limit; refused"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(file, "not valid UTF-8 text", line) from None
    return list(_documents(text, file, limits))


def _documents(text: str, file: str, limits: Limits) -> Iterator[YamlDocument]:
    loader = _Loader(text)
    reader: _Reader | None = None
    index = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                assert reader is not None
                reader.scalar(event)
            elif kind is yaml.MappingStartEvent:
                assert reader is not None
                reader.start(event, {})
            elif kind is yaml.SequenceStartEvent:
                assert reader is not None
                reader.start(event, [])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                assert reader is not None
                reader.end(event)
            elif kind is yaml.AliasEvent:
                assert reader is not None
                reader.alias(event)
            elif kind is yaml.DocumentStartEvent:
                reader = _Reader(file, limits)
            elif kind is yaml.DocumentEndEvent:
                assert reader is not None
                yield YamlDocument(index, reader.root, reader.lines)
                index += 1
                reader = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestError(file, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ManifestError(file, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
