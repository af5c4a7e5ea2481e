"""Signed OPA bundles: ``policy bundle build`` writes one, ``check --policy-bundle`` evaluates
only a bundle that verifies, and every tampered bundle is refused, naming what failed."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from support import GitRepo, manifest, to_yaml


def key_pair(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    private: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = f"{kind}-{uuid.uuid4().hex[:8]}"
    secret, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub"
    secret.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return secret, public


@pytest.fixture
def demo(repo: GitRepo) -> GitRepo:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 100})))
    repo.commit("models")
    return repo


def build(repo: GitRepo, out: Path, key: Path | None = None) -> str:
    signing = ["--sign-key", str(key), "--key-id", "policy-team"] if key is not None else []
    done = repo.fleetgate("policy", "bundle", "build", "-o", str(out), *signing)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check(repo: GitRepo, bundle: Path, key: Path) -> Any:
    return repo.fleetgate(
        "check",
        "models",
        "--format",
        "json",
        "--no-audit",
        "--policy-bundle",
        str(bundle),
        "--bundle-key",
        str(key),
    )


def entries(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]


def repack(bundle: Path, files: dict[str, bytes]) -> Path:
    out = bundle.with_name("tampered.tar.gz")
    with tarfile.open(out, "w:gz") as archive:
        for name, raw in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return out


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_verified_bundle_decides_like_the_library_it_was_built_from(
    demo: GitRepo, tmp_path: Path, kind: str
) -> None:
    secret, public = key_pair(tmp_path, kind)
    bundle = tmp_path / "bundle.tar.gz"
    said = build(demo, bundle, secret)
    files = entries(bundle)
    manifest_doc = json.loads(files[".manifest"])
    assert sorted(manifest_doc["roots"]) == ["fleetgate", "fleetgate_engine"]
    assert f"revision {manifest_doc['revision']}, signed by policy-team" in said
    assert json.loads(files["data.json"])["fleetgate"]["config"]["rollout"]
    [token] = json.loads(files[".signatures.json"])["signatures"]
    assert json.loads(_segment(token, 0))["alg"] == ("RS256" if kind == "rsa" else "ES256")
    assert {f["name"] for f in json.loads(_segment(token, 1))["files"]} == set(files) - {".signatures.json"}
    done = check(demo, bundle, public)
    plain = demo.fleetgate("check", "models", "--format", "json", "--no-audit")
    assert (done.returncode, plain.returncode) == (1, 1), done.stderr
    decision = json.loads(done.stdout)
    assert decision["subjects"] == json.loads(plain.stdout)["subjects"]
    recorded = decision["context"]["policy_bundle"]
    assert recorded["revision"] == manifest_doc["revision"] and recorded["signer"] == "policy-team"
    assert decision["policy"]["revision"] == recorded["digest"]


def _segment(token: str, index: int) -> bytes:
    import base64

    part = token.split(".")[index]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def changed(files: dict[str, bytes]) -> dict[str, bytes]:
    name = next(n for n in files if n.endswith("rollout/rollout.rego"))
    return {**files, name: files[name].replace(b"deny contains", b"warn contains", 1)}


def added(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, "fleetgate/extra.rego": b"package fleetgate.extra\n"}


def missing(files: dict[str, bytes]) -> dict[str, bytes]:
    name = next(n for n in files if n.endswith("rollout/rollout.rego"))
    return {n: raw for n, raw in files.items() if n != name}


def escaping(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, "../outside.rego": b"package fleetgate.x\n"}


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        (changed, "does not match its signed hash"),
        (added, "bundle file fleetgate/extra.rego is not covered by the signature"),
        (missing, "which is not in the bundle"),
        (escaping, "is not a plain relative path"),
        (lambda f: {n: r for n, r in f.items() if n != ".signatures.json"}, "the bundle is not signed"),
    ],
)
def test_a_tampered_bundle_is_refused(demo: GitRepo, tmp_path: Path, tamper: Any, said: str) -> None:
    secret, public = key_pair(tmp_path, "ec")
    bundle = tmp_path / "bundle.tar.gz"
    build(demo, bundle, secret)
    done = check(demo, repack(bundle, tamper(entries(bundle))), public)
    assert done.returncode == 2 and done.stdout == ""
    assert said in done.stderr


def test_a_bundle_signed_with_another_key_is_refused(demo: GitRepo, tmp_path: Path) -> None:
    secret, _ = key_pair(tmp_path, "rsa")
    _, other = key_pair(tmp_path, "rsa")
    bundle = tmp_path / "bundle.tar.gz"
    build(demo, bundle, secret)
    done = check(demo, bundle, other)
    assert done.returncode == 2 and "does not verify with the bundle key" in done.stderr


def test_a_bundle_over_the_size_limit_is_refused(demo: GitRepo, tmp_path: Path) -> None:
    _, public = key_pair(tmp_path, "ec")
    bundle = tmp_path / "huge.tar.gz"
    bundle.write_bytes(b"\0" * (16 * 1024 * 1024 + 1))
    done = check(demo, bundle, public)
    assert done.returncode == 2 and "larger than 16777216 bytes" in done.stderr


def test_a_symlink_entry_is_refused(demo: GitRepo, tmp_path: Path) -> None:
    secret, public = key_pair(tmp_path, "ec")
    bundle = tmp_path / "bundle.tar.gz"
    build(demo, bundle, secret)
    out = tmp_path / "link.tar.gz"
    with tarfile.open(out, "w:gz") as archive:
        for name, raw in entries(bundle).items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
        link = tarfile.TarInfo("fleetgate/link.rego")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    done = check(demo, out, public)
    assert done.returncode == 2 and "is not a regular file" in done.stderr


def test_a_bundle_needs_a_key_and_an_unsigned_one_is_never_evaluated(demo: GitRepo, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.tar.gz"
    assert "(unsigned)" in build(demo, bundle)
    done = demo.fleetgate("check", "models", "--no-audit", "--policy-bundle", str(bundle))
    assert done.returncode == 2 and "--policy-bundle needs --bundle-key" in done.stderr
    _, public = key_pair(tmp_path, "ec")
    assert "the bundle is not signed" in check(demo, bundle, public).stderr


def test_an_opa_server_serving_the_bundle_decides_as_the_bundle_does(demo: GitRepo, tmp_path: Path) -> None:
    from support_opa import opa_path
    from support_opa_server import Behaviour, StandInOpa

    opa_path()
    secret, public = key_pair(tmp_path, "ec")
    bundle = tmp_path / "bundle.tar.gz"
    build(demo, bundle, secret)
    files = entries(bundle)
    revision = json.loads(files[".manifest"])["revision"]
    embedded = check(demo, bundle, public)
    with StandInOpa(None, Behaviour(revision), bundle=files) as server:
        config = tmp_path / "operator.yaml"
        config.write_text(f"policies:\n  engine: opa\n  opa: {{url: {server.url}}}\n")
        remote = demo.fleetgate(
            "check",
            "models",
            "--format",
            "json",
            "--no-audit",
            "--config",
            str(config),
            "--policy-bundle",
            str(bundle),
            "--bundle-key",
            str(public),
        )
    assert (embedded.returncode, remote.returncode) == (1, 1), remote.stderr
    assert json.loads(remote.stdout)["subjects"] == json.loads(embedded.stdout)["subjects"]
    assert json.loads(remote.stdout)["context"]["policy_bundle"]["revision"] == revision
