# Supply-chain rules over gathered evidence: the bytes are the ones the manifest pins, signed
# by a trusted signer, and produced by the expected chain of steps. The collectors verify the
# cryptography; these rules decide what the verified facts must say. A fact that is absent is
# reported by evidence.missing, one that could not be gathered by evidence.failed.
package fleetgate.supplychain

import rego.v1

import data.fleetgate.lib

# supplychain.checksum-match: the artifact fleetgate measured is not the one the manifest pins.
deny contains lib.finding("supplychain.checksum-match", msg, "spec.checksum") if {
	is_string(input.facts.artifact.digest)
	input.facts.artifact.digest != input.manifest.spec.checksum
	msg := sprintf(
		"the artifact at %v has digest %v, not the checksum %v the manifest pins",
		[input.facts.artifact.path, input.facts.artifact.digest, input.manifest.spec.checksum],
	)
}

# supplychain.signature: the signature over the artifact did not verify (tampered bytes,
# an untrusted signer or issuer, a foreign trust root, a bundle for another file...).
deny contains lib.finding("supplychain.signature", msg, "spec.modelUri") if {
	input.facts.signature.status == "failed"
	msg := sprintf("the artifact's signature did not verify: %v", [input.facts.signature.reason])
}

# A fact with an unknown status is not a verification: deny rather than guess.
deny contains lib.finding("supplychain.signature", msg, "spec.modelUri") if {
	status := input.facts.signature.status
	not status in {"verified", "failed", "absent"}
	msg := sprintf("the signature evidence has an unknown status %v", [status])
}

# supplychain.provenance: the in-toto layout or SLSA statement did not verify.
deny contains lib.finding("supplychain.provenance", msg, "spec.modelUri") if {
	input.facts.provenance.status == "failed"
	msg := sprintf("the artifact's provenance did not verify: %v", [input.facts.provenance.reason])
}

deny contains lib.finding("supplychain.provenance", msg, "spec.modelUri") if {
	status := input.facts.provenance.status
	not status in {"verified", "failed", "absent"}
	msg := sprintf("the provenance evidence has an unknown status %v", [status])
}

# The final step of the supply chain must have produced exactly these bytes: a model swapped
# after the last recorded step is refused.
deny contains lib.finding("supplychain.provenance", msg, "spec.modelUri") if {
	input.facts.provenance.status == "verified"
	product := input.facts.provenance.product_digest
	product != input.facts.artifact.digest
	msg := sprintf(
		"the final supply-chain step %v produced %v, but the artifact is %v",
		[input.facts.provenance.final_step, product, input.facts.artifact.digest],
	)
}

slsa := input.facts.provenance.slsa

deny contains lib.finding("supplychain.provenance", msg, "spec.modelUri") if {
	input.facts.provenance.status == "verified"
	is_object(slsa)
	predicate_type := object.get(slsa, "predicate_type", null)
	not predicate_type in cfg.slsa.predicateTypes
	msg := sprintf(
		"the SLSA statement has predicate type %v, not one of %v",
		[predicate_type, cfg.slsa.predicateTypes],
	)
}

deny contains lib.finding("supplychain.provenance", msg, "spec.modelUri") if {
	input.facts.provenance.status == "verified"
	is_object(slsa)
	builder := object.get(slsa, "builder_id", null)
	not builder in cfg.slsa.builderIds
	msg := sprintf(
		"the SLSA statement was produced by builder %v, not by a trusted builder %v (supplychain.slsa.builderIds)",
		[builder, cfg.slsa.builderIds],
	)
}
