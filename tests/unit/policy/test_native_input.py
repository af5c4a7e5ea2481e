"""The policy input built through the engine's C input API means what its JSON text means."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fleetgate.errors import PolicyError
from fleetgate.policy._native_input import NativeInput
from fleetgate.policy._rego import CompiledPolicy, compile_modules
from fleetgate.policy.library import PolicyModule

# What the engine sees, and what Rego computes from it: a byte count, equality with literals
# written in Rego, a formatted number.
ECHO = r"""package probe

import rego.v1

seen := input

lengths := {k: count(v) | some k, v in input.strings}

quoted if input.strings.quote == "say \"hi\""

slashed if input.strings.backslash == "C:\\temp\\"

formatted := sprintf("%v", [input.number])
"""

HOSTILE = {
    "quote": 'say "hi"',
    "backslash": "C:\\temp\\",
    "lone_quote": '"',
    "empty": "",
    "newline": "line\nbreak\r\ttab",
    "nul": "a\x00b",
    "control": "\x01\x1f\x7f",
    "escape_text": "\\u0041 is not A",
    "unicode": "é ü ß 中文",
    "astral": "\U0001f680 rocket",
    "separators": "\u2028\u2029",
    "braces": '}]{["',
}


@pytest.fixture(scope="module")
def probe() -> CompiledPolicy:
    module = PolicyModule("probe.rego", ECHO, "probe")
    return compile_modules(
        [module], {}, ["probe/seen", "probe/lengths", "probe/quoted", "probe/slashed", "probe/formatted"]
    )


def as_text(policy: CompiledPolicy, entrypoint: str, value: Any) -> Any:
    """The same query with the input given as JSON text (the exact path)."""
    from regopy import rego_shared

    policy._interpreter.set_input_term(json.dumps(value, ensure_ascii=False))
    output = rego_shared.rego_bundle_query_entrypoint(
        policy._interpreter._impl, policy._bundle._impl, entrypoint
    )
    try:
        text = rego_shared.rego_output_string(output)
    finally:
        rego_shared.rego_free_output(output)
    return None if text.strip() == "undefined" else json.loads(text)["expressions"][0]


def carried(value: Any) -> bool:
    """Whether the C input API carries ``value`` (else the query falls back to JSON text)."""
    from regopy import Interpreter

    interpreter = Interpreter()  # kept alive: the handle is freed with it
    return NativeInput().set(interpreter._impl, value)


def test_hostile_strings_reach_the_engine_exactly_as_keys_and_values(probe: CompiledPolicy) -> None:
    value = {"strings": HOSTILE, "keys": {text: index for index, text in enumerate(HOSTILE.values())}}
    assert carried(value)
    assert probe.query("probe/seen", value) == value
    # The engine counts a string with escapes by its escaped text, whichever way it arrives
    # (an engine quirk, not the builder's): the two paths agree, and plain strings count right.
    lengths = probe.query("probe/lengths", value)
    assert lengths == as_text(probe, "probe/lengths", value)
    assert {k: lengths[k] for k in ("empty", "unicode", "astral")} == {"empty": 0, "unicode": 8, "astral": 8}
    assert probe.query("probe/quoted", value) is True
    assert probe.query("probe/slashed", value) is True
    for entrypoint in ("probe/seen", "probe/lengths", "probe/quoted"):
        assert probe.query(entrypoint, value) == as_text(probe, entrypoint, value)


@pytest.mark.parametrize(
    ("number", "native"),
    [
        (0, True),
        (-1, True),
        (2**63 - 1, True),
        (-(2**63), True),
        (2**63, False),  # beyond the API's 64-bit integer
        (10**30, False),
        (0.5, True),
        (1.0, True),
        (-0.0, True),
        (2.5e20, True),
        (123456789.123, True),
        (0.567, True),
        (1e-07, False),  # "%f" would write 0.000000
        (0.1234567, False),  # "%f" would round to 0.123457
        (12.3456789, False),
    ],
)
def test_numbers_the_api_would_round_take_the_exact_path(
    probe: CompiledPolicy, number: int | float, native: bool
) -> None:
    value = {"number": number, "strings": {}}
    assert carried(value) is native
    assert probe.query("probe/seen", value) == as_text(probe, "probe/seen", value)
    assert probe.query("probe/seen", value)["number"] == number
    assert probe.query("probe/formatted", value) == as_text(probe, "probe/formatted", value)


def test_shapes_json_gives_the_engine_are_the_same(probe: CompiledPolicy) -> None:
    value = {
        "strings": {},
        "a": [],
        "o": {},
        "t": (1, "x"),
        "n": None,
        "b": [True, False],
        "deep": [[[{"k": [1]}]]],
    }
    assert carried(value)
    assert probe.query("probe/seen", value) == json.loads(json.dumps(value))


def test_what_json_would_change_takes_the_exact_path(probe: CompiledPolicy) -> None:
    value = {"strings": {}, "keyed": {1: "one"}}
    assert not carried(value)
    assert probe.query("probe/seen", value) == {"strings": {}, "keyed": {"1": "one"}}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "\ud800", {"k": object()}])
def test_input_that_is_not_json_fails_closed(probe: CompiledPolicy, bad: Any) -> None:
    with pytest.raises(PolicyError, match="policy input is not JSON"):
        probe.query("probe/seen", {"strings": {}, "bad": bad})


def test_a_value_escaped_once_is_cached_and_still_exact(probe: CompiledPolicy) -> None:
    first = {"strings": {"quote": 'say "hi"'}}
    assert probe.query("probe/quoted", first) is True
    assert probe.query("probe/quoted", {"strings": {"quote": 'say "hi"'}}) is True
    assert probe.query("probe/quoted", {"strings": {"quote": "say hi"}}) is None


def test_a_locale_that_writes_a_decimal_comma_sends_floats_as_json_text(
    probe: CompiledPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import locale

    value = {"number": 0.5, "strings": {}}
    assert carried(value)
    comma = {**locale.localeconv(), "decimal_point": ","}
    monkeypatch.setattr(locale, "localeconv", lambda: comma)
    assert not carried(value)  # the engine would read "0,500000"
    assert carried({"number": 5, "strings": {}})  # integers are written without one
    assert probe.query("probe/seen", value)["number"] == 0.5
