"""The ``evidence:`` and ``trust:`` sections of fleetgate.yaml: defaults, every key, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.config import DEFAULT_CACHE, FACTS, EvidenceConfig, load_config
from fleetgate.errors import ConfigError
from fleetgate.evidence.artifact import Download
from fleetgate.files import GateFiles

from support import line_of

FULL = """\
stage: pre-merge
trust: ../trust/trust.yaml
evidence:
  collect: [artifact, signature, model]
  artifactRoot: mirror
  download:
    enabled: true
    maxBytes: 1048576
    timeoutSeconds: 5
    caBundle: certs/registry-ca.pem
  cache: .cache/fleetgate
  signature:
    maxBundleBytes: 65536
  provenance:
    maxMetadataBytes: 2048
  model:
    maxBytes: 100
  latency:
    repeats: 2
    timedRuns: 10
  fairness:
    batchRows: 500
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "fleetgate.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    evidence = load_config(GateFiles.on_disk(tmp_path)).evidence
    assert evidence == EvidenceConfig()
    assert (
        evidence.collect
        == FACTS
        == (
            "artifact",
            "signature",
            "provenance",
            "model",
            "latency",
            "fairness",
            "cost",
            "telemetry",
            "rollback",
        )
    )
    assert evidence.artifact_root is None and evidence.trust is None
    assert evidence.cache == DEFAULT_CACHE  # the check puts it next to the repository's git data
    assert evidence.download == Download(
        enabled=False, max_bytes=2 << 30, timeout_seconds=60.0, ca_bundle=None
    )
    assert evidence.collectors == {}


def test_defaults_with_a_config_file_that_says_nothing_about_evidence(tmp_path: Path) -> None:
    write(tmp_path, "stage: pre-deploy\n")
    assert load_config(GateFiles.on_disk(tmp_path)).evidence == EvidenceConfig()


def test_an_empty_evidence_section_keeps_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, "evidence: {}\n")
    assert load_config(GateFiles.on_disk(tmp_path)).evidence == EvidenceConfig()


def test_every_key_is_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root / "ops", FULL)
    evidence = load_config(GateFiles.on_disk(root), "ops/fleetgate.yaml").evidence
    assert evidence.collect == ("artifact", "signature", "model")
    assert evidence.artifact_root == root / "ops" / "mirror"
    assert evidence.download == Download(enabled=True, max_bytes=1048576, timeout_seconds=5.0)
    assert evidence.ca_bundle == "ops/certs/registry-ca.pem"  # a gate file: a repository path
    assert isinstance(evidence.download.timeout_seconds, float)
    assert evidence.cache == root / "ops" / ".cache" / "fleetgate"
    assert evidence.trust == "trust/trust.yaml"  # relative to the config's folder, normalised
    assert evidence.collectors == {
        "signature": {"maxBundleBytes": 65536},
        "provenance": {"maxMetadataBytes": 2048},
        "model": {"maxBytes": 100},
        "latency": {"repeats": 2, "timedRuns": 10},
        "fairness": {"batchRows": 500},
    }


@pytest.mark.parametrize("trust", ["../trust.yaml", "/etc/trust.yaml", "a/../../trust.yaml"])
def test_gate_file_paths_stay_inside_the_repository(tmp_path: Path, trust: str) -> None:
    write(tmp_path, f"trust: {trust}\n")
    with pytest.raises(ConfigError, match=r"fleetgate.yaml:1: trust: .*(leaves the repository|absolute)"):
        load_config(GateFiles.on_disk(tmp_path))


def test_an_absolute_artifact_root_stays_as_written(tmp_path: Path) -> None:
    write(tmp_path / "ops", "trust: trust.yaml\nevidence:\n  artifactRoot: /srv/mirror\n")
    evidence = load_config(GateFiles.on_disk(tmp_path), "ops/fleetgate.yaml").evidence
    assert evidence.trust == "ops/trust.yaml"
    assert evidence.artifact_root == Path("/srv/mirror")


@pytest.mark.parametrize(
    ("cache", "expected"),
    [("false", None), ("true", DEFAULT_CACHE), ("cache-folder", "cache-folder")],
)
def test_the_cache_setting(tmp_path: Path, cache: str, expected: Path | str | None) -> None:
    write(tmp_path, f"evidence:\n  cache: {cache}\n")
    found = load_config(GateFiles.on_disk(tmp_path)).evidence.cache
    assert found == (tmp_path.resolve() / expected if isinstance(expected, str) else expected)


def test_an_empty_collect_list_gathers_nothing(tmp_path: Path) -> None:
    write(tmp_path, "evidence:\n  collect: []\n")
    assert load_config(GateFiles.on_disk(tmp_path)).evidence.collect == ()


