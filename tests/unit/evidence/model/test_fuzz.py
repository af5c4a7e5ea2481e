"""Mutated TFLite files and Core ML specifications give a fact or evidence.failed: no crash, no hang.

Reading hundreds of files through one child each would take minutes, so the readers run over a
batch of mutated files in one bounded child process that reports each file as it goes. A file
on which that child dies (a native crash) is then run through the real collector, which must
turn the crash into an EvidenceError naming the signal; the batch resumes after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.model import COLLECTOR

pytest.importorskip("ai_edge_litert")
pytest.importorskip("coremltools")
import support_coreml  # (needs coremltools)
import support_tflite

TFLITE_FILES = 500
COREML_FILES = 200
BATCH_SECONDS = 240.0

_BATCH = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # the probe's cap
    from {module} import {function} as read, MalformedModel
    for index, path in enumerate(sys.argv[1:]):
        print(json.dumps({{"start": index}}), flush=True)
        try:
            read(path)
            outcome = "fact"
        except MalformedModel:
            outcome = "malformed"
        except Exception as exc:
            outcome = f"unexpected {{type(exc).__name__}}: {{exc}}"
        print(json.dumps({{"done": index, "outcome": outcome}}), flush=True)
    """
)


def mutated(data: bytes, count: int, folder: Path, suffix: str, seed: int) -> list[Path]:
    """``count`` mutants: bit flips, overwritten words, truncations and insertions, seeded."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        buffer = bytearray(data)
        kind = index % 4
        if kind == 0:
            for position in rng.integers(8, len(buffer), rng.integers(1, 9)):
                buffer[position] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            position = int(rng.integers(8, len(buffer) - 4))
            buffer[position : position + 4] = bytes(rng.integers(0, 256, 4, dtype=np.uint8))
        elif kind == 2:
            buffer = buffer[: int(rng.integers(8, len(buffer)))]
        else:
            position = int(rng.integers(8, len(buffer)))
            buffer[position:position] = bytes(rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8))
        path = folder / f"m{index:04d}{suffix}"
        path.write_bytes(bytes(buffer))
        paths.append(path)
    return paths


def run_batches(module: str, function: str, paths: list[Path]) -> tuple[dict[str, int], list[int]]:
    """Outcome counts over every path, and the indexes on which the batch child died."""
    counts: dict[str, int] = {}
    crashed: list[int] = []
    started = time.monotonic()
    next_index = 0
    while next_index < len(paths):
        remaining = BATCH_SECONDS - (time.monotonic() - started)
        assert remaining > 0, "the fuzz run exceeded its time bound"
        program = _BATCH.format(module=module, function=function)
        try:
            arguments = [sys.executable, "-c", program, *map(str, paths[next_index:])]
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
            done = subprocess.run(arguments, capture_output=True, text=True, timeout=remaining, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("a mutated model hung the reader")
        last_started, finished = None, -1
        for line in done.stdout.splitlines():
            record = json.loads(line)
            if "start" in record:
                last_started = record["start"]
            else:
                finished = record["done"]
                counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        if done.returncode == 0:
            break
        assert last_started is not None and last_started == finished + 1, done.stderr[-500:]
        crashed.append(next_index + last_started)
        next_index += last_started + 1
    return counts, crashed


def collected(path: Path) -> Any:
    artifact = resolve_artifact(path.name, ArtifactSource(root=path.parent))
    assert artifact is not None
    return COLLECTOR.collect(
        CollectorContext(manifest={}, previous=None, root=path.parent, artifact=artifact)
    )


def check_outcomes(counts: dict[str, int], crashed: list[int], paths: list[Path], total: int) -> None:
    unexpected = {outcome: n for outcome, n in counts.items() if outcome not in ("fact", "malformed")}
    assert unexpected == {}
    assert sum(counts.values()) + len(crashed) == total
    # The mutations reach both the error paths and the clean path.
    assert counts.get("malformed", 0) > 0 and counts.get("fact", 0) > 0
    for index in crashed:
        with pytest.raises(EvidenceError, match=r"killed by signal"):
            collected(paths[index])


def test_mutated_tflite_files_give_a_fact_or_a_located_failure(tmp_path: Path) -> None:
    seed = support_tflite.classifier(storage="int8", custom_op="MyCustomOp")
    paths = mutated(seed, TFLITE_FILES, tmp_path / "tflite", ".tflite", seed=13)
    counts, crashed = run_batches("fleetgate.evidence.model._tflite", "read_tflite", paths)
    check_outcomes(counts, crashed, paths, TFLITE_FILES)


def test_mutated_core_ml_specifications_give_a_fact_or_a_located_failure(tmp_path: Path) -> None:
    seed = support_coreml.neural_network(tmp_path / "seed.mlmodel", quantize=8).read_bytes()
    paths = mutated(seed, COREML_FILES, tmp_path / "coreml", ".mlmodel", seed=17)
    counts, crashed = run_batches("fleetgate.evidence.model._coreml", "read_coreml", paths)
    check_outcomes(counts, crashed, paths, COREML_FILES)
