"""The one exception family of fleetgate.

An exception means "could not decide" (exit status 2). A policy violation is never an
exception: it is a finding in the decision. Every error carries a one-line message meant
for the user; the CLI prints it and nothing else (no traceback).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EvidenceError",
    "FleetgateError",
    "GitError",
    "ManifestError",
    "PolicyError",
    "WaiverError",
]


class FleetgateError(Exception):
    """Base class: the gate could not reach a decision."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def diagnostics(self) -> str:
        """The one-line text shown to the user."""
        return " ".join(self.message.split("\n"))


class ManifestError(FleetgateError):
    """A manifest file could not be read or was refused as hostile or malformed."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line


class ConfigError(FleetgateError):
    """fleetgate.yaml (or --config) is invalid."""


class WaiverError(FleetgateError):
    """The waiver file is invalid."""


class GitError(FleetgateError):
    """git could not answer (not a repository, unknown ref, unreadable object)."""


class PolicyError(FleetgateError):
    """The policy library could not be loaded, compiled or evaluated."""


class EvidenceError(FleetgateError):
    """Evidence about an artifact could not be gathered or was refused (hostile, malformed).

    Inside a check, the gate records the message as the fact's ``error`` and the policy
    library denies on it (``evidence.failed``): a collector never turns a failure into a pass.
    """
