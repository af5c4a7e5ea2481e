"""One module per CLI verb. Each returns data; only :mod:`fleetgate.cli` prints or exits."""

from __future__ import annotations

__all__: list[str] = []
