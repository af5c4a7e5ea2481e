"""Which operators of a model the target runtime cannot execute.

Two targets. By default, the installed onnxruntime on CPU: its registered CPU kernels are
matched by domain, operator and opset range, operators ONNX defines as functions count as
supported (the runtime inlines them), and then an ``InferenceSession`` with graph
optimizations off is created, which catches what the kernel table cannot see (an opset newer
than the runtime, a type without a kernel). Like the whole ONNX read, this runs in the bounded
probe child. With ``allowedOperators`` set, the reduced-build config is the target and no
session is created.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from fleetgate.evidence.model._allowed import AllowedOperators
from fleetgate.evidence.model._graph import NodeUse, shown_domain

__all__ = ["RuntimeCheck", "check_allowed", "check_cpu"]

_CPU = "CPUExecutionProvider"
_NEW_OPSET = re.compile(r"Opset (\d+) is under development.*domain (\S+) is till opset (\d+)")
_NOT_REGISTERED = re.compile(r"(\S*):(\w+)\(-?\d+\) is not a registered function/op")
_NO_KERNEL = re.compile(r"Could not find an implementation for (\w+)\((\d+)\)")


@dataclass(frozen=True)
class RuntimeCheck:
    """The ``runtime`` part of the model fact."""

    target: str
    unsupported: list[dict[str, Any]]

    def to_fact(self) -> dict[str, Any]:
        return {"target": self.target, "unsupported": self.unsupported}


def check_allowed(uses: list[NodeUse], allowed: AllowedOperators) -> RuntimeCheck:
    """Every used operator the reduced-build config does not list."""
    target = f"allowed operators {allowed.shown}"
    if allowed.everything:
        return RuntimeCheck(target, [])
    listed: dict[tuple[str, str], set[int]] = {}
    for domain, opset, op in allowed.entries:
        listed.setdefault((domain, op), set()).add(opset)
    missing = [
        _entry(domain, op, opset, f"not in {allowed.shown}")
        for domain, op, opset in _distinct(uses)
        if not _listed(domain, op, opset, listed.get((shown_domain(domain), op), set()))
    ]
    return RuntimeCheck(target, missing)


def check_cpu(uses: list[NodeUse], model: Path) -> RuntimeCheck:
    """Every used operator the installed onnxruntime's CPU provider cannot run."""
    import onnxruntime

    target = f"onnxruntime {onnxruntime.__version__} {_CPU}"
    kernels = _cpu_kernels()
    missing = [
        _entry(domain, op, opset, _kernel_reason(kernels.get((domain, op))))
        for domain, op, opset in _distinct(uses)
        if not _has_kernel(domain, op, opset, kernels)
    ]
    failure = _session_failure(model)
    if failure is not None:
        missing.extend(_session_entries(failure, missing))
    return RuntimeCheck(target, missing)


def _distinct(uses: Iterable[NodeUse]) -> list[tuple[str, str, int]]:
    found = {(use.domain, use.node.op_type, use.opset) for use in uses if not use.calls_function}
    return sorted(found)


def _entry(domain: str, op: str, opset: int, reason: str) -> dict[str, Any]:
    return {"domain": shown_domain(domain), "op": op, "opset": opset, "reason": reason}


def _since(domain: str, op: str, opset: int) -> int | None:
    """The schema version an opset selects for ``op``, when onnx knows the operator."""
    try:
        return int(onnx.defs.get_schema(op, opset, domain).since_version)
    except Exception:  # SchemaError: unknown operator or no version at or below opset
        return None


def _listed(domain: str, op: str, opset: int, opsets: set[int]) -> bool:
    if opset in opsets:
        return True
    # ORT's config writer records the operator's since version, not the model's opset import:
    # both select the same kernel when they select the same schema version.
    since = _since(domain, op, opset)
    return since is not None and any(_since(domain, op, other) == since for other in opsets)


@functools.cache
def _cpu_kernels() -> dict[tuple[str, str], tuple[tuple[int, int], ...]]:
    from onnxruntime.capi import _pybind_state

    kernels: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for kernel in _pybind_state.get_all_opkernel_def():
        if kernel.provider == _CPU:
            low, high = kernel.version_range
            kernels.setdefault((kernel.domain, kernel.op_name), []).append((int(low), int(high)))
    return {key: tuple(sorted(set(ranges))) for key, ranges in kernels.items()}


def _has_kernel(
    domain: str, op: str, opset: int, kernels: dict[tuple[str, str], tuple[tuple[int, int], ...]]
) -> bool:
    if any(low <= opset <= high for low, high in kernels.get((domain, op), ())):
        return True
    if domain == "" and op == "Constant":
        return True  # the runtime folds Constant nodes into initializers at load time
    try:
        schema = onnx.defs.get_schema(op, opset, domain)
    except Exception:  # SchemaError: onnx does not define it either
        return False
    # The runtime expands an operator that ONNX defines as a function into its body.
    # (Both attributes exist on OpSchema but are missing from onnx's type stubs.)
    return bool(getattr(schema, "has_function", False)) or bool(
        getattr(schema, "has_context_dependent_function", False)
    )


def _kernel_reason(ranges: tuple[tuple[int, int], ...] | None) -> str:
    if not ranges:
        return "no CPU kernel for this operator"
    shown = ", ".join(f"{low}-{high}" if high < 2**31 - 1 else f"{low}+" for low, high in ranges)
    return f"no CPU kernel for this opset (kernels cover opsets {shown})"


def _session_failure(model: Path) -> str | None:
    from fleetgate.evidence.model._session import session_failure

    return session_failure(str(model))


def _session_entries(message: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries a session failure adds, unless the kernel check already named its cause."""
    opset = _NEW_OPSET.search(message)
    if opset is not None:
        version, domain, newest = opset.groups()
        reason = f"opset {version} is newer than the runtime supports ({domain} up to {newest})"
        return [{"domain": domain, "op": "*", "opset": int(version), "reason": reason}]
    domain, op = "*", "*"
    if (registered := _NOT_REGISTERED.search(message)) is not None:
        domain, op = shown_domain(registered.group(1)), registered.group(2)
    elif (kernel := _NO_KERNEL.search(message)) is not None:
        op = kernel.group(1)
    # Without a named operator, an operator the kernel check already refused is the likely cause.
    if found and (op == "*" or any(entry["op"] == op for entry in found)):
        return []
    reason = f"the runtime refused the model: {message}"
    return [{"domain": domain, "op": op, "opset": 0, "reason": reason[:300]}]
