from __future__ import annotations

from fleetgate.cli import run

run()
