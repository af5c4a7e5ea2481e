from __future__ import annotations

import pytest

from fleetgate.errors import PolicyError
from fleetgate.policy import load_library
from fleetgate.policy.testing import discover_tests, run_policy_tests

from support import PolicyDir

RULES = """package fleetgate.g

import rego.v1

deny contains {"rule": "g.x", "msg": sprintf("n=%v", [input.manifest.n]), "field": ""} if input.manifest.n > 1
"""

TESTS = """package fleetgate.g

import rego.v1

test_denies_two if {
\tcount(deny) == 1 with input.manifest as {"n": 2}
}

test_wrongly_expects_a_deny if {
\tcount(deny) == 1 with input.manifest as {"n": 0}
}

test_errors if {
\tnosuchfn(1)
}
"""


def test_each_test_rule_passes_fails_or_errors(policy_dir: PolicyDir) -> None:
    library = load_library([policy_dir({"g.rego": RULES, "g_test.rego": TESTS})])
    tests = discover_tests(library)
    assert [(t.name, t.line) for t in tests] == [
        ("test_denies_two", 5),
        ("test_wrongly_expects_a_deny", 9),
        ("test_errors", 13),
    ]
    outcomes = {o.test.name: o for o in run_policy_tests(library)}
    assert outcomes["test_denies_two"].outcome == "pass"
    assert outcomes["test_wrongly_expects_a_deny"].outcome == "fail"
    assert outcomes["test_errors"].outcome == "error"
    assert "nosuchfn" in outcomes["test_errors"].detail


def test_no_tests_means_no_outcomes(policy_dir: PolicyDir) -> None:
    assert run_policy_tests(load_library([policy_dir({"g.rego": RULES})])) == []


def test_whole_input_override_is_refused_before_it_can_crash(policy_dir: PolicyDir) -> None:
    # regopy aborts the process on `with input as <object>` when the rule calls a builtin.
    src = "package fleetgate.g\n\nimport rego.v1\n\ntest_x if {\n\tcount(deny) == 0 with input as {}\n}\n"
    library = load_library([policy_dir({"g.rego": RULES, "g_test.rego": src})])
    with pytest.raises(PolicyError, match=r"g_test\.rego:6: 'with input as' replaces the whole input"):
        run_policy_tests(library)


def test_an_import_no_module_defines_is_named_with_the_likely_cause(policy_dir: PolicyDir) -> None:
    source = "package team\n\nimport rego.v1\n\nimport data.fleetgate.lib\n\ntest_x if lib.x\n"
    library = load_library([policy_dir({"team_test.rego": source})])
    with pytest.raises(PolicyError, match=r"team_test\.rego:5: imports data\.fleetgate\.lib, .*builtin"):
        run_policy_tests(library)


def test_importing_the_thresholds_is_not_a_missing_package(policy_dir: PolicyDir) -> None:
    source = "package team\n\nimport rego.v1\n\nimport data.fleetgate.config\n\ntest_x if true\n"
    library = load_library([policy_dir({"team_test.rego": source})])
    assert [o.outcome for o in run_policy_tests(library)] == ["pass"]
