"""Resolving a ``modelUri`` to local bytes: the repository and a mirror folder.

Downloads over https are in ``test_artifact_download.py``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, Download, MissingArtifact, hash_file, resolve_artifact

MODEL = b"onnx model bytes for the artifact tests\n" * 100
CAP = 64 * 1024  # the download cap of the size tests: small, so refusing it is quick


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- hash_file ---------------------------------------------------------------------------------


def test_hash_file_reads_a_file_larger_than_one_chunk(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 3)  # one full 1 MiB chunk and a short tail
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert hash_file(path) == (sha256(data), len(data))


def test_hash_file_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    assert hash_file(path) == (sha256(b""), 0)


# -- inside the repository -----------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository with ``models/model.onnx`` and a secret file beside (outside) it."""
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    (repo / "models" / "model.onnx").write_bytes(MODEL)
    (tmp_path / "secret.onnx").write_bytes(b"outside the repository")
    return repo


def resolve(uri: str, root: Path) -> object:
    return resolve_artifact(uri, ArtifactSource(root=root))


@pytest.mark.parametrize("uri", ["file:models/model.onnx", "models/model.onnx", "file:./models/model.onnx"])
def test_relative_uris_resolve_inside_the_repository(root: Path, uri: str) -> None:
    artifact = resolve_artifact(uri, ArtifactSource(root=root))
    assert artifact is not None
    assert artifact.uri == uri
    assert artifact.path == (root / "models" / "model.onnx").resolve()
    assert (artifact.digest, artifact.size, artifact.source) == (sha256(MODEL), len(MODEL), "file")


def test_absolute_file_uri_inside_the_repository(root: Path) -> None:
    target = (root / "models" / "model.onnx").resolve()
    for uri in (target.as_uri(), f"file://localhost{target}"):
        artifact = resolve_artifact(uri, ArtifactSource(root=root))
        assert artifact is not None and artifact.path == target and artifact.digest == sha256(MODEL)


def test_percent_encoded_names_are_decoded(root: Path) -> None:
    (root / "models" / "my model.onnx").write_bytes(b"spaced")
    artifact = resolve_artifact("file:models/my%20model.onnx", ArtifactSource(root=root))
    assert artifact is not None and artifact.digest == sha256(b"spaced")


@pytest.mark.parametrize("uri", ["file:models/absent.onnx", "models/absent.onnx"])
def test_a_missing_repository_file_is_a_missing_artifact(root: Path, uri: str) -> None:
    # Not "unreachable": the bytes the manifest names do not exist at all.
    with pytest.raises(MissingArtifact) as raised:
        resolve(uri, root)
    assert raised.value.to_fact() == {"uri": uri, "path": "models/absent.onnx", "missing": True}


@pytest.mark.parametrize(
    "uri", ["file:../secret.onnx", "models/../../secret.onnx", "file:models/%2e%2e/%2e%2e/secret.onnx"]
)
def test_traversal_out_of_the_repository_is_refused(root: Path, uri: str) -> None:
    with pytest.raises(EvidenceError, match="leaves the repository"):
        resolve(uri, root)


def test_absolute_file_uri_outside_the_repository_is_refused(root: Path) -> None:
    outside = (root.parent / "secret.onnx").resolve()
    with pytest.raises(EvidenceError, match="leaves the repository"):
        resolve(outside.as_uri(), root)


def test_a_symlink_that_leaves_the_repository_is_refused(root: Path) -> None:
    (root / "models" / "link.onnx").symlink_to(root.parent / "secret.onnx")
    with pytest.raises(EvidenceError, match="leaves the repository"):
        resolve("file:models/link.onnx", root)


def test_a_symlinked_folder_that_leaves_the_repository_is_refused(root: Path) -> None:
    (root / "outside").symlink_to(root.parent, target_is_directory=True)
    with pytest.raises(EvidenceError, match="leaves the repository"):
        resolve("outside/secret.onnx", root)


def test_a_symlink_inside_the_repository_resolves_to_its_target(root: Path) -> None:
    (root / "current.onnx").symlink_to(root / "models" / "model.onnx")
    artifact = resolve_artifact("current.onnx", ArtifactSource(root=root))
    assert artifact is not None and artifact.path == (root / "models" / "model.onnx").resolve()


def test_a_directory_is_one_artifact_of_all_its_files(root: Path) -> None:
    # Multi-file artifacts are tested in test_multifile.py; a folder is no longer refused.
    artifact = resolve("file:models", root)
    assert artifact is not None and artifact.directory
    assert [f.name for f in artifact.files] == ["model.onnx"]


def test_a_special_file_is_refused(root: Path) -> None:
    os.mkfifo(root / "models" / "pipe.onnx")
    with pytest.raises(EvidenceError, match="is not a regular file or a model directory"):
        resolve("file:models/pipe.onnx", root)


