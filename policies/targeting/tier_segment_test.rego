package fleetgate.targeting

import rego.v1

import data.fleetgate.fixtures as fx

# fleet gives the cost fact's byClass for the given {class: [devices, minMemoryMB]}.
fleet(spec) := {"cost": {"byClass": {class: {"segments": 2, "devices": v[0], "reached": v[0] / 10, "minMemoryMB": v[1]} |
	some class, v in spec
}}}

tiered(tier, facts) := found if {
	manifest := fx.set_field(["spec", "tier"], tier)
	found := fx.only(deny, "targeting.tier-segment") with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as facts
}

test_tier_segment_admits_a_premium_model_on_high_class_devices if {
	count(tiered("premium", fleet({"high": [1000, 8192], "low": [0, 2048]}))) == 0
}

test_tier_segment_denies_a_premium_model_on_low_class_devices if {
	found := tiered("premium", fleet({"high": [1000, 8192], "low": [500, 2048]}))
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices"
	f.msg == "the premium model targets 500 low-class devices (2 segments of the fleet inventory); tier premium is made for classes [\"high\"]"
}

test_tier_segment_reads_the_tier_classes_from_config if {
	facts := fleet({"mid": [1000, 4096]})
	count(tiered("premium", facts)) == 1
	found := tiered("premium", facts) with data.fleetgate.config.cost.tierClasses.premium as ["mid", "high"]
	count(found) == 0
}

test_tier_segment_admits_a_lite_model_that_fits_the_lowest_class if {
	# 512 MB measured peak; headroom 0.25 of the low class's 2048 MB is 512 MB.
	facts := object.union(fleet({"low": [1000, 2048], "high": [10, 1024]}), {"model": {"peak_memory_mb": 512}})
	count(tiered("lite", facts)) == 0
}

test_tier_segment_denies_a_lite_model_above_the_lowest_class_memory if {
	facts := object.union(fleet({"low": [1000, 2048], "mid": [10, 1024]}), {"model": {"peak_memory_mb": 512.5}})
	found := tiered("lite", facts)
	count(found) == 1
	some f in found
	f.field == "spec.tier"
	f.msg == "the lite model needs 512.5 MB of memory (measured peak), above 0.25 of the 2048 MB of the smallest low-class segment it targets (512 MB)"
}

test_tier_segment_uses_the_model_size_without_a_measured_peak if {
	# The fixture declares 12 MiB; a 40 MB low class allows 10 MB.
	found := tiered("lite", fleet({"low": [1000, 40]}))
	some f in found
	contains(f.msg, "needs 12 MB of memory (model size, no measured peak)")
}

test_tier_segment_is_silent_without_the_cost_fact if {
	count(tiered("premium", {})) == 0
	count(tiered("lite", {})) == 0
}
