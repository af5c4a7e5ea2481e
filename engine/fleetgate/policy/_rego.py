"""Thin, fail-closed wrapper around regopy (Microsoft's rego-cpp), the embedded Rego engine.

regopy reports some failures in ways a gate must not miss: compile errors are printed to the
process's stdout (they would corrupt ``--format json``), evaluation errors come back as an
"ok" output whose text is an error tree, and unknown functions surface only when evaluated.
Everything here turns those into :class:`PolicyError` with the Rego file and line.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy.library import PolicyModule

__all__ = ["CompiledPolicy", "compile_modules", "engine_version"]

_ERROR_AT = re.compile(r"\(error \d+:([^|\s]*)\|(\d+)\|\d+")
_ERROR_MSG = re.compile(r"\(errormsg \d+:([^\n)]*)")
_WITH_WHOLE_INPUT = re.compile(r"\bwith\s+input\s+as\b")
_FUNCTION_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)\s*(?::=|=|if\b|\{)", re.M)


def engine_version() -> str:
    import regopy

    return f"regopy {regopy.rego_version()}"


class CompiledPolicy:
    """A compiled bundle with named entrypoints (``pkg/path/rule``)."""

    def __init__(self, interpreter: Any, bundle: Any, modules: Sequence[PolicyModule]) -> None:
        self._interpreter = interpreter
        self._bundle = bundle
        self._modules = {m.path: m for m in modules}

    def query(self, entrypoint: str, policy_input: Any) -> Any:
        """Value of ``entrypoint`` for ``policy_input``; ``None`` when undefined."""
        from regopy import rego_shared as c

        # JSON text, not regopy's Input(value): the latter does not escape quotes or backslashes
        # in strings, so a manifest value containing one would corrupt the engine's output.
        try:
            term = json.dumps(policy_input, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"policy input is not JSON: {exc}") from None
        self._interpreter.set_input_term(term)
        impl = c.rego_bundle_query_entrypoint(self._interpreter._impl, self._bundle._impl, entrypoint)
        try:
            ok = c.rego_output_ok(impl)
            text = c.rego_output_string(impl)
        finally:
            c.rego_free_output(impl)
        if not ok or text.lstrip().startswith("(error") or text.strip() == "<error>":
            raise PolicyError(f"policy evaluation of {entrypoint} failed: {self._explain(text)}")
        if text.strip() == "undefined":
            return None
        try:
            result = json.loads(text)
        except ValueError:
            raise PolicyError(f"policy evaluation of {entrypoint} returned unreadable output") from None
        expressions = result.get("expressions") if isinstance(result, dict) else None
        return expressions[0] if expressions else None

    def _explain(self, text: str) -> str:
        message = _ERROR_MSG.search(text)
        where = _locate(text, self._modules)
        detail = message.group(1).strip() if message else "engine error"
        return f"{where}: {detail}" if where else detail


def compile_modules(modules: Sequence[PolicyModule], data: Any, entrypoints: Sequence[str]) -> CompiledPolicy:
    """Compile ``modules`` with ``data`` into a bundle; :class:`PolicyError` at ``file:line``."""
    from regopy import Interpreter, RegoError

    _refuse_engine_hazards(modules)
    interpreter = Interpreter()
    interpreter.strict_built_in_errors = True
    by_path = {m.path: m for m in modules}
    failure = ""
    with _captured_stdout() as captured:
        try:
            interpreter.add_data_json(json.dumps(data, allow_nan=False))
            for module in modules:
                interpreter.add_module(module.path, module.source)
            bundle = interpreter.build(None, list(entrypoints))
        except RegoError as exc:
            bundle = None
            failure = str(exc)
    if bundle is None or not bundle.ok():
        text = failure if bundle is None else captured()
        message = _ERROR_MSG.search(text)
        where = _locate(text, by_path) or _printed_location(captured())
        detail = message.group(1).strip() if message else "compile error"
        raise PolicyError(f"{where or 'policy'}: {detail}")
    return CompiledPolicy(interpreter, bundle, modules)


def _refuse_engine_hazards(modules: Sequence[PolicyModule]) -> None:
    """Refuse, with a located error, Rego the embedded engine would crash on (not just reject).

    - ``with input as ...`` replacing the whole input aborts the process when the rule under
      test calls a builtin;
    - functions of one name with different arities in two packages crash evaluation.
    """
    arities: dict[str, tuple[int, str]] = {}
    for module in modules:
        found = _WITH_WHOLE_INPUT.search(module.source)
        if found:
            raise PolicyError(
                f"{module.path}:{module.line_at(found.start())}: 'with input as' replaces the whole input, "
                "which the embedded engine cannot do safely; override fields instead "
                "('with input.manifest as ...')"
            )
        for head in _FUNCTION_HEAD.finditer(module.source):
            name, params = head.group(1), head.group(2).strip()
            arity = len(params.split(",")) if params else 0
            where = f"{module.path}:{module.line_at(head.start())}"
            first = arities.setdefault(name, (arity, where))
            if first[0] != arity:
                raise PolicyError(
                    f"{where}: function {name} takes {arity} argument(s) here but {first[0]} at {first[1]}; "
                    "the embedded engine cannot tell them apart: rename one"
                )


def _locate(text: str, modules: dict[str, PolicyModule]) -> str | None:
    match = _ERROR_AT.search(text)
    if match is None:
        return None
    module = modules.get(match.group(1))
    if module is None:
        return match.group(1) or None
    return f"{module.path}:{module.line_at(int(match.group(2)))}"


def _printed_location(text: str) -> str | None:
    match = re.search(r"^-- (\S+:\d+):\d+", text, re.M)
    return match.group(1) if match else None


@contextmanager
def _captured_stdout() -> Iterator[Any]:
    """Redirect file descriptor 1 while the C++ engine compiles (it prints errors there)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        text: list[str] = []
        try:
            yield lambda: "".join(text)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text.append(sink.read(64 * 1024).decode(errors="replace"))
