package fleetgate.supplychain

import rego.v1

import data.fleetgate.fixtures as fx

# judged evaluates one rule on the fixture manifest with the given facts.
judged(rule, facts) := judged_manifest(rule, fx.manifest, facts)

# Every value given to `with` arrives as a function argument (see the evidence tests).
judged_manifest(rule, manifest, facts) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as facts
}

other := "sha256:0000000000000000000000000000000000000000000000000000000000000001"

measured := {"digest": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "size": 1000, "path": "models/m.onnx"}

with_fact(name, value) := json.patch({"artifact": measured}, [{"op": "add", "path": [name], "value": fx.clean(value)}])

verified_layout := {
	"status": "verified", "kind": "in-toto-layout", "final_step": "evaluate",
	"product_digest": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "steps": ["train", "quantize", "evaluate"],
}

slsa_fact(predicate_type, builder) := {
	"status": "verified", "kind": "slsa",
	"slsa": {"predicate_type": fx.clean(predicate_type), "builder_id": fx.clean(builder), "subject_digest": fx.checksum},
}

# trusting evaluates one rule with the given SLSA builders trusted.
trusting(rule, facts, builders) := found if {
	found := judged(rule, facts) with data.fleetgate.config.supplychain.slsa.builderIds as builders
}

# supplychain.checksum-match

test_checksum_match_admits_the_pinned_bytes if {
	count(judged("supplychain.checksum-match", {"artifact": measured})) == 0
}

test_checksum_match_denies_other_bytes if {
	facts := {"artifact": {"digest": "sha256:0000000000000000000000000000000000000000000000000000000000000001", "size": 1, "path": "models/m.onnx"}}
	found := judged("supplychain.checksum-match", fx.clean(facts))
	count(found) == 1
	some f in found
	f.field == "spec.checksum"
	contains(f.msg, "the artifact at models/m.onnx has digest sha256:000")
	contains(f.msg, "not the checksum sha256:9f86")
}

test_checksum_match_needs_a_measured_digest if {
	count(judged("supplychain.checksum-match", {})) == 0
}

# supplychain.signature

test_signature_admits_a_verified_signature if {
	fact := {"status": "verified", "signer": "release@example.com"}
	count(judged("supplychain.signature", with_fact("signature", fact))) == 0
}

test_signature_denies_a_failed_verification_with_its_reason if {
	fact := {"status": "failed", "reason": "certificate identity ci@evil.example is not a trusted signer"}
	found := judged("supplychain.signature", with_fact("signature", fact))
	count(found) == 1
	some f in found
	f.field == "spec.modelUri"
	f.msg == "the artifact's signature did not verify: certificate identity ci@evil.example is not a trusted signer"
}

test_signature_denies_an_unknown_status if {
	count(judged("supplychain.signature", with_fact("signature", {"status": "maybe"}))) == 1
}

test_signature_leaves_absent_to_evidence_missing if {
	count(judged("supplychain.signature", with_fact("signature", {"status": "absent", "reason": "x"}))) == 0
}

# supplychain.provenance

test_provenance_admits_a_verified_layout_ending_in_the_artifact if {
	count(judged("supplychain.provenance", with_fact("provenance", verified_layout))) == 0
}

test_provenance_denies_a_failed_verification if {
	fact := {"status": "failed", "reason": "link quantize.1a2b3c4d.link is missing"}
	found := judged("supplychain.provenance", with_fact("provenance", fact))
	count(found) == 1
	some f in found
	f.msg == "the artifact's provenance did not verify: link quantize.1a2b3c4d.link is missing"
}

test_provenance_denies_a_model_swapped_after_the_last_step if {
	fact := json.patch(verified_layout, [{"op": "replace", "path": "/product_digest", "value": other}])
	found := judged("supplychain.provenance", with_fact("provenance", fact))
	count(found) == 1
	some f in found
	contains(f.msg, "the final supply-chain step evaluate produced sha256:000")
}

test_provenance_denies_an_unknown_status if {
	count(judged("supplychain.provenance", with_fact("provenance", {"status": "ok"}))) == 1
}

test_provenance_admits_slsa_from_a_trusted_builder if {
	fact := slsa_fact("https://slsa.dev/provenance/v1", "https://ci.example.com/release")
	found := trusting("supplychain.provenance", with_fact("provenance", fact), ["https://ci.example.com/release"])
	count(found) == 0
}

test_provenance_denies_slsa_from_an_untrusted_builder if {
	fact := slsa_fact("https://slsa.dev/provenance/v1", "https://laptop.example.com")
	found := trusting("supplychain.provenance", with_fact("provenance", fact), ["https://ci.example.com/release"])
	count(found) == 1
	some f in found
	contains(f.msg, "produced by builder https://laptop.example.com, not by a trusted builder")
}

test_provenance_trusts_no_builder_by_default if {
	fact := slsa_fact("https://slsa.dev/provenance/v1", "https://ci.example.com/release")
	count(judged("supplychain.provenance", with_fact("provenance", fact))) == 1
}

test_provenance_denies_an_unexpected_predicate_type if {
	fact := slsa_fact("https://slsa.dev/provenance/v0.2", "https://ci.example.com/release")
	found := trusting("supplychain.provenance", with_fact("provenance", fact), ["https://ci.example.com/release"])
	count(found) == 1
	some f in found
	contains(f.msg, "predicate type https://slsa.dev/provenance/v0.2")
}
