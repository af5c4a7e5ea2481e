"""OPA's own evaluator (opa-golib-python-bindings) as a test oracle, fetched into a cache.

The wheel declares Python >= 3.14 but its ctypes bridge loads on older versions, so it is
downloaded (never installed) and unpacked into the user's cache folder. Tests that need it are
skipped, saying why, only when the download is impossible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

PACKAGE = "opa-golib-python-bindings"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fleetgate-tests" / "opa-bindings"


@cache
def _unpacked() -> Path | str:
    """The folder holding ``opa_bindings``, or why it could not be had."""
    folder = cache_dir()
    wheels = sorted(folder.glob("opa_golib_python_bindings-*.whl"))
    if not wheels:
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        command += ["--python-version", "3.14", PACKAGE, "-d", str(folder), "-q"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{PACKAGE} could not be downloaded: {exc}"
        wheels = sorted(folder.glob("opa_golib_python_bindings-*.whl"))
        if done.returncode != 0 or not wheels:
            return f"{PACKAGE} could not be downloaded: {done.stderr.strip()[-300:]}"
    target = folder / wheels[-1].stem
    if not (target / "opa_bindings").is_dir():
        with zipfile.ZipFile(wheels[-1]) as archive:
            archive.extractall(target)
    return target


def opa_path() -> Path:
    """The folder to put on ``sys.path``/``PYTHONPATH`` for ``import opa_bindings``; skips when impossible."""
    found = _unpacked()
    if isinstance(found, str):
        pytest.skip(found)
    if str(found) not in sys.path:
        sys.path.insert(0, str(found))
    return found


def engine_demo(repo: Any) -> Any:
    """A pull request that every engine must judge alike: one change admitted, three denied."""
    from support import manifest, to_yaml

    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b")))
    repo.commit("base")
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.write("models/c.yaml", to_yaml(manifest("c", tier="premium", sizeBytes=2**31)))
    repo.write("models/d.yaml", to_yaml(manifest("d", inferenceConfig={"quantization": "fp32"})))
    repo.commit("head")
    return repo


def engine_check(repo: Any, config: Path, text: str) -> Any:
    """``check --base HEAD~1`` of ``repo`` with the operator config ``text`` written at ``config``."""
    config.write_text(text)
    return repo.fleetgate(
        "check", "--base", "HEAD~1", "--config", str(config), "--format", "json", "--no-audit"
    )


def comparable(stdout: str) -> dict[str, Any]:
    """A JSON decision without what differs between engines and runs (id, time, engine name)."""
    decision: dict[str, Any] = json.loads(stdout)
    for key in ("decision_id", "timestamp"):
        decision.pop(key)
    decision["policy"].pop("engine")
    return decision
