"""The README shows what the code does: its sample output and its CLI synopsis stay current."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fleetgate.cli import _parser
from fleetgate.commands.check import load_policies
from fleetgate.config import load_config
from fleetgate.files import GateFiles

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(heading: str) -> str:
    """The first fenced code block after ``heading``."""
    rest = README.split(heading, 1)[1]
    return rest.split("```", 2)[1]


def verbs(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_the_sample_output_names_the_policy_revision_the_demo_runs_under() -> None:
    sample = README.split("```\n$ fleetgate check --base main", 1)[1].split("```", 1)[0]
    [shown] = re.findall(r"policy (sha256:[0-9a-f]{12})\)", sample)
    library = load_policies(load_config(GateFiles.on_disk(ROOT / "examples" / "gitops-repo")))
    assert shown == library.revision[:19], f"README sample: policy {library.revision[:19]}"


def test_the_synopsis_lists_every_command_and_option() -> None:
    synopsis = block_after("## CLI reference")
    entries: dict[str, str] = {}
    for line in synopsis.splitlines():
        if line.startswith("fleetgate "):
            verb = line.split()[1]
            entries[verb] = line
        elif line.strip() and entries:
            entries[verb] += " " + line.strip()
    commands = verbs(_parser())
    assert set(entries) == set(commands)
    for verb, parser in commands.items():
        options = [o for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")]
        missing = [o for o in options if not re.search(rf"{re.escape(o)}\b", entries[verb])]
        assert not missing, f"fleetgate {verb}: {missing} not in the README synopsis"
    audit = verbs(commands["audit"])
    assert all(name in entries["audit"] for name in audit)
    assert all(name in entries["policy"] for name in verbs(commands["policy"]))
