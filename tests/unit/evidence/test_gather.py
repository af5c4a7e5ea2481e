"""gather_facts with the real collectors on real files in a temporary git repository.

Manifests are read with the real reader into a ChangeSet, as the diff stage builds it; the
artifacts are real ONNX models timed by real onnxruntime child processes (few, short runs).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from fleetgate.changes import ChangeKind, ChangeSet, GitContext, ManifestChange
from fleetgate.config import EvidenceConfig
from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.gather import EvidenceRun, artifact_source, gather_facts
from fleetgate.evidence.interface import SILENT, CollectorContext, Progress, TrustConfig
from fleetgate.evidence.trust import load_trust_file
from fleetgate.git import Git
from fleetgate.manifest import Manifest, read_manifests

import support_onnx
from support import GitRepo, manifest, to_yaml
from support_sigstore import write_public_key

# The fewest runs the latency collector accepts: the tests check the plumbing, not the numbers.
FAST_LATENCY = {"repeats": 1, "warmupRuns": 0, "timedRuns": 2}


@pytest.fixture(scope="module")
def onnx_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two small, different CNNs (the v1 and v2 of a model), as bytes."""
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "v1": support_onnx.save(support_onnx.cnn(channels=4, image=16), folder / "v1.onnx").read_bytes(),
        "v2": support_onnx.save(support_onnx.cnn(channels=8, image=16), folder / "v2.onnx").read_bytes(),
    }


def read(doc: dict[str, Any], file: str = "models/deploy.yaml") -> Manifest:
    [found] = read_manifests(to_yaml(doc).encode(), file)
    return found


def deployment(name: str, uri: str, **spec: Any) -> dict[str, Any]:
    return manifest(name, modelUri=uri, **spec)


def change(head: dict[str, Any] | None, base: dict[str, Any] | None = None) -> ManifestChange:
    kind: ChangeKind = "modified" if head and base else "added" if head else "deleted"
    return ManifestChange(kind, read(head) if head else None, read(base) if base else None)


def changeset(*changes: ManifestChange) -> ChangeSet:
    return ChangeSet(tuple(changes), GitContext())


def evidence_run(
    root: Path,
    collect: tuple[str, ...] = ("artifact",),
    *,
    collectors: Mapping[str, Mapping[str, Any]] | None = None,
    cache: Path | None = None,
    trust: TrustConfig | None = None,
    progress: Progress = SILENT,
) -> EvidenceRun:
    """An EvidenceRun wired as the check wires it (commands/check.py), on ``root``."""
    settings = EvidenceConfig(collect=collect, cache=cache, collectors=dict(collectors or {}))
    return EvidenceRun(
        settings=settings,
        source=artifact_source(root, settings, cache),
        cache=FactCache(cache, "0.0.0-test"),
        trust=trust,
        progress=progress,
    )


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gather_one(
    root: Path, uri: str, collect: tuple[str, ...] = ("artifact",), **options: Any
) -> dict[str, Any]:
    """The facts of one added deployment ``production/a`` whose modelUri is ``uri``."""
    return gather_facts(changeset(change(deployment("a", uri))), evidence_run(root, collect, **options))


# -- the artifact fact ---------------------------------------------------------------------------


def test_the_artifact_fact(repo: GitRepo) -> None:
    repo.write("models/a.onnx", b"model a")
    facts = gather_one(repo.root, "file:models/a.onnx")
    assert facts == {
        "production/a": {
            "artifact": {
                "uri": "file:models/a.onnx",
                "path": "models/a.onnx",
                "digest": digest(b"model a"),
                "size": 7,
                "source": "file",
                "format": "onnx",  # bytes of no known format take the format their name says
            }
        }
    }
    json.dumps(facts)  # facts go into the policy input and the log as JSON


