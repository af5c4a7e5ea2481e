"""``fleetgate watch``: the closed loop. Read the deployed state and its telemetry, find breaches,
and write each remediation as a git change on a new branch that ``fleetgate check`` admits.

1. The deployed state is the manifests at ``--ref`` (default: the base branch, ``main``), and
   the gate files (``fleetgate.yaml``, a snapshot) are read from that same commit.
2. Every staged deployment above 0 % is judged per segment against the previous version in the
   same segment (:func:`fleetgate.telemetry.assess`), and across segments by the robust anomaly
   test (:mod:`fleetgate.telemetry.anomaly`). ``insufficient`` never triggers a remediation.
3. Each breached deployment is stepped down one rung of the ladder, one commit per deployment
   on a new branch, with the evidence in the commit message. Lowering a rollout is admitted by
   rule (``rollout.step-limit``), never waived.
4. The branch is checked like any change (base: the ref). A remediation the gate would not
   admit is reported as could-not-decide.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fleetgate.commands._remediation import edited, plan
from fleetgate.errors import FleetgateError
from fleetgate.git import Git
from fleetgate.manifest import Manifest
from fleetgate.telemetry import Deployment, TelemetrySource, TelemetryUnavailable, Thresholds, assess, overall
from fleetgate.telemetry.anomaly import AnomalyTest, anomalies
from fleetgate.telemetry.fields import deployment_of, rollout_percentage
from fleetgate.telemetry.interface import History
from fleetgate.telemetry.trailing import TRAILING_METRICS, TrailingTest, trailing_anomalies
from fleetgate.telemetry.windows import Persistence, lasting

__all__ = ["WatchOptions", "WatchReport", "render_watch", "run_watch"]


@dataclass(frozen=True)
class WatchOptions:
    cwd: Path
    ref: str = "main"
    config: Path | None = None
    telemetry: Path | None = None
    branch: str | None = None  # default: fleetgate/remediate-<UTC time>
    # The decision log remediation events go to and a rollback's target is read from; None: the
    # config's audit.log (events go to the default log when neither is set).
    audit_log: str | None = None
    remediation: str = "step-down"  # or "rollback": back to the previous version, as it was deployed
    flag: str | None = (
        None  # remediation "flag": the feature flag (spec.featureFlags) that selects the lite variant
    )
    record: bool = True
    anomaly: AnomalyTest = field(default_factory=AnomalyTest)


@dataclass(frozen=True)
class Watched:
    """One deployment's verdict: its breaches and the remediation written for it."""

    target: str
    version: str
    percentage: Any
    outcome: str  # healthy | breach | insufficient | unavailable
    breaches: tuple[Mapping[str, Any], ...] = ()
    reasons: tuple[str, ...] = ()
    remediation: Mapping[str, Any] | None = None
    previous: str | None = None  # the version before this one (the baseline, a rollback's target)


