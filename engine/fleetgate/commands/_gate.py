"""What a check needs to judge the gate itself: gate paths, subjects that are not deployments,
waivers naming unknown rules, and what the decision records of the trusted revision."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fleetgate.changes import ChangeSet, repository_links, submodules_under_globs
from fleetgate.config import CONFIG_FILE, Config
from fleetgate.decision import Finding, Subject
from fleetgate.errors import FleetgateError
from fleetgate.evidence.interface import TrustConfig
from fleetgate.files import GateFiles, GatePaths, repo_path
from fleetgate.git import Git
from fleetgate.policy import RuleInfo

if TYPE_CHECKING:
    from fleetgate.commands.check import CheckOptions
    from fleetgate.waivers import WaiverReview

__all__ = [
    "evaluation_datasets",
    "guarded_paths",
    "known_rules",
    "non_deployment_subjects",
    "submodule_findings",
    "trusted_context",
]


def submodule_findings(options: CheckOptions, git: Git, changes: ChangeSet, config: Config) -> list[Finding]:
    """A submodule where manifests could live is a deny: the gate cannot see inside it."""
    links = repository_links(git) if options.paths else list(changes.links)
    return [
        Finding(
            "schema.invalid",
            "deny",
            f"{path} is a git submodule under the manifest globs: manifests may not live in "
            "submodules, where the gate cannot see them",
            path,
            1,
        )
        for path in submodules_under_globs(links, config.selector)
    ]


def non_deployment_subjects(gate: list[Finding], layout: list[Finding]) -> list[Subject]:
    """The subjects that are not deployments: the gate's own files, the repository's layout."""
    if not gate and not layout:
        return []
    from fleetgate.integrity import GATE_NAME, non_deployment

    extra = [non_deployment(GATE_NAME, "gate", gate)] if gate else []
    return extra + ([non_deployment("repository-layout", "repository", layout)] if layout else [])


def known_rules(review: WaiverReview, rules: Mapping[str, RuleInfo]) -> WaiverReview:
    """A waiver for a rule the library does not have waives nothing: say so, with a suggestion."""
    if all(w.rule in rules for w in review.applicable):
        return review
    from fleetgate.waivers import WaiverReview

    known = [w for w in review.applicable if w.rule in rules]
    notes = []
    for waiver in review.applicable:
        if waiver.rule not in rules:
            import difflib

            close = difflib.get_close_matches(waiver.rule, list(rules), n=1)
            hint = f": did you mean {close[0]!r}?" if close else " (fleetgate explain lists every rule)"
            message = f"waiver for {waiver.target} names unknown rule {waiver.rule!r}{hint}"
            notes.append(Finding("waiver.unknown-rule", "warn", message, waiver.file, waiver.line, "rule"))
    return WaiverReview(tuple(known), (*review.findings, *notes))


def guarded_paths(config: Config, trust: TrustConfig | None) -> GatePaths:
    """Every gate file of the configuration (the waiver file aside: it has its own approvals)."""
    files = {config.source or CONFIG_FILE}
    fleet = (config.fleet.inventory, config.fleet.prices) if config.fleet is not None else (None, None)
    snapshot = config.telemetry.get("path") if config.telemetry is not None else None
    named_files = (
        config.evidence.trust,
        config.evidence.ca_bundle,
        config.gate.allowed_signers,
        *fleet,
        snapshot,
    )
    for named in named_files:
        if named is not None:
            files.add(named)
    operators = config.evidence.collectors.get("model", {}).get("allowedOperators")
    if isinstance(operators, str):
        with contextlib.suppress(FleetgateError):
            files.add(repo_path(operators))
    if trust is not None and trust.files is config.trusted:
        from fleetgate.evidence.trust import trust_material

        files.update(trust_material(trust))
    return GatePaths(frozenset(files), tuple(config.policy_dirs))


def evaluation_datasets(changes: ChangeSet) -> frozenset[str]:
    """The repository paths of the evaluation datasets the changes' manifests (both sides) name."""
    found: set[str] = set()
    for change in changes.changes:
        for side in (change.head, change.base):
            spec = side.body.get("spec") if side is not None else None
            block = spec.get("evaluation") if isinstance(spec, dict) else None
            dataset = block.get("dataset") if isinstance(block, dict) else None
            if isinstance(dataset, str):
                with contextlib.suppress(FleetgateError):
                    found.add(repo_path(dataset, what="spec.evaluation.dataset"))
    return frozenset(found)


def trusted_context(trusted: GateFiles, config: Config) -> dict[str, Any]:
    """What the decision records of the gate files: where from, and the digest of each one used."""
    return {
        "revision": trusted.revision,
        "config": config.source,
        "files": {path: digest for path, digest in sorted(trusted.consulted.items()) if digest},
    }
