"""Reading small files named by configuration or evidence, never more than a cap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["read_capped"]


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
