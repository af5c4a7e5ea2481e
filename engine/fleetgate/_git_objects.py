"""One ``git cat-file --batch`` kept open for a whole check: gate files read without a process each.

A check reads its gate files (``fleetgate.yaml``, then the fleet inventory and price sheet, the
waivers, the trust file and what it names) from one commit, in several rounds, because each
file names the next. Starting ``git ls-tree`` and ``git cat-file`` for every round costs a
few milliseconds of the commit hook each time. This reader starts one ``cat-file --batch``
on first use and asks it for objects one at a time (git flushes each answer), walking tree
objects itself to learn a path's mode: a symlink or submodule is told from a file exactly as
``ls-tree`` would tell it.

Bounded like every git call: each answer must arrive within the deadline, and an object over
the caller's size cap is refused from its header, before its content is read (the reader is
then stopped, and a later request starts a fresh one). Only the process that started the reader
uses it: a forked worker starts its own.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple

from fleetgate.errors import GitError

__all__ = ["ObjectReader", "ObjectTooLarge", "TreeItem"]

_TREE = "40000"
_CHUNK = 1 << 16


class TreeItem(NamedTuple):
    """One entry of a tree object: ``mode`` 40000 (folder), 100644/100755, 120000 or 160000."""

    mode: str
    oid: str


class ObjectTooLarge(Exception):
    """The object is larger than the caller's cap; its content was not read."""

    def __init__(self, size: int, name: str = "") -> None:
        super().__init__(size, name)
        self.size, self.name = size, name


