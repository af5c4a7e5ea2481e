"""The model-signing statement checks: every way a signed statement can be about something else."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from fleetgate.evidence._kit import Refused
from fleetgate.evidence._multifile import multi_file
from fleetgate.evidence.interface import Artifact, ArtifactFile
from fleetgate.evidence.signature._statement import IN_TOTO_PAYLOAD_TYPE, check_statement

FILE_DIGEST = hashlib.sha256(b"model").hexdigest()
WEIGHTS_DIGEST = hashlib.sha256(b"weights").hexdigest()
ARTIFACT = Artifact(
    uri="file:models/model.onnx",
    path=Path("/repo/models/model.onnx"),
    digest="sha256:" + FILE_DIGEST,
    size=5,
    source="file",
)
# A model with external data: both files are the artifact.
FILES = (
    ArtifactFile("model.onnx", "sha256:" + FILE_DIGEST, 5),
    ArtifactFile("weights.bin", "sha256:" + WEIGHTS_DIGEST, 7),
)
MULTI = multi_file("file:models/model.onnx", Path("/repo/models/model.onnx"), "file", FILES)


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


def _check(statement: Any, payload_type: str = IN_TOTO_PAYLOAD_TYPE, artifact: Artifact = ARTIFACT) -> None:
    check_statement(payload_type, json.dumps(statement).encode(), artifact)


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
        check_statement(IN_TOTO_PAYLOAD_TYPE, b"{" * 100_000, ARTIFACT)


def _resource(name: str, digest: str) -> dict[str, str]:
    return {"name": name, "algorithm": "sha256", "digest": digest}


def test_a_multi_file_statement_passes_when_it_covers_exactly_the_files() -> None:
    _check(
        _statement([_resource("model.onnx", FILE_DIGEST), _resource("weights.bin", WEIGHTS_DIGEST)]),
        artifact=MULTI,
    )


@pytest.mark.parametrize(
    ("resources", "reason"),
    [
        (
            [_resource("model.onnx", FILE_DIGEST)],
            "the signature does not cover weights.bin, a file of the artifact",
        ),
        (
            [
                _resource("model.onnx", FILE_DIGEST),
                _resource("weights.bin", WEIGHTS_DIGEST),
                _resource("x.bin", "3" * 64),
            ],
            "the signature covers x.bin, which is not a file of the artifact",
        ),
        (
            [_resource("model.onnx", FILE_DIGEST), _resource("weights.bin", "4" * 64)],
            f"weights.bin has digest sha256:{WEIGHTS_DIGEST}, not the signed sha256:{'4' * 64}",
        ),
        ([_resource(".", FILE_DIGEST)], "the signature does not cover model.onnx"),
    ],
)
def test_a_missing_extra_or_swapped_file_is_refused_by_name(
    resources: list[dict[str, str]], reason: str
) -> None:
    with pytest.raises(Refused, match=reason):
        _check(_statement(resources), artifact=MULTI)
