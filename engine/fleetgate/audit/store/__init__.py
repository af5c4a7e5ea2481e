"""Where decision records are kept: SQLite (embedded default) or PostgreSQL (shared by CI runners).

:func:`open_log` picks the backend from the log's URL. Each backend module imports its database
driver itself, so the manifest-only gate never loads psycopg.
"""

from __future__ import annotations

from fleetgate.audit.store.interface import (
    AuditError,
    Checkpoint,
    DecisionLog,
    PendingRecord,
    QueryFilter,
    Sealer,
    StoredRecord,
)

__all__ = [
    "AuditError",
    "Checkpoint",
    "DecisionLog",
    "PendingRecord",
    "QueryFilter",
    "Sealer",
    "StoredRecord",
    "open_log",
]

_FORMS = "sqlite:///PATH or postgresql://USER@HOST/DATABASE"


def open_log(url: str) -> DecisionLog:
    """Open the decision log at ``url``, creating its tables if they do not exist yet.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``postgresql://...`` or
    ``postgres://...``. Raises :class:`AuditError` (whose message never contains a password).
    """
    scheme, separator, _ = url.partition("://")
    scheme = scheme.lower() if separator else ""
    if scheme == "sqlite":
        from fleetgate.audit.store.sqlite import SqliteDecisionLog

        return SqliteDecisionLog.open(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from fleetgate.audit.store.postgres import PostgresDecisionLog
        except ImportError as exc:
            raise AuditError(
                f"PostgreSQL audit logs need psycopg 3 (pip install 'psycopg[binary]'): {exc}"
            ) from None
        return PostgresDecisionLog.open(url)
    if not scheme or not scheme.isascii() or not scheme.replace("+", "").isalnum():
        raise AuditError(f"audit log URL has no recognizable scheme: use {_FORMS}")
    raise AuditError(f"unsupported audit log URL scheme {scheme!r}: use {_FORMS}")
