"""Read the fleet inventory and the price sheet from the trusted revision, checked as loaded.

Both are gate files: they are read only through :class:`~fleetgate.files.GateFiles`. Each is
validated against its JSON Schema (shipped in ``fleetgate/fleet/schemas/``) and then against the
rules a schema cannot say: a segment's platform fields must agree, segment names are unique, the
currency is an ISO 4217 code. A region priced twice is a duplicate YAML key, refused by the
reader. Every refusal is a :class:`ConfigError` naming ``file:line`` (exit 2).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fleetgate.config import read_mapping
from fleetgate.conform import Check, quick_check
from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles
from fleetgate.fleet._currencies import ISO_4217
from fleetgate.fleet.model import Fleet, FleetMissing, PriceSheet, Segment
from fleetgate.manifest import format_path

__all__ = ["load_fleet", "read_inventory", "read_prices"]

_MAX_BYTES = 16 << 20
Lines = Mapping[Any, int]


if TYPE_CHECKING:  # a Protocol costs every pre-commit run with fleet: to define; only mypy reads it

    class ParsedCache(Protocol):
        """Where parsed fleet files are kept by the digest of their bytes (the evidence cache)."""

        def get(self, collector: str, key: Mapping[str, Any]) -> dict[str, Any] | None: ...

        def put(self, collector: str, key: Mapping[str, Any], fact: Mapping[str, Any]) -> None: ...


def load_fleet(
    files: GateFiles, inventory: str, prices: str, cache: ParsedCache | None = None
) -> Fleet | FleetMissing:
    """The fleet named by ``fleet:`` in fleetgate.yaml, or why it is missing.

    A ``cache`` spares a pre-commit run from parsing and checking a large inventory again when
    its bytes have not changed. At a commit the files are kept by their git object ids, which
    name their content, so a cached fleet is not even read again: the decision still records
    each file's sha256, from the authenticated entry. Elsewhere (files on disk) the bytes are
    read and kept by their sha256.
    """
    ids = files.blob_ids([inventory, prices], "fleet file") if cache is not None else None
    key: dict[str, Any] | None = None
    if ids is not None and inventory in ids and prices in ids:
        key = {"blobs": [ids[inventory], ids[prices]]}
        hit = _cached(cache, key, inventory, prices)
        if hit is not None:
            files.vouch(inventory, hit[1][0])
            files.vouch(prices, hit[1][1])
            return hit[0]
    found = files.read_many([inventory, prices], _MAX_BYTES, "fleet file")
    for path, what in ((inventory, "fleet inventory"), (prices, "price sheet")):
        if path not in found:
            return FleetMissing(f"the {what} {path} is not in {files.describe()}")
    digests = [_digest(found[inventory]), _digest(found[prices])]
    if key is None:
        key = {"inventory": digests[0], "prices": digests[1]}
        hit = _cached(cache, key, inventory, prices)
        if hit is not None:
            return hit[0]
    segments, as_of = read_inventory(found[inventory], inventory)
    fleet = Fleet(inventory, prices, segments, read_prices(found[prices], prices), as_of)
    if cache is not None:
        cache.put("fleet-files", key, {"fleet": _to_json(fleet), "sha256": digests})
    return fleet


def _cached(
    cache: ParsedCache | None, key: Mapping[str, Any], inventory: str, prices: str
) -> tuple[Fleet, list[str]] | None:
    """The fleet kept under ``key`` and the sha256 of the two files it was parsed from."""
    entry = cache.get("fleet-files", key) if cache is not None else None
    if entry is None:
        return None
    with contextlib.suppress(KeyError, TypeError, ValueError, ArithmeticError):
        digests = entry["sha256"]
        if isinstance(digests, list) and len(digests) == 2 and all(isinstance(d, str) for d in digests):
            return _from_json(entry["fleet"], inventory, prices), digests
    return None


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _to_json(fleet: Fleet) -> dict[str, Any]:
    sheet = fleet.sheet
    optional = (sheet.storage_per_gb_month, sheet.fallback_per_1k_inferences)
    return {
        "asOf": fleet.as_of,
        "segments": [
            [
                s.name,
                s.platform,
                s.memory_mb,
                s.region,
                s.device_class,
                s.devices,
                s.api_level,
                list(s.os_version) if s.os_version else None,
                str(s.wifi_share),
                None if s.inferences_per_day is None else str(s.inferences_per_day),
            ]
            for s in fleet.segments
        ],
        "prices": [
            sheet.currency,
            {k: str(v) for k, v in sheet.egress_per_gb.items()},
            str(sheet.cellular_surcharge_per_gb),
            *(None if v is None else str(v) for v in optional),
        ],
    }


def _from_json(doc: Mapping[str, Any], inventory: str, prices: str) -> Fleet:
    # Shares and volumes repeat across segments: each distinct text becomes one Decimal.
    decimals: dict[str, Decimal] = {}

    def number(text: str) -> Decimal:
        found = decimals.get(text)
        if found is None:
            found = decimals[text] = Decimal(text)
        return found

    segments = tuple(
        Segment(name, platform, memory, region, klass, devices, api, tuple(os) if os else None,
                number(wifi), None if daily is None else number(daily))
        for name, platform, memory, region, klass, devices, api, os, wifi, daily in doc["segments"]
    )  # fmt: skip
    currency, egress, cellular, storage, fallback = doc["prices"]
    sheet = PriceSheet(
        currency,
        {k: Decimal(v) for k, v in egress.items()},
        Decimal(cellular),
        None if storage is None else Decimal(storage),
        None if fallback is None else Decimal(fallback),
    )
    return Fleet(inventory, prices, segments, sheet, doc["asOf"])


def read_inventory(data: bytes, path: str) -> tuple[tuple[Segment, ...], str | None]:
    """The segments of a ``FleetInventory`` document, and its ``asOf`` date."""
    raw, lines = _document(data, path, "inventory.schema.json")
    segments: list[Segment] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(raw["segments"]):
        line = _line(lines, ("segments", index, "name"))
        if row["name"] in seen:
            raise ConfigError(
                f"{path}:{line}: segment {row['name']!r} is listed twice (first at line {seen[row['name']]})"
            )
        seen[row["name"]] = line
        segments.append(_segment(row, path, lines, index))
    return tuple(segments), raw.get("asOf")


def _segment(row: Mapping[str, Any], path: str, lines: Lines, index: int) -> Segment:
    platform = row["platform"]
    own, other = ("apiLevel", "osVersion") if platform == "android" else ("osVersion", "apiLevel")
    if other in row:
        line = _line(lines, ("segments", index, other))
        raise ConfigError(
            f"{path}:{line}: segment {row['name']!r} is {platform} but gives {other} "
            f"({platform} segments give {own})"
        )
    if own not in row:
        line = _line(lines, ("segments", index, "platform"))
        raise ConfigError(f"{path}:{line}: segment {row['name']!r} is {platform} but gives no {own}")
    return Segment(
        name=row["name"],
        platform=platform,
        memory_mb=row["memoryMB"],
        region=row["region"],
        device_class=row["deviceClass"],
        devices=row["devices"],
        api_level=row.get("apiLevel"),
        os_version=_version(row["osVersion"]) if "osVersion" in row else None,
        wifi_share=_decimal(row.get("wifiShare", 1)),
        inferences_per_day=_decimal(row["inferencesPerDay"]) if "inferencesPerDay" in row else None,
    )


def read_prices(data: bytes, path: str) -> PriceSheet:
    """The ``PriceSheet`` document of ``path``."""
    raw, lines = _document(data, path, "prices.schema.json")
    if raw["currency"] not in ISO_4217:
        line = _line(lines, ("currency",))
        raise ConfigError(f"{path}:{line}: currency {raw['currency']!r} is not an ISO 4217 currency code")
    optional = {
        k: _decimal(raw[k]) if k in raw else None
        for k in ("storagePerGBMonth", "cloudFallbackPer1kInferences")
    }
    return PriceSheet(
        currency=raw["currency"],
        egress_per_gb={region: _decimal(price) for region, price in raw["egressPerGB"].items()},
        cellular_surcharge_per_gb=_decimal(raw.get("cellularSurchargePerGB", 0)),
        storage_per_gb_month=optional["storagePerGBMonth"],
        fallback_per_1k_inferences=optional["cloudFallbackPer1kInferences"],
    )


def _document(data: bytes, path: str, schema: str) -> tuple[dict[str, Any], Lines]:
    raw, lines = read_mapping(data, path)
    if _quick_check(schema)(raw):
        return raw, lines  # valid: the common case, without jsonschema's import and validator build
    error = next(iter(_validator(schema).iter_errors(raw)), None)
    if error is not None:
        where = tuple(error.absolute_path)
        shown = format_path(where) or "document"
        raise ConfigError(f"{path}:{_line(lines, where)}: {shown}: {error.message}")
    return raw, lines


@cache
def _schema(name: str) -> dict[str, Any]:
    text = (Path(__file__).parent / "schemas" / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _quick_check(name: str) -> Check:
    return quick_check(_schema(name))


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(name))


def _line(lines: Lines, path: tuple[Any, ...]) -> int:
    return next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)


def _version(text: str) -> tuple[int, int, int]:
    major, minor, patch = (*(int(p) for p in text.split(".")), 0, 0)[:3]
    return major, minor, patch


def _decimal(value: int | float) -> Decimal:
    # str() of a float is the shortest text that reads back as it: the number as written in YAML.
    return Decimal(str(value))
