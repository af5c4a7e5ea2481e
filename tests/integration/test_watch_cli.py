"""fleetgate watch end to end: breaches found per segment, remediations written as real git
branches that fleetgate check admits, quiet on healthy noisy telemetry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from support_telemetry import Telemetry, prometheus

from support import GitRepo, manifest, to_yaml

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def fleet(
    segments: int, regressed: tuple[int, ...] = (), seed: int = 7, since: float | None = None
) -> Telemetry:
    """production/clf 3.2.1 over 3.2.0 in ``segments`` segments, with noisy newest samples.

    A regressed segment drains 0.55 % battery a day instead of 0.40 %, for the last ``since``
    minutes (``None``: all along). The series span 14 hours, one sample every 10 minutes, with a
    daily cycle (+-20 % devices, +-5 % latency): enough trailing history for the trailing-baseline test.
    """
    data = Telemetry(now=NOW, seed=seed, exact_newest=False, hours=14, step_minutes=10, diurnal=0.2)
    for n in range(segments):
        segment = f"seg-{n:02d}"
        data.add("production", "clf", "3.2.0", segment)
        battery = {"batteryDrainPctPerDay": 0.55} if n in regressed else {}
        data.add("production", "clf", "3.2.1", segment, **battery).since_minutes_ago = since
    return data


def deployed(repo: GitRepo, data: Telemetry, source: dict[str, Any] | None = None) -> str:
    source = source or {"kind": "snapshot", "path": "telemetry/snapshot.json"}
    repo.write("fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": source}}))
    repo.write("telemetry/snapshot.json", data.snapshot_json())
    repo.write(
        "models/clf.yaml",
        to_yaml(manifest("clf", version="3.2.0", updateStrategy={"rolloutPercentage": 100})),
    )
    repo.commit("3.2.0 everywhere")
    repo.write(
        "models/clf.yaml", to_yaml(manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 25}))
    )
    return repo.commit("3.2.1 at 25 %")


def watch(repo: GitRepo, *args: str) -> tuple[int, dict[str, Any]]:
    done = repo.fleetgate("watch", "--format", "json", *args)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_battery_regression_in_one_segment_of_twenty_is_stepped_down(repo: GitRepo) -> None:
    base = deployed(repo, fleet(20, regressed=(7,)))
    code, report = watch(repo, "--branch", "remediate")
    assert code == 1, report
    [clf] = report["deployments"]
    assert clf["outcome"] == "breach"
    assert {b["segment"] for b in clf["breaches"]} == {"seg-07"}
    assert {b["kind"] for b in clf["breaches"]} == {"slo", "anomaly"}
    assert clf["remediation"]["action"] == "step-down" and clf["remediation"]["to"] == 10
    assert report["check"] == "admit"
    # A real branch, one commit on the deployed state, with the evidence in its message.
    assert repo.git("rev-parse", "remediate~1") == base
    assert repo.git("rev-parse", "HEAD") == base  # the checkout is untouched
    message = repo.git("log", "-1", "--format=%B", "remediate")
    assert message.startswith("Step production/clf 3.2.1 down from 25 % to 10 %")
    assert '"segment": "seg-07"' in message
    changed = yaml.safe_load(repo.git("show", "remediate:models/clf.yaml"))
    assert changed["spec"]["updateStrategy"]["rolloutPercentage"] == 10
    assert repo.git("diff", "--stat", base, "remediate").count("|") == 1
    check = repo.fleetgate("check", "--no-audit", "--evidence", "none", "--base", base, "--head", "remediate")
    assert check.returncode == 0, check.stdout


def test_fifty_healthy_noisy_segments_raise_nothing(repo: GitRepo, tmp_path: Path) -> None:
    # Every test ran on enough data (50 segments, 14 hours of trailing history) and found nothing.
    data = fleet(50, seed=11)
    with prometheus(data, tmp_path / "prometheus") as url:
        deployed(repo, data, {"kind": "prometheus", "url": url})
        code, report = watch(repo)
    assert code == 0, report
    [clf] = report["deployments"]
    assert (clf["outcome"], clf["breaches"], clf["reasons"]) == ("healthy", [], [])
    assert report["branch"] is None


def test_a_snapshot_has_no_trailing_baseline_so_healthy_noise_is_insufficient_not_healthy(
    repo: GitRepo,
) -> None:
    for seed in (1, 2, 3):
        deployed(repo, fleet(50, seed=seed))
        code, report = watch(repo)
        assert code == 0, report
        [clf] = report["deployments"]
        assert clf["outcome"] == "insufficient" and clf["breaches"] == []
        assert "seg-00: no trailing baseline: the source keeps no history" in clf["reasons"][0]
        assert report["branch"] is None
    assert "fleetgate/" not in repo.git("branch", "--list")


def test_too_few_segments_skip_the_anomaly_test_and_say_so(repo: GitRepo) -> None:
    deployed(repo, fleet(3))
    code, report = watch(repo)
    assert code == 0
    assert any("anomaly test not applied: 3 segments" in r for r in report["deployments"][0]["reasons"])


def test_watch_against_a_real_prometheus(repo: GitRepo, tmp_path: Path) -> None:
    # The regression began 90 minutes ago: every test sees it, in seg-03 only.
    data = fleet(20, regressed=(3,), since=90)
    with prometheus(data, tmp_path / "prometheus") as url:
        deployed(repo, data, {"kind": "prometheus", "url": url})
        code, report = watch(repo, "--branch", "fix")
    assert code == 1
    [clf] = report["deployments"]
    assert {b["segment"] for b in clf["breaches"]} == {"seg-03"}
    assert {b["kind"] for b in clf["breaches"]} == {"slo", "anomaly", "trailing"}
    [own] = [b for b in clf["breaches"] if b["kind"] == "trailing"]
    assert own["metric"] == "batteryDrainPctPerDay" and own["samples"] >= 12
    assert 0.37 < own["trailingMedian"] < 0.43


def test_a_first_version_regressing_against_its_own_past_is_found(repo: GitRepo, tmp_path: Path) -> None:
    # No previous version: no concurrent control and no ratio SLOs. Only the segment's own
    # trailing baseline shows that seg-07 drains more battery since 90 minutes ago.
    data = fleet(20, regressed=(7,), since=90)
    with prometheus(data, tmp_path / "prometheus") as url:
        repo.write(
            "fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": {"kind": "prometheus", "url": url}}})
        )
        repo.write(
            "models/clf.yaml",
            to_yaml(manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 25})),
        )
        repo.commit("3.2.1 at 25 %, the first version")
        code, report = watch(repo, "--no-audit", "--branch", "fix")
    assert code == 1, report
    [clf] = report["deployments"]
    assert [(b["segment"], b["kind"], b["metric"]) for b in clf["breaches"]] == [
        ("seg-07", "trailing", "batteryDrainPctPerDay")
    ]
    assert clf["remediation"]["to"] == 10 and report["check"] == "admit"


def test_a_flapping_breach_counts_against_the_total_limit(repo: GitRepo, tmp_path: Path) -> None:
    # seg-07 is bad in windows 0, 1, 3 and 4 of six 30-minute windows: never 3 in a row.
    data = fleet(20, regressed=(7,))
    [flapping] = [s for s in data.series if s.version == "3.2.1" and s.segment == "seg-07"]
    flapping.episodes = ((40, 0), (130, 80))
    consecutive = {"breachWindows": 3, "windowMinutes": 30}
    with prometheus(data, tmp_path / "prometheus") as url:
        deployed(repo, data, {"kind": "prometheus", "url": url})
        for total, expected in (({}, 0), ({"totalWindows": 6, "totalBreachWindows": 4}, 1)):
            settings = {"telemetry": {"source": {"kind": "prometheus", "url": url}}}
            settings["policies"] = {"data": {"telemetry": {**consecutive, **total}}}
            repo.write("fleetgate.yaml", yaml.safe_dump(settings))
            repo.commit("windows")
            code, report = watch(repo, "--no-audit", "--branch", f"fix-{expected}")
            assert code == expected, report
            [clf] = report["deployments"]
            if not total:
                assert clf["outcome"] == "insufficient" and clf["breaches"] == []
                assert (
                    "seg-07: a breach now, but not in all 3 consecutive windows of 30 minutes"
                    in clf["reasons"]
                )
    assert clf["outcome"] == "breach"
    assert {(b["segment"], b["breachedWindows"], b["totalWindows"]) for b in clf["breaches"]} == {
        ("seg-07", 4, 6)
    }


def test_an_unreachable_source_could_not_decide(repo: GitRepo) -> None:
    deployed(repo, fleet(2), {"kind": "prometheus", "url": "http://127.0.0.1:9", "timeoutSeconds": 1})
    code, report = watch(repo)
    assert code == 2
    assert report["deployments"][0]["outcome"] == "unavailable"
    assert "is unreachable" in report["deployments"][0]["reasons"][0]


def test_the_table_names_the_breach_and_the_branch(repo: GitRepo) -> None:
    deployed(repo, fleet(20, regressed=(7,)))
    done = repo.fleetgate("watch", "--branch", "fix")
    assert done.returncode == 1
    assert "breach       production/clf 3.2.1 at 25 %" in done.stdout
    assert "seg-07: batteryDrainPctPerDay (slo) ratio 1.3" in done.stdout
    assert "remediation branch: fix (check: admit)" in done.stdout


def test_each_remediation_is_a_remediation_event_in_the_decision_log(repo: GitRepo, tmp_path: Path) -> None:
    deployed(repo, fleet(20, regressed=(7,)))
    log = f"sqlite:///{tmp_path / 'audit.db'}"
    assert watch(repo, "--branch", "fix", "--audit-log", log)[0] == 1
    done = repo.fleetgate("audit", "--log", log, "query", "--format", "json")
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    raw = repo.fleetgate("audit", "--log", log, "show", str(record["decision_id"]), "--format", "json")
    shown = json.loads(raw.stdout)
    assert (shown["kind"], shown["namespace"], shown["name"], shown["branch"]) == (
        "remediation",
        "production",
        "clf",
        "fix",
    )
    assert shown["remediation"]["to"] == 10 and shown["breaches"][0]["segment"] == "seg-07"
    assert repo.fleetgate("audit", "--log", log, "verify", "--allow-unsigned").returncode == 0


def test_a_breach_at_the_lowest_rung_could_not_decide(repo: GitRepo) -> None:
    deployed(repo, fleet(20, regressed=(7,)))
    repo.write(
        "models/clf.yaml", to_yaml(manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 1}))
    )
    repo.commit("3.2.1 back to 1 %")
    code, report = watch(repo)
    assert code == 2
    assert report["branch"] is None
    assert report["problems"] == ["production/clf breaches at the lowest rung 1 %: it needs a rollback"]


def test_a_rollback_returns_to_the_previous_version_as_deployed_and_is_admitted_by_rule(
    repo: GitRepo,
) -> None:
    base = deployed(repo, fleet(20, regressed=(7,)))
    code, report = watch(repo, "--remediation", "rollback", "--branch", "back")
    assert code == 1, report
    [clf] = report["deployments"]
    assert clf["remediation"]["action"] == "rollback"
    assert (clf["remediation"]["to"], clf["remediation"]["rolloutPercentage"]) == ("3.2.0", 100)
    assert report["check"] == "admit"
    before = yaml.safe_load(repo.git("show", f"{base}~1:models/clf.yaml"))
    after = yaml.safe_load(repo.git("show", "back:models/clf.yaml"))
    assert after == before  # every field back as 3.2.0 was deployed, nothing else touched
    assert (
        repo.git("log", "-1", "--format=%s", "back")
        == "Roll production/clf back from 3.2.1 to 3.2.0 at 100 %"
    )
    # Admitted by rule: the rollback fact finds 3.2.0 at 100 % in the base branch's history.
    admitted = repo.fleetgate(
        "check", "--no-audit", "--evidence", "rollback", "--base", base, "--head", "back"
    )
    assert admitted.returncode == 0, admitted.stdout
    # Without that evidence the same change is a new artifact jumping to 100 %: step-limit denies.
    denied = repo.fleetgate("check", "--no-audit", "--evidence", "none", "--base", base, "--head", "back")
    assert denied.returncode == 1 and "rollout.step-limit" in denied.stdout


def test_a_version_the_branch_never_deployed_is_not_a_rollback(repo: GitRepo) -> None:
    base = deployed(repo, fleet(2))
    newer = manifest("clf", version="3.3.0", updateStrategy={"rolloutPercentage": 100})
    repo.write("models/clf.yaml", to_yaml(newer))
    done = repo.fleetgate("check", "--no-audit", "--evidence", "rollback", "--base", base)
    assert done.returncode == 1
    assert "rollout.step-limit" in done.stdout


def test_a_declared_feature_flag_switches_to_the_lite_variant(repo: GitRepo) -> None:
    deployed(repo, fleet(20, regressed=(7,)))
    flagged = manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 25})
    flagged["spec"]["featureFlags"] = {"useLiteVariant": False}
    repo.write("models/clf.yaml", to_yaml(flagged))
    base = repo.commit("declare the lite variant flag")
    code, report = watch(repo, "--remediation", "flag", "--flag", "useLiteVariant", "--branch", "lite")
    assert code == 1, report
    assert report["deployments"][0]["remediation"]["to"] == "featureFlags.useLiteVariant"
    assert report["check"] == "admit"
    after = yaml.safe_load(repo.git("show", "lite:models/clf.yaml"))
    assert after["spec"]["featureFlags"] == {"useLiteVariant": True}
    assert after["spec"]["updateStrategy"]["rolloutPercentage"] == 25
    assert repo.git("diff", "--numstat", base, "lite").split()[:2] == ["1", "1"]
    code, report = watch(repo, "--remediation", "flag", "--flag", "undeclared")
    assert code == 2
    assert "spec.featureFlags.undeclared is not declared in models/clf.yaml" in report["problems"][0]


def test_the_telemetry_demo_denies_twice_and_admits_the_rollback() -> None:
    import subprocess
    import sys

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo_telemetry.py"
    done = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo: OK" in done.stdout
    assert "less than the minimum bake time of 24 hours" in done.stdout
    assert "remediation branch: rollback-image-classifier (check: admit)" in done.stdout


def test_a_breach_must_last_the_consecutive_windows(repo: GitRepo, tmp_path: Path) -> None:
    data = fleet(20, regressed=(7,))
    data.hours = 4
    [regressed] = [s for s in data.series if s.version == "3.2.1" and s.segment == "seg-07"]
    regressed.since_minutes_ago = 20  # the regression began 20 minutes ago
    windows = {"telemetry": {"breachWindows": 3, "windowMinutes": 30}}
    with prometheus(data, tmp_path / "prometheus") as url:
        source = {"kind": "prometheus", "url": url}
        repo.write(
            "fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": source}, "policies": {"data": windows}})
        )
        repo.write(
            "models/clf.yaml",
            to_yaml(manifest("clf", version="3.2.0", updateStrategy={"rolloutPercentage": 100})),
        )
        repo.commit("3.2.0")
        repo.write(
            "models/clf.yaml",
            to_yaml(manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 25})),
        )
        repo.commit("3.2.1 at 25 %")
        code, report = watch(repo, "--no-audit")
        assert code == 0, report
        [clf] = report["deployments"]
        assert clf["outcome"] == "insufficient" and clf["breaches"] == []
        assert "seg-07: a breach now, but not in all 3 consecutive windows of 30 minutes" in clf["reasons"]
        # Three windows later (the regression 100 minutes old) it is a breach, remediated.
        regressed.since_minutes_ago = 100
    with prometheus(data, tmp_path / "prometheus-later") as url:
        source = {"kind": "prometheus", "url": url}
        repo.write(
            "fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": source}, "policies": {"data": windows}})
        )
        repo.commit("the same gate, the server moved")
        code, report = watch(repo, "--no-audit", "--branch", "fix")
    assert code == 1, report
    assert {(b["segment"], b["windows"]) for b in report["deployments"][0]["breaches"]} == {("seg-07", 3)}


def _admitted_elsewhere_history(repo: GitRepo, log: str) -> str:
    """3.2.0 admitted at pre-deploy; 3.3.0 merged but only ever checked at pre-merge; 3.4.0, the
    breached version, admitted at pre-deploy. Returns the deployed commit."""
    data = fleet(20, regressed=(7,))
    for series in data.series:
        series.version = {"3.2.0": "3.3.0", "3.2.1": "3.4.0"}[series.version]
    settings = {"evidence": {"enforce": {"pre-merge": "warn", "pre-deploy": "warn"}}}
    repo.write(
        "fleetgate.yaml",
        yaml.safe_dump(
            {
                "telemetry": {"source": {"kind": "snapshot", "path": "telemetry/snapshot.json"}},
                "policies": {"data": settings},
            }
        ),
    )
    repo.write("telemetry/snapshot.json", data.snapshot_json())
    empty = repo.commit("the gate, no deployment yet")
    steps = (("3.2.0", "pre-deploy"), ("3.3.0", "pre-merge"), ("3.4.0", "pre-deploy"))
    base = empty
    for version, stage in steps:
        repo.write(
            "models/clf.yaml",
            to_yaml(manifest("clf", version=version, updateStrategy={"rolloutPercentage": 10})),
        )
        head = repo.commit(f"{version} at 10 %")
        done = repo.fleetgate(
            "check",
            "--evidence",
            "none",
            "--stage",
            stage,
            "--audit-log",
            log,
            "--base",
            base,
            "--head",
            head,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        base = head
    return base


def _rollback_to(repo: GitRepo, deployed: str, *args: str) -> dict[str, Any]:
    code, report = watch(repo, "--ref", deployed, "--remediation", "rollback", *args)
    assert code == 1, report
    assert report["check"] == "admit"
    remediation: dict[str, Any] = report["deployments"][0]["remediation"]
    restored = yaml.safe_load(repo.git("show", f"{report['branch']}:models/clf.yaml"))
    assert restored["spec"]["version"] == remediation["to"]
    return remediation


def _decision_log_rollback(repo: GitRepo, log: str) -> None:
    deployed = _admitted_elsewhere_history(repo, log)
    # Git history alone names the version before the breached one: 3.3.0, never deployed.
    from_git = _rollback_to(repo, deployed, "--no-audit", "--branch", "from-git")
    assert (from_git["to"], from_git["source"]) == ("3.3.0", "git history")
    # The decision log knows better: 3.2.0 was the last version admitted at pre-deploy.
    from_log = _rollback_to(repo, deployed, "--no-audit", "--audit-log", log, "--branch", "from-log")
    assert (from_log["to"], from_log["source"], from_log["rolloutPercentage"]) == (
        "3.2.0",
        "decision log",
        10,
    )
    message = repo.git("log", "-1", "--format=%s", "from-log")
    assert message == "Roll production/clf back from 3.4.0 to 3.2.0 at 10 %"


def test_a_rollback_returns_to_the_last_version_the_sqlite_decision_log_admitted(
    repo: GitRepo, tmp_path: Path
) -> None:
    _decision_log_rollback(repo, f"sqlite:///{tmp_path / 'audit.db'}")


def test_a_rollback_returns_to_the_last_version_the_postgres_decision_log_admitted(repo: GitRepo) -> None:
    from support_audit import fresh_schema, postgres_server

    schema = fresh_schema(postgres_server())
    try:
        _decision_log_rollback(repo, next(schema))
    finally:
        schema.close()


def test_a_logged_version_the_branch_never_held_could_not_decide(repo: GitRepo, tmp_path: Path) -> None:
    log = f"sqlite:///{tmp_path / 'audit.db'}"
    deployed = _admitted_elsewhere_history(repo, log)
    # A pre-deploy admission of 3.1.0 made from another branch: main never held it.
    other = manifest("clf", version="3.1.0", updateStrategy={"rolloutPercentage": 10})
    repo.git("checkout", "-q", "-b", "elsewhere", f"{deployed}~3")
    repo.write("models/clf.yaml", to_yaml(other))
    head = repo.commit("3.1.0 elsewhere")
    done = repo.fleetgate(
        "check",
        "--evidence",
        "none",
        "--stage",
        "pre-deploy",
        "--audit-log",
        log,
        "--base",
        f"{deployed}~3",
        "--head",
        head,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code, report = watch(
        repo, "--ref", deployed, "--remediation", "rollback", "--no-audit", "--audit-log", log
    )
    assert code == 2
    assert report["problems"] == [
        "production/clf: version 3.1.0, the last admitted at pre-deploy in the decision log, "
        "is not in the history of models/clf.yaml: it cannot be restored by rule"
    ]
