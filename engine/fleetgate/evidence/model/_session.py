"""Create an onnxruntime session for a model, in the bounded probe child only.

A session is the runtime's own verdict on the model (an opset newer than it supports, a type
without a kernel); creating it runs native code over untrusted bytes, so it runs only inside
the probe child that reads the ONNX model (see :mod:`fleetgate.evidence._child`).
"""

from __future__ import annotations

import re

__all__ = ["session_failure"]

_CPU = "CPUExecutionProvider"
_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
_SOURCE_PREFIX = re.compile(r"^/\S+:\d+ .*?\) (?=[A-Z])")


def session_failure(model: str) -> str | None:
    """The runtime's one-line refusal of the model at ``model``, or None when it loads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # the failure is reported in the fact, not on stderr
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        # From the path, so the runtime finds external data beside the model.
        onnxruntime.InferenceSession(model, options, providers=[_CPU])
    except Exception as exc:  # Fail, InvalidGraph, NotImplemented, RuntimeError...
        return _runtime_message(exc)
    return None


def _runtime_message(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    text = _ORT_PREFIX.sub("", text)
    return _SOURCE_PREFIX.sub("", text)
