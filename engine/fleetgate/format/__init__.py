"""Format stage: ``Report -> str`` functions, one module each, chosen by name.

Every format renders the same :class:`Report`, so one evaluation can be written in several
formats at once (``--format sarif=out.sarif --format junit=out.xml``).
"""

from __future__ import annotations

from fleetgate.format.github import format_github
from fleetgate.format.gitlab import format_gitlab
from fleetgate.format.interface import Formatter, Report
from fleetgate.format.json import format_json
from fleetgate.format.junit import format_junit
from fleetgate.format.sarif import format_sarif
from fleetgate.format.text import format_text

__all__ = ["FORMATS", "Formatter", "Report"]

FORMATS: dict[str, Formatter] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "junit": format_junit,
    "github": format_github,
    "gitlab": format_gitlab,
}
