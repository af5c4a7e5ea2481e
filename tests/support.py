"""Test helpers: real temporary git repositories and manifests built by the tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from fleetgate.manifest import Manifest, read_manifests
from fleetgate.policy import RuleInfo, builtin_policy_dir, load_library
from fleetgate.waivers import Waiver

DATA = Path(__file__).resolve().parent / "data"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fleet Tester",
    "GIT_AUTHOR_EMAIL": "tester@example.com",
    "GIT_COMMITTER_NAME": "Fleet Tester",
    "GIT_COMMITTER_EMAIL": "tester@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

BASE_MANIFEST: dict[str, Any] = {
    "apiVersion": "mobileai.apexlogic.com/v1",
    "kind": "OnDeviceModel",
    "metadata": {"name": "image-classifier-v3", "namespace": "production"},
    "spec": {
        "modelId": "img-cls-003",
        "version": "3.2.1",
        "modelUri": "s3://apexlogic-models/image-classifier/v3.2.1/model.onnx",
        "checksum": "sha256:" + "ab" * 32,
        "tier": "standard",
        "sizeBytes": 12582912,
        "targetDevices": {
            "minOSVersion": "iOS16",
            "minAPILevel": 30,
            "minMemoryMB": 4096,
            "regions": ["US", "EU"],
        },
        "updateStrategy": {
            "type": "stagedRollout",
            "rolloutPercentage": 10,
            "minBatteryLevel": 50,
            "networkConstraint": "WIFI",
        },
        "inferenceConfig": {"batchSize": 1, "numThreads": 2, "quantization": "int8"},
    },
}


def manifest(name: str = "image-classifier-v3", namespace: str = "production", **spec: Any) -> dict[str, Any]:
    """A valid OnDeviceModel document; ``spec`` keys replace (dicts merge one level) the defaults.

    A value of ``None`` removes the key.
    """
    doc = copy.deepcopy(BASE_MANIFEST)
    doc["metadata"].update(name=name, namespace=namespace)
    for key, value in spec.items():
        if value is None:
            doc["spec"].pop(key, None)
        elif isinstance(value, dict) and isinstance(doc["spec"].get(key), dict):
            merged = {**doc["spec"][key], **value}
            doc["spec"][key] = {k: v for k, v in merged.items() if v is not None}
        else:
            doc["spec"][key] = value
    return doc


def to_yaml(*docs: dict[str, Any]) -> str:
    """Block-style YAML, one key per line, so tests can find a field's line by searching."""
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)


def line_of(text: str, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after ``start`` containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


class GitRepo:
    """A real git repository in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **GIT_ENV},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def write(self, path: str, text: str | bytes) -> Path:
        full = self.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            full.write_bytes(text)
        else:
            full.write_text(text)
        return full

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def fleetgate(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real CLI in a child process, as a user would."""
        return subprocess.run(
            [sys.executable, "-m", "fleetgate", *args],
            cwd=cwd or self.root,
            env={**os.environ, **GIT_ENV, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def decision(self, *args: str) -> tuple[int, dict[str, Any]]:
        """Run ``check --format json`` and parse the decision."""
        done = self.fleetgate("check", "--format", "json", *args)
        assert done.returncode in (0, 1), f"exit {done.returncode}: {done.stderr}"
        return done.returncode, json.loads(done.stdout)


def violations(decision: dict[str, Any], rule: str | None = None) -> list[dict[str, Any]]:
    found = [v for s in decision["subjects"] for v in s["violations"]]
    return [v for v in found if rule is None or v["rule"] == rule]


PolicyDir = Callable[[dict[str, str]], Path]
"""Fixture type: write a policy directory from {relative path: text} and return it."""


SAMPLE_WAIVERS = [
    Waiver(
        "cost.threads", "production/b", "perf test", "ops", dt.date(2026, 12, 1), "fleetgate-waivers.yaml", 2
    ),
    Waiver("rollout.ladder", "staging/zz", "old", "ops", dt.date(2030, 1, 1), "fleetgate-waivers.yaml", 9),
]
"""One waiver that covers a deny of production/b, one for a deployment no test evaluates."""


def read_one(name: str, file: str | None = None, namespace: str = "production") -> Manifest:
    """The single manifest of a generated file (default ``models/<name>.yaml``)."""
    [found] = read_manifests(to_yaml(manifest(name, namespace)).encode(), file or f"models/{name}.yaml")
    return found


@cache
def catalog() -> dict[str, RuleInfo]:
    """Metadata of the built-in rule catalog."""
    return dict(load_library([builtin_policy_dir()]).rules)


@cache
def schema_validator(name: str) -> Any:
    """A validator for the JSON Schema ``tests/data/<name>``, of the draft the schema names."""
    schema = json.loads((DATA / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
