"""Which segments targetDevices reach: the iOS version text, read as the SPEC's pattern reads it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fleetgate.fleet.eligible import Targets

# minOSVersion as SPEC §11 writes it: "iOS", then one to three dot-separated numbers.
PATTERN = re.compile(r"^iOS(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


@pytest.mark.parametrize(
    "text",
    ["iOS17", "iOS17.4", "iOS17.4.1", "iOS0017.04", "iOS17\n", "iOS١٧.٤",  # noqa: RUF001
     "iOS17.4.1.2", "iOS", "iOS.", "iOS17.", "iOS.4", "ios17", "iOS17\n\n", "iOS17a", "iOS²",
     "iOS-1", " iOS17", "iOS17 ", "iOS1_0", 17, None],
)  # fmt: skip
def test_min_os_version_is_read_as_the_pattern_reads_it(text: Any) -> None:
    found = PATTERN.match(text) if isinstance(text, str) else None
    expected = tuple((*(int(p) for p in found.groups() if p is not None), 0, 0, 0)[:3]) if found else ()
    assert Targets({"targetDevices": {"minOSVersion": text}}).ios == expected
