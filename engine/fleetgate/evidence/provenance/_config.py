"""The provenance section of the trust file and the collector's settings, checked and resolved.

Light on purpose: the package's ``__init__`` imports this module, so it must not import in-toto,
securesystemslib or sigstore. It also holds the bounded readers every other module uses, so
no evidence file is ever read without a size cap or through a symlink.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate._read import read_regular
from fleetgate.errors import ConfigError
from fleetgate.evidence._files import read_capped
from fleetgate.evidence._kit import Refused, contained
from fleetgate.evidence._settings import bounded_int, checked_settings
from fleetgate.evidence.interface import Artifact, TrustConfig
from fleetgate.evidence.trust import check_section

__all__ = [
    "DEFAULT_LINKS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_STATEMENT",
    "LayoutTrust",
    "ProvenanceConfig",
    "SlsaTrust",
    "load_config",
    "locate",
    "read_evidence",
    "read_trust_material",
]

DEFAULT_LINKS = "{artifact_dir}/in-toto"
DEFAULT_STATEMENT = "{artifact}.intoto.json"
# Layouts, links and statements are kilobytes; a link that records a whole source tree can
# reach a few megabytes, so the cap is generous but still bounds memory.
DEFAULT_MAX_BYTES = 4 << 20
_MIN_MAX_BYTES = 1 << 10
_MAX_MAX_BYTES = 64 << 20
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_SETTINGS = frozenset({"maxMetadataBytes"})


@dataclass(frozen=True)
class LayoutTrust:
    """An in-toto layout, the owner keys that must all have signed it, and where links live."""

    layout: Path
    layout_keys: tuple[Path, ...]
    links: str  # a template: "{artifact_dir}" is the artifact's folder
    shown: str = ""  # the layout's path as the decision names it (a repository path)


@dataclass(frozen=True)
class SlsaTrust:
    """Where the SLSA statement lives and which keys or sigstore identities may sign it."""

    statement: str  # a template: "{artifact}" is the artifact's path, "{artifact_dir}" its folder
    public_keys: tuple[Path, ...]
    trusted_root: Path | None
    identities: Mapping[str, Any] | None


@dataclass(frozen=True)
class ProvenanceConfig:
    """The checked ``provenance`` trust section plus the collector's settings."""

    layout: LayoutTrust | None
    slsa: SlsaTrust | None
    max_bytes: int


def load_config(trust: TrustConfig, settings: Mapping[str, Any]) -> ProvenanceConfig:
    """The provenance section of ``trust`` checked against ``provenance.schema.json``.

    Raises ConfigError naming the field on a bad section or bad ``evidence.provenance`` settings.
    """
    section = check_section(trust, "provenance", "provenance.schema.json")
    layout = None
    if "layout" in section:
        links = _template(trust, "links", section.get("links", DEFAULT_LINKS))
        path = trust.resolve(section["layout"], "in-toto layout")
        layout = LayoutTrust(
            layout=path,
            layout_keys=tuple(trust.resolve(p, "layout key") for p in section["layoutKeys"]),
            links=links,
            shown=trust.files.shown(path),
        )
    slsa = None
    if "slsa" in section:
        raw = section["slsa"]
        slsa = SlsaTrust(
            statement=_template(trust, "slsa.statement", raw.get("statement", DEFAULT_STATEMENT)),
            public_keys=tuple(trust.resolve(p, "public key") for p in raw.get("publicKeys", [])),
            trusted_root=trust.resolve(raw["trustedRoot"], "trusted root") if "trustedRoot" in raw else None,
            identities=raw.get("identities"),
        )
    return ProvenanceConfig(layout=layout, slsa=slsa, max_bytes=_max_bytes(settings))


def _template(trust: TrustConfig, field: str, value: str) -> str:
    # Only the two documented placeholders exist; anything else in braces is a typo that would
    # otherwise silently point at a folder literally named "{artefact_dir}".
    for match in _PLACEHOLDER.findall(value):
        if match not in ("{artifact}", "{artifact_dir}"):
            raise ConfigError(f"{trust.path}: provenance.{field}: unknown placeholder {match}")
    return value


def _max_bytes(settings: Mapping[str, Any]) -> int:
    checked = checked_settings(settings, "provenance", _SETTINGS)
    return bounded_int(
        checked, "provenance", "maxMetadataBytes", DEFAULT_MAX_BYTES, _MIN_MAX_BYTES, _MAX_MAX_BYTES
    )


def locate(template: str, artifact: Artifact, root: Path) -> Path:
    """Where ``template`` points for ``artifact``, refused unless inside its folder or the repo.

    Relative results are taken from the repository root. Symlinks are resolved first, so a
    link that leads outside both folders is refused like a ``../`` path.
    """
    artifact_dir = artifact.path.resolve().parent
    text = template.replace("{artifact_dir}", str(artifact_dir)).replace("{artifact}", str(artifact.path))
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = contained(candidate, artifact_dir) or contained(candidate, root)
    if resolved is None:
        raise Refused(
            f"path traversal: {template} resolves to {candidate.resolve()}, "
            "outside the artifact's folder and the repository"
        )
    return resolved


def read_evidence(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``: FileNotFoundError if absent, Refused if unsafe."""
    return read_regular(path, max_bytes, "file", Refused)


def read_trust_material(path: Path, what: str, max_bytes: int) -> bytes:
    """A file named by the trust file (layout, key); ConfigError if unreadable: that is configuration."""
    return read_capped(path, max_bytes, what, ConfigError)
