# Rollout rules: how fast and under which device conditions a model reaches the fleet.
# Thresholds come from data.fleetgate.config.rollout; rollout.step-limit lives in step_limit.rego.
package fleetgate.rollout

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.rollout

strategy := object.get(input.manifest, ["spec", "updateStrategy"], {})

# Defaults for absent fields are rule constants so that messages print them without quotes.
unset := "unset"

any_network := "ANY"

# rollout.staged-required: customer-facing namespaces never ship to the whole fleet at once.
deny contains lib.finding("rollout.staged-required", msg, field) if {
	lib.strict_namespace
	kind := object.get(strategy, "type", unset)
	kind != "stagedRollout"
	field := lib.field_at(["spec", "updateStrategy", "type"])
	msg := sprintf(
		"namespace %s is strict and requires updateStrategy.type stagedRollout, but it is %v",
		[input.manifest.metadata.namespace, kind],
	)
}

# rollout.ladder: a staged rollout only sits at agreed percentages, so dashboards and
# step limits mean the same thing for every deployment. A version that declares no
# percentage reaches every device, so it counts as 100 % (see step_limit.rego).
deny contains lib.finding("rollout.ladder", msg, field) if {
	percentage := ladder_percentage
	not percentage in cfg.rungs
	field := lib.field_at(["spec", "updateStrategy", "rolloutPercentage"])
	msg := concat("", [
		sprintf("rolloutPercentage is %v %%", [percentage]), how_counted(input.manifest),
		sprintf(", which is not a rung of the rollout ladder %v", [cfg.rungs]),
	])
}

# The declared percentage, whatever the type; else what the version counts as.
ladder_percentage := p if {
	p := strategy.rolloutPercentage
	is_number(p)
} else := effective_percentage(input.manifest)

# rollout.battery-floor: an update that starts on a nearly empty battery can leave the
# device with a half-installed model. A missing minBatteryLevel means devices update at
# any level, so it counts as 0 %.
deny contains lib.finding("rollout.battery-floor", msg, field) if {
	level := object.get(strategy, "minBatteryLevel", 0)
	is_number(level)
	level < cfg.batteryFloor
	field := lib.field_at(["spec", "updateStrategy", "minBatteryLevel"])
	msg := sprintf(
		"minBatteryLevel is %v %%, below the floor of %v %%",
		[level, cfg.batteryFloor],
	)
}

# rollout.wifi-for-large: large downloads over cellular cost users money. A missing
# networkConstraint counts as ANY. An unknown model size is reported by evidence.missing.
deny contains lib.finding("rollout.wifi-for-large", msg, field) if {
	size := lib.model_size
	size > cfg.largeModelBytes
	network := object.get(strategy, "networkConstraint", any_network)
	network != "WIFI"
	field := lib.field_at(["spec", "updateStrategy", "networkConstraint"])
	msg := sprintf(
		"the model is %s (%s), above %s, so it must download over WIFI only, but networkConstraint is %v",
		[lib.mib(size), lib.model_size_source, lib.mib(cfg.largeModelBytes), network],
	)
}
