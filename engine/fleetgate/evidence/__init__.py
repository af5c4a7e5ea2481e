"""Evidence stage: facts about the artifact each manifest points to.

``fleetgate.evidence.gather`` resolves and hashes artifacts and runs the collectors
(``signature``, ``provenance``, ``model``, ``latency``, ``fairness``; one sub-package each, loaded
only when its fact is wanted). This package's top level stays light: a manifest-only check
imports none of the libraries the collectors use.
"""

from __future__ import annotations

from fleetgate.evidence.interface import SILENT, Artifact, Collector, CollectorContext, Progress, TrustConfig

__all__ = ["SILENT", "Artifact", "Collector", "CollectorContext", "Progress", "TrustConfig"]
