"""Measurements kept by what they depend on, so a re-run with the same inputs is instant.

A cached fact is stored under the SHA-256 of a canonical key: the collector's name, the
fleetgate version and the collector's own :meth:`cache_key` (artifact digest, dataset digest,
settings). Only measurements are cached (model structure, latency, fairness); verification
verdicts (signature, provenance) are computed on every run, because trust material and time
(certificate and layout expiry) change what they mean. A corrupt or unreadable entry is a miss.

A cache folder is writable by whoever can write that folder, so no entry is believed on sight:

* each entry carries an HMAC-SHA256 (its first line) over its name (the digest of its key) and
  its fact (the JSON after it), under a per-user secret kept outside every repository
  (``$XDG_CONFIG_HOME/fleetgate/fact-cache.key``, created 0600). An entry planted without the
  secret, or copied to another key's name, is a miss;
* without a usable secret (unreadable, owned by another user, readable by others) nothing is
  read or written;
* a cache folder inside the work tree, where a change under review could commit entries, is a
  configuration error (:func:`check_cache_folder`). The repository's git folder is not part of
  the work tree and stays allowed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.errors import ConfigError

__all__ = ["FactCache", "cache_secret", "check_cache_folder"]

_VERSION = "3"
_SECRET_BYTES = 32
_SECRET_FILE = "fact-cache.key"


class FactCache:
    """A folder of authenticated JSON facts; ``None`` as folder disables caching.

    ``secret`` is the HMAC key; ``None`` reads (or creates) the per-user one on first use.
    """

    def __init__(
        self, folder: Path | None, version: str, read: bool = True, secret: bytes | None = None
    ) -> None:
        self.folder = folder
        self.version = version
        self.read = read  # False: measure afresh, still keep the results for later runs
        self._secret = secret
        self._secret_loaded = secret is not None

    def _key(self) -> bytes | None:
        if not self._secret_loaded:
            self._secret, self._secret_loaded = cache_secret(), True
        return self._secret

    def _entry(self, collector: str, key: Mapping[str, Any]) -> Path | None:
        if self.folder is None:
            return None
        material = json.dumps(
            {"format": _VERSION, "fleetgate": self.version, "collector": collector, "key": key},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        name = hashlib.sha256(material.encode()).hexdigest()
        return self.folder / "facts" / collector / f"{name}.json"

    def get(self, collector: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        entry = self._entry(collector, key) if self.read else None
        return self._authenticated(entry) if entry is not None else None

    def stored(self, collector: str) -> list[dict[str, Any]]:
        """Every authenticated fact kept for ``collector``, whatever its key (for tools that
        inspect what a check measured, such as the benchmarks)."""
        if self.folder is None:
            return []
        found = (self._authenticated(p) for p in sorted((self.folder / "facts" / collector).glob("*.json")))
        return [fact for fact in found if fact is not None]

    def _authenticated(self, entry: Path) -> dict[str, Any] | None:
        secret = self._key()
        if secret is None:
            return None
        try:
            mac, _, body = entry.read_text(encoding="utf-8").partition("\n")
            if not hmac.compare_digest(mac, _mac(secret, entry.stem, body)):
                return None  # planted, altered or copied from another key: measure afresh
            value = json.loads(body)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, collector: str, key: Mapping[str, Any], fact: Mapping[str, Any]) -> None:
        """Store ``fact``; a cache that cannot be written is skipped, never an error."""
        entry = self._entry(collector, key)
        secret = self._key() if entry is not None else None
        if entry is None or secret is None:
            return
        import tempfile  # only a run that measured something writes

        body = json.dumps(fact, sort_keys=True, separators=(",", ":"))
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=entry.parent, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8"
            ) as tmp:
                # The MAC on the first line, the fact's JSON after it: read back without parsing
                # the fact twice (an inventory of 500 segments is 40 kB of it).
                tmp.write(f"{_mac(secret, entry.stem, body)}\n{body}")
            os.replace(tmp.name, entry)
        except OSError:
            return


def _mac(secret: bytes, name: str, body: str) -> str:
    # The name is the digest of the entry's key: the MAC binds the fact to that key.
    return hmac.new(secret, f"{name}\0{body}".encode(), hashlib.sha256).hexdigest()


def check_cache_folder(folder: Path | None, root: Path) -> None:
    """ConfigError when the evidence cache ``folder`` lies inside the work tree of ``root``."""
    if folder is None:
        return
    tree, where = root.resolve(), folder.resolve()
    git_dir = tree / ".git"
    if where.is_relative_to(tree) and not (git_dir.is_dir() and where.is_relative_to(git_dir)):
        raise ConfigError(
            f"fleetgate.yaml: evidence.cache: {where} is inside the repository's work tree, where a "
            "change under review could plant cached facts; use a folder outside it (or true for the default)"
        )


def cache_secret(folder: Path | None = None) -> bytes | None:
    """The per-user HMAC secret of the fact cache, created on first use; ``None`` when unusable.

    ``folder`` defaults to ``$XDG_CONFIG_HOME/fleetgate`` (``~/.config/fleetgate``).
    """
    if folder is None:
        config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        folder = Path(config) / "fleetgate"
    path = folder / _SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        _create_secret(folder, path)
        return _read_secret(path)
    except OSError:
        return None


def _read_secret(path: Path) -> bytes | None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        # Only a regular file of this user that nobody else can read keeps the cache honest.
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        text = os.read(fd, 2 * _SECRET_BYTES + 1)
    finally:
        os.close(fd)
    try:
        secret = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return secret if len(secret) == _SECRET_BYTES else None


def _create_secret(folder: Path, path: Path) -> None:
    """Write a fresh secret next to ``path`` and link it in place: readers never see half a key."""
    import secrets
    import tempfile

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".key-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(_SECRET_BYTES))
        with contextlib.suppress(FileExistsError):  # another check created it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
