# Targeting rules over the measured model: it must run on the devices it targets, in the
# memory they have, with the numeric format the manifest declares.
package fleetgate.targeting

import rego.v1

import data.fleetgate.lib

model := input.facts.model

# targeting.memory-headroom: the app shares the device's memory; a model that takes more than
# its share gets the app killed. The peak is the inference process's peak resident memory,
# measured on the CI machine with the manifest's threads and batch.
deny contains lib.finding("targeting.memory-headroom", msg, "spec.targetDevices.minMemoryMB") if {
	peak := model.peak_memory_mb
	is_number(peak)
	memory := devices.minMemoryMB
	is_number(memory)
	peak > cfg.memoryHeadroom * memory
	msg := sprintf(
		"the model peaks at %v MB of memory, above %v of minMemoryMB %v (%v MB)",
		[lib.num(peak), lib.num(cfg.memoryHeadroom), memory, lib.num(cfg.memoryHeadroom * memory)],
	)
}

# Without minMemoryMB there is nothing to compare the measured peak with.
deny contains lib.finding("targeting.memory-headroom", msg, "spec.targetDevices") if {
	peak := model.peak_memory_mb
	is_number(peak)
	not is_number(object.get(devices, "minMemoryMB", null))
	msg := sprintf(
		"the model peaks at %v MB of memory, but targetDevices.minMemoryMB is not set, so the headroom cannot be checked",
		[lib.num(peak)],
	)
}

# targeting.runtime-ops: one finding per operator the target runtime cannot execute.
deny contains lib.finding("targeting.runtime-ops", msg, "spec.modelUri") if {
	some op in model.runtime.unsupported
	msg := sprintf(
		"the model uses operator %v (domain %v, opset %v), which %v cannot execute: %v",
		[op.op, op.domain, op.opset, model.runtime.target, unsupported_reason(op)],
	)
}

unsupported_reason(op) := op.reason if is_string(op.reason) else := no_kernel

no_kernel := "no kernel for it"

# targeting.coreml-os: a Core ML model's specification version fixes the oldest iOS that can
# load it (Core ML's own table, applied by the model collector as min_ios_major). A deployment
# whose minOSVersion is older ships the model to phones that cannot open it.
deny contains lib.finding("targeting.coreml-os", msg, "spec.targetDevices.minOSVersion") if {
	model.format == "coreml"
	needed := model.min_ios_major
	is_number(needed)
	declared := ios_major(devices.minOSVersion)
	declared < needed
	msg := sprintf(
		"the Core ML model (specification version %v) needs iOS %v or later, but minOSVersion is %v",
		[model.specification_version, needed, devices.minOSVersion],
	)
}

# A specification version newer than any iOS release fleetgate knows cannot be placed.
deny contains lib.finding("targeting.coreml-os", msg, "spec.modelUri") if {
	model.format == "coreml"
	not is_number(object.get(model, "min_ios_major", null))
	msg := sprintf(
		"the Core ML model's specification version %v maps to no iOS release fleetgate knows, so its minimum iOS cannot be checked",
		[model.specification_version],
	)
}

# Without minOSVersion nothing says which phones the Core ML model reaches.
deny contains lib.finding("targeting.coreml-os", msg, "spec.targetDevices") if {
	model.format == "coreml"
	is_number(model.min_ios_major)
	not devices.minOSVersion
	msg := sprintf(
		"the Core ML model needs iOS %v or later, but targetDevices.minOSVersion is not set, so the devices it reaches cannot be checked",
		[model.min_ios_major],
	)
}
