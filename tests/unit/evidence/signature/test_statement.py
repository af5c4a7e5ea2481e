"""The model-signing statement checks: every way a signed statement can be about something else."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from fleetgate.evidence._kit import Refused
from fleetgate.evidence.signature._statement import IN_TOTO_PAYLOAD_TYPE, check_statement

FILE_DIGEST = hashlib.sha256(b"model").hexdigest()
NAMES = {"model.onnx"}


def _statement(resources: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    resources = resources or [{"name": ".", "algorithm": "sha256", "digest": FILE_DIGEST}]
    hexes = [r["digest"] if len(r["digest"]) == 64 else "0" * 64 for r in resources]
    root = hashlib.sha256(b"".join(bytes.fromhex(h) for h in hexes)).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "model.onnx", "digest": {"sha256": root}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {"serialization": {"method": "files"}, "resources": resources},
    }
    statement.update(overrides)
    return statement


def _check(statement: Any, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> None:
    check_statement(payload_type, json.dumps(statement).encode(), "sha256:" + FILE_DIGEST, NAMES)


def test_single_file_statement_passes_by_dot_or_file_name() -> None:
    _check(_statement())
    _check(_statement([{"name": "model.onnx", "algorithm": "sha256", "digest": FILE_DIGEST}]))


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ([1, 2], "not a JSON object"),
        (_statement(_type="https://in-toto.io/Statement/v0.1"), "not an in-toto v1 statement"),
        (_statement(predicateType="https://model_signing/Digests/v0.1"), "unsupported predicate type"),
        (_statement(subject=[]), "exactly one subject"),
        (_statement(subject=[{"name": "m", "digest": {"sha512": "00"}}]), "no sha256 digest"),
        (
            _statement(subject=[{"name": "m", "digest": {"sha256": "0" * 64}}]),
            "subject digest does not match",
        ),
        (_statement(predicate={"resources": []}), "lists no resources"),
        (_statement(predicate={}), "lists no resources"),
        (
            _statement(
                [
                    {"name": "model.onnx", "algorithm": "sha256", "digest": FILE_DIGEST},
                    {"name": "extra.bin", "algorithm": "sha256", "digest": "1" * 64},
                ]
            ),
            "covers 2 resources",
        ),
        (
            _statement([{"name": "other.onnx", "algorithm": "sha256", "digest": FILE_DIGEST}]),
            "is not the artifact",
        ),
        (_statement([{"name": ".", "algorithm": "blake2", "digest": FILE_DIGEST}]), "not sha256"),
        (
            _statement([{"name": ".", "algorithm": "sha256", "digest": "2" * 64}]),
            "is not the artifact's digest",
        ),
        (_statement([{"name": ".", "algorithm": "sha256", "digest": "XYZ"}]), "no valid sha256 digest"),
    ],
)
def test_statement_not_about_exactly_this_artifact_fails(statement: Any, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        _check(statement)


def test_wrong_payload_type_and_invalid_json_fail() -> None:
    with pytest.raises(Refused, match="wrong payload type"):
        _check(_statement(), payload_type="application/json")
    with pytest.raises(Refused, match="not valid JSON"):
        check_statement(IN_TOTO_PAYLOAD_TYPE, b"{" * 100_000, "sha256:" + FILE_DIGEST, NAMES)
