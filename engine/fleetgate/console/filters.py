"""The decisions page's filters: read from a URL's query string, written back into links.

The URL holds every filter, so a filtered view can be shared as a link. The names are those of
``fleetgate audit query``'s options (``model_id`` for ``--model-id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fleetgate.audit.store.interface import AuditError, QueryFilter

__all__ = ["FIELDS", "Filters", "parse_filters"]

FIELDS = (
    "model_id",
    "namespace",
    "name",
    "stage",
    "decision",
    "rule",
    "signer",
    "artifact_digest",
    "policy_revision",
    "since",
    "until",
)
_DECISIONS = ("admit", "deny", "override")


@dataclass(frozen=True)
class Filters:
    """What the user asked for, as typed (``values``), and as the store's filter (``query``)."""

    values: Mapping[str, str] = field(default_factory=dict)
    query: QueryFilter = field(default_factory=QueryFilter)
    waived_only: bool = False  # only records where a waiver set a deny aside

    def url(self, path: str, **extra: str | int | None) -> str:
        """``path`` with these filters (and ``extra``) in its query string."""
        params = {k: v for k, v in self.values.items() if v}
        if self.waived_only:
            params["waived"] = "1"
        params.update({k: str(v) for k, v in extra.items() if v is not None})
        return f"{path}?{urlencode(params)}" if params else path


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from a query string; raises :class:`AuditError` naming a bad value."""
    from fleetgate.commands.audit import query_filter

    values = {name: params[name].strip() for name in FIELDS if params.get(name, "").strip()}
    decision = values.get("decision")
    if decision is not None and decision not in _DECISIONS:
        raise AuditError(f"decision must be one of {', '.join(_DECISIONS)} (got {decision!r})")
    return Filters(values, query_filter(values), waived_only=params.get("waived") == "1")
