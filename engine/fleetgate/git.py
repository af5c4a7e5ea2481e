"""The only module that runs git.

Every call is ``git -C <root> ...`` through :mod:`subprocess` with an argument list (never a
shell), with external diff drivers, text conversion and pagers turned off so a repository's own
configuration cannot run code inside the gate. Gate files are read through one long-lived
``cat-file --batch`` (:mod:`fleetgate._git_objects`), started here like every other git call.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetgate._git_objects import ObjectReader, ObjectTooLarge, TreeItem
from fleetgate.errors import GitError, ManifestError

__all__ = [
    "INDEX",
    "WORKTREE",
    "Commit",
    "CommitSignature",
    "Git",
    "ObjectTooLarge",
    "Revision",
    "TreeItem",
    "read_bounded",
]

INDEX = ":index:"
WORKTREE = ":worktree:"

Revision = str
"""A commit id, :data:`INDEX` (the staging area) or :data:`WORKTREE` (files on disk)."""

_TIMEOUT_S = 120
_ENV = {
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}


@dataclass(frozen=True)
class Commit:
    sha: str
    committed_at: str


@dataclass(frozen=True)
class CommitSignature:
    """git's verdict on one commit's signature: ``status`` is ``%G?`` (G good, N none, ...)."""

    sha: str
    status: str
    signer: str  # the principal from allowed_signers when the signature is good
    key: str  # the key fingerprint


class Git:
    """A git working copy, addressed by its top-level directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Refs do not move during one check: each is resolved once.
        self._commits: dict[str, Commit] = {}
        self._objects = ObjectReader(root, {**os.environ, **_ENV}, _TIMEOUT_S)

    @classmethod
    def discover(cls, start: Path) -> Git:
        """The repository containing ``start``; :class:`GitError` when there is none."""
        try:
            out = _run(["git", "-C", str(start), "rev-parse", "--show-toplevel"])
        except GitError:
            raise GitError(f"{start}: not inside a git repository") from None
        return cls(Path(out.decode().strip()))

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        return _run(["git", "-C", str(self.root), *args], stdin)

    def commit(self, ref: str) -> Commit:
        """Resolve ``ref`` to a commit; :class:`GitError` naming the ref when it is unknown."""
        if ref not in self._commits:
            self._commits[ref] = self._resolve(ref)
        return self._commits[ref]

    def _resolve(self, ref: str) -> Commit:
        try:
            out = self.run(
                "show", "-s", "--no-show-signature", "--format=%H%x00%cI", f"{ref}^{{commit}}", "--"
            )
        except GitError:
            raise GitError(
                f"unknown revision {ref!r} in {self.root} (in a shallow clone, fetch the base first)"
            ) from None
        sha, _, when = out.decode().strip().partition("\0")
        return Commit(sha, when)

    def head(self) -> Commit | None:
        """The checked-out commit, or ``None`` in a repository with no commits yet."""
        try:
            return self.commit("HEAD")
        except GitError:
            return None

    def history(self, commit: str, path: str, limit: int) -> list[Commit]:
        """The first-parent commits up to ``commit`` that touched ``path``, newest first."""
        out = self.run(
            "log",
            "--first-parent",
            "--no-show-signature",
            f"--max-count={limit}",
            "--format=%H%x00%cI",
            commit,
            "--",
            path,
        )
        return [Commit(*line.split("\0", 1)) for line in out.decode().splitlines() if "\0" in line]

    def versions(self, commits: Sequence[str], path: str, max_bytes: int) -> dict[str, bytes]:
        """The content of ``path`` at each of ``commits`` that has it (one batched read)."""
        names = [f"{c}:{path}" for c in commits]
        try:
            contents = self._objects.contents(names, max_bytes)
        except ObjectTooLarge:
            too_large = f"a version exceeds the {max_bytes}-byte manifest size limit; refused"
            raise ManifestError(path, too_large) from None
        return {c: data for c, data in zip(commits, contents, strict=True) if data is not None}

    def touched(self, commit: str, limit: int) -> list[tuple[Commit, list[str]]]:
        """The first-parent commits up to ``commit``, newest first, each with the paths it changed."""
        out = self.run(
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--no-renames",
            "--no-show-signature",
            "--name-only",
            "-z",
            f"--max-count={limit}",
            "--format=%x01%H%x02%cI",
            commit,
        )
        found: list[tuple[Commit, list[str]]] = []
        for chunk in out.decode("utf-8", "surrogateescape").split("\x01")[1:]:
            head, _, names = chunk.partition("\0")
            sha, _, when = head.strip().partition("\x02")
            found.append((Commit(sha, when), [n.strip("\n") for n in names.split("\0") if n.strip("\n")]))
        return found

    def commit_change(self, parent: str, path: str, data: bytes, message: str) -> str:
        """A new commit on top of ``parent`` whose only change is ``path`` holding ``data``.

        Built with plumbing in a private index: the working tree, the index and HEAD are untouched.
        """
        import tempfile

        blob = self.run("hash-object", "-w", "--stdin", stdin=data).decode().strip()
        entry = self.entry(self.commit(parent).sha, path)
        mode = entry.mode if entry is not None else "100644"
        with tempfile.TemporaryDirectory(prefix="fleetgate-index-") as folder:
            index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            git = ["git", "-C", str(self.root)]
            _run([*git, "read-tree", parent], extra_env=index)
            _run([*git, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}"], extra_env=index)
            tree = _run([*git, "write-tree"], extra_env=index).decode().strip()
        identity = self._identity()
        commit = _run([*git, *identity, "commit-tree", tree, "-p", parent], stdin=message.encode())
        return commit.decode().strip()

    def create_branch(self, name: str, commit: str) -> None:
        """Create ``refs/heads/<name>`` at ``commit``; a branch of that name already there is an error."""
        self.run("update-ref", f"refs/heads/{name}", commit, "0" * 40)

    def changed_paths(self, base: str | None, head: Revision) -> list[str]:
        """Repo-relative paths whose content differs between commit ``base`` and ``head``.

        With no ``base`` (a repository without commits) every file of ``head`` counts.
        """
        return sorted(self.changed_entries(base, head))

    def changed_entries(self, base: str | None, head: Revision) -> dict[str, str]:
        """Like :meth:`changed_paths`, each path with its mode at ``head`` ("000000" when deleted).

        The mode tells a submodule (160000) from a file without another call.
        """
        if base is None:
            others = ["--others", "--exclude-standard"] if head == WORKTREE else []
            listed = _split(self.run("ls-files", "-z", "--cached", "--stage", *others))
            return dict(sorted(_staged_entry(e) for e in listed))
        common = ["diff", "--raw", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-abbrev"]
        if head == INDEX:
            entries = _raw(self.run(*common, "--cached", base, "--"))
        elif head == WORKTREE:
            entries = _raw(self.run(*common, base, "--"))
            entries.update(
                (p, "100644") for p in _split(self.run("ls-files", "-z", "--others", "--exclude-standard"))
            )
        else:
            entries = _raw(self.run(*common, base, head, "--"))
        return entries

    def files(self, paths: Sequence[str] = ()) -> list[str]:
        """Tracked and untracked (not ignored) files under ``paths`` (the whole tree when empty)."""
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *paths)
        return sorted(set(_split(out)))

    def read(self, revision: Revision, paths: Iterable[str], max_bytes: int) -> dict[str, bytes]:
        """The content of each path that exists at ``revision`` (missing paths are left out).

        A file larger than ``max_bytes`` raises :class:`ManifestError` before it is read.
        """
        return self.read_revisions([(revision, list(paths))], max_bytes)[0]

    def read_revisions(
        self, requests: Sequence[tuple[Revision, Sequence[str]]], max_bytes: int
    ) -> list[dict[str, bytes]]:
        """:meth:`read` for several revisions at once, through the one object reader."""
        names: list[tuple[int, str, str]] = []  # (request, path, object name)
        found: list[dict[str, bytes]] = [{} for _ in requests]
        for index, (revision, paths) in enumerate(requests):
            if revision == WORKTREE:
                found[index] = {p: data for p in paths if (data := self._read_file(p, max_bytes)) is not None}
                continue
            prefix = ":" if revision == INDEX else f"{revision}:"
            names += [(index, p, f"{prefix}{p}") for p in paths]
        try:
            contents = self._objects.contents([name for _, _, name in names], max_bytes)
        except ObjectTooLarge as refused:
            path = next(p for _, p, name in names if name == refused.name)
            raise ManifestError(
                path, f"{refused.size} bytes exceeds the {max_bytes}-byte manifest size limit; refused"
            ) from None
        for (index, path, _), data in zip(names, contents, strict=True):
            if data is not None:
                found[index][path] = data
        return found

    def export(self, revision: str, path: str, target: Path) -> bool:
        """Write the blob ``path`` of commit ``revision`` to ``target``; False when it is not there.

        The blob streams from git to the file, so a large artifact never sits in memory.
        """
        name = f"{revision}:{path}"
        if "\n" in name or self._sizes([name]).get(name) is None:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **_ENV}
        with open(target, "wb") as out:
            done = subprocess.run(
                ["git", "-C", str(self.root), "cat-file", "blob", name],
                stdout=out,
                stderr=subprocess.PIPE,
                env=env,
                check=False,
                timeout=600,
            )
        if done.returncode != 0:
            target.unlink(missing_ok=True)
            raise GitError(f"git cat-file blob {name} failed: {done.stderr.decode(errors='replace').strip()}")
        return True

    def entry(self, commit: str, path: str) -> TreeItem | None:
        """``path``'s mode and object id in ``commit`` (``None`` when absent), without a new process."""
        return self._objects.entry(commit, path)

    def walk(self, commit: str, folder: str) -> list[tuple[str, TreeItem]]:
        """Every file, symlink and submodule below ``folder`` of ``commit``, by path."""
        return self._objects.walk(commit, folder)

    def blob(self, oid: str, max_bytes: int) -> bytes:
        """Blob ``oid``; :class:`ObjectTooLarge` (from its header, unread) over ``max_bytes``."""
        return self._objects.blob(oid, max_bytes)

    def blobs(self, oids: Sequence[str], max_bytes: int) -> list[bytes]:
        """:meth:`blob` of each of ``oids``, asked in one round trip; :class:`ObjectTooLarge`
        names the first one over ``max_bytes``, unread."""
        found = self._objects.contents(oids, max_bytes)
        missing = [oid for oid, data in zip(oids, found, strict=True) if data is None]
        if missing:
            raise GitError(f"git object {missing[0]} is not a file of this repository")
        return [data for data in found if data is not None]

    def signatures(self, range_spec: str, allowed_signers: Path) -> list[CommitSignature]:
        """Each commit of ``range_spec`` (newest first) with git's verdict on its SSH signature.

        Verified against ``allowed_signers`` only: the repository's own signing settings never
        take part, and ``ssh-keygen`` is the program that checks.
        """
        out = self.run(
            "-c",
            "gpg.ssh.program=ssh-keygen",
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed_signers}",
            "-c",
            "gpg.ssh.revocationFile=",
            "log",
            "--format=%H%x00%G?%x00%GS%x00%GF%x00",
            range_spec,
            "--",
        )
        found: list[CommitSignature] = []
        fields = out.decode("utf-8", errors="replace").split("\0")
        for i in range(0, len(fields) - 4, 4):
            sha, status, signer, key = (f.strip() for f in fields[i : i + 4])
            found.append(CommitSignature(sha, status, signer, key))
        return found

    def tree_names(self, ref: str) -> list[str]:
        """Names of the files at the top of commit ``ref``'s tree; GitError when there is no such ref."""
        try:
            out = self.run("ls-tree", "-z", "--name-only", f"{ref}^{{commit}}", "--")
        except GitError:
            raise GitError(f"{ref}: no such ref in {self.root}") from None
        return _split(out)

    def commit_file(self, ref: str, name: str, data: bytes, message: str) -> str:
        """Commit ``data`` as the file ``name`` on top of ``ref`` (creating the ref); the new commit.

        Only objects and the ref are written: the work tree, the index and HEAD are untouched.
        The ref moves only if it still points where it was read, so two publishers racing each
        other do not lose a commit silently.
        """
        if "/" in name or "\0" in name or "\n" in name:
            raise GitError(f"{name!r} is not a plain file name")
        blob = self.run("hash-object", "-w", "--stdin", stdin=data).decode().strip()
        try:
            parent = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
        except GitError:
            parent = ""
        entries = self.run("ls-tree", "-z", parent) if parent else b""
        line = f"100644 blob {blob}\t{name}\0".encode()
        tree = self.run("mktree", "-z", stdin=entries + line).decode().strip()
        parents = ["-p", parent] if parent else []
        commit = self.run(*self._identity(), "commit-tree", tree, *parents, "-m", message).decode().strip()
        self.run("update-ref", "-m", message, ref, commit, parent)
        return commit

    def _identity(self) -> list[str]:
        """A committer identity for commits fleetgate makes, when git has none configured."""
        try:
            self.run("var", "GIT_COMMITTER_IDENT")
            return []
        except GitError:
            return ["-c", "user.name=fleetgate", "-c", "user.email=fleetgate@localhost"]

    def _sizes(self, names: list[str]) -> dict[str, int | None]:
        if not names:
            return {}
        out = self.run("cat-file", "--batch-check=%(objecttype) %(objectsize)", stdin=_lines(names))
        sizes: dict[str, int | None] = {}
        for name, line in zip(names, out.decode().splitlines(), strict=True):
            kind, _, size = line.partition(" ")
            sizes[name] = int(size) if kind == "blob" else None
        return sizes

    def _read_file(self, path: str, max_bytes: int) -> bytes | None:
        full = self.root / path
        try:
            info = full.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ManifestError(path, f"cannot read: {exc.strerror}") from None
        if not full.is_file() or full.is_symlink():
            raise ManifestError(path, "not a regular file; refused")
        if info.st_size > max_bytes:
            raise ManifestError(
                path, f"{info.st_size} bytes exceeds the {max_bytes}-byte manifest size limit; refused"
            )
        return read_bounded(full, path, max_bytes)

    def ls_tree(self, revision: str, path: str, recursive: bool = False) -> list[tuple[str, str, str, str]]:
        """``(mode, type, object id, path)`` of ``path`` in commit ``revision`` (empty when absent).

        ``path`` is taken literally (no pathspec magic). Without ``recursive`` a folder is one
        ``tree`` entry; with it, every blob (and symlink) below the folder is listed instead.
        """
        if "\n" in path or not path:
            return []
        flags = ["-r"] if recursive else []
        target = f"{path.rstrip('/')}/" if recursive else path
        out = self.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", *flags, revision, "--", target)
        entries: list[tuple[str, str, str, str]] = []
        for record in _split(out):
            meta, _, name = record.partition("\t")
            mode, kind, oid = meta.split(" ")
            entries.append((mode, kind, oid, name))
        return entries


