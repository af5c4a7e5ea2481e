package fleetgate.evidence

import rego.v1

import data.fleetgate.fixtures as fx

unreadable := "the previous artifact file:models/old.onnx cannot be read (models/old.onnx is not in the base commit 0123456789ab)"

uncompared := json.patch(all_facts, [
	{"op": "replace", "path": ["latency"], "value": {"p50_ms": 3, "base": {"error": unreadable}}},
	{"op": "replace", "path": ["fairness"], "value": {"accuracy": 0.9, "base": {"error": unreadable}}},
])

failed_at(stage, facts) := [f | some f in outcome(stage, facts).deny; f.rule == "evidence.failed"]

test_an_unreadable_base_fails_both_comparisons if {
	failed := failed_at("pre-merge", uncompared)
	count(failed) == 2
	every f in failed {
		f.field == "spec.modelUri"
		endswith(f.msg, concat("", [" cannot compare with the previous artifact, so it cannot decide: ", unreadable]))
	}
	some latency in failed
	startswith(latency.msg, "cost.latency-regression ")
	some fairness in failed
	startswith(fairness.msg, "responsible.accuracy-drop ")
}

test_an_unreadable_base_fails_before_deploy_too if {
	count(failed_at("pre-deploy", uncompared)) == 2
}

test_a_compared_base_is_not_a_failure if {
	compared := json.patch(all_facts, [{"op": "replace", "path": ["latency"], "value": {"p50_ms": 3, "base": {"p50_ms": 2}}}])
	count(failed_at("pre-deploy", compared)) == 0
}
