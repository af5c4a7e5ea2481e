"""The in-toto layout path: a correct chain verifies, every pitfall fails with a reason."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from in_toto.models.layout import Layout

from support_intoto import MODEL, Release, dsse_envelope, statement


def test_correct_chain_verifies(release: Release) -> None:
    release.chain()
    release.layout()
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")
    assert fact["kind"] == "in-toto-layout"
    assert fact["steps"] == ["train", "quantize", "evaluate"]
    assert fact["final_step"] == "evaluate"
    assert fact["layout"] == "trust/layouts/release.layout"
    assert fact["product_digest"] == "sha256:" + hashlib.sha256(MODEL).hexdigest()
    assert fact["layout_signers"] == [release.keys.owner.public_key.keyid]
    layout_bytes = (release.trust_dir / "layouts" / "release.layout").read_bytes()
    assert fact["layout_digest"] == "sha256:" + hashlib.sha256(layout_bytes).hexdigest()
    assert fact["trust_config"].startswith("sha256:")
    assert "reason" not in fact


def test_shipped_layout_template_verifies_the_chain(release: Release) -> None:
    release.chain()
    release.layout(from_template=True)
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")
    assert fact["steps"] == ["train", "quantize", "evaluate"]


def test_shipped_layout_template_catches_the_swapped_model(release: Release) -> None:
    release.chain()
    release.pipeline.write("model.onnx", b"swapped before evaluation")
    release.pipeline.record("evaluate")
    release.artifact_path.write_bytes(b"swapped before evaluation")
    release.layout(from_template=True)
    fact = release.collect()
    assert fact["status"] == "failed" and fact["reason"].startswith("artifact rule:")


def test_dsse_layout_and_dsse_links_verify(release: Release) -> None:
    release.chain(dsse=True)
    release.layout(dsse=True)
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")


def test_model_swapped_after_evaluate_fails(release: Release) -> None:
    release.chain(shipped=b"a different model")
    release.layout()
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "final step 'evaluate' product model.onnx" in fact["reason"]
    assert fact["product_digest"] == "sha256:" + hashlib.sha256(MODEL).hexdigest()


def test_model_swapped_inside_the_chain_fails_the_match_rule(release: Release) -> None:
    release.chain()
    # evaluate is re-recorded on another model than quantize produced; the shipped one matches it
    release.pipeline.write("model.onnx", b"swapped before evaluation")
    release.pipeline.record("evaluate")
    release.artifact_path.write_bytes(b"swapped before evaluation")
    release.layout()
    fact = release.collect()
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("artifact rule:")
    assert "model.onnx" in fact["reason"]


def test_missing_link_fails(release: Release) -> None:
    release.pipeline.run(MODEL, skip=["quantize"])
    release.artifact_path.write_bytes(MODEL)
    release.layout()
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "missing link" in fact["reason"] and "quantize" in fact["reason"]


def test_link_signed_by_a_non_functionary_fails(release: Release) -> None:
    release.chain()
    # the stranger's link is written under the functionary's file name, as an attacker would
    train_keyid = release.keys.functionaries["train"].public_key.keyid
    genuine = release.pipeline.link_dir / f"train.{train_keyid[:8]}.link"
    forged = release.pipeline.record("train", signer=release.keys.stranger)
    os.replace(forged, genuine)
    release.layout()
    fact = release.collect()
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("link signature:") and "train" in fact["reason"]


def test_link_modified_after_signing_fails(release: Release) -> None:
    release.chain()
    path = next(release.pipeline.link_dir.glob("quantize.*.link"))
    link = json.loads(path.read_bytes())
    link["signed"]["products"]["model.onnx"]["sha256"] = hashlib.sha256(b"other").hexdigest()
    path.write_text(json.dumps(link))
    release.artifact_path.write_bytes(b"other")
    release.layout()
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "link signature" in fact["reason"] and "quantize" in fact["reason"]


def test_layout_signed_by_an_unknown_key_fails(release: Release) -> None:
    release.chain()
    release.layout(signers=[release.keys.stranger])
    fact = release.collect()
    assert fact["status"] == "failed"
    assert f"not signed by trusted layout key {release.keys.owner.public_key.keyid}" in fact["reason"]


def test_layout_with_an_inspection_is_refused_before_anything_runs(release: Release) -> None:
    release.chain()
    marker = release.tmp / "inspection-ran"
    release.layout(inspections=[f"touch {marker}"])
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "inspections (inspect-0)" in fact["reason"]
    assert not marker.exists()


def test_lax_layout_without_trailing_disallow_is_refused(release: Release) -> None:
    # the swapped model would pass in-toto itself with this layout; the gate refuses the layout
    release.chain(shipped=MODEL)
    release.layout(lax=True)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "do not end with DISALLOW *" in fact["reason"] and "'train'" in fact["reason"]


def test_expired_layout_fails(release: Release) -> None:
    release.chain()
    release.layout(expires_days=-1)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "expired" in fact["reason"]


def test_link_dir_path_traversal_is_refused(release: Release) -> None:
    release.chain()
    release.layout()
    outside = release.tmp / "outside"
    os.replace(release.pipeline.link_dir, outside)
    release.provenance["links"] = "{artifact_dir}/../../outside"
    fact = release.collect()
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("path traversal:")


def test_link_dir_symlinked_outside_is_refused(release: Release) -> None:
    release.chain()
    release.layout()
    outside = release.tmp / "outside"
    os.replace(release.pipeline.link_dir, outside)
    release.pipeline.link_dir.symlink_to(outside)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("path traversal:")


def test_symlinked_link_file_is_refused(release: Release) -> None:
    release.chain()
    release.layout()
    path = next(release.pipeline.link_dir.glob("train.*.link"))
    target = release.root / "train.link"
    os.replace(path, target)
    path.symlink_to(target)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "symlinks are refused" in fact["reason"]


def test_absent_link_dir_is_absent(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    release.layout()
    fact = release.collect()
    assert fact["status"] == "absent"
    assert str(release.pipeline.link_dir) in fact["reason"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"signed": {"_type": "layout"}, "signatures": []}', "a sub-layout"),
        (b'["a list"]', "no in-toto metadata"),
    ],
)
def test_link_that_is_not_a_link_fails(release: Release, content: bytes, said: str) -> None:
    release.chain()
    release.layout()
    next(release.pipeline.link_dir.glob("evaluate.*.link")).write_bytes(content)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert said in fact["reason"] and "evaluate" in fact["reason"]


def test_statement_in_place_of_a_link_fails(release: Release) -> None:
    release.chain()
    release.layout()
    envelope = dsse_envelope(statement("00" * 32), release.keys.functionaries["train"])
    next(release.pipeline.link_dir.glob("train.*.link")).write_bytes(envelope)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "an in-toto Statement" in fact["reason"]


def test_oversized_link_is_refused(release: Release) -> None:
    release.chain()
    release.layout()
    next(release.pipeline.link_dir.glob("train.*.link")).write_bytes(b" " * (64 << 10))
    release.settings["maxMetadataBytes"] = 32 << 10
    fact = release.collect()
    assert fact["status"] == "failed"
    assert f"larger than {32 << 10} bytes" in fact["reason"]


def _gpg_functionary(layout: Layout) -> None:
    layout.keys[layout.steps[1].pubkeys[0]].update(keytype="eddsa", scheme="pgp+eddsa-ed25519")


def test_layout_with_a_gpg_functionary_key_is_refused(release: Release) -> None:
    release.chain()
    release.layout(edit=_gpg_functionary)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "unsupported key type 'eddsa/pgp+eddsa-ed25519'" in fact["reason"]


def test_layout_with_a_step_name_that_is_a_path_is_refused(release: Release) -> None:
    release.chain()
    release.layout(edit=lambda layout: setattr(layout.steps[0], "name", "../../etc/train"))
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "is not a plain file name" in fact["reason"]
