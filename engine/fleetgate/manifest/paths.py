"""Field paths: ``spec.targetDevices.regions[1]`` <-> ``("spec", "targetDevices", "regions", 1)``.

Policies name the field a finding is about with this dotted form; keys that are not plain
identifiers (label keys such as ``app.kubernetes.io/name``) are written ``labels["..."]``.
"""

from __future__ import annotations

import json
import re

__all__ = ["Path", "format_path", "parse_path"]

Path = tuple[str | int, ...]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def format_path(path: Path) -> str:
    """Render a path tuple in the dotted form policies use."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def parse_path(text: str) -> Path | None:
    """Parse the dotted form; ``None`` when ``text`` is not a well-formed path."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos or (pos == 0 and text.startswith(".")):
            return None
        ident, index, quoted = match.groups()
        if ident is not None:
            parts.append(ident)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(json.loads(quoted))
        pos = match.end()
    return tuple(parts)
