"""Format stage: ``Report -> str`` functions, one module each, chosen by name.

Every format renders the same :class:`Report`, so one evaluation can be written in several
formats at once (``--format sarif=out.sarif --format junit=out.xml``). A format's module is
imported when it is asked for: a check that prints text does not load the SARIF writer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from fleetgate.format.interface import Formatter, Report

__all__ = ["FORMATS", "Formatter", "Report"]

# name -> (module, function)
_REGISTRY = {
    "text": ("text", "format_text"),
    "json": ("json", "format_json"),
    "sarif": ("sarif", "format_sarif"),
    "junit": ("junit", "format_junit"),
    "github": ("github", "format_github"),
    "gitlab": ("gitlab", "format_gitlab"),
}


class _Formats(Mapping[str, Formatter]):
    """The formats by name, each loaded on first use."""

    def __getitem__(self, name: str) -> Formatter:
        module, function = _REGISTRY[name]
        formatter: Formatter = getattr(importlib.import_module(f"fleetgate.format.{module}"), function)
        return formatter

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)


FORMATS: Mapping[str, Formatter] = _Formats()
