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
from support import GitRepo, manifest, to_yaml  # noqa: E402
from support_intoto import Keys, Release, dsse_envelope, sha256_hex, statement  # noqa: E402
from support_onnx import cnn, save  # noqa: E402
from support_sigstore import (  # noqa: E402
    IN_TOTO_PAYLOAD_TYPE,
    PrivateSigstore,
    keyless_trust_document,
    model_signing_statement,
)

__all__ = ["ModelRepository", "SignedRelease", "model_repository", "signed_release"]

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


def model_repository(folder: Path, kind: str, *, channels: int = 256, rows: int = 10_000) -> ModelRepository:
    """A repository deploying a CNN (``kind="cnn"``) or a classifier with an evaluation set.

    ``kind="fairness"`` adds ``data/eval.csv`` (``rows`` rows, two groups) and the manifest's
    ``evaluation`` block. The manifest asks for 1 thread and batch 1, in a namespace that is
    not strict, so fp32 is admitted and the decision is about the evidence alone.
    """
    repo = GitRepo(folder)
    model = repo.root / "models" / "model.onnx"
    spec: dict[str, Any] = {}
    if kind == "cnn":
        save(cnn(channels=channels), model)
    elif kind == "fairness":
        support_fairness.classifier(model)
        support_fairness.biased_dataset(repo.root / support_fairness.EVALUATION["dataset"], rows=rows)
        spec["evaluation"] = dict(support_fairness.EVALUATION)
    else:
        raise ValueError(f"unknown model repository kind {kind!r}")
    data = model.read_bytes()
    document = manifest(
        f"bench-{kind}",
        "research",
        modelUri="file:models/model.onnx",
        checksum="sha256:" + hashlib.sha256(data).hexdigest(),
        sizeBytes=len(data),
        inferenceConfig={"numThreads": 1, "batchSize": 1, "quantization": "fp32"},
        **spec,
    )
    repo.write(MANIFEST_FILE, to_yaml(document))
    repo.commit("deployment")
    return ModelRepository(repo.root, model, len(data))
