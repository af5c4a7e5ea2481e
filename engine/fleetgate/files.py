"""The one door for gate files: every read of a file that decides how a change is judged.

Gate files are ``fleetgate.yaml``, the repository's policy directories and their data, the
waiver file, the trust file and every file these name (keys, trusted roots, layouts, allowed
signers, CA bundles). A change under review must not be able to change how it is judged, so a
check reads them from the *trusted revision* (the base commit, or HEAD for ``--staged`` and the
working tree), never from the head that is being judged.

:class:`GateFiles` is that door. It serves repository-relative POSIX paths from one revision
(or from a folder on disk, for a repository with no commits and for operator-supplied files
outside any repository) and it remembers everything it was asked for, so the check can tell
exactly which gate files the head changed.

What stays outside on purpose: the audit signing key and ``--key``/``--receipt-key`` files are
secrets or operator input on the command line, never repository content; the built-in policy
library and the shipped schemas are package data.

Refused here, in one place: absolute paths, ``..`` that leaves the repository, NUL or newline
in a path, symlinks, submodules and files over the caller's cap.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetgate._read import read_regular
from fleetgate.errors import ConfigError, FleetgateError, ManifestError
from fleetgate.git import INDEX as GIT_INDEX
from fleetgate.git import Git, ObjectTooLarge

__all__ = ["GateFiles", "GatePaths", "Listing", "repo_path"]

# No revision at all: a repository without commits. Nothing can be read; built-in defaults apply.
EMPTY = "empty"
WORKTREE = "worktree"
INDEX = "index"
_FOLDER, _LINK, _SUBMODULE = "40000", "120000", "160000"

ErrorFactory = Callable[[str], FleetgateError]


def repo_path(text: str, relative_to: str = "", what: str = "path") -> str:
    """``text`` (relative to the repository folder ``relative_to``) as a normalised repo path.

    Raises :class:`ConfigError` for a path that is absolute, empty, holds NUL or a newline, or
    leaves the repository through ``..``.
    """
    if not text or "\x00" in text or "\n" in text or "\r" in text:
        raise ConfigError(f"{what}: {text!r} is not a usable path")
    if text.startswith(("/", "\\")) or (len(text) > 1 and text[1] == ":"):
        raise ConfigError(f"{what}: {text!r} must be a path inside the repository, not an absolute path")
    joined = posixpath.normpath(posixpath.join(relative_to or ".", text.replace("\\", "/")))
    if joined == ".." or joined.startswith("../"):
        raise ConfigError(f"{what}: {text!r} leaves the repository")
    return "" if joined == "." else joined


@dataclass(frozen=True)
class GatePaths:
    """Every repository path that decides how a change is judged (the waiver file aside)."""

    files: frozenset[str]
    folders: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        return path in self.files or any(path == f or path.startswith(f"{f}/") for f in self.folders)

    def changed(self, paths: Iterable[str]) -> list[str]:
        return sorted(p for p in paths if self.covers(p))


@dataclass(frozen=True)
class Listing:
    """The files found under one folder, as repo paths."""

    folder: str
    files: tuple[str, ...]


class GateFiles:
    """Gate files of one revision; see the module docstring.

    ``revision`` is a commit id, ``"worktree"`` (files on disk under ``root``) or ``"empty"``
    (no revision: every file is absent). :attr:`consulted` maps every path asked for to the
    sha256 of what was served, or ``None`` when it was absent.
    """

    def __init__(self, revision: str, root: Path, git: Git | None = None) -> None:
        if revision not in (WORKTREE, EMPTY) and git is None:
            raise ValueError("a commit revision needs a git repository")
        self.revision = revision
        self.root = root
        self._git = git
        self._consulted: dict[str, str | None] = {}
        self._listings: dict[str, Listing] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def at_commit(cls, git: Git, commit: str) -> GateFiles:
        return cls(commit, git.root, git)

    @classmethod
    def on_disk(cls, root: Path) -> GateFiles:
        return cls(WORKTREE, root)

    @classmethod
    def staged(cls, git: Git) -> GateFiles:
        """The staging area (the head of a pre-commit check: compared, never trusted)."""
        return cls(INDEX, git.root, git)

    @classmethod
    def empty(cls, root: Path) -> GateFiles:
        return cls(EMPTY, root)

    @property
    def consulted(self) -> Mapping[str, str | None]:
        return dict(self._consulted)

    @property
    def listings(self) -> Mapping[str, Listing]:
        return dict(self._listings)

    def read(self, path: str, max_bytes: int, what: str, error: ErrorFactory = ConfigError) -> bytes | None:
        """The bytes of ``path``, or ``None`` when the revision has no such file."""
        return self.read_many([path], max_bytes, what, error).get(path)

    def require(self, path: str, max_bytes: int, what: str, error: ErrorFactory = ConfigError) -> bytes:
        """Like :meth:`read`, but a missing file is ``error`` naming it."""
        data = self.read(path, max_bytes, what, error)
        if data is None:
            raise error(f"{path}: cannot read the {what} (no such file{self._where()})")
        return data

    def read_many(
        self, paths: Sequence[str], max_bytes: int, what: str, error: ErrorFactory = ConfigError
    ) -> dict[str, bytes]:
        """The bytes of each of ``paths`` that exists (one git call for all of them)."""
        wanted = [repo_path(p, what=what) for p in paths]
        if self.revision == EMPTY:
            found: dict[str, bytes] = {}
        elif self.revision == WORKTREE:
            found = {p: d for p in wanted if (d := self._read_disk(p, max_bytes, what, error)) is not None}
        elif self.revision == INDEX:
            found = self._read_index(wanted, max_bytes, what, error)
        else:
            found = self._read_commit(wanted, max_bytes, what, error)
        for path in wanted:
            data = found.get(path)
            self._consulted[path] = None if data is None else _sha256(data)
        return found

    def blob_ids(
        self, paths: Sequence[str], what: str, error: ErrorFactory = ConfigError
    ) -> dict[str, str] | None:
        """The git object id of each of ``paths`` this commit has, unread (a symlink or a
        submodule is refused as :meth:`read_many` refuses it); ``None`` for a revision that is not
        a commit. An object id names its content: a caller that keeps what it derived from those
        bytes by that id need not read them again (see :meth:`vouch`)."""
        if self.revision in (WORKTREE, INDEX, EMPTY):
            return None
        return dict(self._entries([repo_path(p, what=what) for p in paths], what, error))

    def vouch(self, path: str, sha256: str) -> None:
        """Record ``path`` as consulted at ``sha256`` without reading it: for a caller whose
        authenticated cache, keyed by the file's object id, holds that digest of its bytes."""
        self._consulted[repo_path(path)] = sha256

    def listing(self, folder: str, what: str = "folder") -> Listing:
        """Every file under ``folder`` (recursively, sorted); an empty listing when it is absent."""
        folder = repo_path(folder, what=what)
        if self.revision == EMPTY:
            files: list[str] = []
        elif self.revision == WORKTREE:
            files = self._list_disk(folder)
        elif self.revision == INDEX:
            assert self._git is not None
            out = self._git.run("ls-files", "-z", "--cached", "--", folder or ".")
            files = sorted({p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p})
        else:
            assert self._git is not None
            entries = self._git.walk(self.revision, folder)
            files = sorted(path for path, item in entries if item.mode not in (_LINK, _SUBMODULE))
        listing = Listing(folder, tuple(files))
        self._listings[folder] = listing
        return listing

    def materialize(self, path: str, max_bytes: int, what: str, error: ErrorFactory = ConfigError) -> Path:
        """A private copy of ``path`` for libraries that insist on opening a file by name.

        The copy holds exactly the bytes served (and recorded); it lives in a folder only this
        process can read, removed by :meth:`close` or at exit.
        """
        data = self.require(path, max_bytes, what, error)
        target = Path(self._scratch_dir()) / repo_path(path, what=what)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def shown(self, path: Path) -> str:
        """The repository path of a :meth:`materialize` copy (any other path as it is)."""
        if self._scratch is not None and path.is_relative_to(self._scratch.name):
            return path.relative_to(self._scratch.name).as_posix()
        return str(path)

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def describe(self) -> str:
        """How messages name this revision: a short commit id, the working tree, or none."""
        if self.revision == WORKTREE:
            return "the working tree"
        if self.revision == INDEX:
            return "the staging area"
        if self.revision == EMPTY:
            return "no commit (built-in defaults)"
        return f"commit {self.revision[:12]}"

    def _where(self) -> str:
        return "" if self.revision == WORKTREE else f" at {self.describe()}"

    def _scratch_dir(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="fleetgate-gate-")
            os.chmod(self._scratch.name, 0o700)
        return self._scratch.name

    def _read_commit(
        self, paths: list[str], max_bytes: int, what: str, error: ErrorFactory
    ) -> dict[str, bytes]:
        assert self._git is not None
        files = self._entries(paths, what, error)
        try:
            # One round trip for every file of this round (the fleet inventory and price sheet).
            contents = self._git.blobs([oid for _, oid in files], max_bytes)
        except ObjectTooLarge as too_large:
            path = next((p for p, oid in files if oid == too_large.name), files[0][0])
            refused = f"{path}: the {what} is larger than {max_bytes} bytes{self._where()}; refused"
            raise error(refused) from None
        return {path: data for (path, _), data in zip(files, contents, strict=True)}

    def _entries(self, paths: list[str], what: str, error: ErrorFactory) -> list[tuple[str, str]]:
        """(path, blob id) of each of ``paths`` that is a file of this commit."""
        assert self._git is not None
        files: list[tuple[str, str]] = []
        for path in paths:
            entry = self._git.entry(self.revision, path)
            if entry is None or entry.mode == _FOLDER:
                continue  # absent, or a folder: no file by that name
            if entry.mode in (_LINK, _SUBMODULE):
                raise error(f"{path}: the {what} is a symlink or submodule{self._where()}; refused")
            files.append((path, entry.oid))
        return files

    def _read_index(
        self, paths: list[str], max_bytes: int, what: str, error: ErrorFactory
    ) -> dict[str, bytes]:
        assert self._git is not None
        try:
            return self._git.read(GIT_INDEX, paths, max_bytes)
        except ManifestError:
            raise error(f"{', '.join(paths)}: the {what} is larger than {max_bytes} bytes; refused") from None

    def _read_disk(self, path: str, max_bytes: int, what: str, error: ErrorFactory) -> bytes | None:
        if any(p.is_symlink() for p in _parents(self.root, path)):
            raise error(f"{path}: the {what} lies behind a symlink; refused")
        try:
            return read_regular(self.root / path, max_bytes, what, error)
        except FileNotFoundError:
            return None

    def _list_disk(self, folder: str) -> list[str]:
        start = self.root / folder
        if not start.is_dir() or start.is_symlink():
            return []
        found: list[str] = []
        for current, dirs, names in os.walk(start):
            dirs[:] = sorted(d for d in dirs if not (Path(current) / d).is_symlink() and d != ".git")
            for name in names:
                full = Path(current) / name
                if full.is_file() and not full.is_symlink():
                    found.append(full.relative_to(self.root).as_posix())
        return sorted(found)


def _parents(root: Path, path: str) -> list[Path]:
    parts = path.split("/")[:-1]
    return [root.joinpath(*parts[: i + 1]) for i in range(len(parts))]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
