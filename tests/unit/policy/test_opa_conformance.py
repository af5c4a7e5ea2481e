"""The built-in library is OPA Rego: its tests pass under OPA's own evaluator, and OPA decides
every input of a generated corpus exactly as the embedded engine does (policies/README.md#engine-notes)."""

from __future__ import annotations

import pytest

from corpus_policy import policy_inputs
from fleetgate.errors import PolicyError
from fleetgate.policy import EmbeddedEngine, builtin_policy_dir, load_library
from fleetgate.policy.testing import run_policy_tests
from support_opa import opa_path

LIBRARY = load_library([builtin_policy_dir()])


@pytest.fixture(scope="module")
def opa() -> object:
    opa_path()
    from fleetgate.policy.opa_local import OpaLocalEngine

    return OpaLocalEngine(LIBRARY)


def test_every_builtin_policy_test_passes_under_opa(opa: object) -> None:
    outcomes = run_policy_tests(LIBRARY, engine="opa")
    assert len(outcomes) >= 50
    assert [(o.test.name, o.detail) for o in outcomes if o.outcome != "pass"] == []


def test_opa_reports_a_failing_test_as_failed(opa: object, policy_dir: object) -> None:
    library = load_library(
        [policy_dir({"t_test.rego": "package fleetgate.t\nimport rego.v1\ntest_no if { 1 == 2 }\n"})]  # type: ignore[operator]
    )
    [outcome] = run_policy_tests(library, engine="opa")
    assert outcome.outcome == "fail" and outcome.detail == "undefined"


def test_opa_compares_numbers_as_numbers(opa: object, policy_dir: object) -> None:
    source = "package fleetgate.n\nimport rego.v1\ntest_min if { min([9, 10]) == 9 }\n"
    [outcome] = run_policy_tests(load_library([policy_dir({"n_test.rego": source})]), engine="opa")  # type: ignore[operator]
    assert outcome.outcome == "pass"


def test_opa_leaves_a_type_test_of_a_missing_field_undefined(opa: object, policy_dir: object) -> None:
    """Why the library reads a field that may be missing with object.get before `not is_*`."""
    source = (
        "package fleetgate.m\nimport rego.v1\n"
        "test_bare if { not is_number(input.x) }\n"
        'test_defaulted if { not is_number(object.get(input, "x", null)) }\n'
    )
    outcomes = run_policy_tests(load_library([policy_dir({"m_test.rego": source})]), engine="opa")  # type: ignore[operator]
    assert {o.test.name: o.outcome for o in outcomes} == {"test_bare": "fail", "test_defaulted": "pass"}


def test_an_evaluation_error_under_opa_is_a_policy_error(opa: object, policy_dir: object) -> None:
    from fleetgate.policy.opa_local import OpaLocalEngine

    source = (
        "package fleetgate.z\nimport rego.v1\n"
        'deny contains {"rule": "z", "msg": sprintf("%v", [1 / input.n])}\n'
    )
    engine = OpaLocalEngine(load_library([policy_dir({"z.rego": source})]))  # type: ignore[operator]
    with pytest.raises(PolicyError, match="divide by zero"):
        engine.evaluate({"n": 0})


def test_opa_and_the_embedded_engine_agree_on_the_corpus(opa: object) -> None:
    embedded = EmbeddedEngine(LIBRARY)
    inputs = policy_inputs(2000)
    assert len(inputs) >= 2000
    differences = []
    denied = 0
    rules: set[str] = set()
    for index, policy_input in enumerate(inputs):
        ours = embedded.evaluate(policy_input).findings
        theirs = opa.evaluate(policy_input).findings  # type: ignore[attr-defined]
        denied += any(f.severity == "deny" for f in ours)
        rules |= {f.rule for f in ours}
        if ours != theirs:
            differences.append((index, sorted(set(ours) ^ set(theirs), key=str)[:3]))
    assert differences == []
    # The corpus reaches both admitted and denied inputs, and many rules' fail side.
    assert 0 < denied < len(inputs) and len(rules) >= 30, (denied, sorted(rules))


def test_a_large_batch_on_opa_runs_in_process_and_agrees(opa: object) -> None:
    # A child forked from a process running Go's runtime hangs: the batch must never fork.
    inputs = policy_inputs(300)
    expected = [r.findings for r in EmbeddedEngine(LIBRARY).evaluate_many(inputs, jobs=2)]
    assert [r.findings for r in opa.evaluate_many(inputs, jobs=2)] == expected  # type: ignore[attr-defined]
