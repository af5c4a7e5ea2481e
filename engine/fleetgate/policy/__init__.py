"""Policy stage: the Rego library, its compilation and evaluation, and its test runner."""

from __future__ import annotations

from fleetgate.policy.embedded import EmbeddedEngine
from fleetgate.policy.engines import build_engine
from fleetgate.policy.interface import EngineInfo, PolicyEngine, PolicyResult, PolicyRevision, RawFinding
from fleetgate.policy.library import (
    PolicyLibrary,
    PolicyModule,
    RuleInfo,
    builtin_policy_dir,
    load_library,
)
from fleetgate.policy.overrides import DataOrigin, merge_data

__all__ = [
    "DataOrigin",
    "EmbeddedEngine",
    "EngineInfo",
    "PolicyEngine",
    "PolicyLibrary",
    "PolicyModule",
    "PolicyResult",
    "PolicyRevision",
    "RawFinding",
    "RuleInfo",
    "build_engine",
    "builtin_policy_dir",
    "load_library",
    "merge_data",
]
