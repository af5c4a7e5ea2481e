"""The ONNX Runtime reduced-build operator config: which operators a target runtime carries.

The format is the one ``create_reduced_build_config.py`` writes and ``--include_ops_by_config``
reads: one ``domain;opset[,opset...];Op1,Op2,...`` line per domain and opset, ``#`` comments,
optional per-operator type-reduction JSON after an operator name (ignored here: fleetgate checks
operators, not the element types a kernel was built for), and the ``!`` directives
``!globally_allowed_types;...`` (ignored) and ``!no_ops_specified_means_all_ops_are_required``.
The opset on a line is the version the runtime's kernel was registered for; ORT's own tools
write the operator's *since version* there, so matching is done by schema version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fleetgate.errors import ConfigError
from fleetgate.evidence._files import read_capped

__all__ = ["AllowedOperators", "load_allowed_operators"]

# A config for every operator of every domain is a few tens of kilobytes.
_MAX_CONFIG_BYTES = 1 << 20
_ALL_OPS = "!no_ops_specified_means_all_ops_are_required"


@dataclass(frozen=True)
class AllowedOperators:
    """The operators a reduced runtime build carries, keyed ``(domain, opset, op)``.

    ``domain`` is spelled as in the file, with the default domain always ``"ai.onnx"``.
    ``everything`` is true when the file lists no operator and says that means all of them.
    """

    shown: str
    digest: str
    entries: frozenset[tuple[str, int, str]]
    everything: bool = False


def load_allowed_operators(path: Path, shown: str) -> AllowedOperators:
    """Read and parse the config at ``path``; ConfigError naming the file and line when malformed."""
    where = f"fleetgate.yaml: evidence.model.allowedOperators: {shown}"
    data = read_capped(path, _MAX_CONFIG_BYTES, "operator config", ConfigError, where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    entries: set[tuple[str, int, str]] = set()
    all_when_empty = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("!globally_allowed_types;"):
            continue
        if line == _ALL_OPS:
            all_when_empty = True
            continue
        entries.update(_parse_line(line, f"{where}:{number}"))
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return AllowedOperators(shown, digest, frozenset(entries), all_when_empty and not entries)


def _parse_line(line: str, where: str) -> set[tuple[str, int, str]]:
    parts = line.split(";", 2)
    if len(parts) != 3:
        raise ConfigError(f"{where}: expected 'domain;opset;Op1,Op2,...'")
    domain = parts[0].strip() or "ai.onnx"
    try:
        opsets = [int(piece) for piece in parts[1].split(",")]
    except ValueError:
        raise ConfigError(f"{where}: the opset must be an integer or a comma-separated list") from None
    operators = _operator_names(parts[2], where)
    return {(domain, opset, op) for opset in opsets for op in operators}


def _operator_names(text: str, where: str) -> list[str]:
    """The operator names of a line, skipping the type-reduction JSON that may follow each."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text + ",":
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"{where}: unbalanced braces")
        elif depth == 0 and char == ",":
            name = "".join(current).strip()
            if name:
                names.append(name)
            current = []
        elif depth == 0:
            current.append(char)
    if depth != 0:
        raise ConfigError(f"{where}: unbalanced braces")
    if not names:
        raise ConfigError(f"{where}: no operator named")
    return names
