"""Format stage: ``Decision -> str`` functions, one module each, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from fleetgate.decision import Decision
from fleetgate.format.json import format_json
from fleetgate.format.text import format_text

__all__ = ["FORMATS", "Formatter", "format_json", "format_text"]

Formatter = Callable[[Decision, bool], str]
"""Render a decision; the flag says whether colour may be used (a TTY)."""

FORMATS: dict[str, Formatter] = {
    "text": format_text,
    "json": lambda decision, _colour: format_json(decision),
}
