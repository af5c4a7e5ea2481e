"""A yes/no JSON Schema (draft 2020-12) check for the keywords fleetgate's own schemas use.

jsonschema costs about 50 ms to import and tens of milliseconds to build a validator: most of
a commit hook's budget. Nearly every document a hook sees is valid, and for a valid document
the only question is yes or no. :func:`compile_schema` turns a schema into plain Python checks
once; only a document that does not conform pays for jsonschema, whose errors carry the paths
and messages the located findings are made of.

It must never say yes where jsonschema says no. Each keyword below follows jsonschema's
implementation of draft 2020-12 (the same comparisons, the same type rules: ``True`` is not an
integer, ``2.0`` is). Where a case is not worth mirroring (an ``enum`` of lists, a
``uniqueItems`` array of objects) the answer is no, which only sends the document to
jsonschema. A schema with any other keyword is refused when compiled (:class:`Unsupported`), and
its callers then use jsonschema for every document. ``tests/unit/test_conform.py`` compares both
answers on thousands of mutated documents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sized
from typing import Any

__all__ = ["Check", "Unsupported", "compile_schema", "quick_check"]

Check = Callable[[Any], bool]

# Keywords that never change whether a document is valid.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "deprecated"}
)


class Unsupported(Exception):
    """The schema uses a keyword this check does not implement."""


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """One function answering "does this document conform to ``schema``?"."""
    return _Compiler(schema).compile(schema)


def quick_check(schema: Mapping[str, Any]) -> Check:
    """:func:`compile_schema`, or for a schema it cannot compile a check that always says no:
    every document then goes to jsonschema."""
    try:
        return compile_schema(schema)
    except Unsupported:
        return _never


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema {schema!r}")
        checks = [self._keyword(schema, key) for key in schema if key not in _ANNOTATIONS]
        found = [c for c in checks if c is not None]
        if len(found) == 1:
            return found[0]
        return lambda value: all(check(value) for check in found)

    def _keyword(self, schema: Mapping[str, Any], key: str) -> Check | None:
        value = schema[key]
        if key in _SIMPLE:
            return _SIMPLE[key](value)
        if key == "properties":
            return self._properties(value)
        if key == "additionalProperties":
            return self._additional(value, frozenset(schema.get("properties", {})))
        if key == "propertyNames":
            names = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        if key == "items":
            item = self.compile(value)
            return lambda v: not isinstance(v, list) or all(item(x) for x in v)
        if key == "if":
            return self._conditional(schema)
        if key in ("then", "else"):
            return None  # part of "if"; without an "if" they do nothing
        if key == "$ref":
            return self._ref(value)
        if key in ("allOf", "anyOf", "oneOf", "not"):
            return self._combinator(key, value)
        raise Unsupported(key)

    def _properties(self, properties: Mapping[str, Any]) -> Check:
        checks = {name: self.compile(sub) for name, sub in properties.items()}

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            return all(c(value[name]) for name, c in checks.items() if name in value)

        return check

    def _additional(self, extra: Any, known: frozenset[str]) -> Check:
        if extra is False:
            return lambda v: not isinstance(v, dict) or all(k in known for k in v)
        sub = self.compile(extra)
        return lambda v: not isinstance(v, dict) or all(sub(x) for k, x in v.items() if k not in known)

    def _conditional(self, schema: Mapping[str, Any]) -> Check:
        condition = self.compile(schema["if"])
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)

    def _ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise Unsupported(f"$ref {ref!r}")
        if ref not in self._refs:
            self._refs[ref] = _never  # a reference to itself while compiling: no, never a wrong yes
            target: Any = self._root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            self._refs[ref] = self.compile(target)
        refs = self._refs
        return lambda v: refs[ref](v)

    def _combinator(self, key: str, value: Any) -> Check:
        if key == "not":
            inner = self.compile(value)
            return lambda v: not inner(v)
        subs = [self.compile(s) for s in value]
        if key == "allOf":
            return lambda v: all(s(v) for s in subs)
        if key == "anyOf":
            return lambda v: any(s(v) for s in subs)
        return lambda v: sum(1 for s in subs if s(v)) == 1


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: _is_number(v) and (isinstance(v, int) or (math.isfinite(v) and v.is_integer())),
}


def _type(names: Any) -> Check:
    wanted = [_TYPES[n] for n in ([names] if isinstance(names, str) else names)]
    return lambda v: any(t(v) for t in wanted)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _same(a: Any, b: Any) -> bool:
    """jsonschema's equality for scalars: ``True`` is not ``1``; containers are not compared here."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return _scalar(a) and _scalar(b) and a == b


def _enum(options: Any) -> Check:
    return lambda v: any(_same(v, o) for o in options)


def _const(option: Any) -> Check:
    return lambda v: _same(v, option)


def _unique(flag: Any) -> Check:
    if not flag:
        return _always
    # Strings only: any other array is sent to jsonschema (a no here is never a wrong yes).
    return lambda v: not isinstance(v, list) or (all(isinstance(x, str) for x in v) and len(set(v)) == len(v))


def _pattern(text: str) -> Check:
    compiled = re.compile(text)
    return lambda v: not isinstance(v, str) or compiled.search(v) is not None


def _bound(test: Callable[[Any, Any], bool], limit: Any) -> Check:
    return lambda v: not _is_number(v) or test(v, limit)


def _size(kind: type[Sized], test: Callable[[int, int], bool], limit: int) -> Check:
    return lambda v: not isinstance(v, kind) or test(len(v), limit)


_SIMPLE: dict[str, Callable[[Any], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "uniqueItems": _unique,
    "pattern": _pattern,
    # The comparisons jsonschema makes, so NaN and infinities answer as they do there.
    "minimum": lambda m: _bound(lambda v, lim: not v < lim, m),
    "maximum": lambda m: _bound(lambda v, lim: not v > lim, m),
    "exclusiveMinimum": lambda m: _bound(lambda v, lim: not v <= lim, m),
    "exclusiveMaximum": lambda m: _bound(lambda v, lim: not v >= lim, m),
    "minLength": lambda n: _size(str, lambda size, lim: size >= lim, n),
    "maxLength": lambda n: _size(str, lambda size, lim: size <= lim, n),
    "minItems": lambda n: _size(list, lambda size, lim: size >= lim, n),
    "maxItems": lambda n: _size(list, lambda size, lim: size <= lim, n),
    "minProperties": lambda n: _size(dict, lambda size, lim: size >= lim, n),
    "maxProperties": lambda n: _size(dict, lambda size, lim: size <= lim, n),
    "required": lambda names: lambda v: not isinstance(v, dict) or all(n in v for n in names),
    "dependentRequired": lambda needs: (
        lambda v: (
            not isinstance(v, dict)
            or all(all(n in v for n in names) for key, names in needs.items() if key in v)
        )
    ),
}
