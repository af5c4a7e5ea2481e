from __future__ import annotations

import pytest

from fleetgate.errors import PolicyError
from fleetgate.policy import EmbeddedEngine, load_library

from support import PolicyDir

AREA = """package fleetgate.area

import rego.v1

deny contains {"rule": "area.too-big", "msg": msg, "field": "spec.n"} if {
\tn := input.manifest.spec.n
\tn > data.fleetgate.config.max
\tmsg := sprintf("%v > %v", [n, data.fleetgate.config.max])
}

warn contains {"rule": "area.odd", "msg": "odd", "field": "spec.n"} if input.manifest.spec.n % 2 == 1
"""


def engine(policy_dir: PolicyDir, files: dict[str, str], data: str = "max: 3\n") -> EmbeddedEngine:
    return EmbeddedEngine(load_library([policy_dir({**files, "data.yaml": data})]))


def findings(result: object) -> list[tuple[str, str, str]]:
    return [(f.severity, f.rule, f.message) for f in result.findings]  # type: ignore[attr-defined]


def test_deny_and_warn_of_every_package_are_collected(policy_dir: PolicyDir) -> None:
    other = (
        'package fleetgate.other\n\nimport rego.v1\n\ndeny contains {"rule": "other.x", "msg": "m"} if true\n'
    )
    gate = engine(policy_dir, {"area/a.rego": AREA, "other.rego": other})
    result = gate.evaluate({"manifest": {"spec": {"n": 5}}})
    assert findings(result) == [
        ("deny", "area.too-big", "5 > 3"),
        ("deny", "other.x", "m"),
        ("warn", "area.odd", "odd"),
    ]
    assert findings(gate.evaluate({"manifest": {"spec": {"n": 2}}})) == [("deny", "other.x", "m")]
    assert gate.evaluations == 2


def test_tests_are_not_part_of_the_gate(policy_dir: PolicyDir) -> None:
    test = 'package fleetgate.t\n\nimport rego.v1\n\ndeny contains {"rule": "t", "msg": "m"} if true\n'
    gate = engine(policy_dir, {"area.rego": AREA, "area_test.rego": test})
    assert findings(gate.evaluate({"manifest": {"spec": {"n": 0}}})) == []


def test_compile_error_names_file_and_line(policy_dir: PolicyDir, capfd: pytest.CaptureFixture[str]) -> None:
    broken = "package fleetgate.b\n\nimport rego.v1\n\ndeny contains x if {\n\tx := \n}\n"
    with pytest.raises(PolicyError, match=r"b\.rego:6: .*assignment"):
        engine(policy_dir, {"b.rego": broken})
    # The engine's own diagnostics must not leak onto stdout (it would corrupt --format json).
    assert capfd.readouterr().out == ""


def test_runtime_error_fails_closed(policy_dir: PolicyDir) -> None:
    bad = 'package fleetgate.c\n\nimport rego.v1\n\ndeny contains {"rule": "c", "msg": nosuchfn(1)} if true\n'
    gate = engine(policy_dir, {"c.rego": bad})
    with pytest.raises(PolicyError, match="Function not found: nosuchfn"):
        gate.evaluate({})


def test_builtin_errors_are_strict(policy_dir: PolicyDir) -> None:
    bad = 'package fleetgate.d\n\nimport rego.v1\n\ndeny contains {"rule": "d", "msg": "m"} if 1 / input.z\n'
    gate = engine(policy_dir, {"d.rego": bad})
    with pytest.raises(PolicyError):
        gate.evaluate({"z": 0})


@pytest.mark.parametrize("finding", ['"just a string"', '{"rule": "x"}', '{"rule": 1, "msg": "m"}'])
def test_malformed_findings_fail_closed(policy_dir: PolicyDir, finding: str) -> None:
    src = f"package fleetgate.e\n\nimport rego.v1\n\ndeny contains {finding} if true\n"
    gate = engine(policy_dir, {"e.rego": src})
    with pytest.raises(PolicyError, match="package fleetgate.e produced a malformed finding"):
        gate.evaluate({})


def test_same_function_name_with_two_arities_is_refused_before_it_can_crash(policy_dir: PolicyDir) -> None:
    one = "package fleetgate.a\n\nimport rego.v1\n\nsized(n) := n + 1\n"
    two = "package fleetgate.b\n\nimport rego.v1\n\nsized(n, m) := n + m\n"
    with pytest.raises(PolicyError, match=r"b\.rego:5: function sized takes 2 argument\(s\) here but 1 at"):
        engine(policy_dir, {"a.rego": one, "b.rego": two})
