"""Verification of one bundle by the kind the trust file names (imported lazily: heavy imports).

* model-signing, keyless: sigstore's Verifier on the pinned root checks certificate, SCT,
  identity, log entry and DSSE signature; the statement is then checked against the digest.
* model-signing, key / certificate: model-signing's own key and certificate verifiers check
  the DSSE signature (and the chain); the statement is then checked against the digest.
* sigstore: sigstore's Verifier checks the message signature over the pre-computed digest.

Nothing here re-reads the artifact: every check uses ``artifact.digest``. Trust material that
cannot be loaded is a ConfigError; everything that goes wrong with the bundle is a failed
:class:`Verdict`, never an exception and never a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.evidence._kit import Refused, one_line
from fleetgate.evidence._sigstore import (
    TrustedRootHandle,
    load_trusted_root,
    verify_artifact_bundle,
    verify_dsse_with,
)
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.signature._config import SignaturePolicy
from fleetgate.evidence.signature._statement import check_statement
from fleetgate.evidence.signature._verdict import Verdict

__all__ = ["Verdict", "verify"]


def verify(policy: SignaturePolicy, bundle: bytes, artifact: Artifact, max_bytes: int) -> Verdict:
    """Verify ``bundle`` over ``artifact`` as ``policy`` says; ConfigError for unusable trust material.

    ``max_bytes`` is the configured bundle cap (``evidence.signature.maxBundleBytes``).
    """
    handle, root_digest = (None, None)
    if policy.method == "keyless":
        assert policy.trusted_root is not None  # the schema requires it for keyless
        handle, root_digest = load_trusted_root(policy.trusted_root)
    check = _dispatch(policy, handle, max_bytes)
    try:
        verdict = check(bundle, artifact)
    except Refused as failure:
        return Verdict(False, trusted_root=root_digest, reason=failure.reason)
    except ConfigError:
        raise  # a trust file problem stops the check (exit 2), it is not the bundle's fault
    except Exception as exc:  # fail closed: a library surprise is a failed verification
        reason = one_line(f"verification failed unexpectedly: {type(exc).__name__}: {exc}")
        return Verdict(False, trusted_root=root_digest, reason=reason)
    return Verdict(True, verdict.signer, verdict.issuer, verdict.log_index, root_digest)


def _dispatch(
    policy: SignaturePolicy, handle: TrustedRootHandle | None, max_bytes: int
) -> Callable[[bytes, Artifact], Verdict]:
    identities = policy.identities or {}
    if handle is not None and policy.format == "sigstore":
        return lambda data, artifact: _plain_sigstore(handle, data, artifact, identities, max_bytes)
    if handle is not None:
        return lambda data, artifact: _keyless_model(handle, data, artifact, identities, max_bytes)
    # model-signing and pyOpenSSL are imported only for the methods that use them.
    from fleetgate.evidence.signature import _traditional

    if policy.method == "key":
        keys = [(path, _traditional.load_public_key(path)) for path in policy.public_keys]
        return lambda data, artifact: _traditional.verify_with_keys(keys, data, artifact)
    chain = _traditional.checked_chain(policy.certificate_chain)
    return lambda data, artifact: _traditional.verify_with_certificates(chain, data, artifact)


def _plain_sigstore(
    handle: TrustedRootHandle, data: bytes, artifact: Artifact, identities: Any, max_bytes: int
) -> Verdict:
    hex_digest = artifact.digest.removeprefix("sha256:")
    verified = verify_artifact_bundle(handle, data, hex_digest, identities, max_bytes)
    return Verdict(True, verified.signer, verified.issuer, verified.log_index)


def _keyless_model(
    handle: TrustedRootHandle, data: bytes, artifact: Artifact, identities: Any, max_bytes: int
) -> Verdict:
    verified = verify_dsse_with(handle, data, identities, max_bytes)
    check_statement(verified.payload_type, verified.payload, artifact)
    return Verdict(True, verified.signer, verified.issuer, verified.log_index)
