"""The ``fleetgate audit`` verbs of the command line (parsing and printing only)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from fleetgate.decision import rfc3339
from fleetgate.errors import FleetgateError

__all__ = ["add_audit_parser", "key_text"]

EXIT_OK, EXIT_FAIL = 0, 1
VERIFIER_KEY_ENV = "FLEETGATE_VERIFIER_KEY"


def add_audit_parser(verbs: Any) -> None:
    audit = verbs.add_parser("audit", help="query, verify and prove the decision log")
    audit.add_argument(
        "--log", metavar="URL", help="sqlite:///path or postgresql://... (default: fleetgate.yaml)"
    )
    audit.add_argument("--config", type=Path, metavar="FILE", help="default: fleetgate.yaml at the repo root")
    sub = audit.add_subparsers(dest="audit_verb", required=True, metavar="COMMAND")

    query = sub.add_parser("query", help="records matching every filter, newest first")
    for option in (
        "model-id",
        "namespace",
        "name",
        "stage",
        "rule",
        "policy-revision",
        "artifact-digest",
        "signer",
    ):
        query.add_argument(f"--{option}")
    query.add_argument("--decision", choices=("admit", "deny", "override"))
    for outcome, meaning in (("denied-by", "denied"), ("warned-by", "warned"), ("waived", "was waived")):
        query.add_argument(f"--{outcome}", metavar="RULE", help=f"records where RULE {meaning}")
    query.add_argument("--since", metavar="TIME", help="inclusive; RFC 3339, or a date (midnight UTC)")
    query.add_argument("--until", metavar="TIME", help="exclusive; RFC 3339, or a date (midnight UTC)")
    query.add_argument(
        "--admitted-at",
        metavar="TIME",
        help="what was live then: per deployment, the record that last admitted it at pre-deploy",
    )
    query.add_argument("--format", choices=("table", "json", "csv"), default="table")
    query.add_argument("--limit", type=int, default=1000)
    query.set_defaults(handler=_query)

    serve = sub.add_parser("serve", help="a read-only web console over the log, for auditors")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (loopback)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="require 'Authorization: Bearer <token>' (mandatory off loopback)",
    )
    serve.add_argument(
        "--key", metavar="VERIFIER", help="verifier key string or file (default: audit.verifierKey)"
    )
    serve.add_argument("--repo-url", metavar="URL", help="link findings and commits to this repository")
    serve.set_defaults(handler=_serve)

    show = sub.add_parser("show", help="the records of one decision, or of one check run")
    show.add_argument("ref", metavar="SEQ|RECORD_ID|RUN_ID")
    show.add_argument("--format", choices=("text", "json"), default="text", help="json: the raw records")
    show.set_defaults(handler=_show)

    verify = sub.add_parser("verify", help="recompute the tree and check every signed checkpoint")
    verify.add_argument(
        "--key", metavar="VERIFIER", help="verifier key string or file (default: audit.verifierKey)"
    )
    verify.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="REF|DIR",
        help="also require the log to extend every checkpoint published there (git, git:REF, refs/... "
        "or a folder); repeatable",
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="also require the log to extend this signed checkpoint; repeatable",
    )
    verify.add_argument(
        "--allow-unsigned", action="store_true", help="exit 0 even when no checkpoint signature was checked"
    )
    verify.set_defaults(handler=_verify)

    prove = sub.add_parser("prove", help="inclusion proof of one record against the latest checkpoint")
    prove.add_argument("ref", metavar="SEQ|RECORD_ID|RUN_ID")
    prove.set_defaults(handler=_prove)

    check_proof = sub.add_parser("verify-proof", help="check an inclusion proof made by `audit prove`")
    check_proof.add_argument("file", type=Path)
    check_proof.add_argument(
        "--key", metavar="VERIFIER", help="verifier key string or file (default: $FLEETGATE_VERIFIER_KEY)"
    )
    check_proof.set_defaults(handler=_verify_proof)

    checkpoint = sub.add_parser(
        "checkpoint", help="verify the log, then sign, store, keep and print the current checkpoint"
    )
    checkpoint.add_argument(
        "--key", type=Path, metavar="FILE", help="signer key file (default: audit.signingKey)"
    )
    checkpoint.add_argument(
        "--publish",
        metavar="git[:REF]|DIR",
        help="also publish the checkpoint: commit it to a git ref (default refs/fleetgate/checkpoints) "
        "or write it to a folder that auditors keep",
    )
    checkpoint.set_defaults(handler=_checkpoint)

    export = sub.add_parser("export", help="records as JSON lines")
    export.add_argument("--from", dest="start", type=int, default=0, metavar="SEQ")
    export.add_argument("--to", dest="end", type=int, metavar="SEQ", help="exclusive (default: the end)")
    export.set_defaults(handler=_export)

    override = sub.add_parser(
        "override", help="record who overrode a denied decision, why, under which ticket"
    )
    override.add_argument("decision_id")
    override.add_argument("--by", required=True)
    override.add_argument("--reason", required=True)
    override.add_argument("--ticket", required=True)
    override.set_defaults(handler=_override)

    keygen = sub.add_parser("keygen", help="make an Ed25519 checkpoint signing key")
    keygen.add_argument("name", help="key name, e.g. the log's origin")
    keygen.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="where to write the signer key"
    )
    keygen.set_defaults(handler=_keygen)


def _settings(args: argparse.Namespace) -> Any:
    from fleetgate.commands.audit import audit_settings
    from fleetgate.commands.check import repository_config

    config = repository_config(Path.cwd(), args.config)
    return audit_settings(config.extra.get("audit"), config.root, args.log)


def _query(args: argparse.Namespace) -> int:
    from fleetgate.commands.audit import opened, query_filter
    from fleetgate.commands.audit_records import OutcomeFilter, near_matches, query_records, render_records

    filters = query_filter({k.replace("-", "_"): v for k, v in vars(args).items()})
    if args.admitted_at is not None:
        return _admitted_at(args, filters)
    by_outcome = OutcomeFilter(args.denied_by, args.warned_by, args.waived)
    with opened(_settings(args).log) as log:
        records = query_records(log, filters, args.limit, by_outcome)
        hints = near_matches(log, filters) if not records else []
    sys.stdout.write(render_records(records, args.format))
    for hint in hints:
        print(f"fleetgate: {hint}", file=sys.stderr)
    return EXIT_OK


def _admitted_at(args: argparse.Namespace, filters: Any) -> int:
    from fleetgate.audit.store.readonly import open_readonly_log
    from fleetgate.commands.audit_records import render_records
    from fleetgate.console.history import admitted_at

    if filters.decision is not None or args.denied_by or args.warned_by or args.waived:
        raise FleetgateError("--admitted-at lists admissions: it takes no --decision or outcome filter")
    log = open_readonly_log(_settings(args).log)
    try:
        found = admitted_at(log, args.admitted_at, filters)
    finally:
        log.close()
    sys.stdout.write(render_records(found[: args.limit], args.format))
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    try:
        from fleetgate.console.app import ConsoleConfig
        from fleetgate.console.serve import check_bind, serve
    except ImportError as exc:
        raise FleetgateError(
            f"the console needs its extra (pip install 'fleetgate[console]'): {exc}"
        ) from None

    settings = _settings(args)
    token = check_bind(args.host, args.token_file)
    config = ConsoleConfig(
        log_url=settings.log,
        origin=settings.origin,
        verifier_key=key_text(args.key) if args.key else settings.verifier_key,
        token=token,
        repo_url=args.repo_url,
        host=args.host,
    )
    print(
        f"fleetgate: serving the decision log read-only at http://{args.host}:{args.port}/", file=sys.stderr
    )
    serve(config, args.host, args.port)
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from fleetgate.commands.audit import opened
    from fleetgate.commands.audit_records import find_records, render_records, summary

    with opened(_settings(args).log) as log:
        records = find_records(log, args.ref)
    if args.format == "json":
        sys.stdout.write(render_records(records, "json"))
    else:
        sys.stdout.write("\n".join(summary(record) for record in records))
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from fleetgate.audit.log import verify_log
    from fleetgate.commands.audit import opened, verification_summary, witnessed_checkpoints

    settings = _settings(args)
    key = key_text(args.key) if args.key else settings.verifier_key
    witnessed = witnessed_checkpoints(args.witness, args.checkpoint, Path.cwd())
    with opened(settings.log) as log:
        report = verify_log(log, key, settings.origin, witnessed)
    for problem in report.problems:
        where = f"seq {problem.seq}: " if problem.seq is not None else ""
        print(f"FAIL  {where}{problem.message}")
    for line in verification_summary(report):
        print(line)
    counts = f"{report.size} records, {report.checkpoints} checkpoints"
    if not report.ok:
        first = report.first_bad_seq
        detail = f" (first bad sequence number: {first})" if first is not None else ""
        print(f"{counts}: TAMPERED{detail}")
        return EXIT_FAIL
    if report.signed_size is None:
        reason = "no verifier key" if key is None else "no stored checkpoint"
        print(f"{counts}: UNVERIFIED: no checkpoint signature was checked ({reason})")
        return EXIT_OK if args.allow_unsigned else EXIT_FAIL
    print(f"{counts}: ok")
    return EXIT_OK


def _prove(args: argparse.Namespace) -> int:
    from fleetgate.audit.log import inclusion_bundle
    from fleetgate.commands.audit import opened
    from fleetgate.commands.audit_records import find_records

    with opened(_settings(args).log) as log:
        records = find_records(log, args.ref)
        if len(records) > 1:
            listed = ", ".join(f"{r.seq} ({r.namespace}/{r.name})" for r in records)
            raise FleetgateError(
                f"check run {args.ref} has {len(records)} records; prove one of them: {listed}"
            )
        print(json.dumps(inclusion_bundle(log, records[0].decision_id), indent=2))
    return EXIT_OK


def _verify_proof(args: argparse.Namespace) -> int:
    from fleetgate.audit.log import verify_bundle
    from fleetgate.commands.audit import describe_proven

    # Not audit.verifierKey: fleetgate.yaml belongs to whoever writes the log, and a proof
    # checked against the writer's own key proves nothing to anyone else.
    named = args.key or os.environ.get(VERIFIER_KEY_ENV)
    if not named:
        raise FleetgateError(
            f"verify-proof needs the log's verifier key from you, not from the log's configuration: "
            f"--key KEY or {VERIFIER_KEY_ENV}"
        )
    try:
        bundle = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FleetgateError(f"{args.file}: not a readable proof ({exc})") from None
    proven = (
        verify_bundle(bundle, key_text(named), _settings(args).origin) if isinstance(bundle, dict) else None
    )
    if proven is None:
        print("proof does NOT verify")
        return EXIT_FAIL
    print(describe_proven(proven))
    return EXIT_OK


def _checkpoint(args: argparse.Namespace) -> int:
    from fleetgate.commands.audit import checkpoint_log

    settings = _settings(args)
    now = rfc3339(dt.datetime.now(dt.UTC))
    signed = checkpoint_log(settings, args.key or settings.signing_key, args.publish, Path.cwd(), now)
    sys.stdout.write(signed.checkpoint.note)
    print(f"kept in {signed.kept}", file=sys.stderr)
    if signed.published is not None:
        print(f"published to {signed.published}", file=sys.stderr)
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from fleetgate.commands.audit import opened

    with opened(_settings(args).log) as log:
        end = log.size() if args.end is None else args.end
        for record in log.records(args.start, end):
            sys.stdout.write(record.body.decode("utf-8") + "\n")
    return EXIT_OK


def _override(args: argparse.Namespace) -> int:
    from fleetgate.audit.events import override_record
    from fleetgate.audit.record import seal
    from fleetgate.commands.audit import opened

    now = rfc3339(dt.datetime.now(dt.UTC))
    with opened(_settings(args).log) as log:
        denied = log.find(args.decision_id)
        if denied is None:
            raise FleetgateError(f"no record with decision_id {args.decision_id}")
        [stored] = log.append(
            [override_record(json.loads(denied.body), args.by, args.reason, args.ticket, now)], seal
        )
    print(f"override recorded as {stored.decision_id} (seq {stored.seq})")
    return EXIT_OK


def _keygen(args: argparse.Namespace) -> int:
    from fleetgate.audit.checkpoint import generate_key

    signer, verifier = generate_key(args.name)
    public = args.out.with_name(args.out.name + ".pub")
    _write_new(args.out, signer, 0o600)
    _write_new(public, verifier, 0o644)
    print(
        f"fleetgate: wrote the signer key (private: keep it outside the repository) to {args.out}\n"
        f"fleetgate: wrote the verifier key (public: give it to auditors and deploy steps) to {public}; "
        "it follows on stdout",
        file=sys.stderr,
    )
    print(verifier)
    return EXIT_OK


def _write_new(path: Path, text: str, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise FleetgateError(f"{path}: cannot create the key file: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def key_text(value: str) -> str:
    """A verifier key given inline (it contains "+") or as a file holding it."""
    if "+" in value:
        return value
    try:
        return Path(value).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise FleetgateError(f"{value}: cannot read the verifier key: {exc.strerror}") from None
