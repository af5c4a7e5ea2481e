"""FinOps FOCUS 1.x Cost and Usage rows for ``fleetgate cost --format focus``.

One row per deployment and segment that downloads something: CDN egress is a usage charge
(ChargeCategory ``Usage``, ServiceCategory ``Networking``) priced per GB (PricingUnit ``GB``,
PricingQuantity the gigabytes delivered, ListUnitPrice the segment's price per GB including the
cellular share). The namespace is the sub-account. FOCUS has no column for "estimate": these
rows are projections, not invoices, and say so in ``ChargeDescription`` and ``x_Estimate``;
fleetgate's own columns carry the ``x_`` prefix FOCUS reserves for extensions (the gate's
decision about the deployment, the artifact digest, the segment). Costs are exact decimals,
times are UTC ISO 8601 with a ``Z``, periods are [start, end) as FOCUS requires.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fleetgate.fleet.display import exact

if TYPE_CHECKING:
    from fleetgate.commands.cost import CostReport

__all__ = ["FOCUS_COLUMNS", "focus_rows"]

FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "x_Estimate",
    "x_Decision",
    "x_Digest",
    "x_Segment",
    "x_DeviceClass",
    "x_NewDownloads",
)
_PROVIDER = "CDN (fleetgate price sheet)"


def focus_rows(report: CostReport) -> list[list[Any]]:
    """The header and one row per priced segment line of ``report``."""
    moment = dt.datetime.strptime(report.generated, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    periods = {
        "ChargePeriodStart": _time(day),
        "ChargePeriodEnd": _time(day + dt.timedelta(days=1)),
        "BillingPeriodStart": _time(month),
        "BillingPeriodEnd": _time(next_month),
    }
    rows: list[list[Any]] = [list(FOCUS_COLUMNS)]
    for line in report.lines:
        if line.egress is None or line.gigabytes is None or not line.new_downloads:
            continue  # unpriced inputs are counted by the other formats; FOCUS costs are never null
        cost = exact(Decimal(line.egress))
        values = {
            **periods,
            "BilledCost": cost,
            "EffectiveCost": cost,
            "ListCost": cost,
            "ContractedCost": cost,
            "BillingCurrency": report.currency,
            "BillingAccountId": "fleetgate-estimate",
            "BillingAccountName": "fleetgate rollout estimate",
            "ChargeCategory": "Usage",
            "ChargeClass": "",
            "ChargeDescription": (
                f"Estimated CDN egress of {line.namespace}/{line.deployment} {line.version or ''}".rstrip()
                + f" to segment {line.segment} (projection, not billed)"
            ),
            "ChargeFrequency": "Usage-Based",
            "ConsumedQuantity": exact(line.gigabytes),
            "ConsumedUnit": "GB",
            "ContractedUnitPrice": line.price_per_gb,
            "ListUnitPrice": line.price_per_gb,
            "InvoiceIssuerName": _PROVIDER,
            "ProviderName": _PROVIDER,
            "PublisherName": _PROVIDER,
            "PricingCategory": "Standard",
            "PricingQuantity": exact(line.gigabytes),
            "PricingUnit": "GB",
            "RegionId": line.region,
            "RegionName": line.region,
            "ResourceId": f"{line.namespace}/{line.deployment}",
            "ResourceName": line.deployment,
            "ResourceType": "OnDeviceModel",
            "ServiceCategory": "Networking",
            "ServiceName": "Content Delivery",
            "SubAccountId": line.namespace,
            "SubAccountName": line.namespace,
            "x_Estimate": "true",
            "x_Decision": line.decision,
            "x_Digest": line.digest or "",
            "x_Segment": line.segment,
            "x_DeviceClass": line.device_class,
            "x_NewDownloads": line.new_downloads,
        }
        rows.append([values[c] for c in FOCUS_COLUMNS])
    return rows


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
