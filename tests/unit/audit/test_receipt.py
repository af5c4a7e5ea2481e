"""Signed decision receipts: in-toto Statement v1 + SLSA VSA v1 in a DSSE envelope (Ed25519)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from fleetgate.audit.receipt import (
    FLEETGATE_FIELD,
    MAX_ENVELOPE_BYTES,
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    VSA_PREDICATE_TYPE,
    ReceiptError,
    admitted,
    build_receipt,
    describe,
    issue_receipts,
    pae,
    sign_receipt,
    verify_receipt,
    verify_receipts,
)
from fleetgate.audit.store.interface import AuditError
from fleetgate.changes import GitContext, ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.errors import FleetgateError
from fleetgate.inputs import policy_input
from fleetgate.manifest import read_manifests
from fleetgate.waivers import Waiver

from support import manifest, to_yaml

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
REVISION = "sha256:" + "0d" * 32
DECLARED = "ab" * 32  # support.manifest's spec.checksum
MODEL_URI = "s3://apexlogic-models/image-classifier/v3.2.1/model.onnx"
VERIFIER_ID = "https://gate.example.com/fleetgate"
POLICY_URI = "https://gate.example.com/policies"


class Keys:
    """An Ed25519 key pair in fleetgate's key string formats (C2SP signed-note style)."""

    def __init__(self, name: str = "gate.example.com/receipts") -> None:
        self.private = Ed25519PrivateKey.generate()
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        key_hash = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4].hex()
        ed25519 = b"\x01"  # the signed-note signature type of Ed25519 keys
        self.keyid = f"{name}+{key_hash}"
        self.signer = f"PRIVATE+KEY+{name}+{key_hash}+{b64(ed25519 + seed)}"
        self.verifier = f"{name}+{key_hash}+{b64(ed25519 + public)}"

    def envelope(self, body: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
        """A validly signed envelope around arbitrary bytes (to test what happens after step 2)."""
        sig = self.private.sign(pae(payload_type, body))
        return {"payloadType": payload_type, "payload": b64(body), "signatures": [{"sig": b64(sig)}]}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def evaluation(
    name: str, findings: tuple[Finding, ...] = (), evidence: Mapping[str, Any] | None = None, **spec: Any
) -> Evaluation:
    [found] = read_manifests(to_yaml(manifest(name, **spec)).encode(), f"models/{name}.yaml")
    change = ManifestChange("added", found, None)
    facts = dict(evidence or {})
    return Evaluation(change, findings, facts, policy_input(change, "pre-deploy", facts, GitContext()))


def deletion(name: str) -> Evaluation:
    [found] = read_manifests(to_yaml(manifest(name)).encode(), f"models/{name}.yaml")
    recorded = {"stage": "pre-deploy", "change": "deleted", "previous": found.body}
    return Evaluation(ManifestChange("deleted", None, found), policy_input=recorded)


def deny(rule: str, name: str) -> Finding:
    return Finding(rule, "deny", f"{rule} says no", f"models/{name}.yaml", 5, "spec.x")


def decision(
    *evaluations: Evaluation, stage: str = "pre-deploy", waivers: tuple[Waiver, ...] = ()
) -> Decision:
    header = DecisionHeader("id-1", NOW, stage, REVISION, "regopy 1.5.2", {"repo": "r"})
    return decide(header, list(evaluations), list(waivers))


def payload(envelope: Mapping[str, Any]) -> Any:
    return json.loads(base64.b64decode(envelope["payload"]))


def test_pae_is_the_dsse_spec_example() -> None:
    encoded = pae("http://example.com/HelloWorld", b"hello world")
    assert encoded == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    # The spec's ECDSA P-256 signature of its example verifies over exactly these bytes.
    x = 46950820868899156662930047687818585632848591499744589407958293238635476079160
    y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
    raw = base64.b64decode(
        "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
    )
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    public.verify(signature, encoded, ec.ECDSA(hashes.SHA256()))
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"  # lengths count bytes, not characters


def test_an_admitted_deployment_gets_a_passed_receipt_that_verifies(keys: Keys) -> None:
    statement = build_receipt(decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI)
    envelope = sign_receipt(statement, keys.signer)
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert [s["keyid"] for s in envelope["signatures"]] == [keys.keyid]
    verified = verify_receipt(envelope, keys.verifier, "sha256:" + DECLARED)
    assert verified == statement == payload(envelope)
    assert verified["_type"] == STATEMENT_TYPE and verified["predicateType"] == VSA_PREDICATE_TYPE
    assert verified["subject"] == [{"name": MODEL_URI, "digest": {"sha256": DECLARED}}]
    predicate = verified["predicate"]
    assert predicate["verifier"] == {"id": VERIFIER_ID, "version": {"fleetgate": "0.1.0", "regopy": "1.5.2"}}
    assert predicate["timeVerified"] == "2026-11-26T12:00:00.000000Z"
    assert predicate["resourceUri"] == MODEL_URI
    assert predicate["policy"] == {"uri": POLICY_URI, "digest": {"sha256": "0d" * 32}}
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["verifiedLevels"] == ["SLSA_BUILD_LEVEL_UNEVALUATED"]
    assert predicate["slsaVersion"] == "1.0"
    facts = predicate[FLEETGATE_FIELD]
    assert (facts["decision_id"], facts["stage"], facts["namespace"], facts["name"]) == (
        "id-1",
        "pre-deploy",
        "production",
        "a",
    )
    assert (facts["digestSource"], facts["denied"], facts["modelId"]) == ("declared", [], "img-cls-003")
    assert admitted(verified)
    assert describe(verified).startswith(
        f"PASSED  sha256:{DECLARED}  {MODEL_URI}  production/a  decision id-1"
    )


def test_a_denied_deployment_gets_a_failed_receipt_that_still_verifies(keys: Keys) -> None:
    denied = decision(evaluation("a"), evaluation("b", (deny("rollout.ladder", "b"),)))
    envelope = sign_receipt(build_receipt(denied, 1, VERIFIER_ID, POLICY_URI), keys.signer)
    verified = verify_receipt(envelope, keys.verifier)
    predicate = verified["predicate"]
    assert predicate["verificationResult"] == "FAILED"
    assert predicate["verifiedLevels"] == ["FAILED"]
    assert predicate[FLEETGATE_FIELD]["denied"] == ["rollout.ladder"]
    assert not admitted(verified)
    assert describe(verified).startswith("FAILED  ")
    # The other deployment of the same decision is judged on its own.
    assert build_receipt(denied, 0, VERIFIER_ID, POLICY_URI)["predicate"]["verificationResult"] == "PASSED"


def test_a_waived_deny_passes_and_the_receipt_names_the_waiver() -> None:
    waiver = Waiver("rollout.ladder", "production/b", "hotfix", "jane", dt.date(2026, 12, 1), "w.yaml", 2)
    waived = decision(evaluation("b", (deny("rollout.ladder", "b"),)), waivers=(waiver,))
    predicate = build_receipt(waived, 0, VERIFIER_ID, POLICY_URI)["predicate"]
    assert predicate["verificationResult"] == "PASSED"
    assert (predicate[FLEETGATE_FIELD]["denied"], predicate[FLEETGATE_FIELD]["waived"]) == (
        [],
        ["rollout.ladder"],
    )


def test_the_measured_digest_is_the_subject_when_there_is_one() -> None:
    measured = decision(evaluation("a", evidence={"artifact": "sha256:" + "cd" * 32}))
    statement = build_receipt(measured, 0, VERIFIER_ID, POLICY_URI)
    assert statement["subject"][0]["digest"] == {"sha256": "cd" * 32}
    assert statement["predicate"][FLEETGATE_FIELD]["digestSource"] == "measured"
    # A measured value that is not sha256 is not silently replaced by the declared checksum.
    odd = decision(evaluation("a", evidence={"artifact": "md5:" + "0" * 32}))
    with pytest.raises(ReceiptError, match="sha256 artifact digest"):
        build_receipt(odd, 0, VERIFIER_ID, POLICY_URI)


def test_predicate_fields_have_the_json_types_of_the_vsa_spec(keys: Keys) -> None:
    attestation = {"uri": "https://example.com/model.sigstore.json", "digest": {"sha256": "ee" * 32}}
    statement = build_receipt(
        decision(evaluation("a")),
        0,
        VERIFIER_ID,
        POLICY_URI,
        input_attestations=[attestation],
        dependency_levels={"SLSA_BUILD_LEVEL_3": 2, "SLSA_BUILD_LEVEL_1": 0},
    )
    predicate = payload(sign_receipt(statement, keys.signer))["predicate"]
    assert isinstance(predicate["verifiedLevels"], list)
    assert all(isinstance(level, str) for level in predicate["verifiedLevels"])
    assert isinstance(predicate["dependencyLevels"], dict)
    assert predicate["dependencyLevels"] == {"SLSA_BUILD_LEVEL_3": 2, "SLSA_BUILD_LEVEL_1": 0}
    assert predicate["inputAttestations"] == [attestation]
    # By default the gate makes no claim about dependencies: an empty object would claim "none".
    default = build_receipt(decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI)["predicate"]
    assert "dependencyLevels" not in default and default["inputAttestations"] == []
    for levels in ({"SLSA_BUILD_LEVEL_3": True}, {"SLSA_BUILD_LEVEL_3": -1}, {"SLSA_BUILD_LEVEL_3": "2"}):
        with pytest.raises(ReceiptError, match="dependencyLevels"):
            build_receipt(decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI, dependency_levels=levels)  # type: ignore[arg-type]
    with pytest.raises(ReceiptError, match="input attestation"):
        build_receipt(
            decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI, input_attestations=[{"uri": "x"}]
        )


@pytest.mark.parametrize(
    ("made", "index", "message"),
    [
        (lambda: decision(evaluation("a"), stage="pre-merge"), 0, "pre-deploy stage"),
        (lambda: decision(deletion("gone")), 0, "is deleted"),
        (lambda: decision(evaluation("a")), 1, "no subject 1"),
        (lambda: decision(evaluation("a")), -1, "no subject -1"),
        (lambda: decision(evaluation("a", checksum="md5:" + "0" * 32)), 0, "sha256 artifact digest"),
        (lambda: decision(evaluation("a", modelUri=None)), 0, "no modelUri"),
    ],
)
def test_no_receipt_without_a_pre_deploy_decision_about_an_artifact(
    made: Callable[[], Decision], index: int, message: str
) -> None:
    with pytest.raises(ReceiptError, match=message) as caught:
        build_receipt(made(), index, VERIFIER_ID, POLICY_URI)
    assert isinstance(caught.value, AuditError) and isinstance(caught.value, FleetgateError)


def test_issue_receipts_writes_one_envelope_per_deployed_artifact(keys: Keys) -> None:
    checked = decision(
        evaluation("a"),
        evaluation("b", (deny("rollout.ladder", "b"),), checksum="sha256:" + "cd" * 32),
        evaluation("c", (deny("supplychain.checksum-format", "c"),), checksum="md5:" + "0" * 32),
        deletion("gone"),
    )
    text = issue_receipts(checked, keys.signer, VERIFIER_ID, POLICY_URI)
    assert len(text.splitlines()) == 2 and text.endswith("\n")
    statements = verify_receipts(text.encode(), keys.verifier)
    assert [(s["predicate"][FLEETGATE_FIELD]["name"], admitted(s)) for s in statements] == [
        ("a", True),
        ("b", False),
    ]
    [only] = verify_receipts(text.encode(), keys.verifier, "sha256:" + "cd" * 32)
    assert only["predicate"][FLEETGATE_FIELD]["name"] == "b"
    with pytest.raises(ReceiptError, match="no receipt is about"):
        verify_receipts(text.encode(), keys.verifier, "sha256:" + "ef" * 32)
    pretty = json.dumps(json.loads(text.splitlines()[0]), indent=2).encode()
    assert len(verify_receipts(pretty, keys.verifier)) == 1


def test_receipts_are_refused_for_a_pre_merge_decision_even_with_nothing_to_receipt(keys: Keys) -> None:
    with pytest.raises(ReceiptError, match="pre-deploy stage, not pre-merge"):
        issue_receipts(decision(stage="pre-merge"), keys.signer)
    assert issue_receipts(decision(deletion("gone")), keys.signer) == ""


def test_an_admitted_deployment_without_a_digest_cannot_go_unreceipted(keys: Keys) -> None:
    waiver = Waiver(
        "supplychain.checksum-format", "production/c", "legacy", "jane", dt.date(2026, 12, 1), "w", 2
    )
    bad = evaluation("c", (deny("supplychain.checksum-format", "c"),), checksum="md5:" + "0" * 32)
    with pytest.raises(ReceiptError, match="production/c"):
        issue_receipts(decision(bad, waivers=(waiver,)), keys.signer)


def test_a_receipt_file_with_one_forged_envelope_is_refused_whole(keys: Keys) -> None:
    checked = decision(evaluation("a"), evaluation("b", checksum="sha256:" + "cd" * 32))
    good, _ = issue_receipts(checked, keys.signer).splitlines()
    forged = sign_receipt(build_receipt(checked, 1, VERIFIER_ID, POLICY_URI), Keys().signer)
    with pytest.raises(ReceiptError, match="^receipt 2: no signature"):
        verify_receipts(f"{good}\n{json.dumps(forged)}\n".encode(), keys.verifier, "sha256:" + DECLARED)
    for broken in (b"", b"  \n", good.encode() + b"\n{", b"\xff\xfe", b"[1, 2]"):
        with pytest.raises(ReceiptError):
            verify_receipts(broken, keys.verifier)


# -- hostile and tampered envelopes ----------------------------------------------------------------


@pytest.fixture
def envelope(keys: Keys) -> dict[str, Any]:
    return sign_receipt(build_receipt(decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI), keys.signer)


def re_encoded(envelope: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The envelope with its payload edited, keeping the old signature."""
    statement = payload(envelope)
    change(statement)
    return {**envelope, "payload": b64(json.dumps(statement).encode())}


def test_a_tampered_payload_is_refused(keys: Keys, envelope: dict[str, Any]) -> None:
    def promote(statement: dict[str, Any]) -> None:
        statement["predicate"]["verificationResult"] = "FAILED"

    with pytest.raises(ReceiptError, match="no signature on the receipt verifies"):
        verify_receipt(re_encoded(envelope, promote), keys.verifier)


def test_a_substituted_subject_digest_is_refused(keys: Keys, envelope: dict[str, Any]) -> None:
    def substitute(statement: dict[str, Any]) -> None:
        statement["subject"][0]["digest"]["sha256"] = "66" * 32

    with pytest.raises(ReceiptError, match="no signature"):
        verify_receipt(re_encoded(envelope, substitute), keys.verifier, "sha256:" + "66" * 32)
    # A genuine receipt about another artifact is not a receipt about this one.
    with pytest.raises(ReceiptError, match="not about sha256:6666"):
        verify_receipt(envelope, keys.verifier, "sha256:" + "66" * 32)
    with pytest.raises(ReceiptError, match="not sha256:<64 lowercase hex>"):
        verify_receipt(envelope, keys.verifier, "sha256:" + "AB" * 32)


def test_a_receipt_signed_by_another_key_is_refused(keys: Keys, envelope: dict[str, Any]) -> None:
    with pytest.raises(ReceiptError, match="no signature on the receipt verifies with the key"):
        verify_receipt(envelope, Keys().verifier)
    # The keyid is an unsigned hint: another key's signature claiming ours is still refused.
    forged = Keys().envelope(base64.b64decode(envelope["payload"]))
    forged["signatures"][0]["keyid"] = envelope["signatures"][0]["keyid"]
    with pytest.raises(ReceiptError, match="no signature"):
        verify_receipt(forged, keys.verifier)


def test_the_payload_type_is_part_of_what_is_signed(keys: Keys, envelope: dict[str, Any]) -> None:
    with pytest.raises(ReceiptError, match="payloadType"):
        verify_receipt({**envelope, "payloadType": "application/json"}, keys.verifier)
    body = base64.b64decode(envelope["payload"])
    with pytest.raises(ReceiptError, match="payloadType"):
        verify_receipt(keys.envelope(body, "application/vnd.in-toto.vsa+json"), keys.verifier)


def test_base64_may_be_url_safe_or_unpadded_but_not_garbage(keys: Keys, envelope: dict[str, Any]) -> None:
    relaxed = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.urlsafe_b64encode(base64.b64decode(envelope["payload"])).decode().rstrip("="),
        "signatures": [{"keyid": "", "sig": envelope["signatures"][0]["sig"].rstrip("=")}],
    }
    assert verify_receipt(relaxed, keys.verifier) == payload(envelope)
    for garbage in ("!!!not base64!!!", "QUJD=QUJD", "é", "A"):
        with pytest.raises(ReceiptError, match="not base64"):
            verify_receipt({**envelope, "payload": garbage}, keys.verifier)
        with pytest.raises(ReceiptError, match="not base64"):
            verify_receipt({**envelope, "signatures": [{"sig": garbage}]}, keys.verifier)


def test_any_signature_by_the_trusted_key_is_enough(keys: Keys, envelope: dict[str, Any]) -> None:
    stranger = Keys().envelope(base64.b64decode(envelope["payload"]))["signatures"][0]
    both = {**envelope, "signatures": [{**stranger, "keyid": keys.keyid}, *envelope["signatures"]]}
    assert verify_receipt(both, keys.verifier) == payload(envelope)


def test_an_oversized_envelope_is_refused_before_decoding(keys: Keys, envelope: dict[str, Any]) -> None:
    with pytest.raises(ReceiptError, match="over 1 MiB"):
        verify_receipt({**envelope, "payload": "A" * (MAX_ENVELOPE_BYTES + 4)}, keys.verifier)
    with pytest.raises(ReceiptError, match="more than 16 signatures"):
        verify_receipt({**envelope, "signatures": envelope["signatures"] * 17}, keys.verifier)
    huge = {"_type": STATEMENT_TYPE, "padding": "x" * MAX_ENVELOPE_BYTES}
    with pytest.raises(ReceiptError, match="too large to sign"):
        sign_receipt(huge, keys.signer)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"_type": "https://in-toto.io/Statement/v1", "_type": "x"}', "not JSON"),
        (b'{"n": NaN}', "not JSON"),
        (b"[]", "not an in-toto Statement"),
        (b'{"_type": "https://in-toto.io/Statement/v0.1"}', "not an in-toto Statement"),
        (b'{"_type": "https://in-toto.io/Statement/v1", "subject": []}', "no subject"),
    ],
)
def test_a_signed_payload_that_is_not_a_statement_is_refused(keys: Keys, body: bytes, message: str) -> None:
    with pytest.raises(ReceiptError, match=message):
        verify_receipt(keys.envelope(body), keys.verifier)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("subject", 0, "digest"), {}, "digest set"),
        (("subject", 0, "digest"), {"sha256": 1}, "digest set"),
        (("subject", 0, "name"), 7, "name"),
        (("predicateType",), "https://slsa.dev/verification_summary/v0.2", "predicateType"),
        (("predicate",), [], "no verification summary"),
        (("predicate", "verifier"), "me", "verifier.id"),
        (("predicate", "resourceUri"), None, "resourceUri"),
        (("predicate", "policy"), {"digest": {}}, "policy.uri"),
        (("predicate", "verificationResult"), "OK", "verificationResult"),
        # in-toto-attestation 0.9.3 writes these two with the wrong JSON types.
        (("predicate", "verifiedLevels"), "SLSA_BUILD_LEVEL_UNEVALUATED", "verifiedLevels"),
        (("predicate", "dependencyLevels"), [["SLSA_BUILD_LEVEL_1", 1]], "dependencyLevels"),
        (("predicate", "dependencyLevels"), {"SLSA_BUILD_LEVEL_1": "1"}, "dependencyLevels"),
    ],
)
def test_a_signed_statement_with_mistyped_fields_is_refused(
    keys: Keys, envelope: dict[str, Any], path: tuple[Any, ...], value: Any, message: str
) -> None:
    statement = payload(envelope)
    target = statement
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ReceiptError, match=message):
        verify_receipt(keys.envelope(json.dumps(statement).encode()), keys.verifier)


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        [],
        "envelope",
        {},
        {"payloadType": PAYLOAD_TYPE},
        {"payloadType": PAYLOAD_TYPE, "payload": 1, "signatures": [{"sig": ""}]},
        {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": []},
        {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": {"sig": ""}},
        {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": [1]},
        {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": [{"sig": None}]},
        {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": [{"sig": ""}]},
        {"payloadType": ["x"], "payload": "", "signatures": [{"sig": ""}]},
    ],
)
def test_malformed_envelopes_raise_receipt_error(keys: Keys, hostile: Any) -> None:
    with pytest.raises(ReceiptError):
        verify_receipt(hostile, keys.verifier)


def test_random_damage_never_escapes_as_another_exception(keys: Keys, envelope: dict[str, Any]) -> None:
    rng = random.Random(20261126)
    values: list[Any] = [None, 0, -1, 2**70, 1.5, True, "", "x", "====", [], {}, [None], {"sig": 1}]
    text = json.dumps(envelope)
    for _ in range(400):
        damaged: Any = copy.deepcopy(envelope)
        damaged[rng.choice(["payloadType", "payload", "signatures"])] = rng.choice(values)
        with pytest.raises(ReceiptError):
            verify_receipt(damaged, keys.verifier)
        # A flipped character may leave the receipt valid (inside the unsigned keyid): then it
        # must verify; otherwise it must be refused with a ReceiptError, never anything else.
        position = rng.randrange(len(text))
        mutated = text[:position] + rng.choice('x0{}[]",:\\ A') + text[position + 1 :]
        try:
            statements = verify_receipts(mutated.encode(), keys.verifier)
        except ReceiptError:
            continue
        assert statements == [payload(envelope)]


def test_unknown_envelope_fields_are_ignored(keys: Keys, envelope: dict[str, Any]) -> None:
    assert verify_receipt({**envelope, "extra": {"x": 1}}, keys.verifier) == payload(envelope)


@pytest.mark.parametrize(
    "change",
    [
        lambda k: k.verifier.replace("+", "-", 1),  # no hash separator
        lambda k: k.verifier.split("+")[0] + "+00000000+" + k.verifier.split("+", 2)[2],  # wrong hash
        lambda k: k.verifier[:-8],  # truncated key
        lambda k: "",
        lambda k: "\udcff" + k.verifier,  # an undecodable command-line byte in the name
        lambda k: k.signer,  # a signer key is not a verifier key
    ],
)
def test_a_malformed_verifier_key_is_refused(
    keys: Keys, envelope: dict[str, Any], change: Callable[[Keys], str]
) -> None:
    with pytest.raises(ReceiptError, match="verifier key"):
        verify_receipt(envelope, change(keys))


def test_a_malformed_signer_key_is_refused(keys: Keys) -> None:
    statement = build_receipt(decision(evaluation("a")), 0, VERIFIER_ID, POLICY_URI)
    for bad in (keys.verifier, keys.signer.replace("PRIVATE+KEY+", "PRIVATE+KEY+x"), "PRIVATE+KEY+"):
        with pytest.raises(ReceiptError, match="signing key"):
            sign_receipt(statement, bad)
    with pytest.raises(ReceiptError, match="not a JSON document"):
        sign_receipt({"when": dt.date(2026, 1, 1)}, keys.signer)
