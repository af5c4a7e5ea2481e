"""The remediations ``fleetgate watch`` writes for a breached deployment, as field edits of its
manifest: step the rollout down a rung, roll back to the last version admitted at pre-deploy, or
turn on the feature flag that selects the lite variant."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fleetgate.errors import FleetgateError
from fleetgate.git import Git
from fleetgate.manifest import Manifest
from fleetgate.telemetry.fields import part, version_of

if TYPE_CHECKING:
    from fleetgate.commands.watch import Watched, WatchOptions

__all__ = ["Edits", "edited", "plan"]

_PERCENTAGE = ("spec", "updateStrategy", "rolloutPercentage")

Edits = dict[tuple[str, ...], Any]


def plan(
    git: Git, ref: str, watched: Watched, manifest: Manifest, data: Mapping[str, Any], options: WatchOptions
) -> tuple[Edits, dict[str, Any]] | str:
    """The field edits of one remediation and its description, or why there is none."""
    if options.remediation == "rollback":
        return _rollback(git, ref, watched, manifest, data, options.audit_log)
    if options.remediation == "flag":
        return _flag(watched, manifest, options.flag or "")
    rungs = sorted(data.get("rollout", {}).get("rungs", [1, 5, 10, 25, 50, 100]))
    lower = [r for r in rungs if r < watched.percentage]
    if not lower:
        return f"{watched.target} breaches at the lowest rung {watched.percentage} %: it needs a rollback"
    remediation = {"action": "step-down", "from": watched.percentage, "to": lower[-1]}
    return {_PERCENTAGE: lower[-1]}, remediation


def _flag(watched: Watched, manifest: Manifest, flag: str) -> tuple[Edits, dict[str, Any]] | str:
    """Switch the deployment to its lite variant: the named feature flag, declared in the manifest, on."""
    path = ("spec", "featureFlags", flag)
    if path not in manifest.lines:
        where = f"spec.featureFlags.{flag} is not declared in {manifest.file}"
        return f"{watched.target}: {where}; declare it (false) first"
    return {path: True}, {"action": "flag", "from": False, "to": f"featureFlags.{flag}"}


def _rollback(
    git: Git, ref: str, watched: Watched, manifest: Manifest, data: Mapping[str, Any], log_url: str | None
) -> tuple[Edits, dict[str, Any]] | str:
    """Back to the last version admitted at pre-deploy: the decision log's newest such record when
    a log is configured and holds one, else the previous version in the base branch's history.
    Its artifact as the base branch last held it, at the highest percentage it reached there
    (what the rollback fact lets rollout.step-limit admit by rule)."""
    from fleetgate.telemetry.history import last_deployed, restored

    fields = list(data.get("rollout", {}).get("newArtifactFields", ["version", "modelUri", "checksum"]))
    target, source = _last_admitted(log_url, manifest, fields), "decision log"
    if target is None:
        source = "git history"
        previous = watched.previous
        target = last_deployed(git, ref, manifest.file, manifest.identity, previous) if previous else None
    if target is None:
        return f"{watched.target}: no earlier version in the history of {manifest.file} to roll back to"
    version = version_of(target)
    found = restored(git, ref, manifest.file, target, fields)
    if found is None:
        return (
            f"{watched.target}: version {version}, the last admitted at pre-deploy in the decision log, "
            f"is not in the history of {manifest.file}: it cannot be restored by rule"
        )
    spec = part(target, "spec")
    edits: Edits = {("spec", f): spec.get(f) for f in fields if spec.get(f) is not None}
    edits[_PERCENTAGE] = found.percentage
    remediation = {
        "action": "rollback",
        "from": watched.version,
        "to": version,
        "rolloutPercentage": found.percentage,
        "source": source,
    }
    return edits, remediation


def _last_admitted(log_url: str | None, manifest: Manifest, fields: list[str]) -> Mapping[str, Any] | None:
    """The deployment as the decision log's newest admitted pre-deploy record of another artifact
    holds it, or ``None`` (no log configured, or no such record)."""
    if log_url is None:
        return None
    from fleetgate.commands.audit import opened
    from fleetgate.telemetry.admissions import last_admitted

    with opened(log_url) as log:
        spec = last_admitted(log, manifest.body, fields)
    return {**manifest.body, "spec": spec} if spec is not None else None


def edited(content: bytes, manifest: Manifest, edits: Edits) -> bytes:
    """The file with the deployment's fields set, each on its own line, everything else as it was."""
    lines = content.decode("utf-8").splitlines(keepends=True)
    for path, value in edits.items():
        line = manifest.lines.get(path)
        key = re.escape(path[-1])
        pattern = rf"^(\s*[\"']?{key}[\"']?\s*:\s*)[^#\n]*?(\s*(#.*)?)$"
        if line is None or not 0 < line <= len(lines):
            raise FleetgateError(f"{manifest.file}: cannot find {'.'.join(path)} of {manifest.target}")
        text = json.dumps(value)  # a JSON scalar is a YAML scalar: quoted strings stay strings
        found = re.match(pattern, lines[line - 1].rstrip("\n"))
        if found is None:
            raise FleetgateError(
                f"{manifest.file}:{line}: cannot rewrite {'.'.join(path)} of {manifest.target}"
            )
        edited = f"{found.group(1)}{text}{found.group(2)}"
        lines[line - 1] = edited + ("\n" if lines[line - 1].endswith("\n") else "")
    return "".join(lines).encode("utf-8")
