"""Approvals that can be verified: SSH-signed commits checked against a trusted allowed_signers file.

A waiver added in a change, or a change to the gate's own configuration, takes effect only when
the commits carrying it are signed by the right people. The rules:

1. The allowed_signers file comes from the trusted revision (never from the change).
2. Its ``valid-after``/``valid-before`` are compared with the gate's clock when the check runs,
   never with the commit's dates, which the committer writes: entries that are not valid now
   are dropped before git sees the file.
3. An approval approves content, not a person: only signatures on commits at or after the last
   commit that changed the content count. A later unsigned edit voids earlier signatures.
4. git and ``ssh-keygen`` do the cryptography (``git log --format=%G?%GS``); fleetgate only
   reads their verdicts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetgate.errors import ConfigError, GitError
from fleetgate.git import Git

__all__ = ["AllowedSigner", "Approval", "Signatures", "parse_allowed_signers", "signers_file_text"]

_KEY_TYPES = re.compile(r"^(ssh-|ecdsa-sha2-|sk-ssh-|sk-ecdsa-|rsa-sha2-)[A-Za-z0-9@._-]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_TIME = re.compile(r"^(\d{8})(\d{4}(\d{2})?)?(Z)?$")
_STATUS = {
    "N": "is not signed",
    "B": "has a bad signature",
    "U": "is signed by a key that gate.allowedSigners does not list as valid now",
    "E": "is signed by a key that gate.allowedSigners does not list as valid now",
    "X": "has an expired signature",
    "Y": "is signed by an expired key",
    "R": "is signed by a revoked key",
}
_MIN_GIT = (2, 34)  # SSH signature verification


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an allowed_signers file (``ssh-keygen(1)``, ALLOWED SIGNERS)."""

    principals: tuple[str, ...]
    key_type: str
    key: str
    line: int
    cert_authority: bool = False
    namespaces: tuple[str, ...] | None = None
    valid_after: dt.datetime | None = None
    valid_before: dt.datetime | None = None

    def valid_at(self, moment: dt.datetime) -> bool:
        after = self.valid_after is None or moment >= self.valid_after
        before = self.valid_before is None or moment < self.valid_before
        for_git = self.namespaces is None or "git" in self.namespaces
        return after and before and for_git


