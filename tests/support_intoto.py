"""in-toto and SLSA test material built in milliseconds: keys, layouts, links, signed statements.

Everything is generated here with the real libraries: keys with securesystemslib's
``CryptoSigner``, layouts with in-toto's models, links recorded by in-toto's own ``in_toto_run``
(no command: it hashes the files and signs), statements in DSSE envelopes signed like a builder
would. Import this module only from tests that need in-toto: it imports it at module level.

The release chain is train -> quantize -> evaluate:

* ``train`` reads ``train.py`` and ``data.csv`` and creates ``model-fp32.onnx``;
* ``quantize`` reads that model and creates ``model.onnx``;
* ``evaluate`` reads ``model.onnx`` and ``eval.csv``, keeps ``model.onnx`` and creates ``report.json``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.metadata import Envelope, Metablock
from in_toto.runlib import in_toto_run
from securesystemslib.dsse import Envelope as DsseEnvelope
from securesystemslib.signer import CryptoSigner

from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.provenance import COLLECTOR
from fleetgate.evidence.trust import attestations_dir, load_trust_file

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
SLSA_V1 = "https://slsa.dev/provenance/v1"
BUILDER_ID = "https://ci.example.com/builders/release@v1"
STEPS = ("train", "quantize", "evaluate")

# Every rule list ends with DISALLOW *: what no earlier rule accounts for is refused.
RULES: dict[str, tuple[list[list[str]], list[list[str]]]] = {
    "train": (
        [["ALLOW", "train.py"], ["ALLOW", "data.csv"], ["DISALLOW", "*"]],
        [["CREATE", "model-fp32.onnx"], ["DISALLOW", "*"]],
    ),
    "quantize": (
        [["MATCH", "model-fp32.onnx", "WITH", "PRODUCTS", "FROM", "train"], ["DISALLOW", "*"]],
        [["CREATE", "model.onnx"], ["DISALLOW", "*"]],
    ),
    "evaluate": (
        [
            ["MATCH", "model.onnx", "WITH", "PRODUCTS", "FROM", "quantize"],
            ["ALLOW", "eval.csv"],
            ["DISALLOW", "*"],
        ],
        [
            ["MATCH", "model.onnx", "WITH", "PRODUCTS", "FROM", "quantize"],
            ["CREATE", "report.json"],
            ["DISALLOW", "*"],
        ],
    ),
}
# Each step's (materials, products) file names, as the release pipeline records them.
ARTIFACTS = {
    "train": (["train.py", "data.csv"], ["model-fp32.onnx"]),
    "quantize": (["model-fp32.onnx"], ["model.onnx"]),
    "evaluate": (["model.onnx", "eval.csv"], ["model.onnx", "report.json"]),
}


def new_signer(kind: str = "ed25519") -> CryptoSigner:
    """A fresh key pair: ``ed25519`` or ``ecdsa`` (P-256), both generated in well under 1 ms."""
    return CryptoSigner.generate_ecdsa() if kind == "ecdsa" else CryptoSigner.generate_ed25519()


def keyid(signer: CryptoSigner) -> str:
    return str(signer.public_key.keyid)


def write_public_key(signer: CryptoSigner, path: Path) -> Path:
    """The signer's public key as a PEM file (what a trust file names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        signer.public_key._crypto_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def key_dict(signer: CryptoSigner) -> dict[str, Any]:
    """The public key in in-toto's layout ``keys`` form."""
    data = signer.public_key.to_dict()
    data["keyid"] = keyid(signer)
    return data


