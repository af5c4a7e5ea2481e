"""Indented JSON text for the large documents fleetgate writes (decisions, SARIF, GitLab).

``json.dumps(value, indent=2, ensure_ascii=False)`` leaves CPython's C encoder for a Python one
as soon as ``indent`` is given, and that one passes every token through a chain of generators,
one per level of nesting: a 10,000-manifest scan's decision took over half a second to write.
:func:`indented` writes the same text, byte for byte, with one recursive function, the C string
escaper, and one string per member. A value outside what JSON natively holds (a key that is not
a string, a subclass or a type ``json`` converts or refuses, NaN, a reference cycle) sends the
whole value to ``json.dumps``, so every such output and every error stays the standard
library's. ``tests/unit/format/test_json_text.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

__all__ = ["indented"]

_INDENT = "  "
_INFINITIES = (float("inf"), float("-inf"))


class _NotNative(Exception):
    """A value the fast writer leaves to ``json.dumps``."""


def indented(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, written faster."""
    parts: list[str] = []
    try:
        _write(value, parts, "\n")
    except (_NotNative, RecursionError):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(parts)


def _float(value: float) -> str:
    if value != value or value in _INFINITIES:
        raise _NotNative
    return float.__repr__(value)


# The text of a scalar, by its exact type (bool before int: a bool is an int to isinstance).
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,
    int: int.__repr__,
    float: _float,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}


def _write(value: Any, parts: list[str], newline: str) -> None:
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        parts.append(scalar(value))
        return
    kind = type(value)
    if kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + _INDENT
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotNative
            scalar = _SCALARS.get(type(item))
            if scalar is not None:
                parts.append(separator + encode_basestring(key) + ": " + scalar(item))
            else:
                parts.append(separator + encode_basestring(key) + ": ")
                _write(item, parts, inner)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + _INDENT
        separator = "[" + inner
        for item in value:
            scalar = _SCALARS.get(type(item))
            if scalar is not None:
                parts.append(separator + scalar(item))
            else:
                parts.append(separator)
                _write(item, parts, inner)
            separator = "," + inner
        parts.append(newline + "]")
    else:
        raise _NotNative  # a subclass or another type: json.dumps decides
