"""Public keys named by the trust file, as securesystemslib keys.

Import lazily (from inside ``collect``): it imports cryptography and securesystemslib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key

# The defining module: the package re-exports SSlibKey without __all__, which mypy --strict rejects.
from securesystemslib.signer._key import Key, SSlibKey

from fleetgate.errors import ConfigError
from fleetgate.evidence.provenance._config import read_trust_material

__all__ = ["in_toto_key_dict", "load_public_key"]

# A PEM public key is well under a kilobyte even for RSA-4096.
_MAX_KEY_BYTES = 64 << 10


def load_public_key(path: Path) -> Key:
    """The PEM public key at ``path`` with its default keyid; ConfigError if unreadable or not a key."""
    data = read_trust_material(path, "public key", _MAX_KEY_BYTES)
    try:
        return SSlibKey.from_crypto(load_pem_public_key(data))
    except Exception as exc:  # ValueError, UnsupportedAlgorithm, ...: all mean "not a usable key"
        raise ConfigError(f"{path}: not a usable PEM public key ({type(exc).__name__})") from None


def in_toto_key_dict(key: Key) -> dict[str, Any]:
    """``key`` in the dict form in-toto's verifylib expects (the key's fields plus its keyid)."""
    key_dict = key.to_dict()
    key_dict["keyid"] = key.keyid
    return key_dict
