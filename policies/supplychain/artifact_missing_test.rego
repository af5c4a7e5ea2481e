package fleetgate.supplychain

import rego.v1

import data.fleetgate.fixtures as fx

missing_file := {"artifact": {"uri": "file:models/gone.onnx", "path": "models/gone.onnx", "missing": true}}

missing_at(stage, facts) := found if {
	found := fx.only(deny, "supplychain.artifact-missing") with input.manifest as fx.manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as stage
		with input.facts as facts
}

test_artifact_missing_denies_at_pre_merge if {
	found := missing_at("pre-merge", missing_file)
	count(found) == 1
	some f in found
	f.field == "spec.modelUri"
	f.msg == "spec.modelUri names models/gone.onnx, which does not exist in the repository"
}

test_artifact_missing_denies_at_pre_deploy if {
	count(missing_at("pre-deploy", missing_file)) == 1
}

test_artifact_missing_ignores_a_measured_artifact if {
	count(judged("supplychain.artifact-missing", {"artifact": measured})) == 0
}