def _bytes_read() -> int:
    """Bytes this process has read through system calls so far (Linux ``rchar``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_an_artifact_named_by_several_changes_is_read_once(repo: GitRepo) -> None:
    size = 16 << 20  # large enough that a second read stands out from everything else read
    repo.write("models/shared.onnx", b"\0" * size)
    uri = "file:models/shared.onnx"
    changes = changeset(
        change(deployment("a", uri)),
        change(deployment("b", uri, version="1.0.0")),
        change(deployment("c", uri, version="2.0.0"), deployment("c", uri)),  # base names it too
    )
    run = evidence_run(repo.root)
    before = _bytes_read()
    facts = gather_facts(changes, run)
    read_bytes = _bytes_read() - before
    assert size <= read_bytes < 2 * size
    assert {facts[t]["artifact"]["digest"] for t in ("production/a", "production/b", "production/c")} == {
        digest(b"\0" * size)
    }


def test_an_unreachable_artifact_gives_no_facts_only_why(repo: GitRepo) -> None:
    repo.write("models/present.onnx", b"here")
    changes = changeset(
        change(deployment("remote", "s3://bucket/model.onnx")),  # no artifact root configured
        change(deployment("present", "file:models/present.onnx")),
    )
    facts = gather_facts(changes, evidence_run(repo.root, ("artifact", "model")))
    why = "s3:// artifacts are read from a mirror and evidence.artifactRoot is not set"
    assert facts["production/remote"] == {"absent": {"artifact": why, "model": why}}
    assert "artifact" in facts["production/present"]


def test_a_missing_repository_file_gives_only_the_missing_artifact_fact(repo: GitRepo) -> None:
    changes = changeset(change(deployment("missing", "file:models/absent.onnx")))
    facts = gather_facts(changes, evidence_run(repo.root, ("artifact", "model")))
    assert facts == {
        "production/missing": {
            "artifact": {"uri": "file:models/absent.onnx", "path": "models/absent.onnx", "missing": True}
        }
    }


def test_a_traversal_uri_gives_only_the_artifact_error(repo: GitRepo, tmp_path: Path) -> None:
    (tmp_path / "secret.onnx").write_bytes(b"outside")
    uri = "file:../secret.onnx"
    facts = gather_facts(
        changeset(change(deployment("a", uri))), evidence_run(repo.root, ("artifact", "model"))
    )
    assert list(facts["production/a"]) == ["artifact"]
    fact = facts["production/a"]["artifact"]
    assert fact["uri"] == uri and "leaves the repository" in fact["error"]
    assert set(fact) == {"uri", "error"}


def test_a_schema_invalid_manifest_gets_no_facts(repo: GitRepo) -> None:
    # schema.invalid alone judges it: no collector runs on a manifest that is not understood.
    repo.write("models/a.onnx", b"model a")
    bad = deployment("a", "file:models/a.onnx", tier="gold")
    facts = gather_facts(changeset(change(bad)), evidence_run(repo.root, ("artifact", "model")))
    assert facts == {}


def test_a_deleted_deployment_gets_no_facts(repo: GitRepo) -> None:
    repo.write("models/a.onnx", b"model a")
    gone = change(None, deployment("a", "file:models/a.onnx"))
    assert gather_facts(changeset(gone), evidence_run(repo.root)) == {}


def test_without_artifact_in_collect_nothing_is_gathered(repo: GitRepo) -> None:
    repo.write("models/a.onnx", b"model a")
    assert gather_one(repo.root, "file:models/a.onnx", ("model", "latency")) == {}


def test_collect_restricts_which_collectors_run(repo: GitRepo, onnx_models: dict[str, bytes]) -> None:
    repo.write("models/a.onnx", onnx_models["v1"])
    facts = gather_one(repo.root, "file:models/a.onnx", ("artifact", "model"))
    fact = facts["production/a"]
    assert list(fact) == ["artifact", "model"]
    assert fact["model"].get("status") != "absent" and "error" not in fact["model"]
    assert "peak_memory_mb" not in fact["model"]  # only a latency run measures it


# -- collector failures --------------------------------------------------------------------------


def test_a_refused_model_becomes_an_error_fact(repo: GitRepo) -> None:
    repo.write("models/a.onnx", b"this is not an ONNX protobuf")
    facts = gather_one(repo.root, "file:models/a.onnx", ("artifact", "model"))
    model = facts["production/a"]["model"]
    assert list(model) == ["error"] and "models/a.onnx" in model["error"]


@dataclass
class FailingCollector:
    """A real collector object whose collect() fails the way a buggy or hostile case would."""

    error: Exception
    name: str = "model"
    calls: list[CollectorContext] = field(default_factory=list)

    @property
    def fact(self) -> str:
        return self.name

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return {"digest": context.artifact.digest if context.artifact else None}

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        self.calls.append(context)
        raise self.error


def run_with(repo: GitRepo, collector: FailingCollector, cache: Path | None = None) -> dict[str, Any]:
    repo.write("models/a.onnx", b"model a")
    run = evidence_run(repo.root, ("artifact", collector.name), cache=cache)
    # EvidenceRun keeps the collectors it has loaded in _collectors; placing a real object there
    # is how a test supplies a collector that fails on demand (no module is patched).
    run._collectors[collector.name] = collector
    return gather_facts(changeset(change(deployment("a", "file:models/a.onnx"))), run)["production/a"]


def test_an_evidence_error_becomes_an_error_fact(repo: GitRepo, tmp_path: Path) -> None:
    collector = FailingCollector(EvidenceError("models/a.onnx: hostile model\nrefused"))
    facts = run_with(repo, collector, cache=tmp_path / "cache")
    assert facts["model"] == {"error": "models/a.onnx: hostile model refused"}  # one line
    assert len(collector.calls) == 1
    # Errors are not cached: the next run tries again.
    assert not (tmp_path / "cache" / "facts").exists()


def test_an_unexpected_exception_becomes_an_error_fact(repo: GitRepo) -> None:
    facts = run_with(repo, FailingCollector(ZeroDivisionError("division by zero"), name="latency"))
    assert facts["latency"] == {
        "error": "the latency collector failed unexpectedly: ZeroDivisionError: division by zero"
    }
    assert "artifact" in facts  # the other facts are still there


def test_a_config_error_stops_the_check(repo: GitRepo) -> None:
    with pytest.raises(ConfigError, match="bad setting"):
        run_with(repo, FailingCollector(ConfigError("fleetgate.yaml: evidence.model.x: bad setting")))


def test_a_real_bad_setting_stops_the_check(repo: GitRepo, onnx_models: dict[str, bytes]) -> None:
    repo.write("models/a.onnx", onnx_models["v1"])
    run = evidence_run(repo.root, ("artifact", "model"), collectors={"model": {"maxByte": 10}})
    with pytest.raises(ConfigError, match=r"evidence\.model\.maxByte: unknown key"):
        gather_facts(changeset(change(deployment("a", "file:models/a.onnx"))), run)


def test_each_collector_gets_its_own_settings_and_the_run_s_trust(repo: GitRepo, tmp_path: Path) -> None:
    trust_path = tmp_path / "trust.yaml"
    trust_path.write_text("apiVersion: fleetgate.dev/v1\nkind: TrustConfig\n")
    repo.write("models/a.onnx", b"model a")
    collector = FailingCollector(EvidenceError("x"))
    run = evidence_run(
        repo.root,
        ("artifact", "model"),
        collectors={"model": {"maxBytes": 5}, "latency": {"repeats": 1}},
        trust=load_trust_file(trust_path),
    )
    run._collectors["model"] = collector  # see run_with
    gather_facts(changeset(change(deployment("a", "file:models/a.onnx"))), run)
    [context] = collector.calls
    assert context.settings == {"maxBytes": 5}
    assert context.trust is not None and run.trust is not None and context.trust.digest == run.trust.digest
    assert context.root == repo.root and context.previous is None
    assert context.manifest["spec"]["modelUri"] == "file:models/a.onnx"


# -- the base artifact, latency and the cache (real onnxruntime runs) ------------------------------


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

    @property
    def fact(self) -> str:
        return "latency"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return None

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        self.calls.append(context)
        base = context.base_artifact
        return {"p50_ms": 1.0, **({"base": {"digest": base.digest}} if base is not None else {})}


def comparing_run(
    repo: GitRepo, base_commit: str | None = None, **options: Any
) -> tuple[EvidenceRun, ComparingCollector]:
    run = evidence_run(repo.root, ("artifact", "latency"), **options)
    collector = ComparingCollector()
    run._collectors["latency"] = collector
    if base_commit is not None:
        run.git, run.base_commit = Git(repo.root), base_commit
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


@dataclass
class RecordingProgress:
    """A progress sink that keeps every call."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def start(self, task: str, total: int) -> None:
        self.calls.append(("start", task))

    def advance(self, done: int) -> None:
        self.calls.append(("advance", done))

    def finish(self, summary: str) -> None:
        self.calls.append(("finish", summary))


