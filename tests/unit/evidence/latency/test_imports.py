"""Importing the collector stays light: the heavy libraries load only in the child process."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "onnxruntime",
    "numpy",
    "onnx",
    "pandas",
    "fairlearn",
    "sklearn",
    "sigstore",
    "in_toto",
    "ai_edge_litert",
    "coremltools",
)


def test_importing_the_package_loads_no_heavy_library() -> None:
    # A fresh interpreter: this test process has onnx and numpy loaded by the model builders.
    probe = (
        "import sys, fleetgate.evidence.latency as latency; "
        "assert latency.COLLECTOR.fact == 'latency'; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.strip() == "[]"
