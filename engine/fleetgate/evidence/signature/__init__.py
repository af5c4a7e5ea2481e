"""The ``signature`` fact: is the artifact signed by someone the trust file trusts?

The trust file's ``signature`` section (``attestations/signature.schema.json``) chooses the
kind: an OpenSSF model signature (keyless against a pinned sigstore root, an EC key, or an
X.509 chain) or a plain sigstore bundle (keyless). The bundle lives beside the artifact.

The fact::

    {"status": "verified" | "failed" | "absent", "format": ..., "method": ...,
     "signer": str | None, "issuer": str | None (keyless only), "bundle": str,
     "bundle_digest": "sha256:..." | None, "rekor_log_index": int | None,
     "trusted_root": "sha256:..." (keyless only), "trust_config": "sha256:...",
     "reason": str (failed and absent only)}

``collect`` returns ``None`` when there is no trust file, no ``signature`` section or no local
artifact; raises ConfigError for a bad section, setting or unreadable trust material, and
EvidenceError for a bundle that is hostile (outside the artifact's folder, too large).
Only a fully successful verification yields ``"verified"``. This module stays light: sigstore
and model-signing are imported inside :meth:`SignatureCollector.collect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence._kit import shown
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.signature._bundle import BundleFile, read_bundle
from fleetgate.evidence.signature._config import (
    SignaturePolicy,
    file_digest,
    load_policy,
    max_bundle_bytes,
)

__all__ = ["COLLECTOR", "SignatureCollector"]


class SignatureCollector:
    """Verifies the artifact's signature bundle against the trust file's ``signature`` section."""

    @property
    def fact(self) -> str:
        return "signature"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Artifact digest and name, bundle digest, trust file digest and every trust material digest.

        ``None`` (never cache) when any of them cannot be read: the collect run will say why.
        """
        if context.trust is None or context.trust.signature is None or context.artifact is None:
            return None
        try:
            policy = load_policy(context.trust)
            bundle = read_bundle(policy.bundle, context.artifact, max_bundle_bytes(context.settings))
            shown = context.trust.files.shown
            materials = {shown(path): file_digest(path) for path in policy.materials()}
        except Exception:  # anything unreadable: do not cache, let collect() report it
            return None
        return {
            "artifact": context.artifact.digest,
            "artifact_name": context.artifact.path.name,
            "artifact_uri": context.artifact.uri,
            "bundle": str(bundle.path),
            "bundle_digest": bundle.digest,
            "trust_config": context.trust.digest,
            "materials": materials,
            "settings": dict(context.settings),
        }

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """The signature fact (see the module docstring for when it is None or raises)."""
        max_bytes = max_bundle_bytes(context.settings)  # a bad setting is an error even when unused
        trust, artifact = context.trust, context.artifact
        if trust is None or trust.signature is None or artifact is None:
            return None
        policy = load_policy(trust)
        bundle = read_bundle(policy.bundle, artifact, max_bytes)
        fact = _base_fact(policy, bundle, context)
        if bundle.data is None:
            fact.update(status="absent", reason=f"no signature bundle at {fact['bundle']}")
            if policy.trusted_root is not None:
                fact["trusted_root"] = file_digest(policy.trusted_root)
            return fact
        # Heavy imports (sigstore, model-signing, pyOpenSSL) only once a bundle is there.
        from fleetgate.evidence.signature._verify import verify

        verdict = verify(policy, bundle.data, artifact, max_bytes)
        fact["status"] = "verified" if verdict.verified else "failed"
        fact["signer"] = verdict.signer
        fact["rekor_log_index"] = verdict.log_index
        if policy.method == "keyless":
            fact["issuer"] = verdict.issuer
            fact["trusted_root"] = verdict.trusted_root
        if not verdict.verified:
            fact["reason"] = verdict.reason or "verification failed"
        return fact


def _base_fact(policy: SignaturePolicy, bundle: BundleFile, context: CollectorContext) -> dict[str, Any]:
    assert context.trust is not None
    fact: dict[str, Any] = {
        "status": "absent",
        "format": policy.format,
        "method": policy.method,
        "signer": None,
        "bundle": shown(bundle.path, context.root),
        "bundle_digest": bundle.digest,
        "rekor_log_index": None,
        "trust_config": context.trust.digest,
    }
    if policy.method == "keyless":
        fact["issuer"] = None
        fact["trusted_root"] = None
    return fact


COLLECTOR = SignatureCollector()
