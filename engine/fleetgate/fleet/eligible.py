"""Which segments of the fleet a manifest's ``targetDevices`` reach (SPEC §11, step 1).

A segment is eligible when it matches ``targetDevices``: iOS segments by ``minOSVersion``,
Android segments by ``minAPILevel``, then ``minMemoryMB`` and ``regions``. A constraint the
manifest does not give does not narrow the fleet (an estimate errs toward the larger bill).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fleetgate.fleet.model import Fleet, Segment

__all__ = ["Targets", "eligible_segments"]


def eligible_segments(fleet: Fleet, targets: Targets) -> tuple[int, ...]:
    """The indices of the segments ``targets`` makes eligible, in inventory order.

    Eligibility depends on targetDevices only, and a scan's changes share a few: each is
    matched once per fleet, and only against the segments of the regions it names.
    """

    def matched() -> tuple[int, ...]:
        if targets.regions is None:
            candidates: Iterable[int] = range(len(fleet.segments))
        else:
            by_region = fleet.memo("by-region", lambda: _by_region(fleet))
            candidates = sorted(i for region in targets.regions for i in by_region.get(region, ()))
        return tuple(i for i in candidates if targets.match(fleet.segments[i]))

    found: tuple[int, ...] = fleet.memo(("eligible", targets.key), matched)
    return found


def _by_region(fleet: Fleet) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for index, segment in enumerate(fleet.segments):
        found.setdefault(segment.region, []).append(index)
    return found


class Targets:
    """A manifest's targetDevices as plain values, compared with every segment.

    A plain class, not a dataclass: it never leaves the cost arithmetic, and a pre-commit run
    pays for every class generated at import.
    """

    __slots__ = ("api", "ios", "memory", "regions")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        target = spec.get("targetDevices")
        target = target if isinstance(target, Mapping) else {}
        # padded minimum iOS version; () refuses every iOS segment
        self.ios: tuple[int, ...] | None = None
        if "minOSVersion" in target:
            wanted = _ios_version(target["minOSVersion"])
            self.ios = _padded(wanted) if wanted is not None else ()
        api, memory, regions = target.get("minAPILevel"), target.get("minMemoryMB"), target.get("regions")
        self.api = api if isinstance(api, int) else None
        self.memory = memory if isinstance(memory, int) else None
        self.regions = (
            frozenset(r for r in regions if isinstance(r, str)) if isinstance(regions, list) else None
        )

    @property
    def key(self) -> tuple[object, ...]:
        """What :meth:`match` depends on: equal keys accept the same segments."""
        return (self.ios, self.api, self.memory, self.regions)

    def match(self, segment: Segment) -> bool:
        if self.memory is not None and segment.memory_mb < self.memory:
            return False
        if self.regions is not None and segment.region not in self.regions:
            return False
        if segment.platform == "ios":
            if self.ios is None:
                return True
            return bool(self.ios) and segment.os_version is not None and segment.os_version >= self.ios
        return self.api is None or (segment.api_level is not None and segment.api_level >= self.api)


def _ios_version(text: Any) -> tuple[int, ...] | None:
    """``"iOS17.4"`` -> (17, 4): "iOS", then one to three dot-separated decimal numbers.

    Parsed by hand, not with a regular expression: compiling one cost a pre-commit run with
    ``fleet:`` about 0.1 ms. Reads what ``^iOS(\\d+)(?:\\.(\\d+)){0,2}$`` matches, a final
    newline included.
    """
    if not isinstance(text, str) or not text.startswith("iOS"):
        return None
    parts = text[3:].removesuffix("\n").split(".")
    if len(parts) > 3 or not all(part.isdecimal() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _padded(version: tuple[int, ...]) -> tuple[int, ...]:
    return (*version, 0, 0, 0)[:3]
