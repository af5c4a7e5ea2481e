"""``fleetgate init``: set a repository up for the gate, never overwriting without ``--force``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from fleetgate import __version__
from fleetgate.errors import FleetgateError

__all__ = ["TEMPLATES", "Written", "run_init"]

TEMPLATES: dict[str, str] = {
    "fleetgate.yaml": "fleetgate.yaml",
    "fleetgate-waivers.yaml": "fleetgate-waivers.yaml",
    "models/example/example-classifier.yaml": "example-model.yaml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/fleetgate.yml": "github-workflow.yml",
}
"""Repository path -> template shipped in ``fleetgate/templates``."""


@dataclass(frozen=True)
class Written:
    path: str
    action: Literal["created", "overwritten", "kept"]


def run_init(root: Path, force: bool = False) -> list[Written]:
    """Write every template into ``root``; an existing file is kept unless ``force``."""
    if not root.is_dir():
        raise FleetgateError(f"{root}: not a directory")
    written: list[Written] = []
    for target, template in TEMPLATES.items():
        path = root / target
        existed = path.exists()
        if existed and not force:
            written.append(Written(target, "kept"))
            continue
        text = resources.files("fleetgate.templates").joinpath(template).read_text(encoding="utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("{version}", __version__), encoding="utf-8")
        except OSError as exc:
            raise FleetgateError(f"{path}: cannot write: {exc.strerror}") from None
        written.append(Written(target, "overwritten" if existed else "created"))
    return written