def expiry(days: float) -> str:
    """An in-toto ``expires`` value ``days`` from now (negative: already expired)."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def release_layout(
    functionaries: Mapping[str, CryptoSigner],
    *,
    expires_days: float = 30,
    lax: bool = False,
    inspections: Sequence[str] = (),
) -> Layout:
    """The train -> quantize -> evaluate layout; ``functionaries`` maps each step to its signer.

    ``lax`` drops every trailing DISALLOW (the pitfall the gate refuses); ``inspections`` adds
    inspections that would run those commands.
    """
    steps = []
    for name in STEPS:
        materials, products = (list(rules) for rules in RULES[name])
        if lax:
            materials, products = materials[:-1], products[:-1]
        steps.append(
            Step(
                name=name,
                pubkeys=[keyid(functionaries[name])],
                expected_materials=materials,
                expected_products=products,
                expected_command=[],
                threshold=1,
            )
        )
    return Layout(
        steps=steps,
        inspect=[
            Inspection(name=f"inspect-{i}", run=command.split(), expected_materials=[], expected_products=[])
            for i, command in enumerate(inspections)
        ],
        keys={keyid(s): key_dict(s) for s in functionaries.values()},
        expires=expiry(expires_days),
        readme="fleetgate test release chain",
    )


def template_layout(functionaries: Mapping[str, CryptoSigner], *, expires_days: float = 30) -> Layout:
    """``attestations/layout.template.json`` with its placeholders filled as its readme says."""
    text = (attestations_dir() / "layout.template.json").read_text(encoding="utf-8")
    text = text.replace("${EXPIRES}", expiry(expires_days))
    for step, signer in functionaries.items():
        text = text.replace(f'"${{{step.upper()}_KEY}}"', json.dumps(key_dict(signer)))
        text = text.replace(f"${{{step.upper()}_KEYID}}", keyid(signer))
    return Layout.read(json.loads(text)["signed"])


def sign_metadata(signable: Any, signers: Sequence[CryptoSigner], *, dsse: bool = False) -> bytes:
    """A layout or link signed by every signer: classic signed JSON, or a DSSE envelope."""
    metadata = Envelope.from_signable(signable) if dsse else Metablock(signed=signable)
    for signer in signers:
        metadata.create_signature(signer)
    return json.dumps(metadata.to_dict(), sort_keys=True).encode()


@dataclass
class Pipeline:
    """A release workspace: the files each step reads and writes, and its recorded links."""

    workspace: Path
    link_dir: Path
    functionaries: Mapping[str, CryptoSigner]
    dsse: bool = False

    def write(self, name: str, data: bytes) -> None:
        (self.workspace / name).write_bytes(data)

    def record(self, step: str, signer: CryptoSigner | None = None) -> Path:
        """Record ``step``'s link with in-toto's own recorder (no command run) into ``link_dir``."""
        materials, products = ARTIFACTS[step]
        self.link_dir.mkdir(parents=True, exist_ok=True)
        signer = signer or self.functionaries[step]
        with warnings.catch_warnings():
            # in-toto's default exclude patterns use a pathspec syntax that now warns on every use
            warnings.simplefilter("ignore", DeprecationWarning)
            self._run(step, materials, products, signer)
        return self.link_dir / f"{step}.{keyid(signer)[:8]}.link"

    def _run(self, step: str, materials: list[str], products: list[str], signer: CryptoSigner) -> None:
        in_toto_run(
            step,
            materials,
            products,
            [],
            base_path=str(self.workspace),
            signer=signer,
            metadata_directory=str(self.link_dir),
            use_dsse=self.dsse,
        )

    def run(self, model: bytes, *, skip: Sequence[str] = ()) -> None:
        """Run the whole chain: ``model`` is what quantize produces and evaluate keeps."""
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.write("train.py", b"print('train')\n")
        self.write("data.csv", b"x,label\n1,0\n")
        self.write("model-fp32.onnx", b"fp32 model " + model)
        for step in STEPS:
            if step == "quantize":
                self.write("model.onnx", model)
            if step == "evaluate":
                self.write("eval.csv", b"x,label\n2,1\n")
                self.write("report.json", b'{"accuracy": 0.9}')
            if step not in skip:
                self.record(step)


def statement(
    digest_hex: str,
    *,
    name: str = "model.onnx",
    builder_id: str = BUILDER_ID,
    predicate_type: str = SLSA_V1,
    statement_type: str = STATEMENT_V1,
) -> bytes:
    """An in-toto Statement v1 with an SLSA provenance v1 predicate about one subject."""
    body = {
        "_type": statement_type,
        "subject": [{"name": name, "digest": {"sha256": digest_hex}}],
        "predicateType": predicate_type,
        "predicate": {
            "buildDefinition": {
                "buildType": "https://ci.example.com/release/v1",
                "externalParameters": {"model": name},
            },
            "runDetails": {"builder": {"id": builder_id}, "metadata": {"invocationId": "run-1"}},
        },
    }
    return json.dumps(body).encode()


def dsse_envelope(payload: bytes, signer: CryptoSigner, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> bytes:
    """``payload`` in a DSSE envelope signed by ``signer`` (the key-signed SLSA path)."""
    envelope = DsseEnvelope(payload=payload, payload_type=payload_type, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict()).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tamper_payload(envelope: bytes, change: Mapping[str, Any]) -> bytes:
    """``envelope`` with its JSON payload updated by ``change``, the signature left as it was."""
    document = json.loads(envelope)
    payload = json.loads(base64.b64decode(document["payload"]))
    payload.update(change)
    document["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps(document).encode()


# -- a repository scenario for the collector tests ---------------------------------------

MODEL = b"quantized int8 model bytes"


@dataclass(frozen=True)
class Keys:
    """The layout owner, one functionary per step, a stranger and an SLSA builder."""

    owner: CryptoSigner
    functionaries: Mapping[str, CryptoSigner]
    stranger: CryptoSigner
    builder: CryptoSigner

    @classmethod
    def generate(cls) -> Keys:
        return cls(
            owner=new_signer("ed25519"),
            functionaries={"train": new_signer("ecdsa"), "quantize": new_signer(), "evaluate": new_signer()},
            stranger=new_signer("ecdsa"),
            builder=new_signer("ecdsa"),
        )


@dataclass
class Release:
    """One scenario: edit the pieces, then call :meth:`collect`."""

    tmp: Path
    keys: Keys
    root: Path = field(init=False)
    artifact_path: Path = field(init=False)
    pipeline: Pipeline = field(init=False)
    provenance: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = self.tmp / "repo"
        self.artifact_path = self.root / "models" / "model.onnx"
        self.artifact_path.parent.mkdir(parents=True)
        link_dir = self.root / "models" / "in-toto"
        self.pipeline = Pipeline(self.tmp / "workspace", link_dir, self.keys.functionaries)

    @property
    def trust_dir(self) -> Path:
        return self.root / "trust"

    def chain(self, *, model: bytes = MODEL, dsse: bool = False, shipped: bytes | None = None) -> None:
        """Run the release chain on ``model`` and ship ``shipped`` (default: the same model)."""
        self.pipeline.dsse = dsse
        self.pipeline.run(model)
        self.artifact_path.write_bytes(model if shipped is None else shipped)

    def layout(
        self,
        signers: list[CryptoSigner] | None = None,
        *,
        dsse: bool = False,
        edit: Callable[[Layout], None] | None = None,
        from_template: bool = False,
        **options: Any,
    ) -> None:
        """Write the signed layout and point the trust file at it and at the owner's key.

        ``edit`` changes the layout before it is signed (the owner signs whatever it says).
        """
        build = template_layout if from_template else release_layout
        layout = build(self.keys.functionaries, **options)
        if edit is not None:
            edit(layout)
        path = self.trust_dir / "layouts" / "release.layout"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sign_metadata(layout, signers or [self.keys.owner], dsse=dsse))
        write_public_key(self.keys.owner, self.trust_dir / "keys" / "owner.pub")
        self.provenance.update(layout="layouts/release.layout", layoutKeys=["keys/owner.pub"])

    def statement(self, data: bytes, **slsa: Any) -> None:
        """Ship ``data`` as the statement beside the artifact; ``slsa`` is the trust section."""
        (self.artifact_path.parent / "model.onnx.intoto.json").write_bytes(data)
        self.provenance["slsa"] = slsa

    def builder_keys(self) -> list[str]:
        write_public_key(self.keys.builder, self.trust_dir / "keys" / "builder.pub")
        return ["keys/builder.pub"]

    def context(self) -> CollectorContext:
        trust_path = self.trust_dir / "trust.yaml"
        trust_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"apiVersion": "fleetgate.dev/v1", "kind": "TrustConfig", "provenance": self.provenance}
        trust_path.write_text(yaml.safe_dump(document), encoding="utf-8")
        data = self.artifact_path.read_bytes()
        artifact = Artifact(
            uri="s3://models/classifier/v1/model.onnx",
            path=self.artifact_path,
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
            size=len(data),
            source="mirror",
        )
        return CollectorContext(
            manifest={},
            previous=None,
            root=self.root,
            artifact=artifact,
            trust=load_trust_file(trust_path, self.root),
            settings=self.settings,
        )

    def collect(self) -> Mapping[str, Any]:
        fact = COLLECTOR.collect(self.context())
        assert fact is not None
        json.dumps(fact)  # the fact is JSON-ready
        return fact