class ObjectReader:
    """Objects of the repository at ``root``, read through one long-lived ``cat-file --batch``."""

    def __init__(self, root: Path, env: Mapping[str, str], timeout_s: float) -> None:
        self._root, self._env, self._timeout_s = root, dict(env), timeout_s
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._owner = 0
        self._pending = bytearray()
        self._trees: dict[str, dict[str, TreeItem]] = {}

    def entry(self, commit: str, path: str) -> TreeItem | None:
        """The entry of ``path`` in ``commit``'s tree; ``None`` when no such path (or a parent is
        not a folder: git does not follow a symlinked folder, and neither does this)."""
        *folders, name = path.split("/")
        tree = self._tree(f"{commit}^{{tree}}")
        for folder in folders:
            item = tree.get(folder)
            if item is None or item.mode != _TREE:
                return None
            tree = self._tree(item.oid)
        return tree.get(name)

    def walk(self, commit: str, folder: str) -> list[tuple[str, TreeItem]]:
        """Every entry below ``folder`` of ``commit`` (recursively, folders left out), by path."""
        start = self.entry(commit, folder) if folder else TreeItem(_TREE, f"{commit}^{{tree}}")
        if start is None or start.mode != _TREE:
            return []
        found: list[tuple[str, TreeItem]] = []
        stack = [(folder, start.oid)]
        while stack:
            prefix, oid = stack.pop()
            for name, item in self._tree(oid).items():
                path = f"{prefix}/{name}" if prefix else name
                if item.mode == _TREE:
                    stack.append((path, item.oid))
                else:
                    found.append((path, item))
        return sorted(found)

    def contents(self, names: Sequence[str], max_bytes: int) -> list[bytes | None]:
        """Each named blob's content (``None`` when there is no such blob), asked all at once.

        ``names`` are object names such as ``<commit>:<path>`` or ``:<path>`` (the staging area).
        The names are written while the answers are read, so a long list costs one round trip,
        not one per name. The first blob over ``max_bytes`` raises :class:`ObjectTooLarge` with
        its name, before its content is read.
        """
        return [data for _, data in self._ask(names, max_bytes, "blob")]

    def blob(self, oid: str, max_bytes: int) -> bytes:
        """The content of blob ``oid``; :class:`ObjectTooLarge` when it exceeds ``max_bytes``."""
        return self._object(oid, max_bytes, "blob")

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _tree(self, name: str) -> dict[str, TreeItem]:
        if name not in self._trees:
            self._trees[name] = _parse_tree(self._object(name, 64 << 20, "tree"), _oid_bytes(name))
        return self._trees[name]

    def _object(self, name: str, max_bytes: int, kind: str) -> bytes:
        [(found, data)] = self._ask([name], max_bytes, kind)
        if data is None:
            what = f"a {found}, not a {'file' if kind == 'blob' else 'folder'}" if found else "missing"
            raise GitError(f"git object {name} is {what}")
        return data

    def _ask(self, names: Sequence[str], max_bytes: int, kind: str) -> list[tuple[str, bytes | None]]:
        """Each name's object type ("" when missing) and content (``None`` unless of ``kind``)."""
        if any("\n" in name for name in names):
            raise GitError("a path contains a newline; refused")
        if not names:
            return []
        request = b"".join(name.encode("utf-8", "surrogateescape") + b"\n" for name in names)
        with self._lock:
            child = self._running()
            assert child.stdin is not None and child.stdout is not None
            deadline = time.monotonic() + self._timeout_s
            writer = _Writer(child.stdin, request)
            try:
                return [self._answer(child.stdout, name, max_bytes, kind, deadline) for name in names]
            finally:
                if not writer.join(deadline):
                    self._stop()

    def _answer(
        self, out: IO[bytes], name: str, max_bytes: int, kind: str, deadline: float
    ) -> tuple[str, bytes | None]:
        header = _header(self._line(out, deadline))
        if header is None:
            return "", None  # "<name> missing" (or ambiguous): no such object
        found, size = header
        if found != kind:
            self._skip(out, size + 1, deadline)  # e.g. a folder or a commit where a file was asked
            return found, None
        if size > max_bytes:
            self._stop()  # its content is never read: the next request starts a fresh reader
            raise ObjectTooLarge(size, name)
        return found, self._exactly(out, size + 1, deadline)[:-1]

    def _running(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._owner == os.getpid():
            return self._child
        if self._child is not None:
            self._child = None  # a forked copy: the parent's reader is not ours to use
            self._pending.clear()
        try:
            child = subprocess.Popen(
                ["git", "-C", str(self._root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (needed to compare revisions)") from None
        self._child, self._owner = child, os.getpid()
        weakref.finalize(self, _stop_child, child, self._owner)
        return child

    def _stop(self) -> None:
        if self._child is not None:
            _stop_child(self._child, self._owner)
        self._child = None
        self._pending.clear()

    def _line(self, out: IO[bytes], deadline: float) -> bytes:
        while (end := self._pending.find(b"\n")) < 0:
            self._fill(out, deadline)
        line = bytes(self._pending[:end])
        del self._pending[: end + 1]
        return line

    def _exactly(self, out: IO[bytes], size: int, deadline: float) -> bytes:
        while len(self._pending) < size:
            self._fill(out, deadline)
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def _skip(self, out: IO[bytes], size: int, deadline: float) -> None:
        """Pass over ``size`` bytes of answer without keeping more than a chunk of them."""
        while len(self._pending) < size:
            size -= len(self._pending)
            self._pending.clear()
            self._fill(out, deadline)
        del self._pending[:size]

    def _fill(self, out: IO[bytes], deadline: float) -> None:
        remaining = deadline - time.monotonic()
        ready = select.select([out], [], [], max(0.0, remaining))[0] if remaining > 0 else []
        chunk = os.read(out.fileno(), _CHUNK) if ready else None
        if not chunk:
            self._stop()
            why = "did not answer within" if chunk is None else "stopped before answering, after"
            raise GitError(f"git cat-file {why} {self._timeout_s:g} s")
        self._pending += chunk


class _Writer:
    """Writes a request to git's input: inline when the pipe holds it, else on a thread, so that
    git's answers are read while a long request is still being written."""

    _INLINE = 32 << 10

    def __init__(self, stdin: IO[bytes], request: bytes) -> None:
        self._failed = False
        self._thread: threading.Thread | None = None
        if len(request) <= self._INLINE:
            self._write(stdin, request)
        else:
            self._thread = threading.Thread(target=self._write, args=(stdin, request), daemon=True)
            self._thread.start()

    def _write(self, stdin: IO[bytes], request: bytes) -> None:
        try:
            stdin.write(request)
            stdin.flush()
        except (OSError, ValueError):  # ValueError: the reader was stopped (its pipe closed)
            self._failed = True  # git stopped: the reading side reports it

    def join(self, deadline: float) -> bool:
        """True when the whole request was written."""
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            if self._thread.is_alive():
                return False
        return not self._failed


def _stop_child(child: subprocess.Popen[bytes], owner: int) -> None:
    if owner != os.getpid():
        return  # a forked worker's copy: the reader belongs to the parent
    # Killed before its pipes are closed: a writer thread blocked on a full pipe holds the pipe's
    # lock until git is gone, and git (a reader of objects) has nothing to lose by stopping.
    with contextlib.suppress(OSError):
        child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError, ValueError):
                pipe.close()


def _header(line: bytes) -> tuple[str, int] | None:
    """``<id> <type> <size>`` as (type, size); ``None`` for ``<name> missing`` or ``ambiguous``
    (a name may hold spaces, an object id never does)."""
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].isdigit() or not all(c in b"0123456789abcdef" for c in parts[0]):
        return None
    return parts[1].decode(), int(parts[2])


def _oid_bytes(name: str) -> int:
    """The raw length of object ids in this repository: SHA-1 (20 bytes) or SHA-256 (32)."""
    return len(name.split("^", 1)[0]) // 2


def _parse_tree(data: bytes, oid_bytes: int) -> dict[str, TreeItem]:
    """A tree object's entries: ``<mode> <name>\\0<raw id>`` each."""
    entries: dict[str, TreeItem] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = data[pos:space].decode()
        name = data[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        entries[name] = TreeItem(mode, data[nul + 1 : nul + 1 + oid_bytes].hex())
        pos = nul + 1 + oid_bytes
    return entries
