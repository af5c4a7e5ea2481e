"""Bounded reads for the evidence collectors (the reader itself lives in :mod:`fleetgate._read`)."""

from __future__ import annotations

from fleetgate._read import read_capped

__all__ = ["read_capped"]
