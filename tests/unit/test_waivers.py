from __future__ import annotations

import datetime as dt

import pytest

from fleetgate.errors import WaiverError
from fleetgate.waivers import parse_waivers, settle_waivers

FILE = """\
waivers:
  - rule: rollout.step-limit
    target: production/img
    reason: incident rollback needs full fleet
    approvedBy: jane@example.com
    expires: 2026-12-31
    ticket: OPS-42
  - rule: cost.model-size
    target: production/big
    reason: temporary
    approvedBy: ops
    expires: 2026-01-01
  - rule: targeting.regions
    target: staging/other
    reason: pilot
    approvedBy: ops
    expires: 2027-01-01
"""


def test_parse_keeps_fields_and_lines() -> None:
    first, second, _ = parse_waivers(FILE.encode(), "fleetgate-waivers.yaml")
    assert (first.rule, first.target, first.expires, first.ticket, first.line) == (
        "rollout.step-limit",
        "production/img",
        dt.date(2026, 12, 31),
        "OPS-42",
        2,
    )
    assert second.line == 8


def test_settle_applies_expires_and_reports_unused() -> None:
    waivers = parse_waivers(FILE.encode(), "w.yaml")
    denied = [("production/img", "rollout.step-limit"), ("production/big", "cost.model-size")]
    evaluated = ["production/img", "production/big", "staging/other"]
    cover, outcome = settle_waivers(waivers, denied, evaluated, dt.date(2026, 12, 31))
    assert cover == {("production/img", "rollout.step-limit"): waivers[0]}
    assert outcome.expired == (waivers[1],)
    assert outcome.unused == (waivers[2],)
    # The day after its expiry the first waiver no longer applies.
    cover, outcome = settle_waivers(waivers, denied, evaluated, dt.date(2027, 1, 1))
    assert cover == {}
    assert waivers[0] in outcome.expired


def test_expired_and_unused_only_for_evaluated_targets_unless_complete() -> None:
    waivers = parse_waivers(FILE.encode(), "w.yaml")
    _, outcome = settle_waivers(waivers, [], [], dt.date(2026, 6, 1))
    assert outcome.unused == () and outcome.expired == ()
    _, outcome = settle_waivers(waivers, [], [], dt.date(2026, 6, 1), complete=True)
    assert outcome.unused == (waivers[0], waivers[2])
    assert outcome.expired == (waivers[1],)


VALID = {"rule": "r", "target": "a/b", "reason": "r", "approvedBy": "x", "expires": "2030-01-01"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rule": "schema.invalid"}, "schema.invalid cannot be waived"),
        ({"approvedBy": None}, "non-empty approvedBy"),
        ({"target": "ab"}, "must be <namespace>/<name>"),
        ({"expires": "soon"}, "not a YYYY-MM-DD"),
        ({"by": "y"}, "unknown waiver field 'by'"),
    ],
)
def test_malformed_waivers_are_errors_at_their_line(change: dict[str, str | None], message: str) -> None:
    entry = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    text = "waivers:\n" + "".join(
        f"  {'-' if i == 0 else ' '} {k}: '{v}'\n" for i, (k, v) in enumerate(entry.items())
    )
    with pytest.raises(WaiverError, match=f"w.yaml:2: .*{message}"):
        parse_waivers(text.encode(), "w.yaml")
