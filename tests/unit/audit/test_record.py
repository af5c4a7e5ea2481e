"""Canonical record bytes: the fast path must be byte-for-byte RFC 8785."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest
import rfc8785

from fleetgate.audit.record import canonical
from fleetgate.audit.store.interface import AuditError

ALPHABET = string.printable + '\x00\x01\x1f\x7f"\\/é€😀\u2028\ufeff'


def document(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.choice([0, -1, 7, 2**53 - 1, -(2**53) + 1, rng.randrange(-(10**12), 10**12)])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return ""
    if kind == 4:
        return [document(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "".join(rng.choice(string.ascii_letters + "-_.~ ") for _ in range(rng.randrange(1, 6)))
        for _ in range(4)
    ]
    return {k: document(rng, depth + 1) for k in keys}


def test_fast_path_equals_the_reference_encoder() -> None:
    rng = random.Random(8785)
    for _ in range(2000):
        value = {"root": document(rng)}
        assert canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"f": 1.5, "g": 1e-7, "h": 1e21},  # floats: ECMAScript number formatting
        {"é": 1, "z": 2, "\U0001f600": 3, "\ue000": 4},  # non-ASCII keys: UTF-16 order
    ],
)
def test_other_documents_use_the_reference_encoder(value: dict[str, Any]) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_values_jcs_cannot_encode_are_refused() -> None:
    with pytest.raises(AuditError, match="cannot be canonicalized"):
        canonical({"n": 2**60})
    with pytest.raises(AuditError):
        canonical({"s": "\ud800"})
