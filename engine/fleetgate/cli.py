"""The command line: the only place that parses arguments, prints, or exits.

Exit status: 0 admitted (warnings allowed), 1 denied, 2 could not decide. Any error inside the
gate is a :class:`FleetgateError` with a one-line message; anything else is a bug, still
reported in one line and still exit 2: the gate fails closed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from fleetgate import __version__
from fleetgate.errors import FleetgateError

__all__ = ["main"]

EXIT_ADMIT, EXIT_DENY, EXIT_ERROR = 0, 1, 2
_FORMATS = ("text", "json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        code: int = args.handler(args)
        return code
    except FleetgateError as exc:
        _error(exc.diagnostics())
    except KeyboardInterrupt:
        _error("interrupted")
    except MemoryError:
        _error("out of memory")
    except Exception as exc:
        _error(f"internal error ({type(exc).__name__}: {exc}); please report it")
    return EXIT_ERROR


def _error(message: str) -> None:
    print(f"fleetgate: error: {message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetgate",
        description="Admission gate for on-device AI model deployments kept in git.",
        epilog="Exit status: 0 admitted, 1 denied, 2 could not decide.",
    )
    parser.add_argument("--version", action="version", version=f"fleetgate {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    check = verbs.add_parser("check", help="evaluate manifest changes and print the admission decision")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="manifests or folders, each evaluated as added"
    )
    check.add_argument("--base", metavar="REF", help="compare with this commit (pull request base)")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--head", metavar="REF", help="commit to check (default: the working tree)")
    mode.add_argument("--staged", action="store_true", help="check the index against HEAD (pre-commit)")
    check.add_argument("--stage", choices=("pre-merge", "pre-deploy"), help="default: pre-merge")
    check.add_argument("--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the repo root")
    check.add_argument("--format", choices=_FORMATS, default="text")
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="worker processes for large runs (default: one per core)",
    )
    check.set_defaults(handler=_check)

    policy = verbs.add_parser("policy", help="work with the policy library")
    policy_verbs = policy.add_subparsers(dest="policy_verb", required=True, metavar="COMMAND")
    test = policy_verbs.add_parser("test", help="run every test_* rule (like opa test)")
    test.add_argument("directory", nargs="?", type=Path, metavar="DIR", help="default: the built-in library")
    test.add_argument("--with-builtin", action="store_true", help="load the built-in library under DIR")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    test.set_defaults(handler=_policy_test)
    return parser


def _check(args: argparse.Namespace) -> int:
    from fleetgate.commands.check import CheckOptions, run_check
    from fleetgate.format import FORMATS

    options = CheckOptions(
        paths=tuple(args.paths),
        base=args.base,
        head=args.head,
        staged=args.staged,
        stage=args.stage,
        config=args.config,
        cwd=Path.cwd(),
        jobs=args.jobs,
    )
    decision = run_check(options)
    colour = args.output is None and _colour(sys.stdout)
    report = FORMATS[args.format](decision, colour)
    _write(report, args.output)
    return EXIT_ADMIT if decision.allowed else EXIT_DENY


def _policy_test(args: argparse.Namespace) -> int:
    from fleetgate.commands.policy_test import run_policy_test

    outcomes = run_policy_test(args.directory, args.with_builtin)
    failed = 0
    for outcome in outcomes:
        test = outcome.test
        if outcome.outcome != "pass":
            failed += 1
            where = f"{test.file}:{test.line}"
            print(f"{outcome.outcome.upper()}  {test.package}.{test.name}  {where}  {outcome.detail}")
        elif args.verbose:
            print(f"PASS  {test.package}.{test.name}  {test.file}:{test.line}")
    passed = len(outcomes) - failed
    print(f"{passed} passed, {failed} failed")
    if not outcomes:
        _error("no test_* rules found")
        return EXIT_ERROR
    return EXIT_ADMIT if failed == 0 else EXIT_DENY


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"expected a number of processes from 1 to 256, got {text!r}")
    return int(text)


def _colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _write(report: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(report)
        return
    try:
        output.write_text(report, encoding="utf-8")
    except OSError as exc:
        raise FleetgateError(f"{output}: cannot write the report: {exc.strerror}") from None
