from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from fleetgate.changes import ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.format._findings import FINGERPRINT_KEY
from fleetgate.format.gitlab import format_gitlab
from fleetgate.format.interface import Report
from fleetgate.format.sarif import format_sarif
from fleetgate.waivers import Waiver

from support import SAMPLE_WAIVERS, catalog, read_one, schema_validator

DATA = Path(__file__).resolve().parents[2] / "data"
HEADER = DecisionHeader(
    "id-3", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), "pre-merge", "sha256:" + "ef" * 32, "e 1", {}
)
WAIVERS = SAMPLE_WAIVERS


def validator() -> Any:
    return schema_validator("gitlab-codequality.schema.json")


read = read_one


def rich(shift: int = 0, waivers: tuple[Waiver, ...] = tuple(WAIVERS)) -> Decision:
    a, b, bad = read("a", "models/fleet a.yaml"), read("b"), read("c")
    a_findings = (
        Finding("rollout.ladder", "deny", "7 % is not a rung", a.file, 17 + shift, "spec.x"),
        Finding("evidence.missing", "warn", "no signature fact", a.file, 9 + shift, "spec.modelUri"),
        Finding("evidence.missing", "warn", "no artifact fact", a.file, 9 + shift, "spec.modelUri"),
    )
    evaluations = [
        Evaluation(ManifestChange("added", a, None), a_findings),
        Evaluation(
            ManifestChange("modified", b, b),
            (
                Finding(
                    "cost.threads", "deny", "8 threads > 4", b.file, 20, "spec.inferenceConfig.numThreads"
                ),
            ),
        ),
        Evaluation(
            ManifestChange("added", bad, None),
            (Finding("schema.invalid", "deny", "'huge' is not a tier", bad.file, 12, "spec.tier"),),
        ),
    ]
    return decide(HEADER, evaluations, waivers, complete=True)


def issues(decision: Decision) -> list[dict[str, Any]]:
    found = json.loads(format_gitlab(Report(decision, catalog())))
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize("decision", [rich(), decide(HEADER, [], [])], ids=["rich", "empty"])
def test_output_matches_the_documented_code_quality_shape(decision: Decision) -> None:
    found = issues(decision)
    errors = sorted(validator().iter_errors(found), key=str)
    assert not errors, errors[0].message if errors else ""


def test_the_shape_check_can_fail() -> None:
    found = issues(rich())
    found[0]["severity"] = "error"
    assert not validator().is_valid(found)
    del found[0]["severity"]
    assert not validator().is_valid(found)


def test_severities_deny_critical_warn_minor_waived_info() -> None:
    by_check = {(i["check_name"], i["severity"]) for i in issues(rich())}
    assert by_check == {
        ("rollout.ladder", "critical"),
        ("evidence.missing", "minor"),
        ("cost.threads", "info"),
        ("schema.invalid", "critical"),
        ("waiver.unused", "minor"),
    }


def test_a_waived_deny_says_who_approved_it_until_when() -> None:
    [waived] = [i for i in issues(rich()) if i["severity"] == "info"]
    assert waived["description"].startswith("production/b: 8 threads > 4")
    assert "waived by ops until 2026-12-01: perf test" in waived["description"]


def test_locations_are_repository_relative_paths_and_lines() -> None:
    first = issues(rich())[0]
    assert first["location"] == {"path": "models/fleet a.yaml", "lines": {"begin": 17}}
    assert first["check_name"] == "rollout.ladder" and first["type"] == "issue"


def test_fingerprints_are_unique_within_a_report() -> None:
    prints = [i["fingerprint"] for i in issues(rich())]
    assert len(prints) == len(set(prints)) == 5


def test_missing_evidence_is_one_issue_per_deployment_and_none_when_evidence_is_off() -> None:
    [missing] = [i for i in issues(rich()) if i["check_name"] == "evidence.missing"]
    assert missing["description"] == (
        "production/a: 2 pieces of evidence are missing:\n- no signature fact\n- no artifact fact"
    )
    off = json.loads(format_gitlab(Report(rich(), catalog(), evidence_off=True)))
    assert [i["check_name"] for i in off if i["check_name"] == "evidence.missing"] == []
    assert len(off) == 4


def test_fingerprints_survive_line_moves_and_match_sarif() -> None:
    before, after = issues(rich()), issues(rich(shift=4))
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert before[0]["location"]["lines"]["begin"] + 4 == after[0]["location"]["lines"]["begin"]
    sarif = json.loads(format_sarif(Report(rich(), catalog())))["runs"][0]["results"]
    unwaived = [r["partialFingerprints"][FINGERPRINT_KEY] for r in sarif if not r["suppressions"]]
    assert unwaived == [i["fingerprint"] for i in before if i["severity"] != "info"]


def test_adding_a_waiver_changes_the_fingerprint_so_the_widget_shows_it() -> None:
    waived = {i["check_name"]: i["fingerprint"] for i in issues(rich())}
    unwaived = {i["check_name"]: i["fingerprint"] for i in issues(rich(waivers=()))}
    assert waived["cost.threads"] != unwaived["cost.threads"]
    assert waived["rollout.ladder"] == unwaived["rollout.ladder"]


def test_output_is_deterministic() -> None:
    report = Report(rich(), catalog())
    assert format_gitlab(report) == format_gitlab(report)


def priced(egress: str, unpriced: int = 0) -> Decision:
    """One deployment whose policy input holds a cost fact (as the cost collector writes it)."""
    a = read("a")
    cost = {
        "currency": "USD",
        "devicesReachedBefore": 1000,
        "devicesReached": 2500,
        "newDownloads": 1500,
        "bytesPerDownload": 40_000_000,
        "egress": egress,
        "window": {"days": 30, "since": "2026-10-27T00:00:00.000000Z", "admitted": "0", "total": egress},
        "report": {
            "bytesDelivered": 60_000_000_000,
            "unpriced": [{"input": "egressPerGB.JP", "newDownloads": 9}] * unpriced,
            "window": {"envelope": 10},
        },
    }
    policy_input = {"manifest": a.body, "facts": {"cost": cost}}
    change = ManifestChange("added", a, None)
    return decide(HEADER, [Evaluation(change, (), {}, policy_input)], [], complete=True)


def test_each_priced_deployment_gets_its_finops_row_as_an_info_issue() -> None:
    found = issues(priced("5.1", unpriced=2))
    assert not sorted(validator().iter_errors(found), key=str)
    [estimate] = found
    assert (estimate["check_name"], estimate["severity"], estimate["location"]) == (
        "finops.estimate",
        "info",
        {"path": "models/a.yaml", "lines": {"begin": 1}},
    )
    assert estimate["description"] == (
        "production/a: FinOps estimate of this step: devices 1,000 → 2,500, 1,500 new downloads, "
        "60.0 GB, $5.10 of egress; namespace window $5.10 / $10.00; 2 input(s) could not be priced"
    )


def test_an_estimate_that_moves_gets_a_new_fingerprint_and_none_without_a_fleet() -> None:
    [first], [again], [moved] = issues(priced("5.1")), issues(priced("5.1")), issues(priced("7"))
    assert first["fingerprint"] == again["fingerprint"] != moved["fingerprint"]
    assert [i for i in issues(rich()) if i["check_name"] == "finops.estimate"] == []
