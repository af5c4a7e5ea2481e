"""Time one model in this fresh process and print the timings as JSON on stdout.

Run by the latency collector, never imported by it::

    python -m fleetgate.evidence.latency._child MODEL THREADS BATCH WARMUP RUNS MAX_MEMORY_MB FORMAT \
        [MODEL2 FORMAT2]

``FORMAT`` is ``onnx`` or ``ort`` (onnxruntime) or ``tflite`` (the LiteRT interpreter). The
module is self-contained (stdlib, numpy, the runtime) so the process starts fast. It caps its
own address space before importing anything heavy, so a hostile model fails here instead of
eating the machine. On success it prints ``{"timings_ms": [...], "peak_rss_kib": int,
"runtime": "<runtime version>"}`` and exits 0; with a second model, both are timed in turns
and the answer adds ``"second": {"timings_ms": [...], "runtime": ...}``. On failure it prints
one line on stderr and exits 1.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

# Random inputs are drawn from a fixed seed so every repeat (and every run of the gate) times
# the same data; small integers keep index-like inputs (token ids, class ids) in range.
_SEED = 0
_INT_HIGH = 10

# onnxruntime type string -> numpy dtype name. Strings, sequences, maps, optionals and
# bfloat16 (no numpy dtype) cannot be generated: such graphs are refused.
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
}
_OUT_OF_MEMORY = ("bad_alloc", "Failed to allocate", "OpenBLAS error: Memory allocation")


class _Refused(Exception):
    """The model cannot be timed; the message is shown to the user."""


def _cap_memory(max_memory_mb: int) -> None:
    limit = max_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _concrete_shape(name: str, shape: Any, batch: int) -> tuple[int, ...]:
    """A symbolic or unknown first dimension is the batch; any other unknown dimension is 1."""
    if not isinstance(shape, list):
        raise _Refused(f"input {name!r} has no known rank")
    dims: list[int] = []
    for index, dim in enumerate(shape):
        if isinstance(dim, int) and dim > 0:
            dims.append(dim)
        else:
            dims.append(batch if index == 0 else 1)
    return tuple(dims)


def _feeds(session: Any, batch: int, max_bytes: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(_SEED)
    inputs = session.get_inputs()
    if not inputs:
        raise _Refused("the graph has no inputs")
    feeds: dict[str, Any] = {}
    for arg in inputs:
        dtype_name = _DTYPES.get(arg.type)
        if dtype_name is None:
            raise _Refused(f"input {arg.name!r} has unsupported type {arg.type}")
        dtype = np.dtype(dtype_name)
        shape = _concrete_shape(arg.name, arg.shape, batch)
        needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if needed > max_bytes:
            raise _Refused(f"input {arg.name!r} of shape {list(shape)} needs more than the memory cap")
        if dtype.kind == "f":
            feeds[arg.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[arg.name] = rng.integers(0, 2, shape).astype(dtype)
        else:
            feeds[arg.name] = rng.integers(0, _INT_HIGH, shape).astype(dtype)
    return feeds


def _session(model: str, threads: int) -> Any:
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 4
    # Spinning threads burn the CPU while they wait: on a shared CI host they triple latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _peak_rss_kib() -> int:
    # VmHWM is the high-water mark of this process's own memory since exec. The rusage a
    # parent gets from wait4 also counts the parent's RSS copied in at fork, so it is not used.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise _Refused("/proc/self/status has no VmHWM")


def _tflite_interpreter(model: str, threads: int, batch: int) -> Any:
    """The LiteRT interpreter with a dynamic batch dimension resized to ``batch``."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model, num_threads=threads)
    for detail in interpreter.get_input_details():
        signature = [int(d) for d in detail.get("shape_signature", detail["shape"])]
        if any(d < 0 for d in signature):
            shape = _concrete_shape(detail["name"], signature, batch)
            interpreter.resize_tensor_input(detail["index"], list(shape))
    interpreter.allocate_tensors()
    return interpreter


