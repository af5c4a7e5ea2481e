"""The trust file's ``signature`` section and the collector's settings, checked as they are read."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.evidence._settings import bounded_int, checked_settings
from fleetgate.evidence.interface import TrustConfig
from fleetgate.evidence.trust import check_section

__all__ = ["DEFAULT_BUNDLES", "SCHEMA", "SignaturePolicy", "file_digest", "load_policy", "max_bundle_bytes"]

SCHEMA = "signature.schema.json"
DEFAULT_BUNDLES = {"model-signing": "{artifact}.sig", "sigstore": "{artifact}.sigstore.json"}
# A bundle is a few kilobytes: one certificate, one log entry, one statement.
_DEFAULT_MAX_BUNDLE = 1 << 20
_LIMIT_MAX_BUNDLE = 16 << 20
_SETTINGS = frozenset({"maxBundleBytes"})
# Trust material each method reads; naming another method's material is a mistake worth a clear message.
_MATERIAL_KEYS = {
    "keyless": {"trustedRoot", "identities"},
    "key": {"publicKeys"},
    "certificate": {"certificateChain"},
}


@dataclass(frozen=True)
class SignaturePolicy:
    """What a valid signature is, with every path resolved against the trust file's folder."""

    format: str  # "model-signing" | "sigstore"
    method: str  # "keyless" | "key" | "certificate"
    bundle: str  # template relative to the artifact's folder; "{artifact}" is its file name
    trusted_root: Path | None
    identities: Mapping[str, Any] | None
    public_keys: tuple[Path, ...]
    certificate_chain: tuple[Path, ...]

    def materials(self) -> tuple[Path, ...]:
        """Every trust material file the verdict depends on."""
        root = (self.trusted_root,) if self.trusted_root is not None else ()
        return root + self.public_keys + self.certificate_chain


def load_policy(trust: TrustConfig) -> SignaturePolicy:
    """The ``signature`` section of ``trust`` as a policy; ConfigError naming the field when invalid."""
    _check_unused_keys(trust)
    section = check_section(trust, "signature", SCHEMA)
    format_ = str(section["format"])
    template = str(section.get("bundle", DEFAULT_BUNDLES[format_]))
    _check_template(trust.path, template)
    trusted_root = section.get("trustedRoot")
    return SignaturePolicy(
        format=format_,
        method=str(section["method"]),
        bundle=template,
        trusted_root=trust.resolve(trusted_root, "trusted root") if isinstance(trusted_root, str) else None,
        identities=section.get("identities"),
        public_keys=tuple(trust.resolve(p, "public key") for p in section.get("publicKeys", ())),
        certificate_chain=tuple(
            trust.resolve(p, "certificate chain") for p in section.get("certificateChain", ())
        ),
    )


def max_bundle_bytes(settings: Mapping[str, Any]) -> int:
    """The bundle size cap from ``evidence.signature`` settings; ConfigError on a bad value."""
    checked = checked_settings(settings, "signature", _SETTINGS)
    return bounded_int(checked, "signature", "maxBundleBytes", _DEFAULT_MAX_BUNDLE, 1024, _LIMIT_MAX_BUNDLE)


def file_digest(path: Path) -> str:
    """``"sha256:<hex>"`` of a trust material file; ConfigError when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the trust material ({exc.strerror})") from None


def _check_unused_keys(trust: TrustConfig) -> None:
    section = trust.signature
    method = section.get("method") if isinstance(section, Mapping) else None
    if not isinstance(section, Mapping) or method not in _MATERIAL_KEYS:
        return  # the schema names the problem
    for key in sorted(set().union(*_MATERIAL_KEYS.values()) - _MATERIAL_KEYS[method]):
        if key in section:
            raise ConfigError(f"{trust.path}: signature.{key}: not used by method {method!r}")


def _check_template(trust_path: Path, template: str) -> None:
    # The schema refuses these too; checked again here because a bundle outside the
    # artifact's folder could be any file an attacker can name.
    probe = template.replace("{artifact}", "model")
    parts = PurePosixPath(probe).parts
    if (
        "\\" in probe
        or "\x00" in probe
        or probe.startswith("/")
        or ".." in parts
        or (len(probe) > 1 and probe[1] == ":")
        or "{" in probe
        or "}" in probe
    ):
        raise ConfigError(
            f"{trust_path}: signature.bundle: {template!r} must be a relative path inside the "
            "artifact's folder ({artifact} is the only placeholder)"
        )
