"""fleetgate: a policy-as-code admission gate for on-device AI model deployments.

The gate runs one way: load manifests -> diff them against their base -> gather evidence ->
evaluate Rego policies -> decide -> format.  Each stage is a module of this package.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