def _tflite_feeds(interpreter: Any, max_bytes: int) -> list[tuple[int, Any]]:
    import numpy as np

    rng = np.random.default_rng(_SEED)
    details = interpreter.get_input_details()
    if not details:
        raise _Refused("the graph has no inputs")
    feeds = []
    for detail in details:
        dtype = np.dtype(detail["dtype"])
        shape = tuple(int(d) for d in detail["shape"])
        if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > max_bytes:
            raise _Refused(f"input {detail['name']!r} of shape {list(shape)} needs more than the memory cap")
        if dtype.kind == "f":
            value = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind in "iub":
            value = rng.integers(0, 2 if dtype.kind == "b" else _INT_HIGH, shape).astype(dtype)
        else:
            raise _Refused(f"input {detail['name']!r} has unsupported type {dtype}")
        feeds.append((detail["index"], value))
    return feeds


def _onnx_runner(model: str, threads: int, batch: int, max_bytes: int) -> tuple[Callable[[], Any], str]:
    import onnxruntime as ort

    session = _session(model, threads)
    feeds = _feeds(session, batch, max_bytes)
    return (lambda: session.run(None, feeds)), ort.__version__


def _tflite_runner(model: str, threads: int, batch: int, max_bytes: int) -> tuple[Callable[[], Any], str]:
    import ai_edge_litert

    interpreter = _tflite_interpreter(model, threads, batch)
    feeds = _tflite_feeds(interpreter, max_bytes)

    def run() -> None:
        for index, value in feeds:
            interpreter.set_tensor(index, value)
        interpreter.invoke()

    return run, ai_edge_litert.__version__


def _runner(
    model: str, model_format: str, threads: int, batch: int, max_bytes: int
) -> tuple[Callable[[], Any], str]:
    """One inference of ``model`` under its runtime, ready to time, and the runtime's version."""
    prepare = _tflite_runner if model_format == "tflite" else _onnx_runner
    return prepare(model, threads, batch, max_bytes)


def _timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter_ns()
    run()
    return (time.perf_counter_ns() - started) / 1e6


def _measure(
    models: list[tuple[str, str]], threads: int, batch: int, warmup: int, runs: int, max_bytes: int
) -> dict[str, Any]:
    """Time one model, or two run by run in turns (first, second, then second, first, ...).

    Taking turns exposes both to the same moments of the machine: a burst of load from another
    job slows both alike instead of one of them. The peak memory is read after the first model
    alone has loaded and run, so it is that model's own.
    """
    runners = []
    peak = 0
    for index, (model, model_format) in enumerate(models):
        runners.append(_runner(model, model_format, threads, batch, max_bytes))
        for _ in range(warmup):
            runners[-1][0]()
        if index == 0:
            peak = _peak_rss_kib()
    timings: list[list[float]] = [[] for _ in runners]
    for run_index in range(runs):
        order = range(len(runners)) if run_index % 2 == 0 else reversed(range(len(runners)))
        for which in order:
            timings[which].append(_timed(runners[which][0]))
    answer: dict[str, Any] = {"timings_ms": timings[0], "peak_rss_kib": peak, "runtime": runners[0][1]}
    if len(runners) == 2:
        answer["second"] = {"timings_ms": timings[1], "runtime": runners[1][1]}
    return answer


def _describe(error: Exception, max_memory_mb: int) -> str:
    message = " ".join(str(error).split())
    text = message if isinstance(error, _Refused) else f"{type(error).__name__}: {message}"
    # onnxruntime reports a refused allocation as bad_alloc or "Failed to allocate".
    if isinstance(error, MemoryError) or any(m in text for m in _OUT_OF_MEMORY):
        return f"out of memory under the {max_memory_mb} MB cap (evidence.latency.maxMemoryMB): {text}"
    return text


def _second(rest: list[str]) -> list[tuple[str, str]]:
    if not rest:
        return []
    if len(rest) != 2:
        raise _Refused("expected a second MODEL FORMAT pair")
    return [(rest[0], rest[1])]


def main(argv: list[str]) -> int:
    """Time the model named in ``argv``; return the exit status."""
    max_memory_mb = 0
    try:
        model, *numbers, model_format = argv[:7]
        threads, batch, warmup, runs, max_memory_mb = (int(n) for n in numbers)
        models = [(model, model_format), *_second(argv[7:])]
        _cap_memory(max_memory_mb)
        result = _measure(models, threads, batch, warmup, runs, max_memory_mb * 1024 * 1024)
    except Exception as error:  # every failure becomes one line for the collector to report
        print(_describe(error, max_memory_mb)[:500], file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
