"""``fleetgate check``: gather the changes, evaluate them, return the decision.

This module does the I/O around the pure core (:mod:`fleetgate.gate`): it finds the repository,
reads the config, the policy library, the changed manifests and the waiver file, and hands
them over. It never prints and never exits: the CLI does.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fleetgate import __version__
from fleetgate.changes import ChangeSet, changes_between, changes_in_paths
from fleetgate.config import DEFAULT_CACHE, FACTS, STAGES, Config, EvidenceConfig, load_config
from fleetgate.decision import Decision, DecisionHeader
from fleetgate.errors import FleetgateError, GitError
from fleetgate.evidence import SILENT, Progress
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.gather import EvidenceRun, artifact_source, gather_facts
from fleetgate.gate import run_gate
from fleetgate.git import INDEX, WORKTREE, Git, Revision, read_bounded
from fleetgate.parallel import available_cores
from fleetgate.policy import (
    DataOrigin,
    EmbeddedEngine,
    PolicyLibrary,
    RuleInfo,
    builtin_policy_dir,
    load_library,
)
from fleetgate.waivers import Waiver, parse_waivers

__all__ = ["CheckOptions", "Checked", "evidence_cache_dir", "evidence_run", "load_policies", "run_check"]


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


@dataclass(frozen=True)
class Checked:
    """The decision and the metadata of the rules that made it (for the report formats)."""

    decision: Decision
    rules: Mapping[str, RuleInfo]
    config: Config


def run_check(options: CheckOptions, now: dt.datetime | None = None) -> Checked:
    """Evaluate what ``options`` select and return the admission decision."""
    git_mode = options.staged or options.base is not None or options.head is not None or not options.paths
    if options.head is not None and options.staged:
        raise FleetgateError("--head and --staged are exclusive (--staged compares the index with HEAD)")
    if options.head is not None and options.base is None:
        raise FleetgateError("--head needs --base")
    if options.paths and (options.staged or options.base is not None):
        raise FleetgateError("give either PATHs or --base/--staged, not both")
    git = _repository(options.cwd, required=git_mode)
    root = git.root if git is not None else options.cwd.resolve()
    config = load_config(root, options.config)
    stage = options.stage or config.stage
    if stage not in STAGES:
        raise FleetgateError(f"unknown stage {stage!r} (expected one of {', '.join(STAGES)})")
    library = load_policies(config)
    engine = EmbeddedEngine(library)
    changes, head, complete = _select(options, git, root, config)
    waivers = _waivers(git, root, config, head)
    header = DecisionHeader(
        decision_id=str(uuid.uuid4()),
        timestamp=now or dt.datetime.now(dt.UTC),
        stage=stage,
        policy_revision=library.revision,
        engine=engine.engine_name,
        context=changes.context.to_json(),
    )
    run = evidence_run(options, config, git, fresh=stage == "pre-deploy")
    run.git, run.base_commit = git, changes.context.base_commit
    facts = gather_facts(changes, run)
    jobs = options.jobs or available_cores()
    decision = run_gate(header, changes, engine, waivers, facts=facts, complete=complete, jobs=jobs)
    return Checked(decision, library.rules, config)


def _select(
    options: CheckOptions, git: Git | None, root: Path, config: Config
) -> tuple[ChangeSet, Revision, bool]:
    """The changes to evaluate, the revision they were read from, and whether that is the whole repo."""
    if options.paths and not (options.staged or options.base or options.head):
        jobs = options.jobs or available_cores()
        changes = changes_in_paths(root, list(options.paths), config.selector, config.limits, git, jobs)
        complete = any((options.cwd / p).resolve() == root for p in options.paths)
        return changes, WORKTREE, complete
    assert git is not None
    head: Revision = INDEX if options.staged else (options.head or WORKTREE)
    # Without --base, compare with HEAD: "what did I change?". In a repository with no commit
    # yet there is no HEAD and everything present is new.
    base = options.base or ("HEAD" if git.head() is not None else None)
    return changes_between(git, base, head, config.selector, config.limits), head, False


def evidence_run(options: CheckOptions, config: Config, git: Git | None, fresh: bool = False) -> EvidenceRun:
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
    trust_path = options.trust or settings.trust
    trust = None
    if trust_path is not None and _needs_trust(settings):
        from fleetgate.evidence.trust import load_trust

        trust = load_trust(trust_path)
    cache_dir = settings.cache
    if cache_dir == DEFAULT_CACHE:
        cache_dir = evidence_cache_dir(git.root if git is not None else None)
    return EvidenceRun(
        settings=settings,
        source=artifact_source(config.root, settings, cache_dir),
        cache=FactCache(cache_dir, __version__, read=not fresh),
        trust=trust,
        progress=options.progress,
    )


def _needs_trust(settings: EvidenceConfig) -> bool:
    return "artifact" in settings.collect and bool({"signature", "provenance"} & set(settings.collect))


def evidence_cache_dir(root: Path | None) -> Path:
    """The evidence cache: next to the repository's git data, else the user's cache folder."""
    if root is not None and (root / ".git").is_dir():
        return root / ".git" / "fleetgate-cache"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fleetgate"


def load_policies(config: Config) -> PolicyLibrary:
    """The built-in library (unless replaced) followed by the repository's own directories."""
    dirs = ([] if config.replace_builtin else [builtin_policy_dir()]) + list(config.policy_dirs)
    if not dirs:
        raise FleetgateError("no policy directories: replaceBuiltin is set but policies.dirs is empty")
    origin = DataOrigin(config.source, config.lines) if config.source is not None else None
    return load_library(dirs, config.data, config.root, origin)


def _repository(cwd: Path, required: bool) -> Git | None:
    try:
        return Git.discover(cwd)
    except GitError:
        if required:
            raise
        return None


def _waivers(git: Git | None, root: Path, config: Config, head: Revision) -> list[Waiver]:
    """The waiver file as of the head being checked (so a waiver travels with its change)."""
    name = config.waivers
    if git is None or head == WORKTREE:
        path = root / name
        return (
            parse_waivers(read_bounded(path, name, config.limits.max_bytes), name) if path.is_file() else []
        )
    data = git.read(head if head == INDEX else git.commit(head).sha, [name], config.limits.max_bytes)
    return parse_waivers(data[name], name) if name in data else []
