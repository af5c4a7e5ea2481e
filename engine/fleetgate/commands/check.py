"""``fleetgate check``: gather the changes, evaluate them, return the decision.

This module does the I/O around the pure core (:mod:`fleetgate.gate`): it finds the repository,
reads the config, the policy library, the changed manifests and the waiver file, and hands
them over. It never prints and never exits: the CLI does.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetgate import __version__, heap
from fleetgate.changes import (
    ChangeSet,
    changes_between,
    changes_in_paths,
    with_dependents,
)
from fleetgate.commands._gate import (
    evaluation_datasets,
    guarded_paths,
    known_rules,
    non_deployment_subjects,
    submodule_findings,
    trusted_context,
)
from fleetgate.commands._rollout import with_rollout_facts
from fleetgate.commands.policy_bundle import bundle_context, bundle_library
from fleetgate.config import (
    CONFIG_FILE,
    DEFAULT_CACHE,
    FACTS,
    STAGES,
    Config,
    EvidenceConfig,
    load_config,
)
from fleetgate.decision import Decision, DecisionHeader
from fleetgate.errors import FleetgateError, GitError
from fleetgate.evidence import SILENT, Progress
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.gather import EvidenceRun, artifact_source, gather_facts
from fleetgate.evidence.interface import TrustConfig
from fleetgate.evidence.registry import COLLECTORS
from fleetgate.files import GateFiles
from fleetgate.gate import run_gate
from fleetgate.git import INDEX, WORKTREE, Git, Revision
from fleetgate.parallel import available_cores
from fleetgate.policy import (
    DataOrigin,
    EngineInfo,
    PolicyLibrary,
    PolicyRevision,
    RuleInfo,
    builtin_policy_dir,
    load_library,
)
from fleetgate.policy.engines import build_engine
from fleetgate.review import Review

if TYPE_CHECKING:
    from fleetgate.commands.audit import AuditSettings

__all__ = [
    "CheckOptions",
    "Checked",
    "ReceiptRequest",
    "evidence_cache_dir",
    "evidence_run",
    "load_policies",
    "repository_config",
    "run_check",
    "trusted_files",
]


@dataclass(frozen=True)
class CheckOptions:
    paths: Sequence[str] = ()
    base: str | None = None
    head: str | None = None
    staged: bool = False
    stage: str | None = None
    config: Path | None = None
    cwd: Path = Path(".")
    jobs: int = 0  # 0: one worker per available core
    evidence: Sequence[str] | None = None  # facts to gather; None: the config's list
    trust: Path | None = None  # overrides the config's trust file
    progress: Progress = SILENT
    record: bool = True  # append the decision to the decision log before returning it
    audit_log: str | None = None  # the decision log (and the cost ledger); None: the config's
    receipts: ReceiptRequest | None = None  # sign one decision receipt per deployment
    cost_segments: bool = False  # the cost fact lists every eligible segment (fleetgate cost)
    telemetry: Path | None = None  # an operator's telemetry snapshot (overrides telemetry.source)
    policy_bundle: Path | None = None  # a signed OPA bundle: the only policies evaluated
    bundle_key: Path | None = None  # the PEM public key it must verify with


@dataclass(frozen=True)
class ReceiptRequest:
    """Signed decision receipts for a deploy pipeline (the key is a secret on disk, never from git)."""

    key: Path | None = None  # default: audit.signingKey
    verifier: str | None = None
    policy_uri: str | None = None


@dataclass(frozen=True)
class Checked:
    """The recorded decision, the metadata of the rules that made it, and what to tell the user."""

    decision: Decision
    rules: Mapping[str, RuleInfo]
    config: Config
    warnings: tuple[str, ...] = ()
    receipts: str | None = None  # JSON lines of signed receipts, when asked for
    engine: EngineInfo | None = None  # which evaluator decided, and which policies
    revision: PolicyRevision | None = None


def run_check(options: CheckOptions, now: dt.datetime | None = None) -> Checked:
    """Evaluate what ``options`` select and return the admission decision.

    Every gate file is read from the trusted revision (:mod:`fleetgate.files`); what the change
    does to those files is judged as its own subject (:mod:`fleetgate.integrity`).
    """
    _check_options(options)
    git_mode = options.staged or options.base is not None or options.head is not None or not options.paths
    git = _repository(options.cwd, required=git_mode)
    root = git.root if git is not None else options.cwd.resolve()
    trusted = trusted_files(git, root, options.base)
    try:
        return _checked(options, git, root, trusted, now)
    finally:
        trusted.close()


def _settled(options: CheckOptions, config: Config) -> AuditSettings | None:
    """The audit settings, checked before anything is evaluated (a bad one must not cost a run)."""
    if not options.record and options.receipts is None:
        return None
    from fleetgate.commands.audit import audit_settings

    return audit_settings(config.extra.get("audit"), config.root, options.audit_log)


def _recorded(checked: Checked, options: CheckOptions, settings: AuditSettings | None) -> Checked:
    """Record, then sign receipts: a decision that could not be logged is no decision."""
    if settings is None:
        return checked
    warnings: tuple[str, ...] = ()
    if options.record:
        from fleetgate.commands.audit import record_decision

        warnings = record_decision(checked.decision, settings).warnings
    receipts = None
    if options.receipts is not None:
        from fleetgate.audit.receipt import DEFAULT_POLICY_URI, DEFAULT_VERIFIER_ID, issue_receipts
        from fleetgate.commands.audit import read_key

        request = options.receipts
        key = read_key(request.key or settings.signing_key, "receipt signing key", "--receipt-key")
        verifier, policy = request.verifier or DEFAULT_VERIFIER_ID, request.policy_uri or DEFAULT_POLICY_URI
        receipts = issue_receipts(
            checked.decision, key, verifier, policy, engine=checked.engine, revision=checked.revision
        )
    return replace(checked, warnings=(*checked.warnings, *warnings), receipts=receipts)


def _checked(
    options: CheckOptions, git: Git | None, root: Path, trusted: GateFiles, now: dt.datetime | None
) -> Checked:
    config = _config(options, trusted, root)
    settings = _settled(options, config)
    stage = options.stage or config.stage
    if stage not in STAGES:
        raise FleetgateError(f"unknown stage {stage!r} (expected one of {', '.join(STAGES)})")
    library = bundle_library(options.cwd, options.policy_bundle, options.bundle_key) or load_policies(config)
    engine = build_engine(config.engine, library, config.engine_settings)
    changes, head, complete = _select(options, git, root, config)
    # What was loaded stays until the decision is made: the collector need not walk it again.
    with heap.frozen():
        trust = _trust(options, config, root)
        gate = guarded_paths(config, trust)
        if git is not None and not options.paths:
            changed = bool(gate.changed(changes.paths))
            changes = with_dependents(git, head, config.selector, config.limits, changes, changed)
        # The evaluation datasets are yardsticks: a change to one is a change to the gate.
        changed_gate = replace(gate, files=gate.files | evaluation_datasets(changes)).changed(changes.paths)
        review = Review(git, trusted, head, config, enforced=options.base is not None, now=now)
        waivers = known_rules(review.waivers(), library.rules)
        extra = non_deployment_subjects(
            review.gate(changed_gate), submodule_findings(options, git, changes, config) if git else []
        )
        run = evidence_run(
            options,
            config,
            git,
            stage == "pre-deploy",
            trust,
            trusted if git is not None else None,
            changes.context.base_commit,
        )
        moment = now or dt.datetime.now(dt.UTC)
        run = replace(run, settings=with_rollout_facts(run.settings, config, library.data, options, moment))
        facts = _priced(gather_facts, changes, run, library.data, options, config, moment)
        header = DecisionHeader(
            decision_id=str(uuid.uuid4()),
            timestamp=moment,
            stage=stage,
            policy_revision=library.revision,
            engine=engine.info.label,
            context={
                **changes.context.to_json(),
                "trusted": trusted_context(trusted, config),
                **bundle_context(library),
            },
        )
        jobs = options.jobs or available_cores()
        decision = run_gate(
            header,
            changes,
            engine,
            waivers.applicable,
            facts=facts,
            complete=complete,
            jobs=jobs,
            extra=extra,
            notes=waivers.findings,
        )
        revision = library.policy_revision
        checked = Checked(decision, library.rules, config, engine=engine.info, revision=revision)
        return _recorded(checked, options, settings)


def _priced(
    gather: Callable[[ChangeSet, EvidenceRun], dict[str, dict[str, Any]]],
    changes: ChangeSet,
    run: EvidenceRun,
    data: Mapping[str, Any],
    options: CheckOptions,
    config: Config,
    now: dt.datetime,
) -> dict[str, dict[str, Any]]:
    """The facts, with the cost of each rollout when ``fleet:`` names a fleet (FinOps loads only then)."""
    if config.fleet is None:
        return gather(changes, run)
    from fleetgate.commands._fleet import cost_windows, with_fleet

    fleet = with_fleet(run.settings, config, data, options.cost_segments, run.cache)
    return cost_windows(gather(changes, replace(run, settings=fleet)), changes, data, options, config, now)


def _check_options(options: CheckOptions) -> None:
    for flag, value in (("--base", options.base), ("--head", options.head)):
        if value is not None and not value.strip():
            raise FleetgateError(
                f"{flag} is empty: the command that computed it (often git merge-base) failed; "
                "refusing to check against nothing"
            )
    if options.head is not None and options.staged:
        raise FleetgateError("--head and --staged are exclusive (--staged compares the index with HEAD)")
    if options.head is not None and options.base is None:
        raise FleetgateError("--head needs --base")
    if options.paths and (options.staged or options.base is not None):
        raise FleetgateError("give either PATHs or --base/--staged, not both")


def trusted_files(git: Git | None, root: Path, base: str | None) -> GateFiles:
    """The revision gate files are read from: the base commit, else HEAD.

    Outside any git repository, or in one without commits, there is no revision to trust: the
    files on disk are all there is.
    """
    if git is None:
        return GateFiles.on_disk(root)
    if base is not None:
        return GateFiles.at_commit(git, git.commit(base).sha)
    head = git.head()
    # A repository without any commit has no revision to protect yet: what is on disk is all there is.
    return GateFiles.at_commit(git, head.sha) if head is not None else GateFiles.on_disk(root)


def repository_config(cwd: Path, explicit: Path | None = None) -> Config:
    """The configuration in force for the repository at ``cwd`` (HEAD's, like a local check)."""
    git = _repository(cwd, required=False)
    root = git.root if git is not None else cwd.resolve()
    return _config(CheckOptions(config=explicit, cwd=cwd), trusted_files(git, root, None), root)


def _config(options: CheckOptions, trusted: GateFiles, root: Path) -> Config:
    """``fleetgate.yaml`` of the trusted revision, or ``--config``: a repository path is read from
    the trusted revision like the default file; a file outside the repository is the operator's."""
    if options.config is None:
        return load_config(trusted, CONFIG_FILE)
    full = (options.cwd / options.config).resolve()
    if full.is_relative_to(root.resolve()):
        return load_config(trusted, full.relative_to(root.resolve()).as_posix(), required=True)
    return replace(load_config(GateFiles.on_disk(full.parent), full.name, required=True), root=root)


def _trust(options: CheckOptions, config: Config, root: Path) -> TrustConfig | None:
    """The trust file: ``--trust`` (the operator's when outside the repository), else ``trust:``."""
    assert config.trusted is not None
    if options.trust is not None:
        full = (options.cwd / options.trust).resolve()
        if full.is_relative_to(root.resolve()):
            return _load_trust(config.trusted, full.relative_to(root.resolve()).as_posix())
        return _load_trust(GateFiles.on_disk(full.parent), full.name)
    if config.evidence.trust is None:
        return None
    return _load_trust(config.trusted, config.evidence.trust)


def _load_trust(files: GateFiles, path: str) -> TrustConfig:
    from fleetgate.evidence.trust import load_trust

    return load_trust(files, path)


def _select(
    options: CheckOptions, git: Git | None, root: Path, config: Config
) -> tuple[ChangeSet, Revision, bool]:
    """The changes to evaluate, the revision they were read from, and whether that is the whole repo."""
    if options.paths and not (options.staged or options.base or options.head):
        jobs = options.jobs or available_cores()
        changes = changes_in_paths(root, list(options.paths), config.selector, config.limits, git, jobs)
        complete = any((options.cwd / p).resolve() == root for p in options.paths)
        if git is not None and git.head() is not None:
            # Gate files edited on disk are reported like any change to the gate.
            changes = replace(changes, paths=tuple(git.changed_paths("HEAD", WORKTREE)))
        return changes, WORKTREE, complete
    assert git is not None
    head: Revision = INDEX if options.staged else (options.head or WORKTREE)
    # Without --base, compare with HEAD: "what did I change?". In a repository with no commit
    # yet there is no HEAD and everything present is new.
    base = options.base or ("HEAD" if git.head() is not None else None)
    return changes_between(git, base, head, config.selector, config.limits), head, False


def evidence_run(
    options: CheckOptions,
    config: Config,
    git: Git | None,
    fresh: bool = False,
    trust: TrustConfig | None = None,
    trusted: GateFiles | None = None,
    base_commit: str | None = None,
) -> EvidenceRun:
    """How this check gathers evidence: which facts, where artifacts are, which trust file.

    ``fresh`` (the pre-deploy stage) measures everything again instead of reading the cache: the
    last gate before devices does not rely on files a previous run, or anyone else, left behind.
    """
    settings = config.evidence
    if options.evidence is not None:
        unknown = sorted(set(options.evidence) - set(FACTS))
        if unknown:
            raise FleetgateError(f"--evidence: unknown fact {unknown[0]!r} (expected {', '.join(FACTS)})")
        wanted = set(options.evidence)
        settings = replace(settings, collect=tuple(f for f in FACTS if f in wanted))
    if settings.ca_bundle is not None and settings.download.enabled and config.trusted is not None:
        bundle = config.trusted.materialize(settings.ca_bundle, 16 << 20, "CA bundle")
        settings = replace(settings, download=replace(settings.download, ca_bundle=bundle))
    cache_dir = settings.cache
    if cache_dir == DEFAULT_CACHE:
        cache_dir = evidence_cache_dir(git.root if git is not None else None)
    return EvidenceRun(
        settings=settings,
        source=artifact_source(config.root, settings, cache_dir),
        cache=FactCache(cache_dir, __version__, read=not fresh),
        trust=trust if _needs_trust(settings) else None,
        progress=options.progress,
        trusted=trusted,
        git=git,
        base_commit=base_commit,
        gate_files=config.trusted,
    )


def _needs_trust(settings: EvidenceConfig) -> bool:
    return "artifact" in settings.collect and any(
        c.needs_trust and c.name in settings.collect for c in COLLECTORS
    )


def evidence_cache_dir(root: Path | None) -> Path:
    """The evidence cache: next to the repository's git data, else the user's cache folder."""
    if root is not None and (root / ".git").is_dir():
        return root / ".git" / "fleetgate-cache"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fleetgate"


def load_policies(config: Config) -> PolicyLibrary:
    """The built-in library (unless replaced) followed by the repository's own directories."""
    dirs = [] if config.replace_builtin else [builtin_policy_dir()]
    if not dirs and not config.policy_dirs:
        raise FleetgateError("no policy directories: replaceBuiltin is set but policies.dirs is empty")
    origin = DataOrigin(config.source, config.lines) if config.source is not None else None
    return load_library(dirs, config.data, config.root, config.policy_dirs, config.trusted, origin)


def _repository(cwd: Path, required: bool) -> Git | None:
    try:
        return Git.discover(cwd)
    except GitError:
        if required:
            raise
        return None
