"""Gate changes described key by key, and the waivers a change may and may not apply."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetgate.approvals import Approval
from fleetgate.files import GateFiles
from fleetgate.git import Git
from fleetgate.integrity import GatePaths, GateReview, gate_findings, review_waivers
from fleetgate.waivers import Waiver

from support import GitRepo

WAIVER = Waiver("cost.threads", "production/a", "perf", "alice", dt.date(2099, 1, 1), "w.yaml", 2)


def findings(repo: GitRepo, before: str, after: str, review: GateReview) -> list[tuple[str, str, int]]:
    repo.write("fleetgate.yaml", before)
    trusted = GateFiles.at_commit(Git(repo.root), repo.commit("base"))
    repo.write("fleetgate.yaml", after)
    found = gate_findings(["fleetgate.yaml"], trusted, GateFiles.on_disk(repo.root), review)
    return [(f.severity, f.message.split(" (")[0].split(";")[0], f.line) for f in found]


ENFORCED = GateReview(enforced=True, approval=None)


def test_each_changed_key_is_described_at_its_line(repo: GitRepo) -> None:
    before = "policies:\n  data:\n    cost:\n      maxThreads: 4\ntrust: t.yaml\n"
    after = "policies:\n  data:\n    cost:\n      maxThreads: 16\n      maxBatch: 64\n"
    assert findings(repo, before, after, ENFORCED) == [
        ("deny", "fleetgate.yaml: policies.data.cost.maxThreads 4 → 16", 4),
        ("deny", "fleetgate.yaml: policies.data.cost.maxBatch added: 64", 5),
        ("deny", "fleetgate.yaml: trust removed", 1),
    ]


def test_a_list_shows_what_was_added_and_removed(repo: GitRepo) -> None:
    before = "policies:\n  dirs: [a, b]\n"
    after = "policies:\n  dirs: [b, c]\n"
    [(_, text, line)] = findings(repo, before, after, ENFORCED)
    assert text == "fleetgate.yaml: policies.dirs + c - a" and line == 2


@pytest.mark.parametrize(
    ("review", "severity"),
    [
        (GateReview(True, Approval(("alice",), ""), approvers=("alice",)), "warn"),
        (GateReview(True, Approval(("alice",), ""), approvers=("alice", "bob"), threshold=2), "deny"),
        (GateReview(True, Approval(("mallory",), ""), approvers=("alice",)), "deny"),
        (GateReview(False, None, note="a local check"), "warn"),
    ],
)
def test_the_verdict_follows_the_approvals(repo: GitRepo, review: GateReview, severity: str) -> None:
    [(found, _, _)] = findings(repo, "stage: pre-merge\n", "stage: pre-deploy\n", review)
    assert found == severity


def test_gate_paths_cover_files_and_folders() -> None:
    paths = GatePaths(frozenset({"fleetgate.yaml"}), ("policy",))
    assert paths.changed(["policy/x.rego", "policyx/y", "fleetgate.yaml", "models/a.yaml"]) == [
        "fleetgate.yaml",
        "policy/x.rego",
    ]


def test_waivers_of_the_trusted_revision_apply_without_a_signature() -> None:
    review = review_waivers([WAIVER], [WAIVER], lambda w: Approval((), "unsigned"))
    assert review.applicable == (WAIVER,) and review.findings == ()


def test_a_new_waiver_applies_only_with_its_approver() -> None:
    edited = Waiver("cost.threads", "production/a", "perf", "alice", dt.date(2099, 2, 1), "w.yaml", 2)
    held = review_waivers([edited], [WAIVER], lambda w: Approval(("bob",), ""))
    assert held.applicable == () and "signed by bob, not by alice" in held.findings[0].message
    applied = review_waivers([edited], [WAIVER], lambda w: Approval(("bob", "alice"), ""))
    assert applied.applicable == (edited,)


def test_without_signers_every_waiver_applies_marked_unverified() -> None:
    review = review_waivers([WAIVER], [], None)
    [waiver] = review.applicable
    assert waiver.unverified is not None and "not configured" in waiver.unverified


def test_sizes_read_in_mib(repo: GitRepo) -> None:
    before = "policies:\n  data:\n    cost:\n      tierCapBytes: {standard: 52428800}\n"
    after = "policies:\n  data:\n    cost:\n      tierCapBytes: {standard: 524288000}\n"
    [(_, text, _)] = findings(repo, before, after, ENFORCED)
    assert text == "fleetgate.yaml: policies.data.cost.tierCapBytes.standard 50 MiB → 500 MiB"
