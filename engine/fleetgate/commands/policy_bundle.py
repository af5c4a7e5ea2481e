"""``fleetgate policy bundle build``, and ``check --policy-bundle``: the library as an OPA bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetgate._read import read_capped
from fleetgate.errors import FleetgateError, PolicyError
from fleetgate.policy.library import PolicyLibrary

__all__ = ["build_policy_bundle", "bundle_context", "bundle_library", "read_key_file"]

_MAX_KEY = 64 * 1024


def read_key_file(path: Path, what: str) -> bytes:
    """A PEM key named on the command line: the operator's file, not a gate file."""
    return read_capped(path, _MAX_KEY, what, PolicyError)


def build_policy_bundle(
    cwd: Path,
    output: Path,
    sign_key: Path | None = None,
    key_id: str | None = None,
    config: Path | None = None,
) -> str:
    """Write the bundle of the repository's library (HEAD's config and policy folders) to
    ``output``; return its revision."""
    from fleetgate.commands.check import load_policies, repository_config
    from fleetgate.policy.bundle import build_bundle

    if (sign_key is None) != (key_id is None):
        raise PolicyError("--sign-key and --key-id go together")
    library = load_policies(repository_config(cwd, config))
    key = read_key_file(sign_key, "bundle signing key") if sign_key is not None else None
    data = build_bundle(library, key, key_id or "")
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise PolicyError(f"{output}: cannot write the bundle ({exc.strerror})") from None
    return library.revision


def bundle_library(cwd: Path, bundle: Path | None, key: Path | None) -> PolicyLibrary | None:
    """Only the signed bundle the operator named (``None``: the repository's library)."""
    if bundle is None:
        if key is not None:
            raise FleetgateError("--bundle-key needs --policy-bundle")
        return None
    if key is None:
        raise FleetgateError("--policy-bundle needs --bundle-key: only a verified bundle is evaluated")
    from fleetgate.policy.bundle import load_bundle

    return load_bundle(cwd / bundle, read_key_file(cwd / key, "bundle key"))


def bundle_context(library: PolicyLibrary) -> dict[str, Any]:
    """The decision names the bundle it was made with: its digest, revision and signer."""
    if library.bundle is None:
        return {}
    origin = library.bundle
    return {
        "policy_bundle": {"digest": library.revision, "revision": origin.revision, "signer": origin.signer}
    }
