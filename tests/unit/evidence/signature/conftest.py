"""Fixtures for the signature collector: a workspace with one artifact and its trust file.

One private sigstore instance (and one foreign one) is built per test module.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.trust import load_trust_file

from support_sigstore import PrivateSigstore

MODEL_BYTES = b"\x08\x09fleetgate test model bytes\n" * 64


@dataclass
class Workspace:
    """A repository root with ``models/model.onnx`` and a trust folder."""

    root: Path
    identity: str = "release@example.com"
    issuer: str = "https://issuer.example.com"
    ci_identity: str = "https://github.com/example/models/.github/workflows/release.yml@refs/heads/main"

    @property
    def model(self) -> Path:
        return self.root / "models" / "model.onnx"

    @property
    def trust_dir(self) -> Path:
        return self.root / "trust"

    def artifact(self) -> Artifact:
        data = self.model.read_bytes()
        return Artifact(
            uri="s3://models/image/model.onnx",
            path=self.model,
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
            size=len(data),
            source="mirror",
        )

    def pin_root(self, instance: PrivateSigstore, name: str = "trusted_root.json") -> str:
        """Copy ``instance``'s trusted root into the trust folder; its path relative to it."""
        target = self.trust_dir / "roots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(instance.trusted_root_path, target)
        return f"roots/{name}"

    def context(
        self, section: Mapping[str, Any] | None, settings: Mapping[str, Any] | None = None
    ) -> CollectorContext:
        document: dict[str, Any] = {"apiVersion": "fleetgate.dev/v1", "kind": "TrustConfig"}
        if section is not None:
            document["signature"] = dict(section)
        trust_path = self.trust_dir / "trust.yaml"
        trust_path.write_text(json.dumps(document), encoding="utf-8")
        return CollectorContext(
            manifest={},
            previous=None,
            root=self.root,
            artifact=self.artifact(),
            trust=load_trust_file(trust_path),
            settings=settings or {},
        )

    def keyless(self, instance: PrivateSigstore, **extra: Any) -> dict[str, Any]:
        """A model-signing keyless section trusting ``instance`` and this workspace's identity."""
        section: dict[str, Any] = {
            "format": "model-signing",
            "method": "keyless",
            "trustedRoot": self.pin_root(instance),
            "identities": {"anyOf": [{"identity": self.identity, "issuer": self.issuer}]},
        }
        section.update(extra)
        return section

    def write_bundle(self, data: bytes, name: str = "model.onnx.sig") -> Path:
        path = self.model.parent / name
        path.write_bytes(data)
        return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    space = Workspace(tmp_path / "repo")
    space.model.parent.mkdir(parents=True)
    space.model.write_bytes(MODEL_BYTES)
    space.trust_dir.mkdir()
    return space


@pytest.fixture(scope="module")
def private_sigstore(tmp_path_factory: pytest.TempPathFactory) -> PrivateSigstore:
    return PrivateSigstore(tmp_path_factory.mktemp("sigstore"))


@pytest.fixture(scope="module")
def foreign_sigstore(tmp_path_factory: pytest.TempPathFactory) -> PrivateSigstore:
    return PrivateSigstore(tmp_path_factory.mktemp("foreign"), name="foreign")
