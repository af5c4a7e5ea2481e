"""gather_facts and the previous version's artifact: read from the base commit only, compared in
the same run, and a comparison that cannot be made says so (real git repositories, real ONNX models)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleetgate.changes import ManifestChange
from fleetgate.evidence.gather import EvidenceRun, gather_facts
from fleetgate.evidence.interface import CollectorContext

import support_onnx
from support import GitRepo
from support_gather import (
    FAST_LATENCY,
    change,
    changeset,
    deployment,
    digest,
    evidence_run,
)

# -- the base artifact and latency (real onnxruntime runs) -----------------------------------------


def _versions(repo: GitRepo, onnx_models: dict[str, bytes], head_bytes: bytes) -> ManifestChange:
    repo.write("models/v1.onnx", onnx_models["v1"])
    repo.write("models/v2.onnx", head_bytes)
    return change(deployment("m", "file:models/v2.onnx"), deployment("m", "file:models/v1.onnx"))


def test_a_replaced_artifact_is_timed_against_the_base(repo: GitRepo, onnx_models: dict[str, bytes]) -> None:
    modified = _versions(repo, onnx_models, onnx_models["v2"])
    run = evidence_run(repo.root, ("artifact", "model", "latency"), collectors={"latency": FAST_LATENCY})
    facts = gather_facts(changeset(modified), run)["production/m"]
    latency = facts["latency"]
    assert latency["base"]["digest"] == digest(onnx_models["v1"])
    assert latency["base"]["p50_ms"] > 0
    # The memory rule reads the peak from the model fact: the latency run shares it.
    assert facts["model"]["peak_memory_mb"] == latency["peak_memory_mb"] > 0


def test_no_base_when_the_bytes_are_the_same(repo: GitRepo, onnx_models: dict[str, bytes]) -> None:
    # A renamed copy: nothing to compare against.
    modified = _versions(repo, onnx_models, onnx_models["v1"])
    run = evidence_run(repo.root, ("artifact", "latency"), collectors={"latency": FAST_LATENCY})
    latency = gather_facts(changeset(modified), run)["production/m"]["latency"]
    assert "base" not in latency and latency["p50_ms"] > 0


@dataclass
class ComparingCollector:
    """A latency collector stand-in: records its contexts and returns a head-only measurement."""

    calls: list[CollectorContext] = field(default_factory=list)
    # The bytes of each base artifact's files as the collector saw them.
    base_bytes: list[dict[str, bytes]] = field(default_factory=list)

    @property
    def fact(self) -> str:
        return "latency"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return None

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        self.calls.append(context)
        base = context.base_artifact
        if base is not None:
            folder = base.path if base.directory else base.path.parent
            self.base_bytes.append({f.name: (folder / f.name).read_bytes() for f in base.files})
        return {"p50_ms": 1.0, **({"base": {"digest": base.digest}} if base is not None else {})}


def comparing_run(
    repo: GitRepo, base_commit: str | None = None, **options: Any
) -> tuple[EvidenceRun, ComparingCollector]:
    collector = ComparingCollector()
    supplied = {"latency": collector}
    run = evidence_run(
        repo.root, ("artifact", "latency"), supplied=supplied, base_commit=base_commit, **options
    )
    return run, collector


@pytest.mark.parametrize(
    ("base_uri", "reason"),
    [
        ("s3://bucket/v1.onnx", "is not reachable here"),
        ("file:../outside.onnx", "leaves the repository"),
        ("file:models/gone.onnx", "does not exist in the repository"),
    ],
)
def test_a_base_that_cannot_be_read_fails_the_comparison(
    repo: GitRepo, onnx_models: dict[str, bytes], base_uri: str, reason: str
) -> None:
    # Never a silent skip: the comparison rules must say they could not decide.
    repo.write("models/v2.onnx", onnx_models["v2"])
    modified = change(deployment("m", "file:models/v2.onnx"), deployment("m", base_uri))
    run, collector = comparing_run(repo)
    latency = gather_facts(changeset(modified), run)["production/m"]["latency"]
    [context] = collector.calls
    assert context.base_artifact is None
    assert latency["p50_ms"] == 1.0  # the head's own measurement stands
    assert latency["base"]["error"].startswith(f"the previous artifact {base_uri} ")
    assert reason in latency["base"]["error"]


def test_a_base_pinned_to_the_same_bytes_needs_no_comparison(
    repo: GitRepo, onnx_models: dict[str, bytes]
) -> None:
    repo.write("models/v2.onnx", onnx_models["v2"])
    moved = deployment("m", "s3://bucket/v2.onnx", checksum=digest(onnx_models["v2"]))
    run, _ = comparing_run(repo)
    latency = gather_facts(changeset(change(deployment("m", "file:models/v2.onnx"), moved)), run)[
        "production/m"
    ]
    assert latency["latency"] == {"p50_ms": 1.0}


def test_the_base_artifact_comes_from_the_base_commit_not_a_planted_file(
    repo: GitRepo, onnx_models: dict[str, bytes], tmp_path: Path
) -> None:
    repo.write("models/m.onnx", onnx_models["v1"])
    base = repo.commit("v1")
    repo.write("models/m.onnx", onnx_models["v2"])
    cache = tmp_path / "cache"
    # A file waiting where earlier versions kept base artifacts (<cache>/downloads/base).
    name = hashlib.sha256(f"{base}:models/m.onnx".encode()).hexdigest()
    planted = cache / "downloads" / "base" / f"{name}.onnx"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"planted bytes")
    run, collector = comparing_run(repo, base, cache=cache)
    uri = "file:models/m.onnx"
    facts = gather_facts(changeset(change(deployment("m", uri), deployment("m", uri))), run)["production/m"]
    assert facts["latency"]["base"] == {"digest": digest(onnx_models["v1"])}
    [context] = collector.calls
    assert context.base_artifact is not None and context.base_artifact.source == "git"
    assert not context.base_artifact.path.is_relative_to(cache)
    assert planted.read_bytes() == b"planted bytes"


def test_a_symlinked_folder_is_followed_inside_the_base_commit(
    repo: GitRepo, onnx_models: dict[str, bytes]
) -> None:
    repo.write("models/v1/model.onnx", onnx_models["v1"])
    repo.write("models/v2/model.onnx", onnx_models["v2"])
    (repo.root / "models" / "current").symlink_to("v1")
    base = repo.commit("current is v1")
    (repo.root / "models" / "current").unlink()
    (repo.root / "models" / "current").symlink_to("v2")  # the head re-points the folder
    uri = "file:models/current/model.onnx"
    run, _ = comparing_run(repo, base)
    facts = gather_facts(changeset(change(deployment("m", uri), deployment("m", uri))), run)["production/m"]
    assert facts["artifact"]["digest"] == digest(onnx_models["v2"])
    assert facts["latency"]["base"] == {"digest": digest(onnx_models["v1"])}


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("absent", "is not in the base commit"),
        ("escaping-link", "leaves the repository"),
        ("looping-link", "too many symlinks in the base commit"),
    ],
)
def test_a_base_path_the_base_commit_cannot_give_fails_the_comparison(
    repo: GitRepo, onnx_models: dict[str, bytes], setup: str, reason: str
) -> None:
    if setup == "escaping-link":
        (repo.root / "models").mkdir()
        (repo.root / "models" / "old.onnx").symlink_to("/etc/hostname")
    elif setup == "looping-link":
        (repo.root / "models").mkdir()
        (repo.root / "models" / "old.onnx").symlink_to("old.onnx")
    repo.write("README", "base")
    base = repo.commit("base")
    repo.write("models/new.onnx", onnx_models["v2"])
    run, _ = comparing_run(repo, base)
    modified = change(deployment("m", "file:models/new.onnx"), deployment("m", "file:models/old.onnx"))
    latency = gather_facts(changeset(modified), run)["production/m"]["latency"]
    assert reason in latency["base"]["error"], latency


def test_a_base_model_with_external_data_is_read_whole_from_the_base_commit(repo: GitRepo) -> None:
    path = support_onnx.save_external(
        support_onnx.mlp(3, classes=1, seed=0), repo.root / "models/m/model.onnx"
    )
    old = {name: (path.parent / name).read_bytes() for name in ("model.onnx", "weights.bin")}
    base = repo.commit("v1")
    support_onnx.save_external(support_onnx.mlp(3, classes=1, seed=1), path)  # v2 weights in the work tree
    run, collector = comparing_run(repo, base)
    uri = "file:models/m/model.onnx"
    facts = gather_facts(changeset(change(deployment("m", uri), deployment("m", uri))), run)["production/m"]
    [context] = collector.calls
    previous = context.base_artifact
    assert previous is not None and context.artifact is not None
    assert {f.name: f.digest for f in previous.files} == {name: digest(data) for name, data in old.items()}
    assert collector.base_bytes == [old]
    assert facts["latency"]["base"]["digest"] == previous.digest != context.artifact.digest
    # The private folder the base version was exported to is gone when the gathering ends.
    assert not previous.path.parent.exists()


def test_a_base_model_directory_is_read_file_by_file_from_the_base_commit(repo: GitRepo) -> None:
    repo.write("models/d/Manifest.json", b"{}")
    repo.write("models/d/Data/weights.bin", b"v1")
    base = repo.commit("v1")
    repo.write("models/d/Data/weights.bin", b"v2")
    run, collector = comparing_run(repo, base)
    uri = "file:models/d"
    gather_facts(changeset(change(deployment("m", uri), deployment("m", uri))), run)
    [context] = collector.calls
    previous = context.base_artifact
    assert previous is not None and previous.directory
    assert {f.name: f.digest for f in previous.files} == {
        "Data/weights.bin": digest(b"v1"),
        "Manifest.json": digest(b"{}"),
    }
