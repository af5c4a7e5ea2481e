from __future__ import annotations

from fleetgate.cli import main

raise SystemExit(main())
