package fleetgate.evidence

import rego.v1

import data.fleetgate.fixtures as fx

all_facts := {
	"artifact": {"digest": fx.checksum, "size": 12582912, "path": "model.onnx"},
	"signature": {},
	"provenance": {},
	"model": {"quantization": "int8"},
	"latency": {},
	"fairness": {},
}

# evaluate runs this area on one manifest at a stage with the given facts.
# Every overriding value arrives as a function argument: the embedded engine ignores a
# `with input.x as <rule>` whose value is a direct reference to another rule.
evaluate(stage, manifest, facts) := {"deny": denied, "warn": warned} if {
	denied := deny with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as fx.clean(stage)
		with input.facts as facts
	warned := warn with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as fx.clean(stage)
		with input.facts as facts
}

# outcome evaluates the fixture manifest.
outcome(stage, facts) := evaluate(stage, fx.manifest, facts)

test_missing_facts_warn_at_pre_merge if {
	result := outcome("pre-merge", {})
	count(result.deny) == 0
	count(result.warn) == 6
	{f.rule | some f in result.warn} == {
		"evidence.missing.artifact", "evidence.missing.signature", "evidence.missing.provenance",
		"evidence.missing.model", "evidence.missing.latency", "evidence.missing.fairness",
	}
}

test_missing_facts_deny_at_pre_deploy if {
	result := outcome("pre-deploy", {})
	count(result.warn) == 0
	count(result.deny) == 6
}

test_unknown_stage_denies if {
	result := outcome("post-deploy", {})
	count(result.warn) == 0
	count(result.deny) == 6
}

test_missing_stage_denies if {
	denied := stageless(fx.manifest)
	count(denied) == 6
}

stageless(manifest) := denied if {
	denied := deny with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.facts as {}
}

test_each_missing_fact_names_the_rules_that_need_it if {
	result := outcome("pre-deploy", {})
	some f in result.deny
	f.field == "spec.modelUri"
	contains(f.msg, "the signature evidence was not gathered")
	contains(f.msg, "supplychain.signature")
	some g in result.deny
	g.field == "spec.evaluation"
	contains(g.msg, "the fairness evidence was not gathered")
	contains(g.msg, "responsible.demographic-parity")
	some h in result.deny
	h.field == "spec.inferenceConfig"
	contains(h.msg, "targeting.memory-headroom")
}

test_a_missing_fact_says_why_when_the_evidence_stage_knows if {
	why := "s3:// artifacts are read from a mirror and evidence.artifactRoot is not set"
	denied := deny with input.manifest as fx.manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as {}
		with input.absent as {"artifact": why}
	some f in denied
	f.rule == "evidence.missing.artifact"
	f.msg == concat("", [
		"the artifact evidence was not gathered (", why,
		"), so supplychain.checksum-match cannot decide",
	])
	some g in denied
	g.rule == "evidence.missing.signature"
	not contains(g.msg, "(")
}

