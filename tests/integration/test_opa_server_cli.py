"""``policies.engine: opa``: the gate asks an OPA server (a loopback stand-in evaluating with OPA's
own evaluator, tests/support_opa_server.py) and decides exactly as the embedded engine does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetgate.commands.check import load_policies
from fleetgate.config import load_config
from fleetgate.files import GateFiles
from support_opa import comparable, engine_check, engine_demo, opa_path
from support_opa_server import Behaviour, StandInOpa

from support import GitRepo


@pytest.fixture
def demo(repo: GitRepo) -> GitRepo:
    return engine_demo(repo)  # type: ignore[no-any-return]


@pytest.fixture
def server(demo: GitRepo) -> Iterator[StandInOpa]:
    opa_path()
    library = load_policies(load_config(GateFiles.on_disk(demo.root)))
    with StandInOpa(library, Behaviour(library.revision)) as opa:
        yield opa


def check(repo: GitRepo, config: Path, text: str) -> Any:
    return engine_check(repo, config, text)


def opa_config(url: str, extra: str = "") -> str:
    return f"policies:\n  engine: opa\n  opa:\n    url: {url}\n    timeoutSeconds: 5\n{extra}"


def test_an_opa_server_decides_exactly_as_the_embedded_engine(
    demo: GitRepo, server: StandInOpa, tmp_path: Path
) -> None:
    config = tmp_path / "operator.yaml"
    embedded = check(demo, config, "policies:\n  engine: embedded\n")
    remote = check(demo, config, opa_config(server.url))
    assert (embedded.returncode, remote.returncode) == (1, 1), remote.stderr
    assert comparable(remote.stdout) == comparable(embedded.stdout)
    assert json.loads(remote.stdout)["policy"]["engine"] == "opa stand-in"
    assert json.loads(embedded.stdout)["policy"]["engine"].startswith("regopy ")
    assert server.behaviour.queries == ["fleetgate_engine/gate/findings"] * 3


def test_a_server_running_other_policies_is_refused_naming_both_revisions(
    demo: GitRepo, server: StandInOpa, tmp_path: Path
) -> None:
    expected = server.behaviour.revision
    server.behaviour.revision = "sha256:" + "0" * 64
    done = check(demo, tmp_path / "operator.yaml", opa_config(server.url))
    assert done.returncode == 2 and done.stdout == ""
    assert f"runs policy revision sha256:{'0' * 64}, not the expected {expected}" in done.stderr
    assert server.behaviour.queries == []


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (500, None, "HTTP 500"),
        (404, {"code": "not_found"}, "HTTP 404"),
        (200, {"result": "yes"}, "policy evaluation returned no findings"),
        (200, {"nothing": True}, "the answer has no result"),
    ],
)
def test_a_failing_or_malformed_answer_is_no_decision(
    demo: GitRepo, server: StandInOpa, tmp_path: Path, status: int, body: Any, said: str
) -> None:
    server.behaviour.status, server.behaviour.body = status, body
    done = check(demo, tmp_path / "operator.yaml", opa_config(server.url))
    assert done.returncode == 2 and done.stdout == ""
    assert said in done.stderr and server.url in done.stderr


def test_the_token_comes_from_the_environment(
    demo: GitRepo, server: StandInOpa, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.behaviour.token = "s3cret-token"
    config = tmp_path / "operator.yaml"
    refused = check(demo, config, opa_config(server.url))
    assert refused.returncode == 2 and "HTTP 401" in refused.stderr
    monkeypatch.setenv("FLEETGATE_OPA_TOKEN", "s3cret-token")
    done = check(demo, config, opa_config(server.url))
    assert done.returncode == 1, done.stderr
    assert "s3cret-token" not in done.stdout + done.stderr


def test_an_unreachable_server_is_no_decision(demo: GitRepo, tmp_path: Path) -> None:
    done = check(demo, tmp_path / "operator.yaml", opa_config("http://127.0.0.1:9"))
    assert done.returncode == 2 and "OPA server http://127.0.0.1:9" in done.stderr


def test_an_unknown_engine_is_a_located_config_error(demo: GitRepo, tmp_path: Path) -> None:
    done = check(demo, tmp_path / "operator.yaml", "policies:\n  engine: opa-wasm\n")
    assert done.returncode == 2
    assert "operator.yaml:2" in done.stderr and "opa-wasm" in done.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to ``folder``."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opa.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "opa.crt", folder / "opa.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_an_https_server_is_trusted_through_the_ca_file_from_the_environment(
    demo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opa_path()
    library = load_policies(load_config(GateFiles.on_disk(demo.root)))
    cert, key = self_signed(tmp_path)
    config = tmp_path / "operator.yaml"
    with StandInOpa(library, Behaviour(library.revision), tls=(cert, key)) as server:
        assert server.url.startswith("https://")
        untrusted = check(demo, config, opa_config(server.url))
        monkeypatch.setenv("FLEETGATE_OPA_CA_BUNDLE", str(cert))
        trusted = check(demo, config, opa_config(server.url))
    assert untrusted.returncode == 2 and "SSLError" in untrusted.stderr
    assert trusted.returncode == 1, trusted.stderr
    assert json.loads(trusted.stdout)["policy"]["engine"] == "opa stand-in"


DEMO = Path(__file__).resolve().parents[2] / "examples" / "gitops-repo"


def test_the_demo_repository_gets_the_same_decision_from_an_opa_server(repo: GitRepo) -> None:
    import shutil

    opa_path()
    shutil.copytree(DEMO, repo.root, dirs_exist_ok=True)
    repo.commit("demo")
    library = load_policies(load_config(GateFiles.on_disk(repo.root)))
    embedded = repo.fleetgate("check", "models", "--format", "json", "--no-audit")
    with StandInOpa(library, Behaviour(library.revision)) as server:
        settings = (
            (DEMO / "fleetgate.yaml")
            .read_text()
            .replace("policies:\n", f"policies:\n  engine: opa\n  opa: {{url: {server.url}}}\n", 1)
        )
        repo.write("fleetgate.yaml", settings)
        repo.commit("ask the OPA server")
        remote = repo.fleetgate("check", "models", "--format", "json", "--no-audit")
    assert embedded.returncode == remote.returncode, remote.stderr
    ours, theirs = comparable(embedded.stdout), comparable(remote.stdout)
    assert ours.pop("context")["trusted"] != theirs.pop("context")["trusted"]  # another commit
    assert theirs == ours
    assert len(ours["subjects"]) >= 5 and any(s["violations"] for s in ours["subjects"])
