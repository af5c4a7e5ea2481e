"""Provenance of a multi-file artifact: the final step must have produced every file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetgate.evidence._kit import Refused
from fleetgate.evidence._multifile import multi_file
from fleetgate.evidence.interface import ArtifactFile
from fleetgate.evidence.provenance._layout import _final_product
from fleetgate.evidence.provenance._slsa import _slsa_details

MODEL, WEIGHTS = "1" * 64, "2" * 64
ARTIFACT = multi_file(
    "file:models/m/model.onnx",
    Path("/repo/models/m/model.onnx"),
    "file",
    [ArtifactFile("model.onnx", "sha256:" + MODEL, 5), ArtifactFile("weights.bin", "sha256:" + WEIGHTS, 7)],
)


def final(products: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    details: dict[str, Any] = {"final_step": "evaluate"}
    outcome = _final_product(products, ARTIFACT, details)
    return outcome.status, outcome.reason, details


def test_every_file_produced_by_the_final_step_verifies() -> None:
    status, _, details = final({"out/model.onnx": {"sha256": MODEL}, "out/weights.bin": {"sha256": WEIGHTS}})
    assert status == "verified" and details["product_digest"] == ARTIFACT.digest


@pytest.mark.parametrize(
    ("products", "reason"),
    [
        (
            {"model.onnx": {"sha256": MODEL}},
            "final step 'evaluate' has no product weights.bin, a file of the artifact",
        ),
        (
            {"model.onnx": {"sha256": MODEL}, "weights.bin": {"sha256": "3" * 64}},
            f"product weights.bin is sha256:{'3' * 64}, the file is sha256:{WEIGHTS}",
        ),
    ],
)
def test_a_file_the_final_step_did_not_produce_fails_naming_it(products: dict[str, Any], reason: str) -> None:
    status, said, _ = final(products)
    assert status == "failed" and said is not None and reason in said


def _statement(*digests: str) -> dict[str, Any]:
    return {"subject": [{"name": "x", "digest": {"sha256": d}} for d in digests], "predicateType": "p"}


@pytest.mark.parametrize("subjects", [(ARTIFACT.digest.removeprefix("sha256:"),), (MODEL, WEIGHTS)])
def test_a_slsa_statement_names_the_file_set_or_every_file(subjects: tuple[str, ...]) -> None:
    assert (
        _slsa_details(_statement(*subjects), "builder", ARTIFACT, "s.json")["subject_digest"]
        == ARTIFACT.digest
    )


def test_a_slsa_statement_missing_a_file_fails_naming_it() -> None:
    with pytest.raises(Refused, match="no subject has the digest of weights.bin, a file of the artifact"):
        _slsa_details(_statement(MODEL), "builder", ARTIFACT, "s.json")
