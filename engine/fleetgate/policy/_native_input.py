"""The policy input built directly as the embedded engine's term tree, not parsed from JSON text.

regopy's ``set_input_term`` runs the whole JSON text through the engine's parser and its
rewriting passes: about 5 µs per object member, a sixth of each evaluation in a scan. The
engine's C input API (``regoNewInput`` and friends) builds the same tree from a stack of values
in a fraction of that, and the evaluation that follows is faster too (its terms come out flatter).
regopy's own wrapper of that API (``regopy.Input``) has two faults a gate must not inherit, and
this builder guards against both:

1. a string is stored as JSON string *source*, unescaped: a manifest value holding a quote or a
   backslash would corrupt the tree. Every string is written here as the body of its JSON
   literal (``json.dumps(s)[1:-1]``), which the engine reads back exactly;
2. a number is stored as ``std::to_string`` writes it: ``%f``, six decimals, so ``1e-07``
   becomes ``0``, and in the process's numeric locale. A float is handed to the engine only
   when its ``%f`` text is the same number and the locale writes a decimal point, and an
   integer only within the 64 bits the API takes.

An input the builder cannot carry exactly (such a float, a larger integer, a key that is not a
string, a string that is not valid Unicode, a type JSON lacks) returns ``False``: the caller
falls back to the JSON text, which is always exact. ``tests/unit/policy/test_native_input.py``
checks that both ways give the engine the same values, on hostile strings and edge numbers;
regopy is pinned to the release whose C API this module was written against.
"""

from __future__ import annotations

import json
import locale
import math
from typing import Any

__all__ = ["NativeInput"]

_INT64 = 1 << 63
# Strings that repeat from one input to the next (keys, namespaces, enum values) keep their
# escaped bytes; longer ones are escaped each time.
_CACHED_LENGTH = 64
_CACHE_SIZE = 8192


class _Inexact(Exception):
    """A value the C input API would not carry exactly: the caller uses the JSON text instead."""


class NativeInput:
    """Sets an interpreter's input from a Python value through the engine's C input API."""

    def __init__(self) -> None:
        from regopy import rego_shared

        native = rego_shared.rego
        self._new, self._free, self._set = native.regoNewInput, native.regoFreeInput, native.regoSetInput
        self._string, self._int, self._float = (
            native.regoInputString,
            native.regoInputInt,
            native.regoInputFloat,
        )
        self._bool, self._null = native.regoInputBoolean, native.regoInputNull
        self._item, self._object, self._array = (
            native.regoInputObjectItem,
            native.regoInputObject,
            native.regoInputArray,
        )
        self._escaped: dict[str, bytes] = {}

    def set(self, interpreter: Any, value: Any) -> bool:
        """Make ``value`` the input of ``interpreter`` (regopy's native handle); ``False`` when it
        cannot be carried exactly, leaving the input unchanged. An engine refusal raises ``ValueError``."""
        stack = self._new()
        try:
            try:
                self._push(stack, value)
            except (_Inexact, RecursionError, UnicodeEncodeError):
                return False
            code = self._set(interpreter, stack)
        finally:
            self._free(stack)
        if code != 0:
            raise ValueError(f"the engine refused the input (code {code})")
        return True

    def _push(self, stack: Any, value: Any) -> None:
        kind = type(value)
        if kind is str:
            self._string(stack, self._text(value))
        elif kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    raise _Inexact
                self._string(stack, self._text(key))
                self._push(stack, item)
                self._item(stack)
            self._object(stack, len(value))
        elif kind is list or kind is tuple:
            for item in value:
                self._push(stack, item)
            self._array(stack, len(value))
        elif kind is int:
            if not -_INT64 <= value < _INT64:
                raise _Inexact
            self._int(stack, value)
        elif kind is bool:
            self._bool(stack, value)
        elif value is None:
            self._null(stack)
        elif kind is float:
            # The engine keeps the number as "%f" text: only a float that text gives back is exact,
            # and only while the C library writes it with a decimal point (a locale could say ",").
            if not math.isfinite(value) or float(f"{value:f}") != value:
                raise _Inexact
            if locale.localeconv()["decimal_point"] != ".":
                raise _Inexact
            self._float(stack, value)
        else:
            raise _Inexact

    def _text(self, text: str) -> bytes:
        found = self._escaped.get(text)
        if found is not None:
            return found
        # A lone surrogate (a YAML "\ud800" escape) has no UTF-8: UnicodeEncodeError, the JSON text.
        escaped = json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8")
        if len(text) <= _CACHED_LENGTH:
            if len(self._escaped) >= _CACHE_SIZE:
                self._escaped.clear()
            self._escaped[text] = escaped
        return escaped