def _signature_trust(folder: Path) -> TrustConfig:
    """A trust file asking for a key signature (the artifact ships none: the verdict is absent)."""
    key = ec.generate_private_key(ec.SECP256R1())
    (folder / "keys").mkdir(parents=True)
    (folder / "keys" / "release.pub").write_bytes(write_public_key(key.public_key()))
    document = {
        "apiVersion": "fleetgate.dev/v1",
        "kind": "TrustConfig",
        "signature": {"format": "model-signing", "method": "key", "publicKeys": ["keys/release.pub"]},
    }
    (folder / "trust.yaml").write_text(yaml.safe_dump(document))
    return load_trust_file(folder / "trust.yaml")


def test_measurements_are_cached_verdicts_are_not(
    repo: GitRepo, onnx_models: dict[str, bytes], tmp_path: Path
) -> None:
    repo.write("models/a.onnx", onnx_models["v1"])
    changes = changeset(change(deployment("a", "file:models/a.onnx")))
    cache = tmp_path / "cache"
    trust = _signature_trust(tmp_path / "trust")
    collect = ("artifact", "signature", "model", "latency")

    def run(progress: Progress = SILENT) -> tuple[dict[str, Any], float]:
        evidence = evidence_run(
            repo.root,
            collect,
            collectors={"latency": FAST_LATENCY},
            cache=cache,
            trust=trust,
            progress=progress,
        )
        started = time.monotonic()
        facts = gather_facts(changes, evidence)["production/a"]
        return facts, time.monotonic() - started

    progress = RecordingProgress()
    first, first_seconds = run(progress)
    assert first["signature"]["status"] == "absent" and first["signature"]["trust_config"] == trust.digest
    # The latency run reported to the run's progress sink.
    assert progress.calls[0][0] == "start" and progress.calls[-1][0] == "finish"
    stored = {p.parent.name for p in (cache / "facts").rglob("*.json")}
    assert stored == {"model", "latency"}  # signature verdicts are never stored

    second_progress = RecordingProgress()
    second, second_seconds = run(second_progress)
    assert second == first
    assert second_progress.calls == []  # nothing was timed again
    assert second_seconds < first_seconds / 2

    # An entry changed behind the cache's back fails its MAC: the model is timed again.
    [entry] = (cache / "facts" / "latency").glob("*.json")
    forged = {**first["latency"], "p50_ms": 123.0, "peak_memory_mb": 77.0}
    entry.write_text(json.dumps({**json.loads(entry.read_text()), "fact": json.dumps(forged)}))
    third_progress = RecordingProgress()
    third, _ = run(third_progress)
    assert third["latency"]["p50_ms"] != 123.0 and third["model"]["peak_memory_mb"] != 77.0
    assert third_progress.calls[0][0] == "start"


def test_another_artifact_misses_the_cache(
    repo: GitRepo, onnx_models: dict[str, bytes], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    for version in ("v1", "v2"):
        repo.write("models/a.onnx", onnx_models[version])
        facts = gather_one(repo.root, "file:models/a.onnx", ("artifact", "model"), cache=cache)
        assert facts["production/a"]["artifact"]["digest"] == digest(onnx_models[version])
    assert len(list((cache / "facts" / "model").glob("*.json"))) == 2


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
    assert (previous.path.parent / "weights.bin").read_bytes() == old["weights.bin"]
    assert facts["latency"]["base"]["digest"] == previous.digest != context.artifact.digest


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
