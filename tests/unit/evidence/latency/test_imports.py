"""Importing the collector stays light: the heavy libraries load only in the child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_a_cache_key_loads_no_timing_machinery(tmp_path: Path) -> None:
    """A re-check whose latency fact is cached asks only for the cache key: it must not pay for
    the child-process runner, the statistics or importlib.metadata (about 20 ms in all)."""
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    probe = f"""
import sys
from pathlib import Path
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.latency import COLLECTOR
artifact = Artifact("file:m.onnx", Path({str(model)!r}), "sha256:" + "a" * 64, 4, "file", format="onnx")
manifest = {{"spec": {{"inferenceConfig": {{"numThreads": 1}}}}}}
root = Path({str(tmp_path)!r})
key = COLLECTOR.cache_key(CollectorContext(manifest=manifest, previous=None, root=root, artifact=artifact))
assert key is not None and key["runtime"]
loaded = ["importlib.metadata", "statistics", "random", "fleetgate.evidence._child"]
loaded += ["fleetgate.evidence.latency." + m for m in ("_measure", "_runner", "_compare", "_summary")]
print([m for m in loaded if m in sys.modules])
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