@dataclass(frozen=True)
class WatchReport:
    ref: str
    evaluated_at: str
    deployments: tuple[Watched, ...]
    branch: str | None = None
    check: str | None = None  # the gate's decision on the remediation branch
    problems: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 no breach · 1 a breach with its remediation written · 2 could not decide."""
        if self.problems or any(d.outcome == "unavailable" for d in self.deployments):
            return 2
        return 1 if self.branch is not None else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "evaluatedAt": self.evaluated_at,
            "branch": self.branch,
            "check": self.check,
            "problems": list(self.problems),
            "deployments": [
                {
                    "target": d.target,
                    "version": d.version,
                    "rolloutPercentage": d.percentage,
                    "outcome": d.outcome,
                    "breaches": list(d.breaches),
                    "reasons": list(d.reasons),
                    "remediation": d.remediation,
                }
                for d in self.deployments
            ],
        }


def run_watch(options: WatchOptions, now: dt.datetime | None = None) -> WatchReport:
    from fleetgate.changes import deployed_manifests
    from fleetgate.commands.check import load_policies
    from fleetgate.config import CONFIG_FILE, load_config
    from fleetgate.files import GateFiles
    from fleetgate.telemetry.history import previous_versions
    from fleetgate.telemetry.sources import SourceMissing, open_source

    git = Git.discover(options.cwd)
    ref = git.commit(options.ref).sha
    at = now or dt.datetime.now(dt.UTC)
    trusted = GateFiles.at_commit(git, ref)
    try:
        # Gate files come from the deployed ref itself, --config included (a repository path).
        path = options.config.as_posix() if options.config is not None else CONFIG_FILE
        config = load_config(trusted, path, required=options.config is not None)
        data = load_policies(config).data
        if config.telemetry is None and options.telemetry is None:
            raise FleetgateError(
                "watch needs telemetry: set telemetry.source in fleetgate.yaml or pass --telemetry"
            )
        source = open_source(
            config.telemetry or {}, trusted, str(options.telemetry) if options.telemetry else None
        )
        if isinstance(source, SourceMissing):
            raise FleetgateError(str(source))
        manifests = deployed_manifests(git, ref, config.selector, config.limits)
    finally:
        trusted.close()
    staged = [m for m in manifests if _staged(m)]
    versions = [(m.file, m.identity, str(m.body["spec"].get("version", ""))) for m in staged]
    judge = _Judge(git, ref, source, data, options.anomaly, at, previous_versions(git, ref, versions))
    pairs = [(w, m) for m in manifests if (w := judge.watch(m)) is not None]
    report = WatchReport(ref, at.strftime("%Y-%m-%dT%H:%M:%SZ"), tuple(w for w, _ in pairs))
    breached = [(w, m) for w, m in pairs if w.outcome == "breach"]
    if not breached:
        return report
    # A configured decision log says which version was last admitted to deploy (a rollback's target).
    configured = (config.extra.get("audit") or {}).get("log")
    options = replace(options, audit_log=options.audit_log or configured)
    remediated = _remediate(git, ref, report, breached, data, options, at)
    if remediated.branch is not None and options.record:
        _record(remediated, config.extra.get("audit"), git.root, options.audit_log, at)
    return remediated


def _staged(manifest: Manifest) -> bool:
    percentage = rollout_percentage(manifest.body)
    return percentage is not None and percentage > 0


@dataclass
class _Judge:
    git: Git
    ref: str
    source: TelemetrySource
    data: Mapping[str, Any]
    test: AnomalyTest
    at: dt.datetime
    previous: Mapping[tuple[str, str], str]

    def watch(self, manifest: Manifest) -> Watched | None:
        if not _staged(manifest):
            return None
        current, percentage = deployment_of(manifest.body), rollout_percentage(manifest.body)
        previous = self.previous.get(manifest.identity)
        settings = self.data.get("telemetry", {})
        rules, trailing = Persistence.from_data(settings), TrailingTest.from_data(settings)
        step = dt.timedelta(minutes=rules.minutes)
        moments = [self.at - k * step for k in range(rules.read)]
        try:
            # One trailing read covers the baselines of every window judged.
            start = moments[-1] - dt.timedelta(hours=trailing.hours)
            history = self.source.history(
                current, TRAILING_METRICS, start, self.at - step, step.total_seconds()
            )
            judged = [self._window(current, previous, when, history, trailing) for when in moments]
        except TelemetryUnavailable as exc:
            return Watched(
                manifest.target, current.version, percentage, "unavailable", reasons=(exc.message,)
            )
        breaches, passing = lasting([found for found, _, _ in judged], rules)
        _, reasons, complete = judged[0]
        # Healthy only when every test could run on enough data and nothing breached, even briefly.
        outcome = "breach" if breaches else "healthy" if complete and not passing else "insufficient"
        return Watched(
            manifest.target,
            current.version,
            percentage,
            outcome,
            tuple(breaches),
            tuple([*reasons, *passing]),
            previous=previous,
        )

    def _window(
        self,
        current: Deployment,
        previous: str | None,
        at: dt.datetime,
        history: History | None,
        trailing: TrailingTest,
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """One window's breaches (SLO, anomaly against the previous version and against the
        segment's own trailing baseline), reasons, and whether every test could judge it."""
        if previous:
            reading, baseline = self.source.read_many([current, replace(current, version=previous)], at)
        else:
            reading, baseline = self.source.read(current, at), None
        segments = assess(reading, baseline, Thresholds.from_data(self.data.get("telemetry", {})), at)
        found, skipped = anomalies(segments, self.test)
        own, untested = trailing_anomalies(segments, history, trailing, at.timestamp())
        breaches = [{"segment": s["segment"], "kind": "slo", **b} for s in segments for b in s["breaches"]]
        for kind, anomalous in (("anomaly", found), ("trailing", own)):
            breaches += [
                {"segment": seg, "kind": kind, **a} for seg, items in sorted(anomalous.items()) for a in items
            ]
        reasons = [f"{s['segment']}: {r}" for s in segments for r in s["reasons"]]
        if skipped is not None:
            reasons.append(f"anomaly test not applied: {skipped}")
        reasons += [f"{segment}: {why}" for segment, why in sorted(untested.items())]
        complete = overall(segments, reading.problems) != "insufficient" and skipped is None and not untested
        return breaches, reasons, complete


