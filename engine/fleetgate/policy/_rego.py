"""Thin, fail-closed wrapper around regopy (Microsoft's rego-cpp), the embedded Rego engine.

regopy reports some failures in ways a gate must not miss: compile errors are printed to the
process's stdout (they would corrupt ``--format json``), evaluation errors come back as an
"ok" output whose text is an error tree, and unknown functions surface only when evaluated.
Everything here turns those into :class:`PolicyError` with the Rego file and line.

A policy must decide from its input and data alone. regopy implements builtins that read the
process environment (``opa.runtime().env`` holds every secret of a CI job), the clock or
randomness, and OPA defines some that reach the network: a repository's ``.rego`` file could
publish a secret in a finding or decide differently on each run. Those builtins
(:data:`REFUSED_BUILTINS`) are refused at compile time, and every compile and query runs with
an empty process environment in case one slips through.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from fleetgate.errors import PolicyError
from fleetgate.policy._native_input import NativeInput
from fleetgate.policy.library import BUILTIN_LABEL, PolicyModule

__all__ = ["REFUSED_BUILTINS", "CompiledPolicy", "compile_modules", "regopy_version"]

_ERROR_AT = re.compile(r"\(error \d+:([^|\s]*)\|(\d+)\|\d+")
_ERROR_MSG = re.compile(r"\(errormsg \d+:([^\n)]*)")
_WITH_WHOLE_INPUT = re.compile(r"\bwith\s+input\s+as\b")
_FUNCTION_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)\s*(?::=|=|if\b|\{)", re.M)

REFUSED_BUILTINS: Mapping[str, str] = {
    # name (a trailing "." refuses the whole family): why a policy may not call it
    "opa.runtime": "reads the gate's environment variables",
    "http.send": "reaches the network",
    "net.": "reaches the network or is not implemented by the embedded engine",
    "time.now_ns": "reads the clock",
    "rand.": "is random",
    "uuid.rfc4122": "is random",
    "io.jwt.decode_verify": "reads the clock when its constraints give no time",
    "crypto.x509.parse_and_verify_certificates": "checks certificate validity against the clock",
    # Not about determinism: the engine writes to the process's standard output, where
    # --format json puts the decision.
    "print": "writes to the gate's standard output, where reports go",
}
"""Builtins whose result depends on the machine, the moment or the network, not on the input."""

# String literals and comments, blanked before looking for refused builtins (a message may
# mention http.send); raw strings are between backquotes.
_NOT_CODE = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')


def _without_uname_child() -> None:
    """Spare each check a ``uname -p`` child process.

    regopy picks its native library by ``platform.uname()[0]`` on import; reading that tuple
    makes Python run ``uname -p`` for the processor name, which nothing here reads. The machine
    name stands in for it (``platform.processor()`` may return it on Linux anyway).
    """
    import platform

    info = platform.uname()
    vars(info).setdefault("processor", info.machine)


_without_uname_child()


def regopy_version() -> str:
    import regopy

    return str(regopy.rego_version())


class CompiledPolicy:
    """A compiled bundle with named entrypoints (``pkg/path/rule``)."""

    def __init__(self, interpreter: Any, bundle: Any, modules: Sequence[PolicyModule]) -> None:
        self._interpreter = interpreter
        self._bundle = bundle
        self._modules = {m.path: m for m in modules}
        self._native = NativeInput()

    def query(self, entrypoint: str, policy_input: Any) -> Any:
        """Value of ``entrypoint`` for ``policy_input``; ``None`` when undefined."""
        from regopy import rego_shared as c

        self._set_input(policy_input)
        with _empty_environment():
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

    def _set_input(self, policy_input: Any) -> None:
        """The input as the engine's own term tree when it carries exactly, else as JSON text."""
        try:
            if self._native.set(self._interpreter._impl, policy_input):
                return
        except ValueError as exc:
            raise PolicyError(f"policy input was refused by the engine: {exc}") from None
        from regopy import RegoError

        try:
            term = json.dumps(policy_input, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
            self._interpreter.set_input_term(term)
        except (TypeError, ValueError, RecursionError, RegoError) as exc:
            raise PolicyError(f"policy input is not JSON: {exc}") from None

    def _explain(self, text: str) -> str:
        message = _ERROR_MSG.search(text)
        where = _locate(text, self._modules)
        detail = message.group(1).strip() if message else "engine error"
        return f"{where}: {detail}" if where else detail


def compile_modules(modules: Sequence[PolicyModule], data: Any, entrypoints: Sequence[str]) -> CompiledPolicy:
    """Compile ``modules`` with ``data`` into a bundle; :class:`PolicyError` at ``file:line``."""
    from regopy import Interpreter, RegoError

    _refuse_engine_hazards(modules)
    _refuse_nondeterministic_builtins(modules)
    interpreter = Interpreter()
    interpreter.strict_built_in_errors = True
    by_path = {m.path: m for m in modules}
    failure = ""
    with _captured_stdout() as captured, _empty_environment():
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


def _refuse_nondeterministic_builtins(modules: Sequence[PolicyModule]) -> None:
    """Refuse, at ``file:line``, any mention of a builtin of :data:`REFUSED_BUILTINS` in code.

    The built-in library ships inside fleetgate and a test holds it to the same rule, so only
    the modules a repository or an operator brings are scanned on each run.
    """
    for module in modules:
        if module.path.startswith(BUILTIN_LABEL):
            continue
        found = _refused_call().search(_NOT_CODE.sub(_blank, module.source))
        if found is not None:
            name = re.sub(r"\s+", "", found.group(0))
            family = name if name in REFUSED_BUILTINS else name[: name.index(".") + 1]
            raise PolicyError(
                f"{module.path}:{module.line_at(found.start())}: {name} {REFUSED_BUILTINS[family]}, "
                "which a policy may not do: policies decide from their input and data only"
            )


@cache
def _refused_call() -> re.Pattern[str]:
    """One pattern for every refused name; dots may have spaces around them, as Rego allows."""
    names = []
    for name in REFUSED_BUILTINS:
        dotted = r"\s*\.\s*".join(re.escape(part) for part in name.rstrip(".").split("."))
        names.append(dotted + (r"\s*\.\s*[A-Za-z_]\w*" if name.endswith(".") else r"\b"))
    return re.compile(r"(?<![\w.])(?:" + "|".join(names) + ")")


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


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


# A NULL-terminated, empty ``char *envp[]``; kept alive for the process's lifetime.
_NO_VARIABLES = (ctypes.c_char_p * 1)()


@contextmanager
def _empty_environment() -> Iterator[None]:
    """Run the engine with no environment variables visible to it.

    The engine reads the C library's ``environ`` when a builtin asks for it. Pointing that at
    an empty list costs nothing per query and leaves Python's ``os.environ`` alone; where the
    symbol cannot be reached, the variables are removed and restored instead.
    """
    pointer = _environ_pointer()
    if pointer is None:
        saved = dict(os.environ)
        os.environ.clear()
        try:
            yield
        finally:
            os.environ.update(saved)
        return
    previous = pointer.value
    pointer.value = ctypes.addressof(_NO_VARIABLES)
    try:
        yield
    finally:
        pointer.value = previous


@cache
def _environ_pointer() -> ctypes.c_void_p | None:
    try:
        return ctypes.c_void_p.in_dll(ctypes.CDLL(None), "environ")
    except (OSError, ValueError, AttributeError):
        return None