def parse_allowed_signers(data: bytes, file: str) -> list[AllowedSigner]:
    """Every entry of an allowed_signers file; :class:`ConfigError` at ``file:line`` if one is malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: the allowed_signers file is not UTF-8 text") from None
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            entries.append(_entry(line, f"{file}:{number}", number))
    return entries


def signers_file_text(entries: Sequence[AllowedSigner], moment: dt.datetime) -> str:
    """The entries valid at ``moment``, written without their time options (see rule 2)."""
    lines = []
    for entry in entries:
        if entry.valid_at(moment):
            options = "cert-authority " if entry.cert_authority else ""
            lines.append(f"{','.join(entry.principals)} {options}{entry.key_type} {entry.key}")
    return "".join(f"{line}\n" for line in lines)


@dataclass(frozen=True)
class Approval:
    """Who approved a piece of content, or why nobody could have."""

    principals: tuple[str, ...]
    reason: str  # empty when at least one signature counted

    def by(self, principal: str) -> bool:
        return principal in self.principals


class Signatures:
    """The signature verdicts of the commits ``base..head``, read once, newest first."""

    def __init__(self, git: Git, base: str, head: str, signers_file: Path) -> None:
        _require_ssh_signing(git)
        self._git, self._base, self._head = git, base, head
        self._verdicts = {s.sha: s for s in git.signatures(f"{base}..{head}", signers_file)}

    def commits_touching(self, paths: Sequence[str]) -> list[str]:
        """Commits of the range that changed any of ``paths``, newest first."""
        out = self._git.run("rev-list", f"{self._base}..{self._head}", "--", *paths)
        return out.decode().split()

    def approval(self, last_change: str | None) -> Approval:
        """The signers of the commits from ``last_change`` to head (see rule 3)."""
        if last_change is None:
            return Approval((), "no commit of the change carries it (is it committed?)")
        out = self._git.run("rev-list", "--ancestry-path", f"{last_change}..{self._head}")
        counted = [last_change, *out.decode().split()]
        good = [v for c in counted if (v := self._verdicts.get(c)) is not None and v.status == "G"]
        principals = tuple(dict.fromkeys(v.signer for v in good if v.signer))
        if principals:
            return Approval(principals, "")
        verdict = self._verdicts.get(last_change)
        status = _STATUS.get(verdict.status if verdict else "N", "has no valid signature")
        return Approval((), f"commit {last_change[:12]} that last changed it {status}")

    def last_change(self, changed: Callable[[str], bool], candidates: Sequence[str]) -> str | None:
        """The newest of ``candidates`` (newest first) for which ``changed(commit)`` holds."""
        return next((c for c in candidates if changed(c)), None)


def _require_ssh_signing(git: Git) -> None:
    version = git.run("--version").decode().split()
    numbers = re.findall(r"\d+", version[2] if len(version) > 2 else "")
    found = tuple(int(n) for n in numbers[:2])
    if len(found) < 2 or found < _MIN_GIT:
        raise GitError(
            f"git {'.'.join(map(str, found)) or '?'} cannot verify SSH signatures "
            f"(gate.allowedSigners needs git >= {'.'.join(map(str, _MIN_GIT))})"
        )


def _entry(line: str, where: str, number: int) -> AllowedSigner:
    tokens = _tokens(line)
    if tokens is None:
        raise ConfigError(f"{where}: an opening quote is never closed")
    if len(tokens) < 3:
        raise ConfigError(f"{where}: expected 'principals [options] key-type base64-key'")
    principals = tuple(p.strip('"') for p in tokens[0].split(",") if p.strip('"'))
    position = 1
    options: dict[str, str] = {}
    if not _KEY_TYPES.match(tokens[1]):
        options = _options(tokens[1], where)
        position = 2
    if len(tokens) < position + 2 or not _KEY_TYPES.match(tokens[position]):
        raise ConfigError(f"{where}: expected a key type such as ssh-ed25519 after the principals")
    key = tokens[position + 1]
    if not _BASE64.match(key):
        raise ConfigError(f"{where}: the public key is not base64")
    if not principals:
        raise ConfigError(f"{where}: no principal before the key")
    namespaces = options.get("namespaces")
    return AllowedSigner(
        principals=principals,
        key_type=tokens[position],
        key=key,
        line=number,
        cert_authority="cert-authority" in options,
        namespaces=tuple(n.strip() for n in namespaces.split(",")) if namespaces is not None else None,
        valid_after=_time(options.get("valid-after"), where, "valid-after"),
        valid_before=_time(options.get("valid-before"), where, "valid-before"),
    )


def _tokens(line: str) -> list[str] | None:
    """Split on blanks outside double quotes, keeping the quotes (options hold quoted commas)."""
    tokens, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if quoted:
        return None
    return [*tokens, current] if current else tokens


def _options(text: str, where: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in _split_options(text):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name not in ("cert-authority", "namespaces", "valid-after", "valid-before"):
            raise ConfigError(f"{where}: unknown allowed_signers option {name!r}")
        options[name] = value.strip().strip('"')
    return options


def _split_options(text: str) -> list[str]:
    """Split ``a,b="x,y",c`` on commas outside quotes."""
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current else parts


def _time(value: str | None, where: str, name: str) -> dt.datetime | None:
    if value is None:
        return None
    match = _TIME.match(value)
    if match is None:
        raise ConfigError(f"{where}: {name}={value!r} is not YYYYMMDD[HHMM[SS]][Z]")
    digits = match.group(1) + (match.group(2) or "0000")
    digits += "" if match.group(3) else "00"
    try:
        moment = dt.datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        raise ConfigError(f"{where}: {name}={value!r} is not a valid date") from None
    # Without Z, ssh-keygen reads the time as local time; so does this.
    return moment.replace(tzinfo=dt.UTC) if match.group(4) else moment.astimezone()
