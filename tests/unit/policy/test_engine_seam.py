"""The engine seam: engines and test runners by name, each engine's own concurrency, typed
engine and revision fields for receipts."""

from __future__ import annotations

import os

import pytest

from corpus_policy import policy_inputs
from fleetgate.audit.receipt import build_receipt
from fleetgate.errors import PolicyError
from fleetgate.policy import EngineInfo, PolicyRevision, build_engine, builtin_policy_dir, load_library
from fleetgate.policy.engines import ENGINES, TESTERS, build_tester
from fleetgate.policy.testing import run_policy_tests
from unit.audit.test_receipt import decision, evaluation

LIBRARY = load_library([builtin_policy_dir()])


def test_engines_and_test_runners_are_chosen_by_name() -> None:
    assert sorted(ENGINES) == ["embedded", "opa", "opa-golib"]
    assert sorted(TESTERS) == ["embedded", "opa"]
    assert build_engine("embedded", LIBRARY).info.name == "regopy"
    with pytest.raises(
        PolicyError, match=r"unknown policy engine 'wasm' \(expected one of embedded, opa, opa-golib\)"
    ):
        build_engine("wasm", LIBRARY)
    with pytest.raises(PolicyError, match="unknown policy engine"):
        build_tester("wasm", LIBRARY, [])


def test_the_embedded_engine_forks_workers_for_a_large_batch_and_gets_the_same_results() -> None:
    engine = build_engine("embedded", LIBRARY)
    inputs = policy_inputs(240)
    parent = os.getpid()
    in_process = [engine.evaluate(i) for i in inputs]
    before = engine.evaluations  # type: ignore[attr-defined]
    assert engine.evaluate_many(inputs, jobs=2) == in_process
    # The batch ran in forked workers: the parent's own counter did not move.
    assert engine.evaluations == before and os.getpid() == parent  # type: ignore[attr-defined]


def test_policy_test_runs_through_the_named_engine(policy_dir: object) -> None:
    source = "package fleetgate.t\nimport rego.v1\ntest_ok if { data.fleetgate.config.max == 3 }\n"
    library = load_library([policy_dir({"t_test.rego": source, "data.yaml": "max: 3\n"})])  # type: ignore[operator]
    assert [o.outcome for o in run_policy_tests(library, engine="embedded")] == ["pass"]
    with pytest.raises(PolicyError, match="unknown policy engine"):
        run_policy_tests(library, engine="wasm")


def test_engine_info_round_trips_through_the_decision_label() -> None:
    info = EngineInfo("opa", "golib-0.4.4")
    assert info.label == "opa golib-0.4.4" and EngineInfo.of_label(info.label) == info
    assert EngineInfo("recording", "").label == "recording"


def test_a_receipt_names_the_engine_and_revision_the_run_gives_it() -> None:
    checked = decision(evaluation("a"))
    revision = PolicyRevision("sha256:" + "1f" * 32, bundle_revision="v7", signer="policy-team")
    statement = build_receipt(
        checked, 0, "v", "p", engine=EngineInfo("opa", "golib-0.4.4"), revision=revision
    )
    predicate = statement["predicate"]
    assert predicate["verifier"]["version"]["opa"] == "golib-0.4.4"
    assert "regopy" not in predicate["verifier"]["version"]
    assert predicate["policy"]["digest"] == {"sha256": "1f" * 32}
