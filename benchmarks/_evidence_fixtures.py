"""What the evidence benchmark measures on, built with the test suite's own builders.

* :func:`signed_release`: a large artifact with everything ``fleetgate verify`` checks: an
  OpenSSF model signature (keyless, against a private sigstore root), an in-toto layout
  train -> quantize -> evaluate whose final product is the artifact, and a key-signed SLSA
  statement; plus the trust file naming all of it.
* :func:`model_repository`: a git repository with one manifest pointing at an ONNX model
  inside it, and optionally an evaluation set for the fairness fact.

Nothing here duplicates a builder of ``tests/support_*.py``: the benchmark imports them, so
it measures the same trust material and models the tests prove correct.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

# The test helpers import in-toto, sigstore helpers and onnx at module level; they are only
# needed to build the fixtures, never by what is timed.
import support_fairness  # noqa: E402
import support_onnx  # noqa: E402
import support_tflite  # noqa: E402
from support import GitRepo, manifest, to_yaml  # noqa: E402
from support_intoto import Keys, Release, dsse_envelope, sha256_hex, statement  # noqa: E402
from support_sigstore import (  # noqa: E402
    IN_TOTO_PAYLOAD_TYPE,
    PrivateSigstore,
    keyless_trust_document,
    model_signing_statement,
)

__all__ = ["ModelRepository", "SignedRelease", "model_repository", "signed_release", "twin_repository"]

SIGNER = "release@example.com"
ISSUER = "https://issuer.example.com"
MANIFEST_FILE = "models/deployment.yaml"


@dataclass(frozen=True)
class SignedRelease:
    """A signed artifact with its provenance, and the trust file that accepts both."""

    artifact: Path
    trust: Path
    digest: str  # "sha256:<hex>", computed while building (the benchmark checks it is found)


def signed_release(folder: Path, size: int, *, seed: int = 0) -> SignedRelease:
    """``size`` random bytes at ``folder/repo/models/model.onnx``, signed and with provenance.

    Random bytes, not a real model: digest, signature and provenance never parse the file, and
    random data cannot be compressed or deduplicated by anything underneath.
    """
    data = _random_bytes(size, seed)
    release = Release(folder, Keys.generate())
    release.chain(model=data)  # in-toto's own recorder hashes each step's files into its link
    release.layout()
    envelope = dsse_envelope(statement(sha256_hex(data)), release.keys.builder)
    release.statement(envelope, publicKeys=release.builder_keys())
    shutil.rmtree(release.pipeline.workspace)  # the links hold the digests; the copies can go
    sigstore = PrivateSigstore(folder / "sigstore")
    signed = model_signing_statement(release.artifact_path)
    bundle = sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, signed, SIGNER, ISSUER)
    (release.artifact_path.parent / f"{release.artifact_path.name}.sig").write_bytes(bundle)
    root = release.trust_dir / "roots" / "trusted_root.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sigstore.trusted_root_path, root)
    trust = release.trust_dir / "trust.yaml"
    trust.write_text(
        yaml.safe_dump(keyless_trust_document(SIGNER, ISSUER, release.provenance)), encoding="utf-8"
    )
    return SignedRelease(release.artifact_path, trust, "sha256:" + sha256_hex(data))


def _random_bytes(size: int, seed: int) -> bytes:
    import numpy as np

    return np.random.default_rng(seed).bytes(size)


@dataclass(frozen=True)
class ModelRepository:
    """A committed git repository whose ``models/`` folder holds one deployment."""

    root: Path
    model: Path
    model_bytes: int


def model_repository(
    folder: Path, kind: str, *, channels: int = 256, rows: int = 10_000, model_format: str = "onnx"
) -> ModelRepository:
    """A repository deploying a CNN (``kind="cnn"``) or a classifier with an evaluation set.

    ``kind="fairness"`` adds ``data/eval.csv`` (``rows`` rows, two groups) and the manifest's
    ``evaluation`` block. ``model_format`` ``"tflite"`` writes the CNN as a TFLite flatbuffer.
    The manifest asks for 1 thread and batch 1, in a namespace that is not strict, so fp32 is
    admitted and the decision is about the evidence alone.
    """
    repo = GitRepo(folder)
    model = repo.root / "models" / f"model.{model_format}"
    spec: dict[str, Any] = {}
    if kind == "cnn":
        model.parent.mkdir(parents=True, exist_ok=True)
        model.write_bytes(cnn_bytes(model_format, channels))
    elif kind == "fairness":
        support_fairness.classifier(model)
        support_fairness.biased_dataset(repo.root / support_fairness.EVALUATION["dataset"], rows=rows)
        spec["evaluation"] = dict(support_fairness.EVALUATION)
    else:
        raise ValueError(f"unknown model repository kind {kind!r}")
    _deploy(repo, kind, model, **spec)
    repo.commit("deployment")
    return ModelRepository(repo.root, model, model.stat().st_size)


def cnn_bytes(model_format: str, channels: int, twin: bool = False) -> bytes:
    """A CNN as ONNX or TFLite; ``twin`` gives other bytes that compute exactly the same (only a
    description string differs), so a change to the twin replaces the artifact, not the model."""
    if model_format == "tflite":
        data = support_tflite.cnn(channels=channels, image=32)
        return data.replace(b"fleetgate test model", b"fleetgate twin model") if twin else data
    model = support_onnx.cnn(channels=channels)
    model.doc_string = "twin" if twin else ""
    return bytes(model.SerializeToString())


def twin_repository(folder: Path, model_format: str, channels: int = 256) -> tuple[ModelRepository, str, str]:
    """A repository whose head commit replaces the deployed CNN with its twin; (repository,
    base commit, head commit)."""
    repo = GitRepo(folder)
    model = repo.root / "models" / f"model.{model_format}"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(cnn_bytes(model_format, channels))
    _deploy(repo, "twin", model)
    base = repo.commit("deployment")
    model.write_bytes(cnn_bytes(model_format, channels, twin=True))
    _deploy(repo, "twin", model)
    head = repo.commit("the same model, rebuilt")
    return ModelRepository(repo.root, model, model.stat().st_size), base, head


def _deploy(repo: GitRepo, kind: str, model: Path, **spec: Any) -> None:
    data = model.read_bytes()
    document = manifest(
        f"bench-{kind}",
        "research",
        modelUri=f"file:models/{model.name}",
        checksum="sha256:" + hashlib.sha256(data).hexdigest(),
        sizeBytes=len(data),
        inferenceConfig={"numThreads": 1, "batchSize": 1, "quantization": "fp32"},
        **spec,
    )
    repo.write(MANIFEST_FILE, to_yaml(document))