test_gathered_facts_are_not_missing if {
	result := outcome("pre-deploy", all_facts)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_only_the_absent_fact_is_reported if {
	result := outcome("pre-deploy", object.remove(all_facts, ["latency"]))
	count(result.deny) == 1
	some f in result.deny
	f.field == "spec.inferenceConfig"
	f.msg == "the latency evidence was not gathered, so cost.inference-budget, cost.latency-regression, targeting.memory-headroom cannot decide"
}

test_an_absent_verification_is_missing_and_says_where_it_looked if {
	facts := json.patch(all_facts, [{"op": "add", "path": "/signature", "value": {"status": "absent", "reason": "no signature bundle at models/m.onnx.sig"}}])
	result := outcome("pre-deploy", facts)
	count(result.deny) == 1
	some f in result.deny
	f.rule == "evidence.missing.signature"
	f.field == "spec.modelUri"
	f.msg == "the signature evidence is absent (no signature bundle at models/m.onnx.sig), so supplychain.signature cannot decide"
}

test_an_absent_verification_only_warns_at_pre_merge if {
	facts := json.patch(all_facts, [{"op": "add", "path": "/provenance", "value": {"status": "absent", "reason": "no links"}}])
	result := outcome("pre-merge", facts)
	count(result.deny) == 0
	count(result.warn) == 1
}

test_a_failed_collector_denies_at_every_stage if {
	facts := json.patch(all_facts, [{"op": "add", "path": "/model", "value": {"error": "models/m.onnx: external data path ../x escapes the model's folder"}}])
	every stage in ["pre-merge", "pre-deploy"] {
		result := outcome(stage, facts)
		count(result.warn) == 0
		count(result.deny) == 1
		some f in result.deny
		f.rule == "evidence.failed"
		f.field == "spec.inferenceConfig.quantization"
		f.msg == "the model evidence could not be gathered: models/m.onnx: external data path ../x escapes the model's folder"
	}
}

test_an_unreachable_artifact_error_points_at_the_uri if {
	facts := {"artifact": {"uri": "file:../m.onnx", "error": "file:../m.onnx: the artifact path leaves the repository"}}
	result := outcome("pre-merge", facts)
	some f in result.deny
	f.rule == "evidence.failed"
	f.field == "spec.modelUri"
}

test_enforcement_reads_the_stage_table_from_config if {
	result := outcome("pre-deploy", {}) with data.fleetgate.config.evidence.enforce as {"pre-deploy": "warn"}
	count(result.deny) == 0
	count(result.warn) == 6
}

test_unknown_model_size_is_missing_evidence if {
	denied := evaluate("pre-deploy", fx.drop_field(["spec", "sizeBytes"]), object.remove(all_facts, ["artifact"])).deny
	some f in denied
	f.rule == "evidence.missing.size"
	f.field == "spec.sizeBytes"
	f.msg == "the model size is unknown (no measured artifact and no spec.sizeBytes), so cost.model-size, rollout.wifi-for-large cannot decide"
	count(denied) == 2
}

test_a_declared_size_is_enough if {
	result := outcome("pre-deploy", object.remove(all_facts, ["artifact"]))
	count(result.deny) == 1
	every f in result.deny {
		f.field == "spec.modelUri"
	}
}

test_a_measured_size_is_enough if {
	result := evaluate("pre-deploy", fx.drop_field(["spec", "sizeBytes"]), all_facts)
	count(result.deny) == 0
}

test_a_manifest_without_an_evaluation_set_says_why_instead_of_a_waiver if {
	manifest := fx.set_field(["spec", "evaluation"], {"notApplicable": "image model: no tabular evaluation set"})
	result := evaluate("pre-deploy", manifest, object.remove(all_facts, ["fairness"]))
	count(result.deny) == 0
}

test_a_blank_not_applicable_reason_excuses_nothing if {
	manifest := fx.set_field(["spec", "evaluation"], {"notApplicable": "  "})
	result := evaluate("pre-deploy", manifest, object.remove(all_facts, ["fairness"]))
	{f.rule | some f in result.deny} == {"evidence.missing.fairness"}
}

test_not_applicable_excuses_only_the_fairness_fact if {
	manifest := fx.set_field(["spec", "evaluation"], {"notApplicable": "image model"})
	result := evaluate("pre-deploy", manifest, {})
	count(result.deny) == 5
	not "evidence.missing.fairness" in {f.rule | some f in result.deny}
}

scoped := [
	{"fact": "latency", "field": "spec.inferenceConfig", "rules": ["cost.inference-budget"], "namespaces": ["production"]},
	{"fact": "fairness", "field": "spec.evaluation", "rules": ["responsible.demographic-parity"], "tiers": ["premium"]},
]

test_a_required_fact_may_be_limited_to_namespaces if {
	count(denied_when_required(fx.set_field(["metadata", "namespace"], "dev"), scoped)) == 0
	{f.rule | some f in denied_when_required(fx.manifest, scoped)} == {"evidence.missing.latency"}
}

test_a_required_fact_may_be_limited_to_tiers if {
	found := denied_when_required(fx.set_field(["spec", "tier"], "premium"), scoped)
	{f.rule | some f in found} == {"evidence.missing.latency", "evidence.missing.fairness"}
}

# denied_when_required is what a manifest with no facts is denied at pre-deploy, given
# evidence.required (an argument: see evaluate).
denied_when_required(manifest, entries) := denied if {
	denied := deny with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as {}
		with data.fleetgate.config.evidence.required as entries
}

test_a_fact_a_collector_could_not_reach_says_why if {
	facts := {"artifact": {"status": "absent", "reason": "no evidence.artifactRoot for s3:// URIs"}}
	result := outcome("pre-deploy", facts)
	some f in result.deny
	f.rule == "evidence.missing.artifact"
	f.msg == "the artifact evidence is absent (no evidence.artifactRoot for s3:// URIs), so supplychain.checksum-match cannot decide"
}

# An optional fact (cost: only when fleetgate.yaml names a fleet) is not missing when absent...
test_an_optional_fact_is_not_missing_when_not_gathered if {
	result := outcome("pre-deploy", all_facts)
	every f in result.deny {
		not contains(f.msg, "cost")
	}
}

# ...but is, naming the file, when its collector says the fleet file is absent.
test_an_absent_optional_fact_is_missing_and_names_the_file if {
	facts := json.patch(all_facts, [{"op": "add", "path": "/cost", "value": {"status": "absent", "reason": "the fleet inventory fleet/inventory.yaml is not in commit 0123456789ab"}}])
	result := outcome("pre-deploy", facts)
	count(result.deny) == 1
	some f in result.deny
	f.rule == "evidence.missing.cost"
	f.field == "spec.updateStrategy"
	startswith(f.msg, "the cost evidence is absent (the fleet inventory fleet/inventory.yaml is not in commit 0123456789ab), so cost.envelope-change")
}
