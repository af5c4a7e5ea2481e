"""Messages and tables agree: the library's formatting (policies/lib/format.rego) writes every
amount, size and count exactly as the engine's tables do (fleetgate/fleet/display.py)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from fleetgate.fleet import display
from fleetgate.policy import builtin_policy_dir, load_library
from fleetgate.policy._rego import CompiledPolicy, compile_modules
from fleetgate.policy.library import PolicyModule

PROBE = """package probe

import rego.v1

import data.fleetgate.lib

money := [lib.money_text(a, input.currency) | some a in input.amounts]

sizes := [lib.size_text(n) | some n in input.sizes]

counts := [lib.count_text(n) | some n in input.counts]
"""


@pytest.fixture(scope="module")
def formats() -> CompiledPolicy:
    library = load_library([builtin_policy_dir()])
    helpers = [m for m in library.modules if m.package == "fleetgate.lib" and not m.is_test]
    probe = PolicyModule("probe.rego", PROBE, "probe")
    return compile_modules([*helpers, probe], {}, ["probe/money", "probe/sizes", "probe/counts"])


def amounts() -> list[str]:
    """Exact amounts as the cost fact writes them, half cents and long fractions included."""
    draw = random.Random(11)
    found = ["0", "12", "0.005", "0.015", "999.995", "1105.225", "1105.235", "13895", "15000.5"]
    for _ in range(300):
        cents = draw.randrange(0, 10 ** draw.randrange(1, 12))
        tail = draw.choice(["", "5", "50", "500001", str(draw.randrange(10**8))])
        found.append(display.exact(Decimal(f"{cents // 100}.{cents % 100:02d}{tail}")))
    return found


def sizes() -> list[int]:
    draw = random.Random(12)
    edges = [0, 999, 1000, 999_950, 42_050_000, 42_150_000, 42_050_001, 10**21]
    return edges + [draw.randrange(0, 10 ** draw.randrange(1, 20)) for _ in range(300)]


@pytest.mark.parametrize("currency", ["USD", "CHF", "EUR"])
def test_amounts_read_as_the_tables_write_them(formats: CompiledPolicy, currency: str) -> None:
    written = amounts()
    shown = formats.query("probe/money", {"amounts": written, "currency": currency})
    assert shown == [display.money(a, currency) for a in written]


def test_sizes_and_counts_read_as_the_tables_write_them(formats: CompiledPolicy) -> None:
    numbers = sizes()
    assert formats.query("probe/sizes", {"sizes": numbers}) == [display.size(n) for n in numbers]
    assert formats.query("probe/counts", {"counts": numbers}) == [display.count(n) for n in numbers]
