# evidence.missing.<fact>: a rule that needs a fact about the artifact cannot decide when the
# fact was not gathered, and "could not check" must never read as "passed". Each missing fact
# is one finding of its own rule (evidence.missing.signature, ...) naming the rules that need
# it, so a waiver excuses one fact and never the others. How much it weighs depends on the
# stage (data.fleetgate.config.evidence.enforce): a warning at pre-merge, so developers are not
# blocked by evidence only CI can gather, and a denial at pre-deploy. A stage the table does
# not list denies: the gate fails closed.
#
# A fact is not required where it does not apply: an evidence.required entry may be limited
# to some namespaces or tiers, and a manifest may say why it has no evaluation set
# (spec.evaluation.notApplicable: "<reason>"), which excuses the fairness fact.
package fleetgate.evidence

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.evidence

default enforcement := "deny"

enforcement := cfg.enforce[input.stage]

deny contains f if {
	enforcement != "warn"
	some f in missing
}

warn contains f if {
	enforcement == "warn"
	some f in missing
}

# One finding per required fact that is absent from input.facts, of the rule
# evidence.missing.<fact>. An optional fact (one the repository opts into, like cost) is absent
# when the repository did not opt in.
missing contains lib.finding(concat("", ["evidence.missing.", entry.fact]), msg, entry.field) if {
	some entry in cfg.required
	not object.get(entry, "optional", false)
	not input.facts[entry.fact]
	not out_of_scope(entry)
	# concat, not sprintf: a joined list passed to sprintf would print with quotes (see lib).
	msg := concat("", [
		"the ", entry.fact, " evidence was not gathered", because(entry.fact), ", so ",
		concat(", ", entry.rules), " cannot decide",
	])
}

# The evidence stage says why a fact is missing (input.absent: no artifactRoot for s3://,
# downloads off, no trust file), so the message tells the user what to fix.
because(fact) := concat("", [" (", input.absent[fact], ")"]) if is_string(input.absent[fact])

else := ""

# A verification that found nothing to verify (no bundle, no links), or a fact a collector
# could not reach, says why.
missing contains lib.finding(concat("", ["evidence.missing.", entry.fact]), msg, entry.field) if {
	some entry in cfg.required
	input.facts[entry.fact].status == "absent"
	not out_of_scope(entry)
	msg := concat("", [
		"the ", entry.fact, " evidence is absent (", input.facts[entry.fact].reason, "), so ",
		concat(", ", entry.rules), " cannot decide",
	])
}

# An entry of evidence.required may name the namespaces or tiers that need its fact, and a
# model with no evaluation set says why instead of waiving the missing fairness fact.
out_of_scope(entry) if {
	namespaces := entry.namespaces
	not input.manifest.metadata.namespace in namespaces
}

out_of_scope(entry) if {
	tiers := entry.tiers
	not tier in tiers
}

out_of_scope(entry) if {
	entry.fact == "fairness"
	reason := input.manifest.spec.evaluation.notApplicable
	is_string(reason)
	trim_space(reason) != ""
}

tier := object.get(input.manifest, ["spec", "tier"], data.fleetgate.config.cost.defaultTier)

# evidence.failed: a collector could not gather its fact from a reachable artifact (a hostile
# or malformed model, an unreadable bundle, a crash). That is never a pass: it denies at every
# stage, with the collector's message.
deny contains lib.finding("evidence.failed", msg, failed_field(name)) if {
	some name in object.keys(input.facts)
	error := input.facts[name].error
	is_string(error)
	msg := concat("", ["the ", name, " evidence could not be gathered: ", error])
}

failed_field(name) := entry.field if {
	some entry in cfg.required
	entry.fact == name
} else := "spec.modelUri"

# The size rules need the measured artifact size or a declared spec.sizeBytes.
missing contains lib.finding("evidence.missing.size", msg, "spec.sizeBytes") if {
	not lib.model_size
	msg := concat("", [
		"the model size is unknown (no measured artifact and no spec.sizeBytes), so ",
		concat(", ", size_rules), " cannot decide",
	])
}

size_rules := ["cost.model-size", "rollout.wifi-for-large"]