def test_collect_keeps_the_order_written(tmp_path: Path) -> None:
    # The check orders facts itself; the config only says which ones.
    write(tmp_path, "evidence:\n  collect: [model, artifact]\n")
    assert load_config(GateFiles.on_disk(tmp_path)).evidence.collect == ("model", "artifact")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "evidence:\n  latency:\n    repeat: 3\n",
            "fleetgate.yaml:3: unknown setting 'evidence.latency.repeat' "
            "(did you mean 'evidence.latency.repeats'?)",
        ),
        (
            "evidence:\n  fairness:\n    treshold: 0.4\n",
            "fleetgate.yaml:3: unknown setting 'evidence.fairness.treshold' "
            "(did you mean 'evidence.fairness.threshold'?)",
        ),
        (
            "evidence:\n  signature:\n    maxBundleBytes: 1\n",
            "fleetgate.yaml:3: evidence.signature.maxBundleBytes: 1",
        ),
    ],
)
def test_collector_settings_are_checked_at_load_even_with_no_artifact(
    tmp_path: Path, text: str, said: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(GateFiles.on_disk(tmp_path))
    assert caught.value.message.startswith(said)


def test_collector_settings_reach_their_collector(tmp_path: Path) -> None:
    write(tmp_path, "evidence:\n  latency:\n    repeats: 2\n")
    assert load_config(GateFiles.on_disk(tmp_path)).evidence.collectors == {"latency": {"repeats": 2}}


@pytest.mark.parametrize(
    ("text", "needle", "said"),
    [
        (
            "evidence:\n  colect: [model]\n",
            "colect",
            "unknown setting 'evidence.colect' (did you mean 'evidence.collect'?)",
        ),
        ("evidence:\n  download:\n    proxy: x\n", "proxy", "unknown setting 'evidence.download.proxy'"),
        (
            "evidence:\n  artifact: {}\n",
            "artifact",
            "unknown setting 'evidence.artifact' (did you mean 'evidence.artifactRoot'?)",
        ),
        ("stage: pre-merge\ntrusts: t.yaml\n", "trusts", "unknown setting 'trusts' (did you mean 'trust'?)"),
    ],
)
def test_an_unknown_key_is_an_error_at_its_line(tmp_path: Path, text: str, needle: str, said: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(GateFiles.on_disk(tmp_path))
    assert caught.value.message == f"{path.name}:{line_of(text, needle)}: {said}"


@pytest.mark.parametrize(
    ("text", "needle", "said"),
    [
        (
            "evidence:\n  collect: [artefact]\n",
            "collect",
            r"evidence\.collect\[0\]: 'artefact' is not one of",
        ),
        ("evidence:\n  collect: [model, model]\n", "collect", r"evidence\.collect: .* non-unique elements"),
        ("evidence:\n  collect: model\n", "collect", r"evidence\.collect: 'model' is not of type 'array'"),
        (
            "evidence:\n  artifactRoot: ''\n",
            "artifactRoot",
            r"evidence\.artifactRoot: '' should be non-empty",
        ),
        (
            "evidence:\n  download:\n    enabled: 'yes'\n",
            "enabled",
            r"download\.enabled: 'yes' is not of type",
        ),
        ("evidence:\n  download:\n    maxBytes: 0\n", "maxBytes", r"download\.maxBytes: 0 is less than"),
        (
            "evidence:\n  download:\n    maxBytes: 1.5\n",
            "maxBytes",
            r"download\.maxBytes: 1\.5 is not of type",
        ),
        (
            "evidence:\n  download:\n    timeoutSeconds: 0\n",
            "timeoutSeconds",
            r"timeoutSeconds: 0 is less than or",
        ),
        (
            "evidence:\n  download:\n    timeoutSeconds: true\n",
            "timeoutSeconds",
            r"True is not of type 'number'",
        ),
        ("evidence:\n  download:\n    caBundle: 3\n", "caBundle", r"download\.caBundle: 3 is not of type"),
        ("evidence:\n  download: true\n", "download", r"evidence\.download: True is not of type 'object'"),
        ("evidence:\n  cache: ''\n", "cache", r"evidence\.cache: '' should be non-empty"),
        ("evidence:\n  cache: 3\n", "cache", r"evidence\.cache: 3 is not of type"),
        ("evidence:\n  latency: [1]\n", "latency", r"evidence\.latency: \[1\] is not of type 'object'"),
        ("evidence: [model]\n", "evidence", r"evidence: \['model'\] is not of type 'object'"),
        ("stage: pre-merge\ntrust: 5\n", "trust", r"trust: 5 is not of type 'string'"),
        ("stage: pre-merge\ntrust: ''\n", "trust", r"trust: '' should be non-empty"),
    ],
)
def test_a_bad_value_is_an_error_at_its_line(tmp_path: Path, text: str, needle: str, said: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=said) as caught:
        load_config(GateFiles.on_disk(tmp_path))
    assert caught.value.message.startswith(f"{path.name}:{line_of(text, needle)}: ")
