"""The WHERE clause of an auditor's query over the decision log, for SQLite and PostgreSQL alike.

Column names are constants; every value is a ``?`` parameter, never part of the SQL text.
"""

from __future__ import annotations

from typing import Any

from fleetgate.audit.store.interface import QueryFilter

__all__ = ["where_clause"]

# QueryFilter fields compared for equality with the record column of the same name.
_EQUALITY_FILTERS = (
    "model_id",
    "namespace",
    "name",
    "decision",
    "stage",
    "policy_revision",
    "artifact_digest",
    "signer",
)

_BROAD = frozenset({"decision", "stage"})


def where_clause(filters: QueryFilter) -> tuple[str, list[Any]]:
    """The WHERE clause of an auditor query; column names are constants, values are parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    selective = any(getattr(filters, c) is not None for c in _EQUALITY_FILTERS if c not in _BROAD)
    for column in _EQUALITY_FILTERS:
        value = getattr(filters, column)
        if value is not None:
            # With a selective filter (a model, a deployment, a digest) present, keep the planner
            # off the index of a column with two or three values: `col || ''` is not indexable,
            # in SQLite and PostgreSQL alike. Without one, the broad index is the right one.
            clauses.append(f"{column} || '' = ?" if selective and column in _BROAD else f"{column} = ?")
            params.append(value)
    if filters.since is not None:
        clauses.append("timestamp >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("timestamp < ?")
        params.append(filters.until)
    if filters.kinds:
        clauses.append(f"kind IN ({', '.join('?' for _ in filters.kinds)})")
        params.extend(filters.kinds)
    if filters.rule is not None:
        # A rule or its family ("evidence.missing" finds "evidence.missing.fairness"), as one
        # index range: "/" sorts right after ".".
        clauses.append("seq IN (SELECT seq FROM record_rules WHERE rule = ? OR (rule > ? AND rule < ?))")
        params.extend((filters.rule, f"{filters.rule}.", f"{filters.rule}/"))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
