package fleetgate.rollout

import rego.v1

import data.fleetgate.fixtures as fx

# findings evaluates one rule of this area on a manifest added at pre-merge, with no evidence.
findings(rule, manifest) := measured(rule, manifest, {})

# measured is findings with the given evidence facts.
measured(rule, manifest, facts) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as facts
}

sixty_mib := 62914560

# rollout.staged-required

test_staged_required_denies_immediate_in_strict_namespace if {
	found := findings("rollout.staged-required", fx.set_field(["spec", "updateStrategy", "type"], "immediate"))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.type"
	contains(f.msg, "namespace production is strict")
	contains(f.msg, "but it is immediate")
}

test_staged_required_admits_staged_rollout_in_strict_namespace if {
	count(findings("rollout.staged-required", fx.manifest)) == 0
}

test_staged_required_admits_immediate_outside_strict_namespaces if {
	manifest := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "dev"},
		{"op": "add", "path": ["spec", "updateStrategy", "type"], "value": "immediate"},
	])
	count(findings("rollout.staged-required", manifest)) == 0
}

test_staged_required_missing_type_points_at_update_strategy if {
	some f in findings("rollout.staged-required", fx.drop_field(["spec", "updateStrategy", "type"]))
	f.field == "spec.updateStrategy"
	contains(f.msg, "but it is unset")
}

test_staged_required_reads_strict_namespaces_from_config if {
	manifest := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "staging"},
		{"op": "add", "path": ["spec", "updateStrategy", "type"], "value": "immediate"},
	])
	found := findings("rollout.staged-required", manifest) with data.fleetgate.config.strictNamespaces as ["staging"]
	count(found) == 1
}

# rollout.ladder

test_ladder_admits_every_rung if {
	every rung in [1, 5, 10, 25, 50, 100] {
		count(findings("rollout.ladder", fx.set_field(["spec", "updateStrategy", "rolloutPercentage"], rung))) == 0
	}
}

test_ladder_denies_a_percentage_between_rungs if {
	found := findings("rollout.ladder", fx.set_field(["spec", "updateStrategy", "rolloutPercentage"], 20))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.rolloutPercentage"
	contains(f.msg, "rolloutPercentage is 20 %")
	contains(f.msg, "ladder [1, 5, 10, 25, 50, 100]")
}

test_ladder_admits_a_missing_percentage if {
	count(findings("rollout.ladder", fx.drop_field(["spec", "updateStrategy", "rolloutPercentage"]))) == 0
}

test_ladder_reads_rungs_from_config if {
	manifest := fx.set_field(["spec", "updateStrategy", "rolloutPercentage"], 20)
	found := findings("rollout.ladder", manifest) with data.fleetgate.config.rollout.rungs as [20, 100]
	count(found) == 0
}

# rollout.battery-floor

test_battery_floor_admits_exactly_the_floor if {
	count(findings("rollout.battery-floor", fx.set_field(["spec", "updateStrategy", "minBatteryLevel"], 20))) == 0
}

test_battery_floor_denies_one_below_the_floor if {
	found := findings("rollout.battery-floor", fx.set_field(["spec", "updateStrategy", "minBatteryLevel"], 19))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.minBatteryLevel"
	contains(f.msg, "minBatteryLevel is 19 %, below the floor of 20 %")
}

test_battery_floor_counts_a_missing_level_as_zero if {
	some f in findings("rollout.battery-floor", fx.drop_field(["spec", "updateStrategy", "minBatteryLevel"]))
	f.field == "spec.updateStrategy"
	contains(f.msg, "minBatteryLevel is 0 %")
}

# rollout.wifi-for-large

large_on_any := fx.patched([
	{"op": "add", "path": ["spec", "sizeBytes"], "value": sixty_mib},
	{"op": "add", "path": ["spec", "updateStrategy", "networkConstraint"], "value": "ANY"},
])

test_wifi_for_large_denies_a_large_model_on_any_network if {
	found := findings("rollout.wifi-for-large", large_on_any)
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.networkConstraint"
	contains(f.msg, "60.0 MiB (declared), above 50.0 MiB")
	contains(f.msg, "networkConstraint is ANY")
}

test_wifi_for_large_admits_exactly_the_limit_on_any_network if {
	manifest := json.patch(large_on_any, [{"op": "add", "path": ["spec", "sizeBytes"], "value": 52428800}])
	count(findings("rollout.wifi-for-large", manifest)) == 0
}

test_wifi_for_large_admits_a_large_model_on_wifi if {
	count(findings("rollout.wifi-for-large", fx.set_field(["spec", "sizeBytes"], sixty_mib))) == 0
}

test_wifi_for_large_counts_a_missing_constraint_as_any if {
	manifest := json.patch(large_on_any, [{"op": "remove", "path": ["spec", "updateStrategy", "networkConstraint"]}])
	some f in findings("rollout.wifi-for-large", manifest)
	f.field == "spec.updateStrategy"
	contains(f.msg, "networkConstraint is ANY")
}

test_wifi_for_large_prefers_the_measured_size if {
	manifest := fx.set_field(["spec", "updateStrategy", "networkConstraint"], "ANY")
	found := measured("rollout.wifi-for-large", manifest, {"artifact": {"size": sixty_mib}})
	some f in found
	contains(f.msg, "60.0 MiB (measured)")
}

test_wifi_for_large_is_silent_when_the_size_is_unknown if {
	manifest := json.patch(large_on_any, [{"op": "remove", "path": ["spec", "sizeBytes"]}])
	count(findings("rollout.wifi-for-large", manifest)) == 0
}

test_ladder_counts_a_missing_percentage_as_full_rollout if {
	manifest := fx.drop_field(["spec", "updateStrategy", "rolloutPercentage"])
	found := findings("rollout.ladder", manifest) with data.fleetgate.config.rollout.rungs as [1, 5, 10]
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy"
	contains(f.msg, "rolloutPercentage is 100 % (no rolloutPercentage counts as 100 %)")
}
