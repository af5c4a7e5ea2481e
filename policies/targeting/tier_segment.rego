# targeting.tier-segment: a tier is made for device classes. The cost fact lists, per device
# class of the fleet inventory, the eligible segments a manifest targets (byClass); the tier
# mapping is policy data (data.fleetgate.config.cost.tierClasses).
package fleetgate.targeting

import rego.v1

import data.fleetgate.lib

tier_cfg := data.fleetgate.config.cost

model_tier := object.get(input.manifest.spec, "tier", tier_cfg.defaultTier)

classes := input.facts.cost.byClass


# A model may not target device classes its tier is not made for (a premium model on
# low-class phones).
deny contains lib.finding("targeting.tier-segment", msg, lib.field_at(["spec", "targetDevices"])) if {
	allowed := tier_cfg.tierClasses[model_tier]
	some class in class_order
	not class in allowed
	seen := classes[class]
	seen.devices > 0
	msg := sprintf(
		"the %v model targets %v %v-class devices (%v segments of the fleet inventory); tier %v is made for classes %v",
		[model_tier, seen.devices, class, seen.segments, model_tier, allowed],
	)
}

# A lite model must fit the memory of the lowest class it targets: its measured peak memory
# (else its size) within the memory headroom of that class's smallest segment.
deny contains lib.finding("targeting.tier-segment", msg, "spec.tier") if {
	model_tier == "lite"
	class := lowest_class
	seen := classes[class]
	budget := data.fleetgate.config.targeting.memoryHeadroom * seen.minMemoryMB
	needed := lite_memory
	needed.mb > budget
	msg := sprintf(
		"the lite model needs %v MB of memory (%v), above %v of the %v MB of the smallest %v-class segment it targets (%v MB)",
		[tenth(needed.mb), needed.source, data.fleetgate.config.targeting.memoryHeadroom, seen.minMemoryMB, class, tenth(budget)],
	)
}

# Device classes from the least to the most capable (the inventory schema's enumeration).
class_order := ["low", "mid", "high"]

# The least capable device class the change reaches.
lowest_class := [class | some class in class_order; classes[class].devices > 0][0]

lite_memory := {"mb": input.facts.model.peak_memory_mb, "source": "measured peak"} if {
	is_number(input.facts.model.peak_memory_mb)
} else := {"mb": lib.model_size / 1048576, "source": "model size, no measured peak"} if {
	is_number(lib.model_size)
}

# tenth renders megabytes to one decimal, the same in every engine (lib.num after rounding).
tenth(mb) := lib.num(round(mb * 10) / 10)
