"""The ``fleetgate verify`` and ``verify-receipt`` verbs of the command line (parsing and printing only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_receipt_parser", "add_verify_parser"]

EXIT_ADMIT, EXIT_DENY = 0, 1


def add_verify_parser(verbs: Any) -> None:
    """``fleetgate verify``: one artifact's signature and provenance."""
    verify = verbs.add_parser(
        "verify", help="prove one artifact file's signature and provenance against a trust file"
    )
    verify.add_argument("artifact", type=Path, metavar="ARTIFACT")
    verify.add_argument("--trust", type=Path, required=True, metavar="FILE", help="the trust file")
    verify.add_argument("--checksum", metavar="sha256:HEX", help="also require this digest")
    verify.add_argument(
        "--format",
        choices=("text", "json", "cyclonedx"),
        default="text",
        help="cyclonedx: a CycloneDX 1.6 ML-BOM of the artifact, written only when it is proven",
    )
    verify.add_argument(
        "--manifest", type=Path, metavar="FILE", help="the deployment manifest: its claims go into the BOM"
    )
    verify.set_defaults(handler=_verify)


def add_receipt_parser(verbs: Any) -> None:
    """``fleetgate verify-receipt``: a signed decision receipt, before deploying."""
    receipt = verbs.add_parser("verify-receipt", help="check a signed decision receipt before deploying")
    receipt.add_argument("file", type=Path)
    receipt.add_argument("--key", required=True, metavar="VERIFIER", help="verifier key string or file")
    receipt.add_argument("--target", required=True, metavar="NS/NAME", help="the deployment being deployed")
    receipt.add_argument("--stage", required=True, choices=("pre-merge", "pre-deploy"), help="the gate stage")
    receipt.add_argument("--digest", metavar="sha256:HEX", help="require a receipt for this artifact digest")
    receipt.add_argument("--manifest", type=Path, metavar="FILE", help="require a receipt for this manifest")
    receipt.add_argument("--max-age", default="24h", metavar="AGE", help="e.g. 30m, 24h, 7d (default 24h)")
    receipt.add_argument(
        "--require-measured",
        action="store_true",
        help="refuse receipts whose artifact digest was only declared",
    )
    receipt.set_defaults(handler=_verify_receipt)


def _verify_receipt(args: argparse.Namespace) -> int:
    import datetime as dt

    from fleetgate.audit.receipt import admitted, describe, read_receipts
    from fleetgate.audit.receipt_terms import ReceiptTerms, details, manifest_file_digest, max_age, select
    from fleetgate.cli_audit import key_text

    terms = ReceiptTerms(
        target=args.target,
        stage=args.stage,
        max_age=max_age(args.max_age),
        now=dt.datetime.now(dt.UTC),
        manifest_digest=manifest_file_digest(args.manifest, args.target) if args.manifest else None,
        require_measured=args.require_measured,
    )
    statements = select(read_receipts(args.file, key_text(args.key), args.digest), terms)
    for statement in statements:
        print(describe(statement))
        print("\n".join(details(statement)))
    if args.manifest is not None:
        print(f"  manifest         {args.manifest} is the document the receipts were issued for")
    else:
        print("  manifest         not compared (give --manifest FILE to bind the receipt to it)")
    return EXIT_ADMIT if all(admitted(s) for s in statements) else EXIT_DENY


def _verify(args: argparse.Namespace) -> int:
    import json

    from fleetgate.commands.verify import run_verify

    if args.format == "cyclonedx":
        return _verify_bom(args)
    verified = run_verify(args.artifact, args.trust, args.checksum, manifest=args.manifest)
    if args.format == "json":
        print(json.dumps(verified.to_json(), indent=2, sort_keys=True))
    else:
        print(_describe_verified(verified.to_json()))
    return EXIT_ADMIT if verified.proven else EXIT_DENY


def _verify_bom(args: argparse.Namespace) -> int:
    """The ML-BOM on stdout for an admitted artifact; for any other, why not on stderr and no BOM."""
    import datetime as dt
    import json
    import uuid

    from fleetgate.commands.verify import run_verify

    verified = run_verify(args.artifact, args.trust, args.checksum, model=True, manifest=args.manifest)
    if not verified.admitted:
        print(_describe_verified(verified.to_json()), file=sys.stderr)
        print(f"fleetgate: {args.artifact} is not admitted: no BOM written", file=sys.stderr)
        return EXIT_DENY
    timestamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    print(json.dumps(verified.bom(timestamp, str(uuid.uuid4())), indent=2, ensure_ascii=False))
    return EXIT_ADMIT


def _describe_verified(result: dict[str, Any]) -> str:
    artifact = result["artifact"]
    lines = [f"artifact    {artifact['path']}  {artifact['digest']}  {artifact['size']} bytes"]
    if result["checksum_matches"] is not None:
        lines.append(f"checksum    {'matches' if result['checksum_matches'] else 'DOES NOT MATCH'}")
    for name in ("signature", "provenance"):
        fact = result.get(name)
        if fact is None:
            continue
        status = fact.get("status", "failed")
        detail = fact.get("reason") if status != "verified" else _proof(name, fact)
        lines.append(f"{name:11} {status}: {detail}")
    model = result.get("model")
    if isinstance(model, dict):
        lines.append(f"model       {_model_read(model)}")
    lines.append("proven" if result["proven"] else "NOT proven")
    return "\n".join(lines)


def _model_read(fact: dict[str, Any]) -> str:
    """The model fact in one line, with how it is known (verify reads it for a BOM)."""
    if "error" in fact:
        return f"could not be read: {fact['error']}"
    if fact.get("status") == "absent":
        return f"not-assessable: {fact.get('reason')}"
    return f"{fact.get('format')}, quantization {fact.get('quantization')} (derived from the bytes)"


def _proof(name: str, fact: dict[str, Any]) -> str:
    if name == "signature":
        parts = [f"signed by {fact.get('signer')}"]
        if fact.get("issuer"):
            parts.append(f"issuer {fact['issuer']}")
        if fact.get("rekor_log_index") is not None:
            parts.append(f"Rekor log index {fact['rekor_log_index']}")
        return ", ".join(parts)
    steps = " -> ".join(fact.get("steps") or [])
    parts = [f"{fact.get('kind')}"] + ([f"steps {steps}"] if steps else [])
    slsa = fact.get("slsa")
    if isinstance(slsa, dict):
        parts.append(f"SLSA builder {slsa.get('builder_id')}")
    return ", ".join(parts)
