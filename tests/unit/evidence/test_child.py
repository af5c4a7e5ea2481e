"""A bounded child that crashes, hangs or refuses becomes one EvidenceError, never a dead gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence import _child
from fleetgate.evidence._child import Limits, run_probe

FAST = Limits(timeout_seconds=1.0, max_memory_mb=1024)


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Replace the probe module with one the test writes (``stand_in / "probe_stand_in.py"``)."""
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(_child, "_PROBE_MODULE", "probe_stand_in")
    return tmp_path / "probe_stand_in.py"


def test_a_native_crash_names_the_signal(stand_in: Path) -> None:
    stand_in.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    with pytest.raises(EvidenceError, match=r"^m.tflite: reading failed \(killed by signal 11 \(SIGSEGV\)\)"):
        run_probe("tflite-model", [], "m.tflite", "reading", FAST)


def test_a_hang_is_killed_at_the_deadline(stand_in: Path) -> None:
    stand_in.write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(EvidenceError, match=r"^m.tflite: reading exceeded 1 s and was killed$"):
        run_probe("tflite-model", [], "m.tflite", "reading", FAST)


def test_a_refusal_keeps_its_own_message_and_other_failures_quote_the_last_line(stand_in: Path) -> None:
    stand_in.write_text(
        "import sys\nprint('m.onnx: not a valid ONNX model: truncated', file=sys.stderr)\nsys.exit(3)\n"
    )
    with pytest.raises(EvidenceError, match=r"^m.onnx: not a valid ONNX model: truncated$"):
        run_probe("onnx-model", [], "m.onnx", "reading", FAST)
    stand_in.write_text("import sys\nprint('noise\\nValueError: boom', file=sys.stderr)\nsys.exit(1)\n")
    with pytest.raises(EvidenceError, match=r"^m.onnx: reading failed \(exit status 1\): ValueError: boom$"):
        run_probe("onnx-model", [], "m.onnx", "reading", FAST)


def test_an_answer_that_is_not_json_is_refused(stand_in: Path) -> None:
    stand_in.write_text("print('{not json')\n")
    with pytest.raises(EvidenceError, match=r"^m.onnx: reading returned malformed output$"):
        run_probe("onnx-model", [], "m.onnx", "reading", FAST)


def test_the_real_probe_caps_its_memory(tmp_path: Path) -> None:
    pytest.importorskip("ai_edge_litert")
    import support_tflite

    path = support_tflite.save(support_tflite.classifier(), tmp_path / "m.tflite")
    tight = Limits(timeout_seconds=60.0, max_memory_mb=64)  # too little to even import the reader
    with pytest.raises(EvidenceError, match=r"^m.tflite: reading failed \(exit status 1\)"):
        run_probe("tflite-model", [str(path)], "m.tflite", "reading", tight)
    assert run_probe("tflite-model", [str(path)], "m.tflite", "reading", Limits())["schema_version"] == 3


def test_a_refusal_is_the_last_line_after_a_native_library_logged(stand_in: Path) -> None:
    stand_in.write_text(
        "import sys\nprint('W0000 some runtime warning', file=sys.stderr)\n"
        "print('m.onnx: refused', file=sys.stderr)\nsys.exit(3)\n"
    )
    with pytest.raises(EvidenceError, match=r"^m.onnx: refused$"):
        run_probe("onnx-model", [], "m.onnx", "reading", FAST)
