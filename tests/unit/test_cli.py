"""The CLI in process: exit codes and that errors are one line (end-to-end runs live in integration/)."""

from __future__ import annotations

import pytest

from fleetgate.cli import main

from support import PolicyDir


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("fleetgate ")
    assert main(["check", "--help"]) == 0
    assert "--staged" in capsys.readouterr().out


def test_unknown_verb_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_policy_test_reports_each_failure_and_exits_1(
    policy_dir: PolicyDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = policy_dir(
        {"t_test.rego": "package fleetgate.t\n\nimport rego.v1\n\ntest_ok if true\n\ntest_bad if false\n"}
    )
    assert main(["policy", "test", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL  fleetgate.t.test_bad") and ":7" in out[0]
    assert out[-1] == "1 passed, 1 failed"


def test_policy_test_without_tests_exits_2(policy_dir: PolicyDir, capsys: pytest.CaptureFixture[str]) -> None:
    root = policy_dir({"t.rego": "package fleetgate.t\n"})
    assert main(["policy", "test", str(root)]) == 2
    assert "no test_* rules found" in capsys.readouterr().err


def test_builtin_library_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test"]) == 0
    assert capsys.readouterr().out.strip().endswith(" passed, 0 failed")


@pytest.mark.parametrize(("argv", "code"), [(["--version"], 0), (["no-such-verb"], 2)])
def test_the_command_exits_with_mains_status_and_skips_the_last_collection(
    argv: list[str], code: int
) -> None:
    import subprocess
    import sys

    # What an atexit handler sees once the command has returned: how many objects are frozen
    # out of the collector, and whether a private folder's finalizer still ran.
    script = (
        "import atexit, gc, sys, tempfile\n"
        "folder = tempfile.TemporaryDirectory()\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
        "from fleetgate.cli import run\n"
        f"sys.argv = ['fleetgate', *{argv!r}]\n"
        "print('folder', folder.name, file=sys.stderr)\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == code
    lines = dict(
        line.split(" ", 1) for line in done.stderr.splitlines() if line.startswith(("frozen", "folder"))
    )
    assert int(lines["frozen"]) > 1000
    from pathlib import Path

    assert not Path(lines["folder"]).exists()  # finalizers still run at exit
