"""The child side of :mod:`fleetgate.evidence._child`: one parse or inference of an artifact.

Run as ``python -m fleetgate.evidence._probe TASK MAX_MEMORY_MB ARG...``, never imported by the
gate. It caps its own address space first, then imports the one reader the task needs, prints
that reader's JSON answer on stdout and exits 0. A reader's own refusal (EvidenceError) is its
message on stderr and exit 3; any other failure is one line on stderr and exit 1.
A native crash kills the process instead, and the parent reports the signal.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys

from fleetgate.errors import EvidenceError

# The exit status of a reader that refused the model with its own located message.
REFUSED = 3

# task -> (module, function); each function takes the string arguments and returns JSON data.
_TASKS = {
    "tflite-model": ("fleetgate.evidence.model._tflite", "read_tflite"),
    "coreml-model": ("fleetgate.evidence.model._coreml", "read_coreml"),
    "onnx-model": ("fleetgate.evidence.model._collect", "model_fact_of"),
    "tflite-predict": ("fleetgate.evidence.fairness._litert", "predict_file"),
    "onnx-inputs": ("fleetgate.evidence.fairness._contained", "static_batch"),
    "onnx-predict": ("fleetgate.evidence.fairness._contained", "predict_file"),
}


def main(argv: list[str]) -> int:
    """Run the task ``argv`` names; return the exit status."""
    try:
        task, max_memory_mb, *arguments = argv
        limit = int(max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        module, function = _TASKS[task]
        answer = getattr(importlib.import_module(module), function)(*arguments)
        text = json.dumps(answer)
    except EvidenceError as refusal:  # a reader's own located message, passed on as it is
        print(refusal.message, file=sys.stderr)
        return REFUSED
    except MemoryError:
        print(f"out of memory under the {max_memory_mb} MB cap", file=sys.stderr)
        return 1
    except Exception as error:  # every failure becomes one line for the parent to report
        print(" ".join(str(error).split())[:500] or type(error).__name__, file=sys.stderr)
        return 1
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
