package fleetgate.targeting

import rego.v1

import data.fleetgate.fixtures as fx

model_fact(extra) := object.union({"quantization": "int8", "runtime": {"target": "onnxruntime 1.32.0 CPUExecutionProvider", "unsupported": []}}, fx.clean(extra))

memory(manifest, peak) := measured("targeting.memory-headroom", manifest, {"model": model_fact({"peak_memory_mb": peak})})

# targeting.memory-headroom (fixture: minMemoryMB 4096, headroom 0.25 -> 1024 MB)

test_memory_headroom_admits_exactly_the_headroom if {
	count(memory(fx.manifest, 1024)) == 0
}

test_memory_headroom_denies_above_the_headroom if {
	found := memory(fx.manifest, 1024.5)
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices.minMemoryMB"
	f.msg == "the model peaks at 1024.5 MB of memory, above 0.25 of minMemoryMB 4096 (1024 MB)"
}

test_memory_headroom_follows_the_configured_share if {
	found := memory(fx.manifest, 1500) with data.fleetgate.config.targeting.memoryHeadroom as 0.5
	count(found) == 0
}

test_memory_headroom_denies_when_the_devices_memory_is_unknown if {
	found := memory(fx.drop_field(["spec", "targetDevices", "minMemoryMB"]), 10)
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices"
	contains(f.msg, "minMemoryMB is not set")
}

test_memory_headroom_needs_a_measurement if {
	count(measured("targeting.memory-headroom", fx.manifest, {"model": model_fact({})})) == 0
}

# targeting.runtime-ops

test_runtime_ops_admits_a_model_the_runtime_runs if {
	count(measured("targeting.runtime-ops", fx.manifest, {"model": model_fact({})})) == 0
}

test_runtime_ops_denies_each_unsupported_operator if {
	runtime := {"target": "onnxruntime 1.32.0 CPUExecutionProvider", "unsupported": [
		{"domain": "com.example", "op": "FancyOp", "opset": 1, "reason": "no CPU kernel"},
		{"domain": "ai.onnx", "op": "Conv", "opset": 30},
	]}
	found := measured("targeting.runtime-ops", fx.manifest, {"model": model_fact({"runtime": runtime})})
	count(found) == 2
	some f in found
	f.field == "spec.modelUri"
	f.msg == "the model uses operator FancyOp (domain com.example, opset 1), which onnxruntime 1.32.0 CPUExecutionProvider cannot execute: no CPU kernel"
	some g in found
	g.msg == "the model uses operator Conv (domain ai.onnx, opset 30), which onnxruntime 1.32.0 CPUExecutionProvider cannot execute: no kernel for it"
}

# targeting.quantization, declared vs measured

test_quantization_admits_a_model_that_is_what_it_declares if {
	count(measured("targeting.quantization", fx.manifest, {"model": model_fact({})})) == 0
}

test_quantization_denies_a_model_declared_int8_that_is_not if {
	facts := {"model": model_fact({"quantization": "fp32", "quantized_weight_share": 0, "compute_nodes": 4, "quantized_compute_nodes": 0})}
	found := measured("targeting.quantization", fx.manifest, facts)
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig.quantization"
	f.msg == "inferenceConfig.quantization declares int8 but the model artifact is fp32 (0 percent of weight bytes stored quantized, 0 of 4 compute nodes run quantized)"
}

# targeting.coreml-os (fixture: minOSVersion iOS16)

coreml(version, needed) := {"model": model_fact({"format": "coreml", "specification_version": version, "min_ios_major": needed})}

test_coreml_os_admits_a_model_the_declared_ios_loads if {
	count(measured("targeting.coreml-os", ios("iOS16"), coreml(7, 16))) == 0
	count(measured("targeting.coreml-os", ios("iOS17"), coreml(7, 16))) == 0
}

test_coreml_os_denies_a_model_newer_than_the_declared_ios if {
	found := measured("targeting.coreml-os", ios("iOS16"), coreml(8, 17))
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices.minOSVersion"
	f.msg == "the Core ML model (specification version 8) needs iOS 17 or later, but minOSVersion is iOS16"
}

test_coreml_os_denies_an_unknown_specification_version if {
	some f in measured("targeting.coreml-os", ios("iOS26"), coreml(11, null))
	f.field == "spec.modelUri"
	contains(f.msg, "specification version 11 maps to no iOS release fleetgate knows")
}

test_coreml_os_denies_when_no_minimum_os_is_declared if {
	some f in measured("targeting.coreml-os", fx.drop_field(["spec", "targetDevices", "minOSVersion"]), coreml(7, 16))
	f.field == "spec.targetDevices"
	contains(f.msg, "minOSVersion is not set")
}

test_coreml_os_leaves_other_formats_and_malformed_versions_to_other_rules if {
	tflite := {"model": model_fact({"format": "tflite", "min_ios_major": 99})}
	count(measured("targeting.coreml-os", ios("iOS15"), tflite)) == 0
	count(measured("targeting.coreml-os", ios("ios16"), coreml(7, 16))) == 0
}
