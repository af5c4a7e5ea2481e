package fleetgate.evidence

import rego.v1

import data.fleetgate.lib.fixtures as fx

all_facts := {
	"artifact": {"digest": fx.checksum, "size": 12582912, "path": "model.onnx"},
	"signature": {},
	"provenance": {},
	"model": {"quantization": "int8"},
	"latency": {},
	"fairness": {},
}

# outcome evaluates this area at a stage with the given facts on the fixture manifest.
outcome(stage, facts) := {"deny": denied, "warn": warned} if {
	denied := deny with input.manifest as fx.manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as fx.clean(stage)
		with input.facts as facts
	warned := warn with input.manifest as fx.manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as fx.clean(stage)
		with input.facts as facts
}

test_missing_facts_warn_at_pre_merge if {
	result := outcome("pre-merge", {})
	count(result.deny) == 0
	count(result.warn) == 6
	every f in result.warn {
		f.rule == "evidence.missing"
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
	denied := deny with input.manifest as fx.manifest
		with input.change as "added"
		with input.previous as null
		with input.facts as {}
	count(denied) == 6
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
	h.field == "spec.inferenceConfig.quantization"
	contains(h.msg, "targeting.memory-headroom")
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
	contains(f.msg, "the latency evidence was not gathered")
	contains(f.msg, "cost.inference-budget")
	contains(f.msg, "cost.latency-regression")
}

test_enforcement_reads_the_stage_table_from_config if {
	result := outcome("pre-deploy", {}) with data.fleetgate.config.evidence.enforce as {"pre-deploy": "warn"}
	count(result.deny) == 0
	count(result.warn) == 6
}

test_unknown_model_size_is_missing_evidence if {
	denied := deny with input.manifest as fx.drop_field(["spec", "sizeBytes"])
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as object.remove(all_facts, ["artifact"])
	some f in denied
	f.rule == "evidence.missing"
	f.field == "spec.sizeBytes"
	contains(f.msg, "the model size is unknown")
	contains(f.msg, "cost.model-size")
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
	denied := deny with input.manifest as fx.drop_field(["spec", "sizeBytes"])
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as all_facts
	count(denied) == 0
}
