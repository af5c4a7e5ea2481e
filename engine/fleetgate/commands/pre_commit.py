"""What ``fleetgate check --pre-commit`` evaluates, from what pre-commit tells the hook.

pre-commit names the range in the environment:

1. On push it sets ``PRE_COMMIT_REMOTE_NAME`` and, unless the pushed history starts at a root
   commit, ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``. Its ``FROM_REF`` is what the remote
   already had, so only the newly pushed commits would be judged. CI judges a pull request
   against the merge base with its target branch: a branch that climbs one rollout rung per push
   would pass every push and fail CI. A push is therefore compared with the merge base of the
   pushed commit and the upstream branch (``--base``, else the remote's default branch), and
   falls back to pre-commit's range only when there is no such branch.
2. ``pre-commit run --from-ref A --to-ref B`` sets only the two refs: ``A..B`` as given.
3. Otherwise (commit, manual) the staged changes are checked. With nothing staged the run is
   ``pre-commit run --all-files``: the whole repository is scanned, each manifest as if newly
   added, instead of checking nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fleetgate.errors import FleetgateError, GitError
from fleetgate.git import Git

__all__ = ["HookRange", "hook_range"]

# The remote's default branch, in order: what `git clone` records, then the usual names.
_DEFAULT_BRANCHES = ("HEAD", "main", "master")


@dataclass(frozen=True)
class HookRange:
    """What one hook run checks: a commit range, the staged changes, or paths scanned as added."""

    base: str | None = None
    head: str | None = None
    staged: bool = False
    paths: tuple[str, ...] = ()


def hook_range(env: Mapping[str, str], git: Git, upstream: str | None = None) -> HookRange:
    """The range of a hook run; ``upstream`` names the branch a push is compared with."""
    from_ref, to_ref = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    remote = env.get("PRE_COMMIT_REMOTE_NAME")
    if remote:
        head = to_ref or env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        base = _push_base(git, remote, head, upstream)
        if base is not None:
            return HookRange(base=base, head=head)
        if from_ref:
            return HookRange(base=from_ref, head=head)
        # A new history and no branch to compare it with: everything in it is new.
        return HookRange(paths=(str(git.root),))
    if from_ref and to_ref:
        return HookRange(base=from_ref, head=to_ref)
    staged = git.run("diff", "--cached", "--name-only", "-z", "--no-ext-diff", "--no-renames")
    if staged:
        return HookRange(staged=True)
    return HookRange(paths=(str(git.root),))


def _push_base(git: Git, remote: str, head: str, upstream: str | None) -> str | None:
    """The merge base of ``head`` and the upstream branch, or ``None`` when there is none.

    A branch the user named must exist and share history with ``head``; the remote's default
    branch is only looked for.
    """
    if upstream is not None:
        upstream_sha = git.commit(upstream).sha
        base = _merge_base(git, upstream_sha, head)
        if base is None:
            raise FleetgateError(f"--base {upstream}: no common history with the pushed commit {head}")
        return base
    for name in _DEFAULT_BRANCHES:
        try:
            upstream_sha = git.commit(f"refs/remotes/{remote}/{name}").sha
        except GitError:
            continue
        return _merge_base(git, upstream_sha, head)
    return None


def _merge_base(git: Git, one: str, other: str) -> str | None:
    try:
        return git.run("merge-base", one, other).decode().strip() or None
    except GitError:
        return None
