"""A complete, real model release inside a test repository, with knobs to get one thing wrong.

:class:`ReleaseKit` owns a repository's trust material: a private sigstore instance, in-toto
keys, a layout signed by its owner, the trust file, a fair evaluation set and ``fleetgate.yaml``.
:meth:`ReleaseKit.publish` then ships one model the way a release pipeline would, each part real:

* the model at ``models/<name>/model.onnx`` (the in-toto chain names its product ``model.onnx``);
* a model-signing keyless bundle at ``models/<name>/model.onnx.sig`` (OpenSSF model signing over
  a DSSE statement, logged in the private Rekor);
* in-toto links for train -> quantize -> evaluate in ``models/<name>/in-toto/``;
* the manifest ``models/<name>.yaml`` pinning the shipped bytes' digest.

Each knob breaks one link of that chain (``recorded`` bytes differ from the shipped ones, a
``signer`` the trust file does not name, a byte ``tamper``-ed after release, no bundle, a wrong
checksum), so a test can show exactly one rule deny. Import only from tests that need ONNX,
sigstore and in-toto: it imports them at module level.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from support import GitRepo, manifest, to_yaml
from support_fairness import EVALUATION, FAIR_WEIGHTS, biased_dataset
from support_intoto import Keys, Pipeline, release_layout, sign_metadata, write_public_key
from support_onnx import finish
from support_sigstore import (
    IN_TOTO_PAYLOAD_TYPE,
    PrivateSigstore,
    keyless_trust_document,
    model_signing_statement,
)

IDENTITY = "release@example.com"
ISSUER = "https://issuer.example.com"
TRUST_FILE = "attestations/trust.yaml"
DATASET = str(EVALUATION["dataset"])
# Small enough that a check of a dozen models stays within seconds: one fresh process per model.
EVIDENCE = {"latency": {"repeats": 1, "warmupRuns": 1, "timedRuns": 5}}
# The proxy weight support_fairness uses against group F, spread over the hidden units below.
PROXY_WEIGHT = -6.0
_HIDDEN = 16
_SCALE = 0.005  # int8 step: every weight below is a whole multiple of it


def int8_classifier(weights: Sequence[float] = FAIR_WEIGHTS, *, uses_group: float = 0.0) -> onnx.ModelProto:
    """``sigmoid(w . x)`` stored as int8 weights (QDQ), computing exactly what its float twin does.

    The three weights are spread over 16 hidden units (each holds w/16, a multiple of the int8
    step) and summed back by a second int8 layer of ones, so int8 storage dominates the weight
    bytes (the model fact labels it ``int8``) while predictions equal
    ``support_fairness.classifier``'s. ``uses_group`` adds the proxy weight against group F.
    """
    w = np.asarray(weights, np.float64) + np.asarray([0.0, 0.0, PROXY_WEIGHT * uses_group])
    steps = np.rint(w / _HIDDEN / _SCALE)
    assert np.all(np.abs(steps) <= 127) and np.allclose(steps * _SCALE * _HIDDEN, w), w
    first = np.repeat(steps.reshape(3, 1), _HIDDEN, axis=1).astype(np.int8)
    inits = [
        numpy_helper.from_array(first, "w1_q"),
        numpy_helper.from_array(np.asarray(_SCALE, np.float32), "w1_scale"),
        numpy_helper.from_array(np.ones((_HIDDEN, 1), np.int8), "w2_q"),
        numpy_helper.from_array(np.asarray(1.0, np.float32), "w2_scale"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w1_q", "w1_scale"], ["w1"]),
        helper.make_node("MatMul", ["features", "w1"], ["hidden"]),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_scale"], ["w2"]),
        helper.make_node("MatMul", ["hidden", "w2"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        "int8_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    return finish(graph)


def serialized(model: onnx.ModelProto) -> bytes:
    return bytes(model.SerializeToString())


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def flip_weight_bit(data: bytes) -> bytes:
    """The serialized model ``data`` with one bit of its first weight flipped: still a loadable model."""
    weight = onnx.load_from_string(data).graph.initializer[0].raw_data
    at = data.index(weight)
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@dataclass(frozen=True)
class Published:
    """One shipped model: where its manifest and bytes are, and the digest the manifest pins."""

    name: str
    namespace: str
    manifest_path: str
    model_path: str
    digest: str
    text: str

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.name}"


class ReleaseKit:
    """The trust material of one repository, and :meth:`publish` to ship models under it."""

    def __init__(
        self,
        repo: GitRepo,
        work: Path,
        *,
        data: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] = EVIDENCE,
    ) -> None:
        self.repo = repo
        self.work = work  # outside the repository: pipeline workspaces
        self.sigstore = PrivateSigstore(work / "sigstore")
        self.keys = Keys.generate()
        self._write_trust()
        self.write_config("fleetgate.yaml", data=data, evidence=evidence)
        biased_dataset(repo.root / DATASET, rows=400)

    def _write_trust(self) -> None:
        folder = self.repo.root / "attestations"
        self.repo.write("attestations/roots/trusted_root.json", self.sigstore.trusted_root_path.read_bytes())
        write_public_key(self.keys.owner, folder / "keys" / "owner.pub")
        layout = sign_metadata(release_layout(self.keys.functionaries), [self.keys.owner])
        self.repo.write("attestations/layouts/release.layout", layout)
        provenance = {"layout": "layouts/release.layout", "layoutKeys": ["keys/owner.pub"]}
        trust = keyless_trust_document(IDENTITY, ISSUER, provenance)
        self.repo.write(TRUST_FILE, yaml.safe_dump(trust, sort_keys=False))

    def write_config(
        self,
        path: str,
        *,
        data: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] = EVIDENCE,
    ) -> str:
        """A ``fleetgate.yaml`` naming the trust file; ``data`` overrides policy thresholds."""
        config: dict[str, Any] = {"trust": TRUST_FILE, "evidence": dict(evidence)}
        if data:
            config["policies"] = {"data": dict(data)}
        self.repo.write(path, yaml.safe_dump(config, sort_keys=False))
        return path

    def publish(
        self,
        name: str,
        model: bytes,
        *,
        namespace: str = "production",
        folder: str | None = None,
        manifest_path: str | None = None,
        recorded: bytes | None = None,
        signer: str = IDENTITY,
        signed: bool = True,
        tamper: bool = False,
        checksum: str | None = None,
        files: Mapping[str, bytes] | None = None,
        **spec: Any,
    ) -> Published:
        """Ship ``model`` as release ``name``; the knobs each break one part of the chain.

        ``recorded``: the bytes the in-toto pipeline produced, when they differ from what ships
        (a model swapped after evaluate). ``signer``: who signs. ``signed=False``: no bundle.
        ``tamper``: one bit of a weight flips after signing and recording (the manifest then
        pins the tampered bytes, as an attacker would). ``checksum``: the manifest
        pins this instead. ``files``: more repository files (say, external weights).
        ``folder`` (default ``models/<name>``) holds the model, ``manifest_path`` (default
        ``<folder>.yaml``) the manifest; ``spec`` goes into the manifest.
        """
        folder = folder or f"models/{name}"
        model_path = f"{folder}/model.onnx"
        target = self.repo.write(model_path, model)
        for path, data in (files or {}).items():
            self.repo.write(path, data)
        if signed:
            self._sign(target, signer)
        pipeline = Pipeline(
            self.work / "pipelines" / folder, target.parent / "in-toto", self.keys.functionaries
        )
        pipeline.run(recorded if recorded is not None else model)
        shipped = flip_weight_bit(model) if tamper else model
        target.write_bytes(shipped)
        spec = {
            "modelUri": f"file:{model_path}",
            "checksum": checksum or digest_of(shipped),
            "sizeBytes": None,  # the measured size decides
            "evaluation": EVALUATION,
            **spec,
        }
        text = to_yaml(manifest(name, namespace, **spec))
        manifest_path = manifest_path or f"{folder}.yaml"
        self.repo.write(manifest_path, text)
        return Published(name, namespace, manifest_path, model_path, digest_of(shipped), text)

    def _sign(self, target: Path, signer: str) -> None:
        """A model-signing keyless bundle beside ``target``, as ``model_signing sign sigstore`` writes."""
        statement = model_signing_statement(target)
        bundle = self.sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement, signer, ISSUER)
        target.with_name(target.name + ".sig").write_bytes(bundle)


@dataclass(frozen=True)
class Ran:
    """What one ``fleetgate`` command returned and printed."""

    code: int
    stdout: str
    stderr: str

    def decision(self) -> dict[str, Any]:
        assert self.code in (0, 1), f"exit {self.code}: {self.stderr}"
        document: dict[str, Any] = json.loads(self.stdout)
        return document


def run_cli(root: Path, *args: str) -> Ran:
    """``fleetgate ARGS`` run from ``root`` through ``fleetgate.cli.main`` in this process.

    The same entry point as the console script; in-process, the evidence libraries load once
    per test session instead of once per command (seconds each on a small machine).
    """
    from fleetgate.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Ran(code, out.getvalue(), err.getvalue())


def by_name(decision: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The decision's subjects keyed by deployment name."""
    return {subject["name"]: subject for subject in decision["subjects"]}


def denied_rules(subject: Mapping[str, Any]) -> list[str]:
    """The rules that denied ``subject``, sorted, one entry per finding."""
    return sorted(v["rule"] for v in subject["violations"] if v["severity"] == "deny")


def warned_rules(subject: Mapping[str, Any]) -> list[str]:
    return sorted(v["rule"] for v in subject["violations"] if v["severity"] == "warn")