def read_bounded(full: Path, display: str, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (a file growing while it is read is refused, not truncated)."""
    try:
        with open(full, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ManifestError(display, f"cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise ManifestError(display, f"exceeds the {max_bytes}-byte manifest size limit; refused")
    return data


def _run(argv: list[str], stdin: bytes | None = None, extra_env: dict[str, str] | None = None) -> bytes:
    env = {**os.environ, **_ENV, **(extra_env or {})}
    pipe = subprocess.PIPE
    try:
        child = subprocess.Popen(
            argv, stdin=pipe if stdin is not None else None, stdout=pipe, stderr=pipe, env=env
        )
    except FileNotFoundError:
        raise GitError("git is not installed (needed to compare revisions)") from None
    # A timer, not communicate(timeout=...): with a timeout Python polls for the child's exit
    # in sleeps, which added about a millisecond to each of the dozen git calls of a check.
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        child.kill()

    timer = threading.Timer(_TIMEOUT_S, stop)
    timer.start()
    try:
        with child:
            out, err = child.communicate(stdin)
    finally:
        timer.cancel()
    if expired.is_set():
        raise GitError(f"git {argv[3] if len(argv) > 3 else ''} did not answer within {_TIMEOUT_S} s")
    if child.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()
        raise GitError(
            f"git {' '.join(argv[3:5])} failed: {detail[-1] if detail else 'exit ' + str(child.returncode)}"
        )
    return out


def _split(out: bytes) -> list[str]:
    return [p.decode("utf-8", errors="surrogateescape") for p in out.split(b"\0") if p]


def _raw(out: bytes) -> dict[str, str]:
    """``git diff --raw -z``: ``:<old mode> <new mode> <old id> <new id> <status>\\0<path>\\0`` each."""
    fields = out.split(b"\0")
    entries: dict[str, str] = {}
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(b":"):
            entries[path.decode("utf-8", errors="surrogateescape")] = meta[1:].split()[1].decode()
    return entries


def _staged_entry(record: str) -> tuple[str, str]:
    """``git ls-files --stage`` (or a bare path for an untracked file): (path, mode)."""
    meta, tab, path = record.partition("\t")
    return (path, meta.split()[0]) if tab else (record, "100644")


def _lines(names: list[str]) -> bytes:
    return "".join(f"{n}\n" for n in names).encode("utf-8", errors="surrogateescape")
