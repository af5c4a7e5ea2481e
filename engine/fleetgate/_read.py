"""Reading small files from disk, never more than a cap; the error type is the caller's."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = ["read_capped", "read_regular"]


def read_capped(
    path: Path,
    max_bytes: int,
    what: str,
    error: Callable[[str], Exception],
    shown: str | None = None,
) -> bytes:
    """The bytes of ``path``, reading at most ``max_bytes`` (+1 to tell a larger file).

    An unreadable or larger file raises ``error(message)``, the message naming ``shown`` (or
    the path) and ``what`` the file is: configuration problems raise ConfigError, evidence
    problems EvidenceError.
    """
    where = shown if shown is not None else str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{where}: cannot read the {what} ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise error(f"{where}: the {what} is larger than {max_bytes} bytes")
    return data


def read_regular(path: Path, max_bytes: int, what: str, error: Callable[[str], Exception]) -> bytes:
    """The bytes of the regular file ``path``: FileNotFoundError if absent, ``error`` if unsafe.

    Symlinks are refused (O_NOFOLLOW), FIFOs and devices too (checked on the open descriptor,
    so the file cannot be swapped between the check and the read), and at most ``max_bytes``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(path) from None
    except OSError as exc:
        raise error(f"{path}: cannot open the {what} ({exc.strerror}; symlinks are refused)") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise error(f"{path}: the {what} is not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(f"{path}: the {what} is larger than {max_bytes} bytes")
    return data
