"""The I/O around gate integrity: waivers from both sides and the signatures that approve them.

:mod:`fleetgate.integrity` decides; this module gathers what it decides on: the waiver file of
the trusted revision and of the head, the trusted allowed_signers file (valid entries only, see
:mod:`fleetgate.approvals`) and git's verdict on each commit of the change.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fleetgate.config import CONFIG_FILE, Config, load_config
from fleetgate.decision import Finding
from fleetgate.errors import ConfigError, FleetgateError, WaiverError
from fleetgate.files import EMPTY, WORKTREE, GateFiles
from fleetgate.git import INDEX, Git, Revision
from fleetgate.git import WORKTREE as GIT_WORKTREE
from fleetgate.waivers import Waiver, WaiverReview, parse_waivers

if TYPE_CHECKING:  # approvals and integrity load only when there is something to judge
    from fleetgate.approvals import Approval, Signatures

__all__ = ["Review"]

_MAX_SIGNERS = 1 << 20


class Review:
    """What one check needs to judge waivers and gate changes; signatures are read at most once."""

    def __init__(
        self,
        git: Git | None,
        trusted: GateFiles,
        head: Revision,
        config: Config,
        enforced: bool,
        now: dt.datetime | None = None,
    ) -> None:
        self._git, self._trusted, self._config = git, trusted, config
        self._enforced = enforced
        self._now = now or dt.datetime.now(dt.UTC)
        self._head_rev = head
        self._head = _head_files(git, head, config.root)
        self._head_commit = _head_commit(git, head)
        self._scratch = tempfile.TemporaryDirectory(prefix="fleetgate-signers-")
        self._verdicts: Signatures | None = None

    def waivers(self) -> WaiverReview:
        """Head waivers, checked against the trusted revision's and against their approvals."""
        name = self._config.waivers
        head = self._parse(self._head, name)
        if not head:
            return WaiverReview((), ())
        from fleetgate.integrity import review_waivers

        trusted = self._parse(self._trusted, name) if self._trusted.revision != WORKTREE else head
        signatures = self._signatures()
        if signatures is None:
            return review_waivers(head, trusted, None)
        return review_waivers(head, trusted, functools.partial(self._waiver_approval, signatures))

    def gate(self, changed: Sequence[str]) -> list[Finding]:
        """``gate.config-changed`` findings for the gate files the change touches."""
        if not changed:
            return []
        from fleetgate.integrity import GateReview, gate_findings

        signatures = self._signatures()
        approval = None if signatures is None else self._gate_approval(signatures, changed)
        bootstrap = self._config.source is None and not self._config.policy_dirs
        note = ""
        if bootstrap:
            note = "the trusted revision has no gate configuration yet: built-in defaults judge this change"
        elif not self._enforced:
            note = "a local check: the pull request check judges it with the trusted configuration"
        gate = self._config.gate
        invalid = self._invalid_config(changed)
        review = GateReview(
            enforced=self._enforced and not bootstrap,
            approval=approval,
            approvers=gate.approvers,
            threshold=gate.threshold,
            note=note,
        )
        return [*invalid, *gate_findings(changed, self._trusted, self._head, review)]

    def _invalid_config(self, changed: Sequence[str]) -> list[Finding]:
        """A proposed fleetgate.yaml that does not load: merging it would stop every later check."""
        path = self._config.source or CONFIG_FILE
        if path not in changed:
            return []
        try:
            load_config(self._head, path)
        except FleetgateError as exc:
            found = re.match(rf"{re.escape(path)}:(\d+): (.*)", exc.message)
            line, message = (int(found.group(1)), found.group(2)) if found else (1, exc.message)
            return [
                Finding(
                    "gate.config-invalid", "deny", f"the proposed {path} does not load: {message}", path, line
                )
            ]
        return []

    def _parse(self, files: GateFiles, name: str) -> list[Waiver]:
        data = files.read(name, self._config.limits.max_bytes, "waiver file", WaiverError)
        return parse_waivers(data, name) if data is not None else []

    def _signatures(self) -> Signatures | None:
        """git's verdicts on base..head, or None when no allowed_signers file is configured."""
        path = self._config.gate.allowed_signers
        if path is None:
            return None
        if self._verdicts is None:
            self._verdicts = self._verify(path)
        return self._verdicts

    def _verify(self, path: str) -> Signatures:
        from fleetgate.approvals import Signatures, parse_allowed_signers, signers_file_text

        data = self._trusted.require(path, _MAX_SIGNERS, "allowed_signers file")
        entries = parse_allowed_signers(data, path)
        if self._git is None or self._trusted.revision in (WORKTREE, EMPTY) or self._head_commit is None:
            raise ConfigError(f"{path}: gate.allowedSigners needs a git repository with commits")
        valid = Path(self._scratch.name) / "allowed_signers"
        valid.write_text(signers_file_text(entries, self._now), encoding="utf-8")
        return Signatures(self._git, self._trusted.revision, self._head_commit, valid)

    def _uncommitted(self, paths: Sequence[str]) -> bool:
        """Whether the head differs from its commit at ``paths`` (a worktree or staged check)."""
        if self._git is None or self._head_rev not in (INDEX, GIT_WORKTREE):
            return False
        local = set(self._git.changed_paths("HEAD", self._head_rev))
        return any(p in local for p in paths)

    def _gate_approval(self, signatures: Signatures, changed: Sequence[str]) -> Approval:
        from fleetgate.approvals import Approval

        if self._uncommitted(changed):
            return Approval((), "the gate files hold uncommitted changes")
        touching = signatures.commits_touching(changed)
        return signatures.approval(touching[0] if touching else None)

    def _waiver_approval(self, signatures: Signatures, waiver: Waiver) -> Approval:
        """Signatures from the commit that brought this exact waiver in, up to the head."""
        from fleetgate.approvals import Approval

        name = self._config.waivers
        if self._uncommitted([name]):
            return Approval((), "the waiver file holds uncommitted changes")
        assert self._git is not None
        for commit in signatures.commits_touching([name]):
            if _holds(self._git, commit, name, waiver) and not _holds(self._git, f"{commit}^", name, waiver):
                return signatures.approval(commit)
        return signatures.approval(None)


def _holds(git: Git, revision: str, name: str, waiver: Waiver) -> bool:
    """Whether the waiver file at ``revision`` has an entry identical to ``waiver``."""
    try:
        sha = git.commit(revision).sha
    except FleetgateError:
        return False  # the first commit of the repository has no parent
    data = git.read(sha, [name], 1 << 20).get(name)
    if data is None:
        return False
    try:
        entries = parse_waivers(data, name)
    except (WaiverError, ConfigError):
        return False
    return any(_same(entry, waiver) for entry in entries)


def _same(a: Waiver, b: Waiver) -> bool:
    return (a.rule, a.target, a.reason, a.approved_by, a.expires, a.ticket) == (
        b.rule,
        b.target,
        b.reason,
        b.approved_by,
        b.expires,
        b.ticket,
    )


def _head_files(git: Git | None, head: Revision, root: Path) -> GateFiles:
    if git is None or head == GIT_WORKTREE:
        return GateFiles.on_disk(root)
    if head == INDEX:
        return GateFiles.staged(git)
    return GateFiles.at_commit(git, git.commit(head).sha)


def _head_commit(git: Git | None, head: Revision) -> str | None:
    if git is None:
        return None
    if head in (INDEX, GIT_WORKTREE):
        found = git.head()
        return found.sha if found is not None else None
    return git.commit(head).sha
