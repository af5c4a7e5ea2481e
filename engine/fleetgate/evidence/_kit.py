"""Small helpers every collector needs, written once so they cannot drift apart.

* :func:`one_line` and :func:`first_line`: a message from a hostile file or a library, flattened
  and capped before it reaches a decision;
* :class:`Refused`: "this check ran and refused, for this one-line reason" (a result the
  collector turns into a failed fact, not an error of the gate);
* :func:`shown` and :func:`contained`: a path as the decision shows it (relative to the
  repository) and the one test that a path stays inside a folder, symlinks followed;
* :func:`library_version`: an installed library's version without importing it.

Nothing here imports a heavy library.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

__all__ = ["MAX_REASON", "Refused", "contained", "first_line", "library_version", "one_line", "shown"]

# A hostile file can put anything in an exception message; a decision keeps one short line.
MAX_REASON = 400


def one_line(text: object, cap: int = MAX_REASON) -> str:
    """``text`` flattened to one line and capped at ``cap`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= cap else flat[: cap - 3] + "..."


def first_line(exc: BaseException, cap: int = 200) -> str:
    """The first non-empty line of ``exc``'s message (capped), or its type name when there is none."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return one_line(lines[0].rstrip(":").strip(), cap) if lines else type(exc).__name__


class Refused(Exception):
    """A check ran and refused; ``reason`` is one line saying what failed."""

    def __init__(self, reason: str) -> None:
        self.reason = one_line(reason)
        super().__init__(self.reason)


def shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository ``root`` when inside it (facts do not depend on the
    checkout's location), else as given."""
    for base in (root, root.resolve()):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def contained(path: Path, base: Path) -> Path | None:
    """``path`` resolved (symlinks followed) when it stays inside ``base``, else ``None``.

    Resolving first means a symlink inside ``base`` cannot lead the gate to a file outside it.
    A loop or an unresolvable path counts as outside.
    """
    try:
        resolved = path.resolve()
        inside = resolved.is_relative_to(base.resolve())
    except (OSError, RuntimeError):  # symlink loops raise RuntimeError on older Pythons
        return None
    return resolved if inside else None


@functools.cache
def library_version(name: str) -> str | None:
    """The installed version of distribution ``name``, without importing it; None when absent.

    Read from the name of its ``<name>-<version>.dist-info`` folder, first on ``sys.path``
    (what installers write, and where ``importlib.metadata`` would look first); only a library
    installed some other way pays for ``importlib.metadata`` (about 15 ms), which a cached
    re-check would otherwise spend on every collector's cache key.
    """
    prefix = re.sub(r"[-_.]+", "_", name).lower() + "-"
    for folder in sys.path:
        for entry in _entries(folder or "."):
            if entry.lower().startswith(prefix) and entry.endswith(".dist-info"):
                return entry[len(prefix) : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _entries(folder: str) -> tuple[str, ...]:
    try:
        return tuple(os.listdir(folder))
    except OSError:
        return ()
