"""``fleetgate init``: set a repository up for the gate, never overwriting without ``--force``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from fleetgate import __version__
from fleetgate.errors import FleetgateError

__all__ = [
    "HOOKS",
    "TEMPLATES",
    "CheckpointKey",
    "Hook",
    "Written",
    "checkpoint_key",
    "default_key_path",
    "next_steps",
    "run_init",
]

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


@dataclass(frozen=True)
class CheckpointKey:
    """The decision log's checkpoint key pair that ``init`` made (or found) outside the repository."""

    signer: Path  # the private key: a CI secret, never committed
    verifier: str  # the public key: for auditors and deploy steps
    created: bool


def default_key_path(root: Path) -> Path:
    """Where ``init`` keeps a repository's checkpoint key: the user's config folder, outside git."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "fleetgate" / "keys" / f"{root.resolve().name or 'repository'}.checkpoint.key"


def checkpoint_key(root: Path, path: Path | None = None) -> CheckpointKey:
    """Create the signer/verifier pair at ``path`` (default :func:`default_key_path`) unless it exists.

    Refused inside the repository: whoever can read the signer key can sign a rewritten log.
    """
    from fleetgate.audit.checkpoint import generate_key, verifier_key_for

    target = (path or default_key_path(root)).expanduser().resolve()
    if target.is_relative_to(root.resolve()):
        raise FleetgateError(f"{target}: the checkpoint key must live outside the repository")
    public = target.with_name(target.name + ".pub")
    if target.exists():
        return CheckpointKey(target, verifier_key_for(target.read_text(encoding="utf-8").strip()), False)
    signer, verifier = generate_key(f"fleetgate/{root.resolve().name or 'repository'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_new(target, signer, 0o600)
        _write_new(public, verifier, 0o644)
    except OSError as exc:
        raise FleetgateError(f"{target}: cannot write the checkpoint key: {exc.strerror}") from None
    return CheckpointKey(target, verifier, True)


def _write_new(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


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
