"""A model release pipeline in miniature: train, quantize, evaluate, record, sign.

What a real pipeline does with its CI's keys, done here with keys generated on the spot so the
demo runs offline:

1. the layout owner signs the in-toto layout (from ``attestations/layout.template.json``) that
   says which functionary performs each step and which files flow between the steps;
2. each step runs and records an in-toto link (its materials and products, signed by the
   step's functionary): ``train`` writes ``model-fp32.onnx``, ``quantize`` turns it into
   ``model.onnx``, ``evaluate`` reads ``model.onnx`` and writes ``report.json``;
3. the release key signs ``model.onnx`` with OpenSSF model signing (``model.onnx.sig``);
4. the trust file names the release key, the layout and the layout owner's key.

The repository then holds ``models/<name>/model.onnx`` with ``model.onnx.sig`` and ``in-toto/``
beside it, which is where fleetgate's trust file (``attestations/trust.yaml``) looks. A TFLite
model goes through the same chain as ``model-fp32.tflite`` and ``model.tflite`` (see
:func:`release_tflite`): the layout allows each ONNX file rule of the template for its TFLite twin.
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import model_signing
import numpy as np
import onnx
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from in_toto.models.metadata import Metablock
from in_toto.runlib import in_toto_run
from onnx import TensorProto, helper, numpy_helper
from securesystemslib.signer import CryptoSigner

REPO_ROOT = Path(__file__).resolve().parent.parent
STEPS = ("train", "quantize", "evaluate")
IR_VERSION, OPSET = 9, 17


@dataclass(frozen=True)
class ReleaseKeys:
    """The release's keys: the layout owner, one functionary per step, the model-signing key."""

    owner: CryptoSigner
    functionaries: dict[str, CryptoSigner]
    signing_key: Path  # PEM private key used by model signing

    @classmethod
    def generate(cls, folder: Path) -> ReleaseKeys:
        folder.mkdir(parents=True, exist_ok=True)
        private = ec.generate_private_key(ec.SECP256R1())
        pem = folder / "release.key"
        pem.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cls(
            owner=CryptoSigner.generate_ed25519(),
            functionaries={step: CryptoSigner.generate_ed25519() for step in STEPS},
            signing_key=pem,
        )


def write_trust(repo: Path, keys: ReleaseKeys, valid_days: int = 90) -> Path:
    """Write ``attestations/`` of the deployment repository: trust file, layout, public keys."""
    trust = repo / "attestations"
    (trust / "keys").mkdir(parents=True, exist_ok=True)
    (trust / "layouts").mkdir(parents=True, exist_ok=True)
    _public_pem(keys.owner, trust / "keys" / "layout-owner.pub")
    private = serialization.load_pem_private_key(keys.signing_key.read_bytes(), password=None)
    (trust / "keys" / "release.pub").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    layout = Metablock(signed=_layout(keys, valid_days))
    layout.create_signature(keys.owner)
    (trust / "layouts" / "release.layout").write_text(json.dumps(layout.to_dict(), indent=1))
    document = {
        "apiVersion": "fleetgate.dev/v1",
        "kind": "TrustConfig",
        "signature": {"format": "model-signing", "method": "key", "publicKeys": ["keys/release.pub"]},
        "provenance": {"layout": "layouts/release.layout", "layoutKeys": ["keys/layout-owner.pub"]},
    }
    path = trust / "trust.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def release(workspace: Path, target: Path, fp32: onnx.ModelProto, keys: ReleaseKeys, quantize: bool) -> Path:
    """Run the chain on ``fp32`` and ship its product to ``target`` (``.../model.onnx``), signed.

    With ``quantize`` false the quantize step passes the fp32 model through unchanged: the
    chain is intact and signed, only the numeric format is not what a manifest may declare.
    """

    def quantize_step(source: Path, product: Path) -> None:
        if quantize:
            _quantize(source, product)
        else:
            shutil.copyfile(source, product)

    return _chain(workspace, target, keys, fp32.SerializeToString(), quantize_step)


def release_tflite(workspace: Path, target: Path, fp32: bytes, int8: bytes | None, keys: ReleaseKeys) -> Path:
    """The same chain for a TFLite model (``.../model.tflite``): the quantize step ships ``int8``,
    the full-integer conversion of ``fp32`` (``None``: the fp32 model passes through)."""

    def quantize_step(source: Path, product: Path) -> None:
        product.write_bytes(int8 if int8 is not None else source.read_bytes())

    return _chain(workspace, target, keys, fp32, quantize_step)


def _chain(
    workspace: Path, target: Path, keys: ReleaseKeys, fp32: bytes, quantize: Callable[[Path, Path], None]
) -> Path:
    """train -> quantize -> evaluate, each step recorded as a signed link; the product is signed."""
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    links = target.parent / "in-toto"
    links.mkdir(parents=True, exist_ok=True)
    trained, shipped = f"model-fp32{target.suffix}", f"model{target.suffix}"
    (workspace / "train.py").write_text("# trains the model\n")
    (workspace / "data.csv").write_text("x,label\n")
    (workspace / trained).write_bytes(fp32)
    _record(workspace, links, keys, "train", ["train.py", "data.csv"], [trained])
    quantize(workspace / trained, workspace / shipped)
    _record(workspace, links, keys, "quantize", [trained], [shipped])
    (workspace / "eval.csv").write_text("x,label\n")
    (workspace / "report.json").write_text('{"evaluated": true}\n')
    _record(workspace, links, keys, "evaluate", [shipped, "eval.csv"], [shipped, "report.json"])
    shutil.copyfile(workspace / shipped, target)
    sign(target, keys)
    return target


