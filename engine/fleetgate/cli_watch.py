"""``fleetgate watch``: arguments and output of the closed loop (the work is in commands/watch.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_watch_parser"]


def add_watch_parser(verbs: Any) -> None:
    watch = verbs.add_parser(
        "watch",
        help="judge the deployed state by its telemetry; write a remediation branch for each breach",
        epilog="Exit status: 0 no breach, 1 a breach with its remediation written, 2 could not decide.",
    )
    watch.add_argument("--ref", default="main", metavar="REF", help="the deployed state (default: main)")
    watch.add_argument("--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the ref")
    watch.add_argument(
        "--telemetry", type=Path, metavar="FILE", help="a telemetry snapshot (default: telemetry.source)"
    )
    watch.add_argument("--branch", metavar="NAME", help="default: fleetgate/remediate-<UTC time>")
    watch.add_argument(
        "--remediation",
        choices=("step-down", "rollback", "flag"),
        default="step-down",
        help="step the rollout down a rung (default), roll back to the last version admitted at "
        "pre-deploy, or turn on --flag",
    )
    watch.add_argument(
        "--flag",
        metavar="NAME",
        help="with --remediation flag: the feature flag that selects the lite variant",
    )
    watch.add_argument("--format", choices=("table", "json"), default="table")
    watch.add_argument(
        "--audit-log",
        metavar="URL",
        help="the decision log: where remediation events go, and where a rollback finds the last "
        "version admitted at pre-deploy (default: audit.log)",
    )
    watch.add_argument("--no-audit", action="store_true", help="do not record remediation events")
    watch.set_defaults(handler=_watch)


def _watch(args: argparse.Namespace) -> int:
    from fleetgate.commands.watch import WatchOptions, render_watch, run_watch
    from fleetgate.errors import FleetgateError

    if args.remediation == "flag" and not args.flag:
        raise FleetgateError("--remediation flag needs --flag NAME (the flag that selects the lite variant)")

    options = WatchOptions(
        cwd=Path.cwd(),
        ref=args.ref,
        config=args.config,
        telemetry=args.telemetry,
        branch=args.branch,
        remediation=args.remediation,
        flag=args.flag,
        audit_log=args.audit_log,
        record=not args.no_audit,
    )
    report = run_watch(options)
    sys.stdout.write(render_watch(report, args.format))
    return report.exit_code
