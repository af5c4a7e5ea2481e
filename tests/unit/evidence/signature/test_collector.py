"""The collector's contract: when it returns None, absent, raises; hostile paths; cache key; imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.signature import COLLECTOR

from support_sigstore import IN_TOTO_PAYLOAD_TYPE, PrivateSigstore, model_signing_statement

HEAVY = (
    "onnx", "onnxruntime", "numpy", "pandas", "fairlearn", "sklearn", "sigstore",
    "model_signing", "in_toto", "securesystemslib", "OpenSSL",
)  # fmt: skip


def _sign(workspace: Any, instance: PrivateSigstore) -> bytes:
    statement = model_signing_statement(workspace.model)
    return instance.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement, workspace.identity, workspace.issuer)


@pytest.mark.parametrize("module", ["fleetgate.evidence.signature", "fleetgate.evidence._sigstore"])
def test_importing_the_collector_loads_no_heavy_library(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in %r if m in sys.modules))"
    engine = str(Path(__file__).resolve().parents[4] / "engine")
    env = {**os.environ, "PYTHONPATH": engine}
    result = subprocess.run(
        [sys.executable, "-c", code % (HEAVY,)], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == ""
    assert COLLECTOR.fact == "signature"


def test_no_trust_file_or_section_or_artifact_gives_no_fact(workspace: Any) -> None:
    identities = {"anyOf": [{"identity": "a", "issuer": "b"}]}
    section = {"format": "sigstore", "method": "keyless", "trustedRoot": "x", "identities": identities}
    with_section = workspace.context(section)
    assert COLLECTOR.collect(CollectorContext(manifest={}, previous=None, root=workspace.root)) is None
    assert COLLECTOR.collect(workspace.context(None)) is None
    no_artifact = CollectorContext(manifest={}, previous=None, root=workspace.root, trust=with_section.trust)
    assert COLLECTOR.collect(no_artifact) is None


def test_missing_bundle_is_absent(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    context = workspace.context(workspace.keyless(private_sigstore))
    fact = COLLECTOR.collect(context)
    assert fact is not None
    assert fact["status"] == "absent"
    assert fact["reason"] == "no signature bundle at models/model.onnx.sig"
    assert fact["bundle_digest"] is None and fact["signer"] is None
    assert fact["trusted_root"].startswith("sha256:")
    assert fact["trust_config"] == context.trust.digest


@pytest.mark.parametrize(
    "template", ["../{artifact}.sig", "/etc/passwd", "a/../../x.sig", "..\\x.sig", "{other}.sig"]
)
def test_bundle_template_outside_the_folder_is_refused(workspace: Any, template: str) -> None:
    section = {"format": "model-signing", "method": "key", "publicKeys": ["k.pub"], "bundle": template}
    with pytest.raises(ConfigError, match=r"signature\.bundle"):
        COLLECTOR.collect(workspace.context(section))


def test_symlinked_bundle_leading_outside_is_refused(
    workspace: Any, private_sigstore: PrivateSigstore
) -> None:
    outside = workspace.root / "elsewhere.sig"
    outside.write_bytes(_sign(workspace, private_sigstore))
    (workspace.model.parent / "model.onnx.sig").symlink_to(outside)
    with pytest.raises(EvidenceError, match="leads outside the artifact's folder"):
        COLLECTOR.collect(workspace.context(workspace.keyless(private_sigstore)))


def test_oversized_bundle_is_refused(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(b" " * 5000)
    context = workspace.context(workspace.keyless(private_sigstore), settings={"maxBundleBytes": 4096})
    with pytest.raises(EvidenceError, match="larger than 4096 bytes"):
        COLLECTOR.collect(context)


@pytest.mark.parametrize("bundle_format", ["model-signing", "sigstore"])
def test_the_bundle_cap_setting_also_governs_keyless_bundles(
    workspace: Any, private_sigstore: PrivateSigstore, bundle_format: str
) -> None:
    # A valid bundle padded past 1 MiB: allowed by maxBundleBytes, so it must verify.
    if bundle_format == "model-signing":
        bundle = _sign(workspace, private_sigstore)
    else:
        bundle = private_sigstore.sign_artifact(
            workspace.model.read_bytes(), workspace.identity, workspace.issuer
        )
    name = "model.onnx.sig" if bundle_format == "model-signing" else "model.onnx.sigstore.json"
    workspace.write_bundle(bundle + b" " * (1 << 20), name)
    section = {**workspace.keyless(private_sigstore), "format": bundle_format}
    fact = COLLECTOR.collect(workspace.context(section, settings={"maxBundleBytes": 2 << 20}))
    assert fact is not None and fact["status"] == "verified", fact


def test_bundle_that_is_a_folder_is_refused(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    (workspace.model.parent / "model.onnx.sig").mkdir()
    with pytest.raises(EvidenceError, match="not a regular file"):
        COLLECTOR.collect(workspace.context(workspace.keyless(private_sigstore)))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"format": "model-signing"}, "'method' is a required property"),
        ({"format": "sigstore", "method": "key", "publicKeys": ["k.pub"]}, "signature.method"),
        ({"format": "model-signing", "method": "keyless", "trustedRoot": "r.json"}, "identities"),
        ({"format": "model-signing", "method": "key"}, "publicKeys"),
        ({"format": "model-signing", "method": "certificate", "certificateChain": []}, "certificateChain"),
        ({"format": "model-signing", "method": "key", "publicKeys": ["k"], "trustedRoot": "r"},
         "signature.trustedRoot: not used by method 'key'"),
        ({"format": "model-signing", "method": "key", "publicKeys": ["k"], "extra": 1}, "extra"),
        ({"format": "gpg", "method": "key", "publicKeys": ["k"]}, "signature.format"),
        (
            {"format": "sigstore", "method": "keyless", "trustedRoot": "r",
             "identities": {"anyOf": [{"identity": "a"}]}},
            "issuer",
        ),
        (
            {"format": "sigstore", "method": "keyless", "trustedRoot": "r",
             "identities": {"anyOf": [], "allOf": []}},
            "identities",
        ),
    ],
)  # fmt: skip
def test_bad_trust_section_is_a_config_error(workspace: Any, section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        COLLECTOR.collect(workspace.context(section))


def test_unreadable_or_bad_trusted_root_is_a_config_error(
    workspace: Any, private_sigstore: PrivateSigstore
) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore))
    with pytest.raises(ConfigError, match="cannot read the trusted root"):
        COLLECTOR.collect(
            workspace.context(workspace.keyless(private_sigstore, trustedRoot="roots/none.json"))
        )
    (workspace.trust_dir / "roots" / "bad.json").write_text('{"mediaType": "nope"}')
    with pytest.raises(ConfigError, match="not a usable sigstore trusted root"):
        COLLECTOR.collect(
            workspace.context(workspace.keyless(private_sigstore, trustedRoot="roots/bad.json"))
        )


@pytest.mark.parametrize("settings", [{"maxBundleBytes": 10}, {"maxBundleBytes": True}, {"cache": True}])
def test_bad_settings_are_a_config_error(
    workspace: Any, private_sigstore: PrivateSigstore, settings: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match=r"fleetgate.yaml: evidence\.signature\."):
        COLLECTOR.collect(workspace.context(workspace.keyless(private_sigstore), settings=settings))


def test_cache_key_follows_artifact_bundle_trust_and_root(
    workspace: Any, private_sigstore: PrivateSigstore, foreign_sigstore: PrivateSigstore
) -> None:
    section = workspace.keyless(private_sigstore)
    workspace.write_bundle(_sign(workspace, private_sigstore))
    first = COLLECTOR.cache_key(workspace.context(section))
    assert first is not None and first == COLLECTOR.cache_key(workspace.context(section))

    workspace.write_bundle(_sign(workspace, private_sigstore))  # a new bundle, same signer
    second = COLLECTOR.cache_key(workspace.context(section))
    assert second is not None and second["bundle_digest"] != first["bundle_digest"]

    workspace.model.write_bytes(workspace.model.read_bytes() + b"!")
    third = COLLECTOR.cache_key(workspace.context(section))
    assert third is not None and third["artifact"] != second["artifact"]

    fourth = COLLECTOR.cache_key(workspace.context({**section, "bundle": "{artifact}.sig"}))
    assert fourth is not None and fourth["trust_config"] != third["trust_config"]

    workspace.pin_root(foreign_sigstore)  # same trust file, different pinned root bytes
    fifth = COLLECTOR.cache_key(workspace.context({**section, "bundle": "{artifact}.sig"}))
    assert fifth is not None and fifth["materials"] != fourth["materials"]
    assert COLLECTOR.cache_key(workspace.context(None)) is None
