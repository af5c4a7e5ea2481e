"""The outcome of one verification, shared by the keyless and the key/certificate verifiers."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from fleetgate.evidence.interface import Artifact

__all__ = ["Verdict", "artifact_names"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one verification; ``reason`` is set exactly when it failed."""

    verified: bool
    signer: str | None = None
    issuer: str | None = None
    log_index: int | None = None
    trusted_root: str | None = None  # "sha256:<hex>" of the pinned root (keyless only)
    reason: str | None = None


def artifact_names(artifact: Artifact) -> set[str]:
    """The file names a signed resource may carry: the local file's and the URI's last segment."""
    names = {artifact.path.name}
    uri_name = urlparse(artifact.uri).path.rsplit("/", 1)[-1]
    if uri_name:
        names.add(uri_name)
    return names