def test_a_file_uri_on_another_host_is_refused(root: Path) -> None:
    with pytest.raises(EvidenceError, match="another host"):
        resolve("file://fileserver/models/model.onnx", root)


@pytest.mark.parametrize(
    "uri", ["oci://registry.example.com/models/model.onnx", "http://models.example.com/model.onnx"]
)
def test_a_scheme_fleetgate_cannot_fetch_is_not_reachable(root: Path, uri: str) -> None:
    # Plain http stays unreachable even with downloads on: its bytes would be unauthenticated.
    source = ArtifactSource(root=root, download=Download(enabled=True), downloads=root / "dl")
    assert resolve_artifact(uri, source) is None
    assert not (root / "dl").exists()


# -- the artifact root (mirror) ------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A mirror of s3, gs and https storage, and a file beside (outside) it."""
    folder = tmp_path / "mirror"
    for relative, data in {
        "apex-models/image/v3/model.onnx": b"s3 bytes",
        "gcs-bucket/model.onnx": b"gs bytes",
        "models.example.com/v1/model.onnx": b"https bytes",
    }.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    (tmp_path / "outside.onnx").write_bytes(b"not mirrored")
    return folder


@pytest.mark.parametrize(
    ("uri", "data"),
    [
        ("s3://apex-models/image/v3/model.onnx", b"s3 bytes"),
        ("gs://gcs-bucket/model.onnx", b"gs bytes"),
        ("https://models.example.com/v1/model.onnx", b"https bytes"),
    ],
)
def test_remote_uris_are_found_in_the_mirror(root: Path, mirror: Path, uri: str, data: bytes) -> None:
    artifact = resolve_artifact(uri, ArtifactSource(root=root, mirror=mirror))
    assert artifact is not None
    assert (artifact.source, artifact.digest, artifact.size) == ("mirror", sha256(data), len(data))
    assert artifact.path.is_relative_to(mirror.resolve())


def test_remote_uris_without_a_mirror_or_not_in_it_are_not_reachable(root: Path, mirror: Path) -> None:
    assert resolve_artifact("s3://apex-models/image/v3/model.onnx", ArtifactSource(root=root)) is None
    with_mirror = ArtifactSource(root=root, mirror=mirror)
    assert resolve_artifact("s3://apex-models/image/v4/model.onnx", with_mirror) is None
    assert resolve_artifact("gs://other-bucket/model.onnx", with_mirror) is None


def test_https_not_in_the_mirror_with_downloads_disabled_is_not_reachable(root: Path, mirror: Path) -> None:
    source = ArtifactSource(root=root, mirror=mirror, downloads=root / "dl")
    assert resolve_artifact("https://models.example.com/v2/model.onnx", source) is None
    assert not (root / "dl").exists()


@pytest.mark.parametrize(
    "uri",
    [
        "s3://apex-models/../../outside.onnx",
        "gs://gcs-bucket/%2e%2e/%2e%2e/outside.onnx",
        "s3://../outside.onnx",
        "https://models.example.com/..%2f..%2foutside.onnx",
    ],
)
def test_a_key_that_climbs_out_of_the_mirror_is_refused(root: Path, mirror: Path, uri: str) -> None:
    with pytest.raises(EvidenceError, match="leaves the artifact root"):
        resolve_artifact(uri, ArtifactSource(root=root, mirror=mirror))


def test_a_mirror_symlink_that_leaves_the_mirror_is_refused(root: Path, mirror: Path) -> None:
    (mirror / "apex-models" / "escape.onnx").symlink_to(mirror.parent / "outside.onnx")
    with pytest.raises(EvidenceError, match="leaves the artifact root"):
        resolve_artifact("s3://apex-models/escape.onnx", ArtifactSource(root=root, mirror=mirror))


@pytest.mark.parametrize("uri", ["s3://apex-models", "s3://apex-models/", "gs:///model.onnx"])
def test_a_remote_uri_without_bucket_or_key_is_refused(root: Path, mirror: Path, uri: str) -> None:
    with pytest.raises(EvidenceError, match="expected <scheme>://<bucket or host>/<key>"):
        resolve_artifact(uri, ArtifactSource(root=root, mirror=mirror))


def test_the_mirror_is_preferred_to_a_download(root: Path, mirror: Path) -> None:
    # No server listens for models.example.com here: a download attempt would fail.
    source = ArtifactSource(root=root, mirror=mirror, download=Download(enabled=True), downloads=root / "dl")
    artifact = resolve_artifact("https://models.example.com/v1/model.onnx", source)
    assert artifact is not None and artifact.source == "mirror"


def test_downloads_need_the_cache_folder(root: Path) -> None:
    source = ArtifactSource(root=root, download=Download(enabled=True), downloads=None)
    with pytest.raises(EvidenceError, match="evidence cache folder"):
        resolve_artifact("https://models.example.com/v1/model.onnx", source)