def _remediate(
    git: Git,
    ref: str,
    report: WatchReport,
    breached: list[tuple[Watched, Manifest]],
    data: Mapping[str, Any],
    options: WatchOptions,
    at: dt.datetime,
) -> WatchReport:
    files: dict[str, bytes] = {}
    tip, problems, done = ref, [], {}
    for watched, manifest in breached:
        planned = plan(git, ref, watched, manifest, data, options)
        if isinstance(planned, str):
            problems.append(planned)
            continue
        edits, remediation = planned
        content = files.get(manifest.file) or git.read(ref, [manifest.file], 4 << 20)[manifest.file]
        files[manifest.file] = edited(content, manifest, edits)
        tip = git.commit_change(tip, manifest.file, files[manifest.file], _message(watched, remediation))
        done[watched.target] = {**remediation, "commit": tip}
    if not done:
        return replace(report, problems=tuple(problems))
    branch = options.branch or f"fleetgate/remediate-{at.strftime('%Y%m%d%H%M%S')}"
    git.create_branch(branch, tip)
    verdict = _check(options, ref, tip)
    if verdict != "admit":
        problems.append(f"the gate does not admit the remediation branch {branch} ({verdict})")
    deployments = tuple(replace(d, remediation=done.get(d.target)) for d in report.deployments)
    return replace(report, deployments=deployments, branch=branch, check=verdict, problems=tuple(problems))


def _record(report: WatchReport, audit: Any, root: Path, log_url: str | None, at: dt.datetime) -> None:
    """One ``remediation`` event per remediated deployment, in the decision log."""
    from fleetgate.audit.events import remediation_record
    from fleetgate.audit.record import seal
    from fleetgate.commands.audit import audit_settings, opened
    from fleetgate.decision import rfc3339

    assert report.branch is not None
    entries = [d for d in report.to_json()["deployments"] if d["remediation"] is not None]
    pending = [remediation_record(d, report.ref, report.branch, rfc3339(at)) for d in entries]
    with opened(audit_settings(audit, root, log_url).log) as log:
        log.append(pending, seal)


def _message(watched: Watched, remediation: Mapping[str, Any]) -> str:
    if remediation["action"] == "flag":
        subject = f"Switch {watched.target} {watched.version} to its lite variant ({remediation['to']})"
    elif remediation["action"] == "rollback":
        subject = (
            f"Roll {watched.target} back from {watched.version} to {remediation['to']} "
            f"at {remediation['rolloutPercentage']} %"
        )
    else:
        subject = (
            f"Step {watched.target} {watched.version} down from {remediation['from']} % "
            f"to {remediation['to']} %"
        )
    evidence = "\n".join(json.dumps(b, sort_keys=True) for b in watched.breaches)
    return f"{subject}\n\nfleetgate watch found a breach at the current rung:\n{evidence}\n"


def _check(options: WatchOptions, base: str, head: str) -> str:
    from fleetgate.commands.check import CheckOptions, run_check

    checked = run_check(
        CheckOptions(base=base, head=head, cwd=options.cwd, config=options.config, evidence=("rollback",))
    )
    return "admit" if checked.decision.allowed else "deny"


def render_watch(report: WatchReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    lines = [f"watch {report.ref[:12]} at {report.evaluated_at}"]
    for d in report.deployments:
        lines.append(f"  {d.outcome:<12} {d.target} {d.version} at {d.percentage} %")
        for b in d.breaches:
            detail = next(f"{k} {b[k]}" for k in ("ratio", "increase", "measured") if k in b)
            lines.append(f"      {b['segment']}: {b['metric']} ({b['kind']}) {detail}")
        if d.remediation is not None:
            lines.append(
                f"      remediation: {d.remediation['action']} to {d.remediation['to']} "
                f"({d.remediation['commit'][:12]})"
            )
    if report.branch is not None:
        lines.append(f"remediation branch: {report.branch} (check: {report.check})")
    lines.extend(f"could not decide: {p}" for p in report.problems)
    return "\n".join(lines) + "\n"
