"""RFC 6962 Merkle tree hashing over the decision log.

leaf = SHA-256(0x00 || record bytes), node = SHA-256(0x01 || left || right). The log stores the
hash of every perfect subtree (level L, index i covers leaves [i * 2**L, (i + 1) * 2**L)), so
the root of any size and every proof can be assembled from O(log n) stored hashes.

Proofs follow RFC 6962 §2.1 (RFC 9162 §2.1): :func:`inclusion_proof` and
:func:`consistency_proof` build them from the store, and :func:`verify_inclusion` and
:func:`verify_consistency` check them with nothing but hashes, so an auditor can verify a
proof without the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_SIZE",
    "NodeGetter",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "new_perfect_nodes",
    "node_hash",
    "nodes_needed",
    "right_edge",
    "root",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in every leaf, node and root hash (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1)."""

MAX_SIZE = 2**64 - 1
"""Largest tree size the verifiers accept (checkpoint sizes are unsigned 64-bit)."""

# A tree of at most 2**64 leaves has at most 64 levels; the longest consistency proof has one
# hash per level on each of its two paths.
_MAX_PROOF = 2 * 64

NodeGetter = Callable[[int, int], bytes | None]
"""(level, index) -> hash of that perfect subtree, or None when it is not stored."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def new_perfect_nodes(size: int, leaves: Sequence[bytes], stored: NodeGetter) -> list[tuple[int, int, bytes]]:
    """The perfect subtrees completed by appending ``leaves`` to a log of ``size`` records.

    Returns (level, index, hash) for every new node, level 0 (the leaves) included. Left
    siblings come from ``stored`` or from nodes created earlier in the same batch.
    """
    created: dict[tuple[int, int], bytes] = {}

    def get(level: int, index: int) -> bytes:
        found = created.get((level, index)) or stored(level, index)
        if found is None:
            raise LookupError(f"perfect subtree ({level}, {index}) is missing from the log")
        return found

    for offset, leaf in enumerate(leaves):
        level, index, current = 0, size + offset, leaf
        created[(0, index)] = current
        while index % 2 == 1:
            current = node_hash(get(level, index - 1), current)
            level, index = level + 1, index // 2
            created[(level, index)] = current
    return [(level, index, digest) for (level, index), digest in created.items()]


def right_edge(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that tile the first ``size`` leaves, largest first.

    They are the left siblings an append may need: fetched in one read, they spare a query per
    level of the tree.
    """
    return _perfect_subtrees(0, size)


def nodes_needed(build: Callable[[NodeGetter], object]) -> list[tuple[int, int]]:
    """The stored nodes ``build`` reads, in the order it reads them, without reading any.

    Which nodes a root or a proof needs depends only on the sizes and indexes, never on the
    hashes, so a dry run with placeholder hashes lists them; the store then returns them all in
    one query and the real run reads from that answer.
    """
    asked: list[tuple[int, int]] = []

    def placeholder(level: int, index: int) -> bytes:
        asked.append((level, index))
        return EMPTY_ROOT

    build(placeholder)
    return asked


# --- Roots and proofs assembled from stored perfect subtrees --------------------------------
#
# A subtree of an RFC 6962 tree covers leaves [start, end) where start is a multiple of a power
# of two that is at least end - start. Such a range splits into perfect subtrees of decreasing
# size (the binary digits of end - start); hashing them together from the right rebuilds the
# subtree's hash, because RFC 6962 always puts the largest power of two on the left.


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """Root of the tree whose leaf hashes (``leaf_hash`` of each record) are ``leaves``, in order.

    The empty tree's root is SHA-256 of the empty string. Builds the tree level by level, so a
    million leaves take about a million hashes and no recursion.
    """
    if not leaves:
        return EMPTY_ROOT
    sha256 = hashlib.sha256
    level = list(leaves)
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=False)
        ]
        # An unpaired last node moves up a level unchanged: RFC 6962 splits a tree at the
        # largest power of two below its size, so the right edge is the only ragged part.
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(size: int, get: NodeGetter) -> bytes:
    """Root of the log's first ``size`` records, from at most ``size.bit_length()`` stored nodes.

    Raises ValueError when ``size`` is negative and LookupError when a needed perfect subtree
    is not stored.
    """
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, get)


