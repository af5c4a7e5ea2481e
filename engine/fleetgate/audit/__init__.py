"""Record stage: a tamper-evident, queryable log of every admission decision.

Records are leaves of an RFC 6962 Merkle tree; signed checkpoints (C2SP signed-note /
tlog-checkpoint, Ed25519) commit to its size and root, so an auditor can prove that a decision
is in the log and that nothing was removed or rewritten since a checkpoint was published.
"""

from __future__ import annotations

__all__: list[str] = []
