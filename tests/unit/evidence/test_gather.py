"""gather_facts with the real collectors on real files: the artifact fact, collector failures
and the fact cache (manifests read into a ChangeSet as the diff stage builds it; real ONNX models
timed by real onnxruntime child processes, few and short runs)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.gather import gather_facts
from fleetgate.evidence.interface import SILENT, CollectorContext, Progress, TrustConfig
from fleetgate.evidence.trust import load_trust_file

from support import GitRepo
from support_gather import (
    FAST_LATENCY,
    change,
    changeset,
    deployment,
    digest,
    evidence_run,
    gather_one,
)
from support_sigstore import write_public_key

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
    # A collector given as an object is how a test supplies one that fails on demand.
    run = evidence_run(
        repo.root, ("artifact", collector.name), cache=cache, supplied={collector.name: collector}
    )
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
        supplied={"model": collector},
    )
    gather_facts(changeset(change(deployment("a", "file:models/a.onnx"))), run)
    [context] = collector.calls
    assert context.settings == {"maxBytes": 5}
    assert context.trust is not None and run.trust is not None and context.trust.digest == run.trust.digest
    assert context.root == repo.root and context.previous is None
    assert context.manifest["spec"]["modelUri"] == "file:models/a.onnx"


# -- the fact cache -------------------------------------------------------------------------------


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
    mac = entry.read_text().partition("\n")[0]
    entry.write_text(f"{mac}\n{json.dumps(forged)}")
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
