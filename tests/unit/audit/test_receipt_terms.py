"""A verified receipt authorizes one deploy only: its deployment, stage, manifest, age and digest source."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from fleetgate.audit.receipt import ReceiptError, build_receipt, manifest_digest
from fleetgate.audit.receipt_terms import ReceiptTerms, details, manifest_file_digest, max_age, select
from unit.audit.test_receipt import NOW, POLICY_URI, VERIFIER_ID, decision, evaluation

from support import manifest, to_yaml


def receipt(name: str = "a", **spec: Any) -> dict[str, Any]:
    return build_receipt(decision(evaluation(name, **spec)), 0, VERIFIER_ID, POLICY_URI)


def terms(**changes: Any) -> ReceiptTerms:
    values: dict[str, Any] = {
        "target": "production/a",
        "stage": "pre-deploy",
        "max_age": dt.timedelta(hours=24),
        "now": NOW + dt.timedelta(hours=1),
    }
    return ReceiptTerms(**(values | changes))


def test_a_receipt_authorizes_its_own_deployment_and_stage_only() -> None:
    statement = receipt()
    assert select([statement, receipt("b")], terms()) == [statement]
    with pytest.raises(ReceiptError, match="no receipt is about staging/a at pre-deploy"):
        select([statement], terms(target="staging/a"))
    with pytest.raises(ReceiptError, match="no receipt is about production/a at pre-merge"):
        select([statement], terms(stage="pre-merge"))


def test_a_receipt_for_ten_percent_cannot_authorize_a_hundred(tmp_path: Path) -> None:
    ten = {"type": "stagedRollout", "rolloutPercentage": 10}
    statement = receipt(updateStrategy=ten)
    file = tmp_path / "a.yaml"
    file.write_text(to_yaml(manifest("b"), manifest("a", updateStrategy=ten)))
    same = manifest_file_digest(file, "production/a")
    assert select([statement], terms(manifest_digest=same)) == [statement]
    file.write_text(to_yaml(manifest("a", updateStrategy={**ten, "rolloutPercentage": 100})))
    with pytest.raises(ReceiptError, match="is for another manifest document"):
        select([statement], terms(manifest_digest=manifest_file_digest(file, "production/a")))
    with pytest.raises(ReceiptError, match="no OnDeviceModel production/c"):
        manifest_file_digest(file, "production/c")


def test_the_manifest_digest_ignores_formatting_but_not_values() -> None:
    document = manifest("a")
    assert manifest_digest(document) == manifest_digest(dict(reversed(list(document.items()))))
    assert manifest_digest(document) != manifest_digest({**document, "kind": "Other"})


def test_a_receipt_older_than_max_age_or_from_the_future_is_refused() -> None:
    statement = receipt()
    assert select([statement], terms(now=NOW + dt.timedelta(hours=23)))
    with pytest.raises(ReceiptError, match="longer ago than --max-age allows"):
        select([statement], terms(now=NOW + dt.timedelta(hours=25)))
    with pytest.raises(ReceiptError, match="issued in the future"):
        select([statement], terms(now=NOW - dt.timedelta(hours=1)))


def test_require_measured_refuses_a_declared_digest() -> None:
    with pytest.raises(ReceiptError, match="did not measure"):
        select([receipt()], terms(require_measured=True))
    measured = build_receipt(
        decision(evaluation("a", evidence={"artifact": "sha256:" + "ab" * 32})), 0, VERIFIER_ID, POLICY_URI
    )
    assert select([measured], terms(require_measured=True)) == [measured]
    assert details(measured)[1] == "  artifact digest  measured by the gate"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800)]
)
def test_max_age(text: str, seconds: int) -> None:
    assert max_age(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "-1h", "1w", "1.5h", "h"])
def test_a_bad_max_age_is_refused(text: str) -> None:
    with pytest.raises(ReceiptError, match="expected a duration"):
        max_age(text)
