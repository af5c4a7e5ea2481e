"""No gate file is ever opened from the working tree when a check has a trusted revision.

The check runs in this process under an audit hook that records every file Python opens; git
runs in child processes, so a gate file read the right way (``git cat-file`` at the base
commit) never shows up, and any read of the working-tree copy does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from support import GitRepo
from support_release import TRUST_FILE, ReleaseKit, by_name, int8_classifier, run_cli, serialized

_OPENED: list[str] = []
_RECORDING: list[bool] = [False]


def _record(event: str, args: tuple[Any, ...]) -> None:
    if _RECORDING[0] and event == "open" and isinstance(args[0], str | bytes | Path):
        _OPENED.append(str(Path(args[0] if not isinstance(args[0], bytes) else args[0].decode()).resolve()))


sys.addaudithook(_record)

GATE_FILES = (
    "fleetgate.yaml",
    TRUST_FILE,
    "attestations/roots/trusted_root.json",
    "attestations/keys/owner.pub",
    "attestations/layouts/release.layout",
    "policy/data.yaml",
    "policy/extra.rego",
)


def test_a_check_with_a_base_reads_every_gate_file_from_git(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    kit = ReleaseKit(repo, tmp_path / "work")
    config = (repo.root / "fleetgate.yaml").read_text() + "policies:\n  dirs: [policy]\n"
    repo.write("fleetgate.yaml", config)
    repo.write("policy/data.yaml", "extra:\n  enabled: true\n")
    repo.write(
        "policy/extra.rego",
        "package fleetgate.extra\n\nimport rego.v1\n\ndeny contains x if {\n  false\n  x := 1\n}\n",
    )
    base = repo.commit("gate files")
    kit.publish("good", serialized(int8_classifier()), inferenceConfig={"quantization": "int8"})
    repo.commit("a release")
    for path in GATE_FILES:  # what the working tree holds is not what the gate trusts
        (repo.root / path).write_bytes(b"\xff not a gate file")
    _OPENED.clear()
    _RECORDING[0] = True
    try:
        ran = run_cli(
            repo.root,
            "check",
            "--base",
            base,
            "--head",
            "HEAD",
            "--format",
            "json",
            "--evidence",
            "artifact,signature,provenance",
            "--no-audit",
        )
    finally:
        _RECORDING[0] = False
    assert ran.code == 0, ran.stdout + ran.stderr
    good = by_name(ran.decision())["good"]
    assert good["evidence"]["signature"] == "verified" and good["evidence"]["provenance"] == "verified"
    opened_gate_files = {p for p in _OPENED} & {str((repo.root / f).resolve()) for f in GATE_FILES}
    assert opened_gate_files == set()
    assert any(p.endswith("models/good/model.onnx") for p in _OPENED)  # the hook does see reads
