"""``fleetgate init``: set a repository up for the gate, never overwriting without ``--force``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from fleetgate import __version__
from fleetgate.errors import FleetgateError

__all__ = ["HOOKS", "TEMPLATES", "Hook", "Written", "next_steps", "run_init"]

Hook = Literal["system", "pypi"]
HOOKS: tuple[Hook, ...] = ("system", "pypi")
"""How the pre-commit hook finds fleetgate: the one installed on the machine, or one pre-commit
installs from the package index into the hook's own environment."""

_HOOK_CONFIG = ".pre-commit-config.yaml"
_HOOK_TEMPLATES: dict[Hook, str] = {
    "system": "pre-commit-config.yaml",
    "pypi": "pre-commit-config-pypi.yaml",
}

TEMPLATES: dict[str, str] = {
    "fleetgate.yaml": "fleetgate.yaml",
    "fleetgate-waivers.yaml": "fleetgate-waivers.yaml",
    "models/example/example-classifier.yaml": "example-model.yaml",
    _HOOK_CONFIG: _HOOK_TEMPLATES["system"],
    ".github/workflows/fleetgate.yml": "github-workflow.yml",
}
"""Repository path -> template shipped in ``fleetgate/templates`` (with the default hook)."""


@dataclass(frozen=True)
class Written:
    path: str
    action: Literal["created", "overwritten", "kept"]


def run_init(root: Path, force: bool = False, hook: Hook = "system") -> list[Written]:
    """Write every template into ``root``; an existing file is kept unless ``force``."""
    if not root.is_dir():
        raise FleetgateError(f"{root}: not a directory")
    templates = {**TEMPLATES, _HOOK_CONFIG: _HOOK_TEMPLATES[hook]}
    written: list[Written] = []
    for target, template in templates.items():
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


def next_steps(hook: Hook) -> str:
    """What is left to do after ``init``, as numbered lines for the terminal."""
    install = (
        "the hook runs the fleetgate on your PATH: each developer runs pip install fleetgate"
        if hook == "system"
        else f"pre-commit installs fleetgate {__version__} from your package index into the hook"
    )
    return (
        "next steps:\n"
        "  1. replace models/example/example-classifier.yaml with your manifests; review fleetgate.yaml\n"
        "  2. fleetgate check .    # every manifest in the repository, each as if newly added\n"
        "  3. pip install pre-commit && pre-commit install && pre-commit install --hook-type pre-push\n"
        f"     ({install})\n"
        "  4. commit and push, then make the 'fleetgate' check of .github/workflows/fleetgate.yml\n"
        "     required on your default branch\n"
    )
