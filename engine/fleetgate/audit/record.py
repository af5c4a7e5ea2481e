"""Audit records: what one decision about one deployment looks like in the log.

Each record follows the shape of OPA's decision log events (``decision_id``, ``timestamp``,
``path``, ``input``, ``result``, ``bundles``, ``labels``, ``erased``, ``masked``) plus
fleetgate's own fields. Masking of configured input fields (JSON pointers) happens before the
record is hashed, so a masked value never reaches the log. Records are serialized as RFC 8785
canonical JSON so any verifier recomputes the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.audit.merkle import leaf_hash

__all__ = ["canonical", "seal"]


def canonical(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``document``."""
    import rfc8785

    return rfc8785.dumps(document)


def seal(document: Mapping[str, Any], seq: int) -> tuple[bytes, bytes]:
    """The stored bytes of a record (its document with ``seq``) and their Merkle leaf hash.

    The sequence number is inside the hashed bytes, so moving a record to another position
    (a reordered pair) breaks its hash even if its bytes are left untouched.
    """
    body = canonical({**document, "seq": seq})
    return body, leaf_hash(body)