def sign(model: Path, keys: ReleaseKeys) -> None:
    """Sign ``model`` with OpenSSF model signing; the bundle is ``<model>.sig``."""
    hashing = model_signing.hashing.Config().use_file_serialization()
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.signing_key)
    config.set_hashing_config(hashing).sign(model, model.with_name(model.name + ".sig"))


def image_classifier(channels: int = 64, seed: int = 0) -> onnx.ModelProto:
    """An fp32 image classifier: two convolutions, pooling and a dense layer."""
    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        values = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
        return numpy_helper.from_array(values.astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["logits"], transB=1),
    ]
    initializers = [
        weight("w1", channels, 3, 3, 3),
        numpy_helper.from_array(np.zeros(channels, np.float32), "b1"),
        weight("w2", channels, channels, 3, 3),
        numpy_helper.from_array(np.zeros(channels, np.float32), "b2"),
        weight("w3", 10, channels),
        numpy_helper.from_array(np.zeros(10, np.float32), "b3"),
    ]
    graph = helper.make_graph(
        nodes,
        "image_classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializers,
    )
    return _model(graph)


def ranker(weights: list[float], bias: float) -> onnx.ModelProto:
    """A binary classifier ``sigmoid(features @ weights + bias)`` over the dataset's feature columns."""
    w = numpy_helper.from_array(np.asarray(weights, np.float32).reshape(-1, 1), "w")
    b = numpy_helper.from_array(np.asarray([bias], np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["z0"]),
            helper.make_node("Add", ["z0", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["probability"]),
        ],
        "ranker",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(weights)])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        [w, b],
    )
    return _model(graph)


def evaluation_set(path: Path, rows: int = 600, seed: int = 7) -> Path:
    """A labelled evaluation set with a sensitive column ``group`` (A or B).

    The label depends on ``engagement`` and ``recency`` only; ``tenure`` is a proxy that
    tracks the group, so a model that leans on it treats the groups differently.
    """
    rng = np.random.default_rng(seed)
    group = np.where(np.arange(rows) % 2 == 0, "A", "B")
    engagement, recency = rng.uniform(-1, 1, rows), rng.uniform(-1, 1, rows)
    tenure = np.where(group == "A", 1.0, 0.0) + rng.normal(0, 0.1, rows)
    label = (engagement + recency > 0).astype(int)
    lines = ["engagement,recency,tenure,group,label"]
    lines += [
        f"{e:.4f},{r:.4f},{t:.4f},{g},{y}"
        for e, r, t, g, y in zip(engagement, recency, tenure, group, label, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def tamper(model: Path) -> None:
    """Change one byte inside the weights: still a valid model, no longer the signed one."""
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    return model


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer suggests pre-processing on stderr
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)


def _record(
    workspace: Path, links: Path, keys: ReleaseKeys, step: str, materials: list[str], products: list[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # in-toto's default exclude patterns
        in_toto_run(
            step,
            materials,
            products,
            [],
            base_path=str(workspace),
            signer=keys.functionaries[step],
            metadata_directory=str(links),
        )


def _layout(keys: ReleaseKeys, valid_days: int) -> Any:
    """The template layout of ``attestations/`` with this release's keys and expiry filled in."""
    from in_toto.models.layout import Layout

    text = (REPO_ROOT / "attestations" / "layout.template.json").read_text()
    expires = (datetime.now(UTC) + timedelta(days=valid_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = text.replace("${EXPIRES}", expires)
    for step, signer in keys.functionaries.items():
        public = signer.public_key.to_dict() | {"keyid": signer.public_key.keyid}
        text = text.replace(f'"${{{step.upper()}_KEY}}"', json.dumps(public))
        text = text.replace(f"${{{step.upper()}_KEYID}}", signer.public_key.keyid)
    layout = json.loads(text)["signed"]
    for step in layout["steps"]:
        step["expected_materials"] = _with_tflite(step["expected_materials"])
        step["expected_products"] = _with_tflite(step["expected_products"])
    return Layout.read(layout)


def _tflite_twin(part: str) -> str:
    return part.removesuffix(".onnx") + ".tflite" if part.endswith(".onnx") else part


def _with_tflite(rules: list[list[str]]) -> list[list[str]]:
    """Each artifact rule about an ONNX file, followed by the same rule for its TFLite twin.

    The fleet ships both formats through one chain; a rule that matches no file of a release
    passes it on to the next, and every list still ends with DISALLOW *.
    """
    out = []
    for rule in rules:
        out.append(rule)
        if any(part.endswith(".onnx") for part in rule):
            out.append([_tflite_twin(part) for part in rule])
    return out


def _public_pem(signer: CryptoSigner, path: Path) -> None:
    key = signer.public_key._crypto_key()  # securesystemslib keeps the cryptography key here
    path.write_bytes(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
