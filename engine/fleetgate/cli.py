"""The command line: the only place that parses arguments, prints, or exits.

Exit status: 0 admitted (warnings allowed), 1 denied, 2 could not decide. Any error inside the
gate is a :class:`FleetgateError` with a one-line message; anything else is a bug, still
reported in one line and still exit 2: the gate fails closed.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from fleetgate import __version__
from fleetgate.cli_audit import add_audit_parser
from fleetgate.cli_verify import add_receipt_parser, add_verify_parser
from fleetgate.cli_watch import add_watch_parser
from fleetgate.errors import FleetgateError

if TYPE_CHECKING:
    from fleetgate.commands.check import Checked, ReceiptRequest
    from fleetgate.format import Report

__all__ = ["main", "run"]

EXIT_ADMIT, EXIT_DENY, EXIT_ERROR = 0, 1, 2
_FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab")


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


def run() -> None:
    """The ``fleetgate`` command: :func:`main`, then the process ends with its exit status.

    Before the interpreter shuts down, every object the run made is frozen out of the cyclic
    collector: its last collection would walk them all only to free memory the exit frees
    anyway (about 13 ms of a 0.24 s commit hook). Finalizers registered with ``atexit`` or
    ``weakref.finalize`` (the git reader, private folders) still run. :func:`main` itself, which
    tests and library callers use in a long-lived process, leaves the collector alone.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


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

    _add_check(verbs)
    add_verify_parser(verbs)
    _add_cost(verbs)
    add_watch_parser(verbs)

    explain = verbs.add_parser(
        "explain", help="what a rule asks, why, its thresholds and how to fix or waive it"
    )
    explain.add_argument("rule", nargs="?", metavar="RULE", help="a rule name; without it, list every rule")
    explain.add_argument(
        "--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the repo root"
    )
    explain.set_defaults(handler=_explain)

    init = verbs.add_parser(
        "init", help="add fleetgate.yaml, an example manifest, hooks and CI to a repository"
    )
    init.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR")
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")
    init.add_argument(
        "--hook",
        choices=("system", "pypi"),
        default="system",
        help="pre-commit hook that runs the fleetgate on PATH (system, the default) or installs "
        "fleetgate from the package index (pypi)",
    )
    init.add_argument(
        "--checkpoint-key",
        type=Path,
        metavar="FILE",
        help="where to create the decision log's checkpoint signer key (default: "
        "~/.config/fleetgate/keys/<repository>.checkpoint.key; never inside the repository)",
    )
    init.add_argument("--no-checkpoint-key", action="store_true", help="do not create a checkpoint key")
    init.set_defaults(handler=_init)

    add_audit_parser(verbs)
    add_receipt_parser(verbs)
    policy = verbs.add_parser("policy", help="work with the policy library")
    policy_verbs = policy.add_subparsers(dest="policy_verb", required=True, metavar="COMMAND")
    test = policy_verbs.add_parser("test", help="run every test_* rule (like opa test)")
    test.add_argument("directory", nargs="?", type=Path, metavar="DIR", help="default: the built-in library")
    test.add_argument("--with-builtin", action="store_true", help="load the built-in library under DIR")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    test.add_argument(
        "--engine", choices=("embedded", "opa"), default="embedded", help="evaluator (opa: OPA's own)"
    )
    test.set_defaults(handler=_policy_test)
    bundle = policy_verbs.add_parser("bundle", help="OPA bundles of the policy library")
    bundle_verbs = bundle.add_subparsers(dest="bundle_verb", required=True, metavar="COMMAND")
    build = bundle_verbs.add_parser("build", help="write the library a check would load as an OPA bundle")
    build.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="bundle.tar.gz to write"
    )
    build.add_argument("--sign-key", type=Path, metavar="KEY", help="PEM RSA or P-256 private key")
    build.add_argument("--key-id", metavar="ID", help="key id written in the signature")
    build.add_argument("--config", type=Path, metavar="FILE", help="config file (default: fleetgate.yaml)")
    build.set_defaults(handler=_policy_bundle_build)
    return parser


