"""Telemetry-gated promotion end to end: the real CLI on real repositories whose history has
controlled commit dates, judged by a snapshot (a gate file or an operator's file) or a real
Prometheus over the same generated data."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from support_telemetry import Telemetry, prometheus

from support import GIT_ENV, GitRepo, manifest, to_yaml, violations

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
RULE = "rollout.promotion-health"
SEGMENTS = ("android-34-8g-us-high", "ios-17-6g-eu-mid")
# Artifact evidence is not what these tests are about: a missing artifact only warns.
DATA = {"evidence": {"enforce": {"pre-merge": "warn", "pre-deploy": "warn"}}}


def telemetry(**current: float) -> Telemetry:
    """Healthy 3.2.0 and 3.2.1 in both segments; ``current`` changes 3.2.1 in the last segment."""
    data = Telemetry(now=NOW)
    for segment in SEGMENTS:
        data.add("production", "clf", "3.2.0", segment)
    data.add("production", "clf", "3.2.1", SEGMENTS[0])
    data.add("production", "clf", "3.2.1", SEGMENTS[1], **current)
    return data


def commit_at(repo: GitRepo, when: dt.datetime, message: str) -> str:
    repo.git("add", "-A")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.root, env=env, check=True)
    return repo.git("rev-parse", "HEAD")


def deployment(version: str, percentage: int) -> str:
    return to_yaml(manifest("clf", version=version, updateStrategy={"rolloutPercentage": percentage}))


def history(repo: GitRepo, source: dict[str, Any], rung_hours_ago: float, snapshot: str | None = None) -> str:
    """3.2.0 ten days ago, 3.2.1 at 1 % five days ago, at 10 % ``rung_hours_ago``; the gate files first."""
    repo.write(
        "fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": source}, "policies": {"data": DATA}})
    )
    if snapshot is not None:
        repo.write("telemetry/snapshot.json", snapshot)
    repo.write("models/clf.yaml", deployment("3.2.0", 100))
    commit_at(repo, NOW - dt.timedelta(days=10), "3.2.0 everywhere")
    repo.write("models/clf.yaml", deployment("3.2.1", 1))
    commit_at(repo, NOW - dt.timedelta(days=5), "3.2.1 at 1 %")
    repo.write("models/clf.yaml", deployment("3.2.1", 10))
    base = commit_at(repo, NOW - dt.timedelta(hours=rung_hours_ago), "3.2.1 at 10 %")
    repo.write("models/clf.yaml", deployment("3.2.1", 25))
    return base


SNAPSHOT = {"kind": "snapshot", "path": "telemetry/snapshot.json"}


def check(repo: GitRepo, base: str, stage: str = "pre-merge", *extra: str) -> tuple[int, dict[str, Any]]:
    return repo.decision("--no-audit", "--evidence", "telemetry", "--base", base, "--stage", stage, *extra)


def test_a_healthy_baked_rung_is_promoted(repo: GitRepo) -> None:
    base = history(repo, SNAPSHOT, 30, telemetry().snapshot_json())
    code, decision = check(repo, base, "pre-deploy")
    assert violations(decision, RULE) == []
    assert code == 0, decision


def test_too_little_bake_time_denies_with_the_hours(repo: GitRepo) -> None:
    base = history(repo, SNAPSHOT, 3, telemetry().snapshot_json())
    code, decision = check(repo, base)
    assert code == 1
    [found] = violations(decision, RULE)
    assert re.search(r"from 10 % to 25 % after 3(\.\d+)? hours at 10 % \(since ", found["message"])
    assert "minimum bake time of 24 hours" in found["message"]
    assert found["file"] == "models/clf.yaml"


def test_a_battery_regression_in_one_segment_denies_naming_it(repo: GitRepo) -> None:
    base = history(repo, SNAPSHOT, 30, telemetry(batteryDrainPctPerDay=0.55).snapshot_json())
    code, decision = check(repo, base)
    assert code == 1
    [found] = violations(decision, RULE)
    assert found["message"] == (
        "segment ios-17-6g-eu-mid: version 3.2.1 drains 0.55 % battery per day, 1.375 times the previous "
        "version, above the limit of 1.1 times (previous version 3.2.0: 0.4)"
    )


def test_stale_telemetry_warns_at_pre_merge_and_denies_at_pre_deploy(repo: GitRepo) -> None:
    data = telemetry()
    data.series[-1].ends_minutes_ago = 300
    base = history(repo, SNAPSHOT, 30, data.snapshot_json())
    code, decision = check(repo, base, "pre-merge")
    assert code == 0
    [found] = violations(decision, RULE)
    assert found["severity"] == "warn"
    assert re.search(
        r"segment ios-17-6g-eu-mid is insufficient: the newest sample is 30\d(\.\d)? minutes old, "
        r"older than the limit of 120",
        found["message"],
    )
    code, decision = check(repo, base, "pre-deploy")
    assert code == 1
    assert [v["severity"] for v in violations(decision, RULE)] == ["deny"]


def test_the_change_cannot_write_its_own_health(repo: GitRepo) -> None:
    base = history(repo, SNAPSHOT, 30, telemetry(batteryDrainPctPerDay=0.55).snapshot_json())
    repo.write("telemetry/snapshot.json", telemetry().snapshot_json())
    code, decision = check(repo, base)
    assert code == 1
    assert any("drains 0.55 % battery" in v["message"] for v in violations(decision, RULE))
    assert violations(decision, "gate.config-changed")


def test_an_operator_snapshot_overrides_the_configured_source(repo: GitRepo, tmp_path: Path) -> None:
    base = history(repo, SNAPSHOT, 30, telemetry().snapshot_json())
    artifact = tmp_path / "telemetry.json"
    artifact.write_text(telemetry(crashFreeRate=0.97).snapshot_json())
    code, decision = check(repo, base, "pre-merge", "--telemetry", str(artifact))
    assert code == 1
    [found] = violations(decision, RULE)
    assert (
        "crash-free session rate of 0.97, below the minimum of 0.99 (previous version 3.2.0: 0.998)"
        in (found["message"])
    )


def test_a_duplicate_series_is_refused_with_file_and_line(repo: GitRepo, tmp_path: Path) -> None:
    base = history(repo, SNAPSHOT, 30, telemetry().snapshot_json())
    document = telemetry().snapshot()
    document["series"].append(dict(document["series"][0]))  # type: ignore[attr-defined]
    artifact = tmp_path / "telemetry.json"
    text = json.dumps(document, indent=1)
    artifact.write_text(text)
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "  {"]
    done = repo.fleetgate(
        "check", "--no-audit", "--evidence", "telemetry", "--base", base, "--telemetry", str(artifact)
    )
    assert done.returncode == 2
    assert f"telemetry.json:{starts[4]}: duplicate series production/clf version 3.2.0 segment" in done.stderr
    assert f"(first at line {starts[0]})" in done.stderr
    assert "Traceback" not in done.stderr


def test_promotion_against_a_real_prometheus(repo: GitRepo, tmp_path: Path) -> None:
    data = telemetry(batteryDrainPctPerDay=0.55)
    with prometheus(data, tmp_path / "prometheus") as url:
        base = history(repo, {"kind": "prometheus", "url": url, "timeoutSeconds": 5}, 30)
        code, decision = check(repo, base)
    assert code == 1
    [found] = violations(decision, RULE)
    assert found["message"].startswith(
        "segment ios-17-6g-eu-mid: version 3.2.1 drains 0.55 % battery per day"
    )


def test_an_unreachable_prometheus_warns_at_pre_merge_and_denies_at_pre_deploy(repo: GitRepo) -> None:
    base = history(repo, {"kind": "prometheus", "url": "http://127.0.0.1:9", "timeoutSeconds": 1}, 30)
    code, decision = check(repo, base, "pre-merge")
    assert code == 0
    [found] = violations(decision, RULE)
    assert "the telemetry is unavailable: prometheus http://127.0.0.1:9 is unreachable" in found["message"]
    assert "for the query last_over_time(fleetgate_devices_reporting{" in found["message"]
    assert check(repo, base, "pre-deploy")[0] == 1


def test_a_typo_in_the_telemetry_section_is_an_error_at_load(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "telemetry:\n  source: {kind: prometheus, url: 'http://x', timeout: 3}\n")
    repo.write("models/clf.yaml", deployment("3.2.1", 10))
    repo.commit("gate")
    done = repo.fleetgate("check", "--no-audit", "--base", "HEAD")
    assert done.returncode == 2
    assert done.stderr.startswith(
        "fleetgate: error: fleetgate.yaml:2: unknown setting 'telemetry.source.timeout'"
    )


def test_a_configured_decision_log_is_the_bake_clock(repo: GitRepo, tmp_path: Path) -> None:
    repo.write(
        "fleetgate.yaml", yaml.safe_dump({"telemetry": {"source": SNAPSHOT}, "policies": {"data": DATA}})
    )
    repo.write("telemetry/snapshot.json", telemetry().snapshot_json())
    repo.write("models/clf.yaml", deployment("3.2.0", 100))
    commit_at(repo, NOW - dt.timedelta(days=10), "3.2.0 everywhere")
    repo.write("models/clf.yaml", deployment("3.2.1", 10))
    base = commit_at(repo, NOW - dt.timedelta(hours=30), "3.2.1 starts at 10 %")
    repo.write("models/clf.yaml", deployment("3.2.1", 25))
    log = f"sqlite:///{tmp_path / 'audit.db'}"
    assert check(repo, base, "pre-merge")[0] == 0  # git alone: 30 hours at 10 %
    # With the log, 10 % was never admitted to deploy: the bake is unknown, not 30 hours.
    code, decision = check(repo, base, "pre-merge", "--audit-log", log)
    assert code == 0
    assert any("bake time at the current rung is unknown" in v["message"] for v in violations(decision, RULE))
    deployed = repo.fleetgate(
        "check",
        "--evidence",
        "telemetry",
        "--stage",
        "pre-deploy",
        "--audit-log",
        log,
        "--base",
        f"{base}~1",
        "--head",
        base,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    code, decision = repo.decision("--evidence", "telemetry", "--base", base, "--audit-log", log)
    assert code == 1
    [found] = violations(decision, RULE)
    assert "from 10 % to 25 % after 0" in found["message"]
    assert "minimum bake time of 24 hours" in found["message"]
    # The promotion's inputs are in the decision log with the decision.
    records = repo.fleetgate("audit", "--log", log, "query", "--format", "json").stdout.splitlines()
    recorded = json.loads(records[0])
    raw = repo.fleetgate("audit", "--log", log, "show", str(recorded["decision_id"]), "--format", "json")
    shown = json.loads(raw.stdout)
    fact = shown["input"]["facts"]["telemetry"]
    assert fact["bakeSource"] == "decision log"
    assert fact["report"]["queries"] and fact["report"]["segments"][0]["values"]["devicesReporting"] == 1200.0
