"""The Merkle module against transparency-dev/merkle's published vectors and RFC 6962's definitions.

``tests/data/merkle/vectors.json`` (see its README) gives roots, perfect subtree hashes, proofs
and 196 verifier probes. The property tests compare every proof of every tree up to 70 leaves
with a direct, recursive transcription of RFC 6962 §2.1 written below, and check that proofs
are assembled only from perfect subtrees inside the requested tree.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest

from fleetgate.audit.merkle import (
    EMPTY_ROOT,
    MAX_SIZE,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    new_perfect_nodes,
    node_hash,
    root,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

from support import DATA

VECTORS: dict[str, Any] = json.loads((DATA / "merkle" / "vectors.json").read_text(encoding="utf-8"))
LEAVES = [leaf_hash(bytes.fromhex(data)) for data in VECTORS["leaf_inputs"]]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots"]]

# The Go verifier compares two equal "roots" of any length; fleetgate refuses a root that is
# not a SHA-256 hash (README.md in tests/data/merkle).
STRICTER_THAN_REFERENCE = {"testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}

MAX_PROPERTY_SIZE = 70


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def published_inclusion(index: int, size: int) -> list[bytes]:
    [case] = [c for c in VECTORS["inclusion_proofs"] if (c["index"], c["size"]) == (index, size)]
    return hexes(case["proof"])


def published_consistency(old_size: int, new_size: int) -> list[bytes]:
    cases = VECTORS["consistency_proofs"]
    [case] = [c for c in cases if (c["old_size"], c["new_size"]) == (old_size, new_size)]
    return hexes(case["proof"])


def build_store(leaves: list[bytes], batch: int = 1) -> dict[tuple[int, int], bytes]:
    """The perfect subtree hashes a log holds after appending ``leaves`` ``batch`` at a time."""
    store: dict[tuple[int, int], bytes] = {}
    for start in range(0, len(leaves), batch):
        created = new_perfect_nodes(start, leaves[start : start + batch], lambda lv, i: store.get((lv, i)))
        store.update({(level, index): digest for level, index, digest in created})
    return store


class BoundedStore:
    """A getter that answers only for perfect subtrees inside the first ``size`` leaves, and counts reads.

    A proof that needed a node from beyond its tree would fail with LookupError here.
    """

    def __init__(self, store: dict[tuple[int, int], bytes], size: int) -> None:
        self.store, self.size, self.reads = store, size, 0

    def __call__(self, level: int, index: int) -> bytes | None:
        self.reads += 1
        if (index + 1) << level > self.size:
            return None
        return self.store.get((level, index))


# --- RFC 6962 §2.1, transcribed recursively (the reference the property tests compare with) --


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_root(leaves: tuple[bytes, ...]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(ref_root(leaves[:k]), ref_root(leaves[k:]))


def ref_path(m: int, leaves: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_root(leaves[:k])]


def ref_proof(m: int, leaves: tuple[bytes, ...], known: bool = True) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if known else [ref_root(leaves)]
    k = split(n)
    if m <= k:
        return [*ref_proof(m, leaves[:k], known), ref_root(leaves[k:])]
    return [*ref_proof(m - k, leaves[k:], False), ref_root(leaves[:k])]


PROPERTY_LEAVES = [leaf_hash(f"decision {i}".encode()) for i in range(MAX_PROPERTY_SIZE)]


def path_shape(m: int, n: int) -> list[bool]:
    """For PATH(m, D[n]): whether each sibling, leaf side first, sits on the left."""
    if n == 1:
        return []
    k = split(n)
    return [*path_shape(m, k), False] if m < k else [*path_shape(m - k, n - k), True]


# --- The published vectors ------------------------------------------------------------------


def test_leaf_hashes_are_the_published_level_zero() -> None:
    assert [h.hex() for h in LEAVES] == VECTORS["node_hashes"][0]


def test_appending_builds_the_published_perfect_subtrees() -> None:
    expected = {
        (level, index): bytes.fromhex(digest)
        for level, digests in enumerate(VECTORS["node_hashes"])
        for index, digest in enumerate(digests)
    }
    assert build_store(LEAVES) == expected
    assert build_store(LEAVES, batch=3) == expected


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_roots_match_for_every_size(size: int) -> None:
    assert root_from_leaves(LEAVES[:size]) == ROOTS[size]
    assert root(size, BoundedStore(build_store(LEAVES), size)) == ROOTS[size]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root(0, lambda level, index: None) == EMPTY_ROOT


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"], ids=lambda c: f"{c['index']}@{c['size']}")
def test_inclusion_proofs_equal_the_published_ones(case: dict[str, Any]) -> None:
    index, size, published = case["index"], case["size"], hexes(case["proof"])
    assert inclusion_proof(index, size, BoundedStore(build_store(LEAVES), size)) == published
    assert verify_inclusion(LEAVES[index], index, size, published, ROOTS[size])


@pytest.mark.parametrize(
    "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_consistency_proofs_equal_the_published_ones(case: dict[str, Any]) -> None:
    old, new, published = case["old_size"], case["new_size"], hexes(case["proof"])
    assert consistency_proof(old, new, BoundedStore(build_store(LEAVES), new)) == published
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], published)


@pytest.mark.parametrize("probe", VECTORS["inclusion_probes"], ids=lambda p: p["file"])
def test_inclusion_verifier_answers_every_published_probe(probe: dict[str, Any]) -> None:
    got = verify_inclusion(
        bytes.fromhex(probe["leaf_hash"]),
        probe["index"],
        probe["size"],
        hexes(probe["proof"]),
        bytes.fromhex(probe["root"]),
    )
    assert got is probe["valid"]


@pytest.mark.parametrize("probe", VECTORS["consistency_probes"], ids=lambda p: p["file"])
def test_consistency_verifier_answers_every_published_probe(probe: dict[str, Any]) -> None:
    got = verify_consistency(
        probe["old_size"],
        probe["new_size"],
        bytes.fromhex(probe["old_root"]),
        bytes.fromhex(probe["new_root"]),
        hexes(probe["proof"]),
    )
    assert got is (probe["valid"] and probe["file"] not in STRICTER_THAN_REFERENCE)


def test_the_published_probes_are_all_there() -> None:
    # A truncated vectors file would otherwise pass the parametrized tests above unnoticed.
    for kind in ("inclusion_probes", "consistency_probes"):
        probes = VECTORS[kind]
        assert len(probes) == 98
        assert sum(p["valid"] for p in probes) == 6
        assert len({p["file"] for p in probes}) == 98


# --- Tampering --------------------------------------------------------------------------------


def tampered(proof: list[bytes]) -> Iterator[list[bytes]]:
    """Every one-byte flip, a hash added at either end, a hash dropped at either end."""
    for i, digest in enumerate(proof):
        for position in (0, len(digest) - 1):
            flipped = bytearray(digest)
            flipped[position] ^= 0x01
            yield [*proof[:i], bytes(flipped), *proof[i + 1 :]]
    yield [*proof, LEAVES[0]]
    yield [LEAVES[0], *proof]
    if proof:
        yield proof[1:]
        yield proof[:-1]


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"], ids=lambda c: f"{c['index']}@{c['size']}")
def test_tampered_inclusion_proofs_are_rejected(case: dict[str, Any]) -> None:
    index, size, proof = case["index"], case["size"], hexes(case["proof"])
    leaf, good_root = LEAVES[index], ROOTS[size]
    for bad in tampered(proof):
        assert not verify_inclusion(leaf, index, size, bad, good_root)
    for wrong_index in (index - 1, index + 1, index ^ 1, size):
        assert not verify_inclusion(leaf, wrong_index, size, proof, good_root)
    for wrong_size in (size * 2, size // 2, index):
        assert not verify_inclusion(leaf, index, wrong_size, proof, good_root)
    assert not verify_inclusion(LEAVES[(index + 1) % 8], index, size, proof, good_root)
    assert not verify_inclusion(leaf, index, size, proof, ROOTS[size - 1])
    assert not verify_inclusion(leaf, index, size, proof, node_hash(good_root, good_root))


@pytest.mark.parametrize(
    "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_tampered_consistency_proofs_are_rejected(case: dict[str, Any]) -> None:
    old, new, proof = case["old_size"], case["new_size"], hexes(case["proof"])
    for bad in tampered(proof):
        assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad)
    assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new], proof)
    assert not verify_consistency(old, new, ROOTS[old], LEAVES[7], proof)
    if old != new:
        assert not verify_consistency(new, old, ROOTS[new], ROOTS[old], proof)
    assert not verify_consistency(0, new, EMPTY_ROOT, ROOTS[new], proof)
    assert not verify_consistency(old, new * 2, ROOTS[old], ROOTS[new], proof)


def test_a_proof_alone_does_not_fix_the_tree_size() -> None:
    """Hashes are opaque, so the leaf-0 path of the 8-leaf tree also fits a 7-leaf tree with that root.

    The size has to come from the signed checkpoint, never from whoever hands over the proof.
    """
    proof = published_inclusion(0, 8)
    assert verify_inclusion(LEAVES[0], 0, 7, proof, ROOTS[8])
    assert not verify_inclusion(LEAVES[0], 0, 7, proof, ROOTS[7])


# --- Properties over every tree up to 70 leaves -------------------------------------------------


@pytest.mark.parametrize("size", range(1, MAX_PROPERTY_SIZE + 1))
def test_every_inclusion_proof_is_rfc6962s_and_verifies(size: int) -> None:
    leaves = PROPERTY_LEAVES[:size]
    store = build_store(PROPERTY_LEAVES, batch=5)
    tree_root = root_from_leaves(leaves)
    assert tree_root == ref_root(tuple(leaves))
    assert root(size, BoundedStore(store, size)) == tree_root
    for index in range(size):
        get = BoundedStore(store, size)
        proof = inclusion_proof(index, size, get)
        assert proof == ref_path(index, tuple(leaves))
        assert get.reads <= 2 * size.bit_length()
        assert verify_inclusion(leaves[index], index, size, proof, tree_root)
        for bad in tampered(proof):
            assert not verify_inclusion(leaves[index], index, size, bad, tree_root)
        # A neighbouring size is accepted only where its path has exactly the same shape.
        for other in (size - 1, size + 1):
            fits = index < other and path_shape(index, other) == path_shape(index, size)
            assert verify_inclusion(leaves[index], index, other, proof, tree_root) is fits


@pytest.mark.parametrize("new_size", range(1, MAX_PROPERTY_SIZE + 1))
def test_every_consistency_proof_is_rfc6962s_and_verifies(new_size: int) -> None:
    leaves = PROPERTY_LEAVES
    store = build_store(leaves, batch=7)
    new_root = root_from_leaves(leaves[:new_size])
    for old_size in range(1, new_size + 1):
        old_root = root_from_leaves(leaves[:old_size])
        get = BoundedStore(store, new_size)
        proof = consistency_proof(old_size, new_size, get)
        assert proof == ref_proof(old_size, tuple(leaves[:new_size]))
        assert get.reads <= 2 * new_size.bit_length()
        assert verify_consistency(old_size, new_size, old_root, new_root, proof)
        for bad in tampered(proof):
            assert not verify_consistency(old_size, new_size, old_root, new_root, bad)
        other_root = root_from_leaves([*leaves[: old_size - 1], leaf_hash(b"rewritten")])
        assert not verify_consistency(old_size, new_size, other_root, new_root, proof)


def test_a_larger_log_agrees_with_root_from_leaves() -> None:
    rng = random.Random(6962)
    leaves = [rng.randbytes(32) for _ in range(3000)]
    store = build_store(leaves, batch=250)
    for size in (1000, 1023, 1024, 1025, 2047, 3000):
        tree_root = root_from_leaves(leaves[:size])
        assert root(size, BoundedStore(store, size)) == tree_root
        for index in (0, size // 3, size - 1):
            proof = inclusion_proof(index, size, BoundedStore(store, size))
            assert verify_inclusion(leaves[index], index, size, proof, tree_root)
        for old_size in (1, size // 2, size - 1):
            proof = consistency_proof(old_size, size, BoundedStore(store, size))
            assert verify_consistency(old_size, size, root_from_leaves(leaves[:old_size]), tree_root, proof)


# --- Building proofs: the caller's errors -------------------------------------------------------


def test_a_missing_subtree_is_a_lookup_error() -> None:
    store = build_store(LEAVES)
    del store[(1, 2)]  # leaves 4 and 5

    def get(level: int, index: int) -> bytes | None:
        return store.get((level, index))

    with pytest.raises(LookupError, match=r"\(1, 2\) is missing"):
        root(6, get)
    with pytest.raises(LookupError):
        inclusion_proof(7, 8, get)
    with pytest.raises(LookupError):
        consistency_proof(6, 8, get)
    # Whatever does not need that node still works.
    assert root(8, get) == ROOTS[8]
    assert inclusion_proof(0, 8, get) == published_inclusion(0, 8)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (8, 8), (-1, 8), (9, 8)])
def test_inclusion_proof_refuses_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(index, size, BoundedStore(build_store(LEAVES), 8))


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 5), (6, 5), (-1, 3)])
def test_consistency_proof_refuses_sizes_out_of_order(old: int, new: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(old, new, BoundedStore(build_store(LEAVES), 8))


def test_equal_sizes_have_an_empty_consistency_proof() -> None:
    assert consistency_proof(5, 5, BoundedStore(build_store(LEAVES), 5)) == []
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])


def test_root_refuses_a_negative_size() -> None:
    with pytest.raises(ValueError, match="negative"):
        root(-1, BoundedStore({}, 0))


# --- Hostile input: the verifiers answer False, never raise --------------------------------------

GOOD_INCLUSION = (LEAVES[5], 5, 8, published_inclusion(5, 8), ROOTS[8])
GOOD_CONSISTENCY = (6, 8, ROOTS[6], ROOTS[8], published_consistency(6, 8))

HOSTILE: list[object] = [
    None,
    "",
    "00" * 32,
    b"",
    b"\x00" * 31,
    b"\x00" * 33,
    bytearray(32),
    -1,
    True,
    1.0,
    MAX_SIZE + 1,
    2**4096,
    [],
    [b"\x00" * 32] * 10_000,
    [None],
    ["00" * 32],
    {"a": 1},
]


def substitutions(good: tuple[object, ...]) -> Iterator[tuple[object, ...]]:
    for position in range(len(good)):
        for value in HOSTILE:
            yield (*good[:position], value, *good[position + 1 :])


def test_published_good_arguments_are_good() -> None:
    assert verify_inclusion(*GOOD_INCLUSION)
    assert verify_consistency(*GOOD_CONSISTENCY)


@pytest.mark.parametrize("verifier", [verify_inclusion, verify_consistency], ids=["inclusion", "consistency"])
def test_hostile_arguments_are_refused_without_raising(verifier: Callable[..., bool]) -> None:
    good = GOOD_INCLUSION if verifier is verify_inclusion else GOOD_CONSISTENCY
    for arguments in substitutions(good):
        if arguments == good:
            continue
        assert verifier(*arguments) is False, arguments


def test_random_proofs_never_verify_or_raise() -> None:
    rng = random.Random(9162)
    for _ in range(2000):
        size = rng.choice([1, 2, 3, 7, 8, 9, 2**40 + 3, MAX_SIZE])
        proof = [rng.randbytes(32) for _ in range(rng.randrange(0, 70))]
        index = rng.randrange(0, size + 2)
        assert not verify_inclusion(rng.randbytes(32), index, size, proof, rng.randbytes(32))
        assert not verify_consistency(index, size, rng.randbytes(32), rng.randbytes(32), proof)


class UniformTree:
    """A virtual log of any size whose leaves all have the same hash: every perfect subtree of
    level L then has the same hash, so trees of 2**64 - 1 leaves can be stored in 64 hashes."""

    def __init__(self) -> None:
        self.levels = [LEAVES[3]]
        for _ in range(64):
            self.levels.append(node_hash(self.levels[-1], self.levels[-1]))

    def __call__(self, level: int, index: int) -> bytes | None:
        return self.levels[level]


@pytest.mark.parametrize("size", [2**63, 2**63 + 5, MAX_SIZE])
def test_trees_up_to_the_largest_checkpoint_size(size: int) -> None:
    tree = UniformTree()
    tree_root = root(size, tree)
    for index in (0, size // 3, size - 1):
        proof = inclusion_proof(index, size, tree)
        assert len(proof) <= 64
        assert verify_inclusion(LEAVES[3], index, size, proof, tree_root)
        assert not verify_inclusion(LEAVES[4], index, size, proof, tree_root)
    for old_size in (1, 2**32 + 1, size - 1):
        proof = consistency_proof(old_size, size, tree)
        assert verify_consistency(old_size, size, root(old_size, tree), tree_root, proof)
        assert not verify_consistency(old_size, size, root(old_size, tree), tree_root, proof[:-1])


def test_sizes_beyond_the_largest_checkpoint_size_are_refused() -> None:
    tree = UniformTree()
    size = MAX_SIZE + 6
    tree_root = root(size, tree)
    proof = inclusion_proof(5, size, tree)
    assert not verify_inclusion(LEAVES[3], 5, size, proof, tree_root)
    proof = consistency_proof(MAX_SIZE, size, tree)
    assert not verify_consistency(MAX_SIZE, size, root(MAX_SIZE, tree), tree_root, proof)