def _add_check(verbs: Any) -> None:
    """``fleetgate check``: what to evaluate, how to report and record it."""
    check = verbs.add_parser("check", help="evaluate manifest changes and print the admission decision")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="manifests or folders, each evaluated as added"
    )
    check.add_argument("--base", metavar="REF", help="compare with this commit (pull request base)")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--head", metavar="REF", help="commit to check (default: the working tree)")
    mode.add_argument("--staged", action="store_true", help="check the index against HEAD (pre-commit)")
    mode.add_argument(
        "--pre-commit",
        action="store_true",
        help="as a pre-commit hook: on push, the pushed commit against its merge base with the "
        "remote's default branch (or the branch --base names); with --from-ref/--to-ref, that range; "
        "else the staged changes, or the whole repository when nothing is staged",
    )
    check.add_argument("--stage", choices=("pre-merge", "pre-deploy"), help="default: pre-merge")
    check.add_argument("--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the repo root")
    check.add_argument(
        "--format",
        action="append",
        metavar="NAME[=FILE]",
        help=f"report format: {', '.join(_FORMATS)} (default text); repeat with =FILE to write several "
        "formats from one evaluation",
    )
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--audit-log", metavar="URL", help="sqlite:///path or postgresql://... (see README)")
    check.add_argument("--no-audit", action="store_true", help="do not record the decision in the audit log")
    check.add_argument("--receipt", type=Path, metavar="FILE", help="pre-deploy: write signed receipts")
    check.add_argument("--receipt-key", type=Path, metavar="FILE", help="default: audit.signingKey")
    check.add_argument("--receipt-verifier", metavar="URI", help="verifier id written in receipts")
    check.add_argument("--receipt-policy-uri", metavar="URI", help="policy URI written in receipts")
    check.add_argument(
        "--policy-bundle", type=Path, metavar="FILE", help="evaluate only this signed OPA bundle"
    )
    check.add_argument(
        "--bundle-key", type=Path, metavar="PUBKEY", help="PEM public key the bundle must verify with"
    )
    check.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="worker processes for large runs (default: one per core)",
    )
    check.add_argument(
        "--evidence",
        type=_facts,
        metavar="FACTS",
        help="comma-separated facts to gather (artifact, signature, provenance, model, latency, "
        "fairness, cost, telemetry, rollback), or 'none' for a manifest-only check "
        "(default: evidence.collect, else all)",
    )
    check.add_argument(
        "--telemetry",
        type=Path,
        metavar="FILE",
        help="a telemetry snapshot (JSON or CSV) to judge promotions by (default: telemetry.source)",
    )
    check.add_argument(
        "--trust", type=Path, metavar="FILE", help="trust file (default: trust in fleetgate.yaml)"
    )
    check.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    check.set_defaults(handler=_check)


def _add_cost(verbs: Any) -> None:
    """``fleetgate cost``: the FinOps view of the repository's desired state."""
    cost = verbs.add_parser(
        "cost", help="what delivering the deployments costs, by namespace, segment and region (estimate)"
    )
    cost.add_argument("--base", metavar="REF", help="price only the changes since this commit")
    cost.add_argument("--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the repo root")
    cost.add_argument("--format", choices=("text", "json", "csv", "focus"), default="text")
    cost.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    cost.set_defaults(handler=_cost)


def _cost(args: argparse.Namespace) -> int:
    from fleetgate.commands.cost import render_cost, run_cost

    report = run_cost(Path.cwd(), args.base, args.config)
    _write(render_cost(report, args.format), args.output)
    return EXIT_ADMIT


def _check(args: argparse.Namespace) -> int:
    from fleetgate.cli_progress import StderrProgress
    from fleetgate.commands.check import CheckOptions, run_check
    from fleetgate.format import FORMATS

    outputs = _outputs(args.format or ["text"], args.output)
    paths, base, head, staged = tuple(args.paths), args.base, args.head, args.staged
    if args.pre_commit:
        paths, base, head, staged = _pre_commit_range(args.base, paths)
    options = CheckOptions(
        paths=paths,
        base=base,
        head=head,
        staged=staged,
        stage=args.stage,
        config=args.config,
        cwd=Path.cwd(),
        jobs=args.jobs,
        evidence=args.evidence,
        trust=args.trust,
        progress=StderrProgress(quiet=args.quiet),
        record=not args.no_audit,
        audit_log=args.audit_log,
        receipts=_receipt_request(args),
        telemetry=args.telemetry,
        policy_bundle=args.policy_bundle,
        bundle_key=args.bundle_key,
    )
    checked = run_check(options)  # recorded (and receipts signed) before anything is reported
    for warning in checked.warnings:
        print(f"fleetgate: warning: {warning}", file=sys.stderr)
    if args.receipt is not None and checked.receipts is not None:
        try:
            args.receipt.write_text(checked.receipts, encoding="utf-8")
        except OSError as exc:
            raise FleetgateError(f"{args.receipt}: cannot write the receipt: {exc.strerror}") from None
    for name, target in outputs:
        colour = target is None and name == "text" and _colour(sys.stdout)
        report = _report(checked, args.evidence, colour)
        _write(FORMATS[name](report), target)
        if name == "github":
            _github_summary(report)
    return EXIT_ADMIT if checked.decision.allowed else EXIT_DENY


