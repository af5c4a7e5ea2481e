"""The collector's contract: when it returns None, what is configuration, what stays light."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from in_toto.models.metadata import Metadata
from in_toto.verifylib import in_toto_verify

from fleetgate.errors import ConfigError
from fleetgate.evidence.provenance import COLLECTOR, _guarded

from support_intoto import MODEL, Release, key_dict, sha256_hex


def test_fact_name_and_never_cached(release: Release) -> None:
    release.chain()
    release.layout()
    assert COLLECTOR.fact == "provenance"
    assert COLLECTOR.cache_key(release.context()) is None


def test_none_without_trust_provenance_section_or_artifact(release: Release) -> None:
    release.chain()
    release.layout()
    context = release.context()
    assert COLLECTOR.collect(dataclasses.replace(context, trust=None)) is None
    assert COLLECTOR.collect(dataclasses.replace(context, artifact=None)) is None
    assert context.trust is not None
    no_section = dataclasses.replace(context.trust, provenance=None)
    assert COLLECTOR.collect(dataclasses.replace(context, trust=no_section)) is None


@pytest.mark.parametrize(
    ("section", "said"),
    [
        ({"layout": "layouts/release.layout"}, "layoutKeys"),
        ({"layoutKeys": ["k.pub"]}, "provenance"),
        ({"layout": "l", "layoutKeys": ["k"], "extra": 1}, "extra"),
        ({"slsa": {"statement": "{artifact}.json"}}, "provenance.slsa"),
        ({"slsa": {"trustedRoot": "r.json"}}, "identities"),
        ({"slsa": {"trustedRoot": "r", "identities": {"anyOf": [], "allOf": []}}}, "identities"),
        ({"slsa": {"trustedRoot": "r", "identities": {"anyOf": [{"identity": "a"}]}}}, "issuer"),
        ({"layout": "l", "layoutKeys": ["k"], "links": "{artefact_dir}/x"}, "unknown placeholder"),
        ({}, "provenance"),
    ],
)
def test_bad_trust_section_is_a_config_error(release: Release, section: dict[str, Any], said: str) -> None:
    release.artifact_path.write_bytes(MODEL)
    release.provenance.update(section)
    with pytest.raises(ConfigError, match=said.replace("{", r"\{")):
        release.collect()


@pytest.mark.parametrize(
    "settings",
    [{"maxMetadataBytes": 10}, {"maxMetadataBytes": True}, {"maxMetadataBytes": "1"}, {"other": 1}],
)
def test_bad_settings_are_a_config_error(release: Release, settings: dict[str, Any]) -> None:
    release.chain()
    release.layout()
    release.settings.update(settings)
    with pytest.raises(ConfigError, match=r"fleetgate.yaml: evidence\.provenance\."):
        release.collect()


def test_unreadable_layout_is_a_config_error(release: Release) -> None:
    release.chain()
    release.layout()
    release.provenance["layout"] = "layouts/missing.layout"
    with pytest.raises(ConfigError, match="missing.layout: cannot read the in-toto layout"):
        release.collect()


def test_layout_that_is_not_a_layout_is_a_config_error(release: Release) -> None:
    release.chain()
    release.layout()
    (release.trust_dir / "layouts" / "release.layout").write_text("{}")
    with pytest.raises(ConfigError, match="not a signed in-toto layout"):
        release.collect()


def test_bad_layout_key_is_a_config_error(release: Release) -> None:
    release.chain()
    release.layout()
    (release.trust_dir / "keys" / "owner.pub").write_text("-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(ConfigError, match="owner.pub: not a usable PEM public key"):
        release.collect()


def test_unexpected_library_exception_becomes_a_failed_outcome() -> None:
    def broken() -> Any:
        raise RuntimeError("boom\nsecond line")

    outcome = _guarded(broken)
    assert outcome.status == "failed"
    assert outcome.reason == "provenance verification failed (RuntimeError): boom second line"


def test_in_toto_itself_passes_a_lax_layout_with_a_swapped_model(release: Release) -> None:
    """Why lax layouts are refused: without a trailing DISALLOW, in-toto 3.1.0 accepts the swap."""
    release.chain()
    release.pipeline.write("model.onnx", b"swapped before evaluation")
    release.pipeline.record("evaluate")
    release.layout(lax=True)
    owner = release.keys.owner
    metadata = Metadata.load(str(release.trust_dir / "layouts" / "release.layout"))
    owner_keys = {owner.public_key.keyid: key_dict(owner)}
    summary = in_toto_verify(metadata, owner_keys, str(release.pipeline.link_dir))
    # no exception: the swapped model is the chain's final product as far as in-toto is concerned
    assert summary.products["model.onnx"]["sha256"] == sha256_hex(b"swapped before evaluation")
    release.artifact_path.write_bytes(b"swapped before evaluation")
    fact = release.collect()
    assert fact["status"] == "failed" and "DISALLOW" in fact["reason"]


def test_importing_the_collector_loads_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys, fleetgate.evidence.provenance\n"
        "heavy = ('in_toto', 'securesystemslib', 'sigstore', 'model_signing')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert result.stdout.strip() == "[]"
