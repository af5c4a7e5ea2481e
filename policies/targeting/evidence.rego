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
