"""The built-in library avoids the forms OPA and the embedded engine evaluate differently
(policies/README.md#engine-notes), checked without either engine."""

from __future__ import annotations

import re

import pytest

from fleetgate.policy import builtin_policy_dir, load_library

MODULES = [m for m in load_library([builtin_policy_dir()]).modules if not m.is_test]
# %g or %f of a whole number prints as "%!g(int64=50)" in OPA.
# (No width: "%2e" is a percent-encoded ".", which a rule may look for.)
FLOAT_VERB = re.compile(r"%(?:\.\d+)?[eEfFgG]")
# `not is_number(x.field)` is undefined in OPA when the field is missing.
TYPE_TEST_OF_A_FIELD = re.compile(r"\bnot\s+is_[a-z]+\(\s*[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\s*\)")


@pytest.mark.parametrize(("pattern", "example"), [(FLOAT_VERB, '"%.1f MiB"'), (FLOAT_VERB, '"%g MB"')])
def test_the_float_verb_pattern_finds_what_it_guards_against(pattern: re.Pattern[str], example: str) -> None:
    assert pattern.search(example)


def test_the_type_test_pattern_finds_a_bare_field_and_not_a_defaulted_one() -> None:
    assert TYPE_TEST_OF_A_FIELD.search("\tnot is_number(devices.minMemoryMB)")
    assert not TYPE_TEST_OF_A_FIELD.search('\tnot is_number(object.get(devices, "minMemoryMB", null))')


def code(source: str) -> str:
    """``source`` with comments blanked (they may quote the forms to avoid), lines kept."""
    return re.sub(r"#[^\n]*", "", source)


def test_no_message_formats_a_number_with_a_float_verb() -> None:
    """Only lib.num, which rounds first and gives whole numbers to %v, uses one."""
    found = [
        f"{m.path}:{m.line_at(x.start())}"
        for m in MODULES
        if m.path != "builtin:lib/finding.rego"
        for x in FLOAT_VERB.finditer(code(m.source))
    ]
    assert found == []


def test_no_rule_type_tests_a_field_that_may_be_missing() -> None:
    found = [
        f"{m.path}:{m.line_at(x.start())}" for m in MODULES for x in TYPE_TEST_OF_A_FIELD.finditer(m.source)
    ]
    assert found == []
