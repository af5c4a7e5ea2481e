"""The PostgreSQL decision log opened read-only: every transaction of the session is READ ONLY.

A module of its own so that reading a SQLite log never imports psycopg.
"""

from __future__ import annotations

import psycopg

from fleetgate.audit.store._common import one_line, redact_url
from fleetgate.audit.store.interface import AuditError
from fleetgate.audit.store.postgres import PostgresDecisionLog, _password, _scrub
from fleetgate.audit.store.readonly import ReadOnlyLog, _Reads

__all__ = ["open_readonly_postgres"]

_CONNECT_TIMEOUT = 10  # seconds


class _ReadOnlyPostgres(_Reads, PostgresDecisionLog):
    pass


def open_readonly_postgres(url: str) -> ReadOnlyLog:
    where = redact_url(url)
    password = _password(url)
    try:
        connection = psycopg.connect(url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        reason = _scrub(one_line(str(exc)), password) or type(exc).__name__
        raise AuditError(f"audit log {where}: could not connect: {reason}") from None
    log = _ReadOnlyPostgres(connection, where, password)
    try:
        with log._guard("open"):
            # Each autocommit statement is its own transaction: make them all read-only.
            log._execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            log._check_schema(log._schema_version())
    except AuditError:
        connection.close()
        raise
    return log
