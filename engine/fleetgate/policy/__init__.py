"""Policy stage: the Rego library, its compilation and evaluation, and its test runner."""

from __future__ import annotations

from fleetgate.policy.embedded import EmbeddedEngine
from fleetgate.policy.interface import PolicyEngine, PolicyResult, RawFinding
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
    "PolicyEngine",
    "PolicyLibrary",
    "PolicyModule",
    "PolicyResult",
    "RawFinding",
    "RuleInfo",
    "builtin_policy_dir",
    "load_library",
    "merge_data",
]
