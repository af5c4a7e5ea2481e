"""The auditor console under test: a real decision log filled by real checks, a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support import GIT_ENV, GitRepo, manifest, to_yaml

XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
"""A model id that would run a script, or change the page, if the console did not escape it."""

WAIVERS = (
    "waivers:\n  - rule: rollout.ladder\n    target: production/b\n    reason: canary cohort\n"
    "    approvedBy: sre-lead\n    expires: {expires}\n"
)


@dataclass(frozen=True)
class AuditedRepo:
    repo: GitRepo
    log_url: str
    verifier: str
    denied_b: str  # record id of b's first (pre-merge) denial


def audited_repo(root: Path, waiver_expires: str, log_url: str | None = None) -> AuditedRepo:
    """A repository whose checks filled a signed decision log (default: SQLite in ``root``):
    admits, denies, a waiver, an override at pre-deploy, an XSS probe in a model id, and a
    checkpoint over all of it."""
    repo = GitRepo(root / "repo")
    log_url = log_url or f"sqlite:///{root / 'audit.db'}"
    key = root / "checkpoint.key"
    keygen = repo.fleetgate("audit", "--log", log_url, "keygen", "example.com/log", "--out", str(key))
    assert keygen.returncode == 0, keygen.stderr
    verifier = keygen.stdout.strip()
    repo.write(
        "fleetgate.yaml",
        f"audit:\n  log: {log_url}\n  origin: example.com/log\n  signingKey: {key}\n"
        f"  verifierKey: {verifier}\n",
    )
    repo.commit("gate configuration")
    repo.write("models/a.yaml", to_yaml(manifest("a", modelId="img-a")))
    repo.write(
        "models/b.yaml", to_yaml(manifest("b", modelId="img-b", updateStrategy={"rolloutPercentage": 7}))
    )
    repo.write("models/x.yaml", to_yaml(manifest("x", modelId=XSS)))
    repo.commit("models")
    _check(repo, ".")  # a and x admitted, b denied by rollout.ladder (pre-merge)
    denied_b = _records(repo, "--model-id", "img-b")[0]["decision_id"]
    repo.write(
        "models/a.yaml",
        to_yaml(manifest("a", modelId="img-a", version="3.3.0", updateStrategy={"rolloutPercentage": 25})),
    )
    repo.write("fleetgate-waivers.yaml", WAIVERS.format(expires=waiver_expires))
    repo.commit("a 3.3.0 at 25%, waiver for b")
    _check(repo, ".")  # b admitted with its waiver
    _check(repo, "models/a.yaml", "--stage", "pre-deploy")  # a denied: no evidence at pre-deploy
    [pre_deploy] = _records(repo, "--model-id", "img-a", "--stage", "pre-deploy")
    override = repo.fleetgate(
        "audit",
        "override",
        str(pre_deploy["decision_id"]),
        "--by",
        "release-manager",
        "--reason",
        "evidence gathered by hand",
        "--ticket",
        "REL-7",
    )
    assert override.returncode == 0, override.stderr
    checkpoint = repo.fleetgate("audit", "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    return AuditedRepo(repo, log_url, verifier, str(denied_b))


def _check(repo: GitRepo, *args: str) -> None:
    done = repo.fleetgate("check", *args)
    assert done.returncode in (0, 1), done.stderr


def _records(repo: GitRepo, *filters: str) -> list[dict[str, object]]:
    done = repo.fleetgate("audit", "query", "--format", "json", *filters)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def console(repo: GitRepo, *options: str, host: str = "127.0.0.1", log: str | None = None) -> Iterator[str]:
    """``fleetgate audit serve`` in a child process; yields its loopback base URL."""
    port = free_port()
    chosen = ["--log", log] if log is not None else []
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fleetgate",
            "audit",
            *chosen,
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            *options,
        ],
        cwd=repo.root,
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(server, port)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr is not None:
            server.stderr.close()


def _wait_for(server: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"the console exited {server.returncode}: {server.stderr and server.stderr.read()}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the console did not start listening within 30 s")


def get(
    url: str, headers: Sequence[tuple[str, str]] = (), method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the console: (status, headers, body), errors included."""
    request = urllib.request.Request(url, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