def inclusion_proof(index: int, size: int, get: NodeGetter) -> list[bytes]:
    """RFC 6962 audit path of leaf ``index`` in the tree of the first ``size`` records.

    The path lists sibling hashes from the leaf up to the root, as :func:`verify_inclusion` and
    RFC 9162 expect them. Raises ValueError unless 0 <= index < size, and LookupError when a
    needed perfect subtree is not stored.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    siblings: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, keeping the side that holds the leaf; the other side's hash is
    # the sibling at this level. Collected top-down, so reversed at the end.
    while end - start > 1:
        mid = start + _largest_power_below(end - start)
        if index < mid:
            siblings.append(_range_hash(mid, end, get))
            end = mid
        else:
            siblings.append(_range_hash(start, mid, get))
            start = mid
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, get: NodeGetter) -> list[bytes]:
    """RFC 6962 proof that the tree of ``new_size`` records extends the tree of ``old_size``.

    Empty when the sizes are equal. Raises ValueError unless 0 < old_size <= new_size (every
    tree extends the empty one, so there is nothing to prove from size 0, and RFC 9162
    verifiers refuse such a proof), and LookupError when a needed perfect subtree is missing.
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    hashes: list[bytes] = []
    start, end, old_end = 0, new_size, old_size
    old_root_is_known = True
    # RFC 6962 SUBPROOF, unrolled: descend towards the node that is the old tree's last
    # complete subtree, recording the hash of the side not taken at each level.
    while old_end != end:
        mid = start + _largest_power_below(end - start)
        if old_end <= mid:
            hashes.append(_range_hash(mid, end, get))
            end = mid
        else:
            hashes.append(_range_hash(start, mid, get))
            start = mid
            # The node reached is no longer the old tree's root, which the verifier holds
            # already, so its hash has to be part of the proof.
            old_root_is_known = False
    if not old_root_is_known:
        hashes.append(_range_hash(start, end, get))
    hashes.reverse()
    return hashes


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_hash(start: int, end: int, get: NodeGetter) -> bytes:
    """Hash of the subtree over leaves [start, end), a range that is a node of some tree."""
    parts = [_stored(level, index, get) for level, index in _perfect_subtrees(start, end)]
    result = parts.pop()
    while parts:
        result = node_hash(parts.pop(), result)
    return result


def _perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that tile [start, end), largest first."""
    tiles: list[tuple[int, int]] = []
    while start < end:
        # start stays a multiple of every later, smaller power of two, so each tile is aligned.
        level = (end - start).bit_length() - 1
        tiles.append((level, start >> level))
        start += 1 << level
    return tiles


def _stored(level: int, index: int, get: NodeGetter) -> bytes:
    found = get(level, index)
    if found is None:
        raise LookupError(f"perfect subtree ({level}, {index}) is missing from the log")
    return found


# --- Standalone verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------
#
# They take everything from their arguments, which may come from anyone: a wrong type, a
# negative or absurd size, a hash of the wrong length or a proof of the wrong length is
# answered with False, never with an exception.


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``.

    ``leaf`` is the leaf hash (``leaf_hash(record bytes)``), not the record. Follows RFC 9162
    §2.1.3.2; returns False for any malformed argument (index >= size, wrong proof length,
    hashes that are not 32 bytes) and never raises.
    """
    hashes = _hash_list(proof)
    if hashes is None or not (_is_hash(leaf) and _is_hash(root) and _is_size(index) and _is_size(size)):
        return False
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in hashes:
        if sn == 0:
            return False  # more hashes than levels: an extra hash was slipped in
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge with no right sibling: skip the levels where this node is
            # promoted unchanged.
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows that the tree (new_size, new_root) extends (old_size, old_root).

    Follows RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots. Returns False
    for old_size 0 (nothing to prove), old_size > new_size, a proof of the wrong length, hashes
    that are not 32 bytes or any other malformed argument; never raises.
    """
    hashes = _hash_list(proof)
    if hashes is None or not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not (_is_size(old_size) and _is_size(new_size)) or not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not hashes and old_root == new_root
    if not hashes:
        return False
    # When the old tree is perfect its root is a node of the new tree, so the proof omits it.
    if old_size & (old_size - 1) == 0:
        hashes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    # Sizes are uint64 in every checkpoint; the cap also bounds the verifiers' work.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def _hash_list(proof: object) -> list[bytes] | None:
    """``proof`` as a fresh list of 32-byte hashes, or None when it is not one."""
    if not isinstance(proof, Sequence) or isinstance(proof, str | bytes) or len(proof) > _MAX_PROOF:
        return None
    hashes = list(proof)
    return hashes if all(_is_hash(h) for h in hashes) else None
