"""in-toto layout verification: the artifact is the final product of a signed supply chain.

Import lazily (from inside ``collect``): it imports in-toto at top level.

The steps, in order:

1. read the layout and the owner keys named by the trust file (unreadable: ConfigError);
2. check the layout is signed by every owner key (an unknown signer fails);
3. refuse layouts with inspections: in-toto would run their commands inside the gate;
4. refuse layouts whose step rule lists do not end with ``["DISALLOW", "*"]``: in in-toto 3.1.0
   a failed MATCH rule only consumes nothing, so without a trailing DISALLOW a swapped
   artifact passes;
5. copy the link files the layout names out of the configured folder (size-capped, no
   symlinks, classic or DSSE, links only: a sub-layout or an in-toto Statement is refused)
   into a private folder, so in-toto reads exactly the bytes checked here;
6. run ``in_toto_verify`` on that folder (expiry, link signatures and thresholds, rules);
7. require the final step's product with the artifact's name to have the artifact's digest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from in_toto.exceptions import (
    LayoutExpiredError,
    LinkNotFoundError,
    RuleVerificationError,
    ThresholdVerificationError,
)
from in_toto.models.link import FILENAME_FORMAT
from in_toto.models.metadata import Metadata
from in_toto.verifylib import in_toto_verify

from fleetgate.errors import ConfigError
from fleetgate.evidence._kit import Refused, one_line, shown
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.provenance._config import (
    LayoutTrust,
    locate,
    read_evidence,
    read_trust_material,
)
from fleetgate.evidence.provenance._keys import in_toto_key_dict, load_public_key
from fleetgate.evidence.provenance._outcome import ABSENT, VERIFIED, Outcome, failed

__all__ = ["verify_layout"]

_DISALLOW_ALL = ("disallow", "*")
# Functionary keys verified locally by pyca/cryptography. Others are refused: a sigstore-oidc
# key would verify links online, a GPG key through a second, older code path.
_LOCAL_KEY_TYPES = frozenset({"ed25519", "ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "rsa"})
_GPG_SCHEME_PREFIX = "pgp+"
# A layout names one link per authorized functionary per step; more than this is not a layout
# anyone maintains, and it bounds the files read.
_MAX_LINK_FILES = 256


def verify_layout(trust: LayoutTrust, artifact: Artifact, root: Path, max_bytes: int) -> Outcome:
    """Verify the layout chain for ``artifact``; a failed or absent Outcome says what and where."""
    data = read_trust_material(trust.layout, "in-toto layout", max_bytes)
    keys = {key.keyid: in_toto_key_dict(key) for key in map(load_public_key, trust.layout_keys)}
    metadata = _parse_layout(data, trust.layout)
    layout = metadata.get_payload()
    details: dict[str, Any] = {
        "layout": trust.shown or shown(trust.layout, root),
        "layout_digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "layout_signers": sorted(keys),
        "steps": [step.name for step in layout.steps],
        "final_step": layout.steps[-1].name if layout.steps else None,
    }
    refusal = _signature_refusal(metadata, keys, trust.layout) or _unsafe_layout(layout)
    if refusal:
        return failed(refusal, details)
    try:
        link_dir = locate(trust.links, artifact, root)
        if not link_dir.is_dir():
            return Outcome(ABSENT, f"no in-toto links: {link_dir} is not a folder", details)
        with tempfile.TemporaryDirectory(prefix="fleetgate-links-") as private:
            _copy_links(layout, link_dir, Path(private), max_bytes)
            summary = _run_in_toto(metadata, keys, Path(private), trust.layout)
    except Refused as exc:
        return failed(exc.reason, details)
    return _final_product(summary.products, artifact, details)


def _parse_layout(data: bytes, path: Path) -> Any:
    """The layout as in-toto Metadata; a file that is not a signed layout is configuration."""
    try:
        metadata = Metadata.from_dict(json.loads(data))
        is_layout = metadata.get_payload().type_ == "layout"
    except Exception as exc:  # JSON, format and model errors all mean "not a signed layout"
        reason = f"{type(exc).__name__}: {one_line(exc)}"
        raise ConfigError(f"{path}: not a signed in-toto layout ({reason})") from None
    if not is_layout:
        raise ConfigError(f"{path}: holds an in-toto link, not a layout")
    return metadata


def _signature_refusal(metadata: Any, keys: Mapping[str, Any], path: Path) -> str | None:
    # Checked key by key (in_toto_verify checks them too) so the reason names the missing signer.
    for keyid, key in keys.items():
        try:
            metadata.verify_signature(key)
        except Exception:  # SignatureVerificationError, FormatError: either way not signed by it
            return f"layout {path.name} is not signed by trusted layout key {keyid}"
    return None


def _unsafe_layout(layout: Any) -> str | None:
    """Why the layout is refused before verification, or None."""
    if layout.inspect:
        names = ", ".join(str(i.name) for i in layout.inspect)
        return f"layout has inspections ({names}): refused, they would run commands inside the gate"
    if not layout.steps:
        return "layout has no steps"
    reasons = [_unsafe_key(keyid, key) for keyid, key in layout.keys.items()]
    reasons += [_unsafe_step(step) for step in layout.steps]
    return next((reason for reason in reasons if reason), None)


def _unsafe_key(keyid: str, key: Mapping[str, Any]) -> str | None:
    scheme = str(key.get("scheme", ""))
    gpg = scheme.startswith(_GPG_SCHEME_PREFIX) or "method" in key
    if gpg or key.get("keytype") not in _LOCAL_KEY_TYPES:
        shown = one_line(f"{key.get('keytype')}/{scheme}")
        return f"layout functionary key {keyid} has unsupported key type {shown!r}"
    return None


def _unsafe_step(step: Any) -> str | None:
    name = str(step.name)
    # The name becomes a file name inside the link folder.
    if not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        return f"layout step name {name!r} is not a plain file name"
    for kind, rules in (("material", step.expected_materials), ("product", step.expected_products)):
        last = tuple(str(part).lower() for part in rules[-1]) if rules else ()
        if last != _DISALLOW_ALL:
            return (
                f"layout step '{name}' {kind} rules do not end with DISALLOW *: "
                "refused, a lax layout lets a swapped artifact pass"
            )
    return None


def _copy_links(layout: Any, link_dir: Path, private: Path, max_bytes: int) -> None:
    """Copy every link the layout may use from ``link_dir`` into ``private``, checked."""
    names = [
        FILENAME_FORMAT.format(step_name=step.name, keyid=keyid)
        for step in layout.steps
        for authorized in step.pubkeys
        for keyid in [authorized, *layout.keys.get(authorized, {}).get("subkeys", {})]
    ]
    if len(names) > _MAX_LINK_FILES:
        raise Refused(f"layout names {len(names)} link files, more than {_MAX_LINK_FILES}")
    for name in names:
        if PurePosixPath(name).name != name or "\\" in name:
            raise Refused(f"layout names link file {name!r}, which is not a plain file name")
        try:
            data = read_evidence(link_dir / name, max_bytes)
        except FileNotFoundError:
            continue  # in-toto decides whether the step still meets its threshold
        kind = _metadata_type(data)
        if kind != "link":
            raise Refused(f"link {link_dir / name}: holds {kind}, not an in-toto link")
        (private / name).write_bytes(data)


def _metadata_type(data: bytes) -> str:
    """What a metadata file holds, by content: links and Statements share one DSSE payloadType."""
    try:
        document = json.loads(data)
        if isinstance(document, dict) and isinstance(document.get("signed"), dict):
            signed = document["signed"]
        elif isinstance(document, dict) and isinstance(document.get("payload"), str):
            signed = json.loads(base64.b64decode(document["payload"], validate=True))
        else:
            return "no in-toto metadata"
    except (ValueError, RecursionError, binascii.Error):
        return "malformed JSON"
    kind = signed.get("_type") if isinstance(signed, dict) else None
    if kind == "layout":
        return "a sub-layout (not supported)"
    if kind == "https://in-toto.io/Statement/v1":
        return "an in-toto Statement"
    return "link" if kind == "link" else f"unknown metadata type {one_line(kind)!r}"


def _run_in_toto(metadata: Any, keys: Mapping[str, Any], link_dir: Path, layout_path: Path) -> Any:
    """``in_toto_verify`` on the private link folder; its failures become one-line reasons."""
    try:
        with _quiet_in_toto():
            # No inspections reach this point, so nothing is run and nothing is written.
            return in_toto_verify(
                metadata, dict(keys), link_dir_path=str(link_dir), persist_inspection_links=False
            )
    except LayoutExpiredError:
        raise Refused(f"layout {layout_path.name} expired at {metadata.get_payload().expires}") from None
    except LinkNotFoundError as exc:
        raise Refused(f"missing link: {exc}") from None
    except ThresholdVerificationError as exc:
        raise Refused(f"link signature: {exc}") from None
    except RuleVerificationError as exc:
        raise Refused(f"artifact rule: {exc}") from None
    except Exception as exc:  # anything else from in-toto or a hostile link: never a pass
        raise Refused(f"in-toto verification failed ({type(exc).__name__}): {exc}") from None


@contextlib.contextmanager
def _quiet_in_toto() -> Iterator[None]:
    # in-toto logs command mismatches as warnings on its own stderr handler; the gate reports
    # through the fact instead of letting library output interleave with the CLI's.
    logger = logging.getLogger("in_toto")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def _final_product(products: Mapping[str, Any], artifact: Artifact, details: dict[str, Any]) -> Outcome:
    """The final step's product named like the artifact must have the artifact's digest.

    For a multi-file artifact, each of its files must be a product with that file's digest.
    """
    if artifact.files:
        return _final_products(products, artifact, details)
    names = {artifact.path.name, PurePosixPath(urlsplit(artifact.uri).path).name} - {""}
    matches = {path: hashes for path, hashes in products.items() if PurePosixPath(path).name in names}
    final = details["final_step"]
    if not matches:
        return failed(f"final step '{final}' has no product named {' or '.join(sorted(names))}", details)
    digests = {path: f"sha256:{hashes.get('sha256', '')}" for path, hashes in matches.items()}
    details["product_digest"] = next(iter(digests.values()))
    for path, digest in sorted(digests.items()):
        if digest != artifact.digest:
            details["product_digest"] = digest
            return failed(
                f"final step '{final}' product {path} is {digest}, the artifact is {artifact.digest}", details
            )
    return Outcome(VERIFIED, None, details)


def _final_products(products: Mapping[str, Any], artifact: Artifact, details: dict[str, Any]) -> Outcome:
    final = details["final_step"]
    for item in artifact.files:
        found = {
            f"sha256:{hashes.get('sha256', '')}"
            for path, hashes in products.items()
            if path == item.name or path.endswith("/" + item.name)
        }
        if not found:
            return failed(f"final step '{final}' has no product {item.name}, a file of the artifact", details)
        if found != {item.digest}:
            wrong = sorted(found - {item.digest})[0]
            details["product_digest"] = wrong
            return failed(
                f"final step '{final}' product {item.name} is {wrong}, the file is {item.digest}", details
            )
    details["product_digest"] = artifact.digest  # every file is the one the final step produced
    return Outcome(VERIFIED, None, details)