def _receipt_request(args: argparse.Namespace) -> ReceiptRequest | None:
    from fleetgate.commands.check import ReceiptRequest

    if args.receipt is None:
        return None
    return ReceiptRequest(args.receipt_key, args.receipt_verifier, args.receipt_policy_uri)


def _pre_commit_range(
    base: str | None, paths: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None, str | None, bool]:
    """(paths, base, head, staged) for a hook run, from what pre-commit puts in the environment.

    With ``--pre-commit``, ``--base`` names the branch a push is compared with (its merge base).
    """
    from fleetgate.commands.pre_commit import hook_range
    from fleetgate.git import Git

    if paths:
        raise FleetgateError("--pre-commit takes what to check from pre-commit; do not give PATHs")
    if base is not None and not base.strip():
        raise FleetgateError("--base is empty: with --pre-commit it names the branch a push is compared with")
    selected = hook_range(os.environ, Git.discover(Path.cwd()), base)
    return selected.paths, selected.base, selected.head, selected.staged


def _outputs(specs: list[str], output: Path | None) -> list[tuple[str, Path | None]]:
    """``NAME`` or ``NAME=FILE`` pairs; at most one format goes to stdout (or ``--output``)."""
    from fleetgate.format import FORMATS

    outputs: list[tuple[str, Path | None]] = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if name not in FORMATS:
            raise FleetgateError(f"unknown format {name!r} (expected one of {', '.join(FORMATS)})")
        if sep and not file:
            raise FleetgateError(f"--format {spec}: missing file name after '='")
        outputs.append((name, Path(file) if sep else output))
    if sum(1 for _, target in outputs if target is None) > 1:
        raise FleetgateError("only one format can go to stdout: give the others a file (--format NAME=FILE)")
    return outputs


def _report(checked: Checked, evidence: tuple[str, ...] | None, colour: bool) -> Report:
    """What every format renders: the decision, and whether evidence was off and a summary written."""
    from fleetgate.format import Report

    collect = evidence if evidence is not None else checked.config.evidence.collect
    summary = bool(os.environ.get("GITHUB_STEP_SUMMARY"))
    return Report(checked.decision, checked.rules, colour, evidence_off=not collect, job_summary=summary)


def _github_summary(report: Report) -> None:
    """Append the Markdown job summary when running in GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from fleetgate.format.github import job_summary

    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(job_summary(report))
    except OSError as exc:
        raise FleetgateError(f"{path}: cannot write the job summary: {exc.strerror}") from None


def _explain(args: argparse.Namespace) -> int:
    from fleetgate.commands.check import load_policies, repository_config
    from fleetgate.commands.explain import explain_rule, list_rules

    library = load_policies(repository_config(Path.cwd(), args.config))
    sys.stdout.write(explain_rule(library, args.rule) if args.rule else list_rules(library))
    return EXIT_ADMIT


def _init(args: argparse.Namespace) -> int:
    from fleetgate.commands.init import checkpoint_key, next_steps, run_init

    for written in run_init(args.directory, args.force, args.hook):
        note = " (exists; --force overwrites it)" if written.action == "kept" else ""
        print(f"{written.action:11}  {written.path}{note}")
    if not args.no_checkpoint_key:
        key = checkpoint_key(args.directory, args.checkpoint_key)
        print(
            f"\n{'created' if key.created else 'kept':11}  {key.signer} (the decision log's checkpoint key: "
            "keep it outside the repository, as a CI secret only the checkpoint job can read)\n"
            f"{'':11}  verifier key for auditors and audit.verifierKey: {key.verifier}"
        )
    print(f"\n{next_steps(args.hook)}", end="")
    return EXIT_ADMIT


def _policy_bundle_build(args: argparse.Namespace) -> int:
    from fleetgate.commands.policy_bundle import build_policy_bundle

    revision = build_policy_bundle(Path.cwd(), args.output, args.sign_key, args.key_id, args.config)
    signed = f", signed by {args.key_id}" if args.sign_key is not None else " (unsigned)"
    print(f"wrote {args.output}: revision {revision}{signed}")
    return EXIT_ADMIT


def _policy_test(args: argparse.Namespace) -> int:
    from fleetgate.commands.policy_test import run_policy_test

    outcomes = run_policy_test(args.directory, args.with_builtin, args.engine)
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


def _facts(text: str) -> tuple[str, ...]:
    if text.strip() == "none":
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


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
