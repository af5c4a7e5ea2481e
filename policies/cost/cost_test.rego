package fleetgate.cost

import rego.v1

import data.fleetgate.fixtures as fx

# findings evaluates one rule of this area on a manifest, with no evidence.
findings(rule, manifest) := measured(rule, manifest, {})

# measured is findings with the given evidence facts.
measured(rule, manifest, facts) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as facts
}

sized(bytes) := fx.set_field(["spec", "sizeBytes"], bytes)

# cost.model-size

test_model_size_admits_exactly_the_standard_cap if {
	count(findings("cost.model-size", sized(52428800))) == 0
}

test_model_size_denies_one_byte_over_the_standard_cap if {
	found := findings("cost.model-size", sized(52428801))
	count(found) == 1
	some f in found
	f.field == "spec.sizeBytes"
	contains(f.msg, "the model is 50.0 MiB (declared), above the 50.0 MiB cap of tier standard")
}

test_model_size_defaults_to_the_standard_tier if {
	manifest := fx.patched([
		{"op": "remove", "path": ["spec", "tier"]},
		{"op": "add", "path": ["spec", "sizeBytes"], "value": 62914560},
	])
	some f in findings("cost.model-size", manifest)
	contains(f.msg, "the model is 60.0 MiB (declared), above the 50.0 MiB cap of tier standard")
}

test_model_size_applies_each_tier_cap if {
	lite := fx.patched([
		{"op": "add", "path": ["spec", "tier"], "value": "lite"},
		{"op": "add", "path": ["spec", "sizeBytes"], "value": 12582912},
	])
	some f in findings("cost.model-size", lite)
	contains(f.msg, "the model is 12.0 MiB (declared), above the 10.0 MiB cap of tier lite")
	premium := fx.patched([
		{"op": "add", "path": ["spec", "tier"], "value": "premium"},
		{"op": "add", "path": ["spec", "sizeBytes"], "value": 209715200},
	])
	count(findings("cost.model-size", premium)) == 0
}

test_model_size_prefers_the_measured_size if {
	found := measured("cost.model-size", sized(1048576), {"artifact": {"size": 62914560}})
	some f in found
	f.field == "spec.sizeBytes"
	contains(f.msg, "60.0 MiB (measured)")
}

test_model_size_points_at_the_artifact_without_a_declared_size if {
	manifest := fx.drop_field(["spec", "sizeBytes"])
	some f in measured("cost.model-size", manifest, {"artifact": {"size": 62914560}})
	f.field == "spec.modelUri"
}

test_model_size_is_silent_when_the_size_is_unknown if {
	count(findings("cost.model-size", fx.drop_field(["spec", "sizeBytes"]))) == 0
}

# cost.threads

test_threads_admits_exactly_the_maximums if {
	manifest := fx.patched([
		{"op": "add", "path": ["spec", "inferenceConfig", "numThreads"], "value": 4},
		{"op": "add", "path": ["spec", "inferenceConfig", "batchSize"], "value": 8},
	])
	count(findings("cost.threads", manifest)) == 0
}

test_threads_denies_one_thread_over_the_maximum if {
	found := findings("cost.threads", fx.set_field(["spec", "inferenceConfig", "numThreads"], 5))
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig.numThreads"
	contains(f.msg, "numThreads is 5, above the maximum of 4")
}

test_threads_denies_one_batch_over_the_maximum if {
	found := findings("cost.threads", fx.set_field(["spec", "inferenceConfig", "batchSize"], 9))
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig.batchSize"
	contains(f.msg, "batchSize is 9, above the maximum of 8")
}

test_threads_reports_threads_and_batch_separately if {
	manifest := fx.patched([
		{"op": "add", "path": ["spec", "inferenceConfig", "numThreads"], "value": 16},
		{"op": "add", "path": ["spec", "inferenceConfig", "batchSize"], "value": 64},
	])
	count(findings("cost.threads", manifest)) == 2
}

test_threads_reads_the_maximums_from_config if {
	manifest := fx.set_field(["spec", "inferenceConfig", "numThreads"], 8)
	found := findings("cost.threads", manifest) with data.fleetgate.config.cost.maxThreads as 8
	count(found) == 0
}
