"""The fast indented writer gives json.dumps(indent=2, ensure_ascii=False)'s very bytes."""

from __future__ import annotations

import enum
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from fleetgate.format._json_text import indented

HOSTILE_TEXT = ['say "hi"', "back\\slash", "nul\x00", "tab\tline\nfeed", "\u2028\u2029", "é", "𝄞", "\x1f", ""]
EDGE_NUMBERS = [0, -1, 2**63, -(2**100), 0.1, -0.0, 1e-07, 1e300, 123456789.123, 5e-324]


class Level(enum.IntEnum):
    HIGH = 3


class Label(str):
    pass


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 5 and roll < 0.3:
        keys = [rng.choice(HOSTILE_TEXT) + str(k) for k in range(rng.randrange(4))]
        return {key: random_value(rng, depth + 1) for key in keys}
    if depth < 5 and roll < 0.5:
        items = [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
        return tuple(items) if rng.random() < 0.2 else items
    return rng.choice([*HOSTILE_TEXT, *EDGE_NUMBERS, True, False, None])


def standard(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def test_random_documents_are_written_byte_for_byte_as_json_dumps_writes_them() -> None:
    rng = random.Random(2026)
    documents = [random_value(rng) for _ in range(600)]
    assert sum(isinstance(d, dict) and len(d) > 1 for d in documents) > 20  # nested objects were drawn
    for document in documents:
        assert indented(document) == standard(document)


@pytest.mark.parametrize(
    "value",
    [
        {1: "an int key"},
        {None: 1, True: 2},
        {"nan": float("nan")},
        [float("inf"), float("-inf")],
        {"level": Level.HIGH},
        [Label("a str subclass")],
        {"nested": [{"deep": {2.5: "a float key"}}]},
    ],
    ids=["int-key", "none-bool-keys", "nan", "infinities", "int-enum", "str-subclass", "nested-float-key"],
)
def test_values_json_converts_take_the_standard_path(value: Any) -> None:
    assert indented(value) == standard(value)


def test_refusals_are_the_standard_librarys() -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        indented({"amount": Decimal("1.5")})
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        indented({"cycle": cycle})
