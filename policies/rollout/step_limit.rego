# rollout.step-limit: a rollout widens one rung at a time, and a new artifact starts low.
#
#   (a) vs the base version, the rollout may rise at most to the first rung above the
#       previous percentage (5 -> 10 is fine, 5 -> 25 is not; from 7, the next allowed step
#       is 10). Lowering a rollout is always allowed.
#   (b) a newly added deployment, or one whose artifact changed (any field listed in
#       rollout.newArtifactFields), starts at no more than rollout.initialMax.
#
# A rollback is neither: a change back to an artifact the base branch already deployed (the
# rollback fact, from the base branch's history) may go up to the highest percentage that
# artifact reached there. Devices already ran it; returning to it is the remedy, not a rollout.
#
# An immediate rollout reaches every device at once, so it counts as 100 % here whatever
# rolloutPercentage says: switching to immediate is a jump to the top of the ladder, and a
# new artifact shipped immediately exceeds the initial maximum. A version that declares no
# percentage (no updateStrategy, or a percentage removed) also counts as 100 %, on either
# side: otherwise removing the percentage in one change and setting 100 in the next would
# reach the whole fleet without ever taking a step. Teams that really mean it waive the
# finding for their deployment.
package fleetgate.rollout

import rego.v1

import data.fleetgate.lib

# effective_percentage is the share of the fleet a manifest version reaches: 100 for an
# immediate rollout or when no percentage is declared (fail closed).
effective_percentage(doc) := p if {
	object.get(doc, ["spec", "updateStrategy", "type"], null) != "immediate"
	p := object.get(doc, ["spec", "updateStrategy", "rolloutPercentage"], null)
	is_number(p)
} else := 100

# how_counted says why a version counts as 100 % when it does not declare it.
how_counted(doc) := " (updateStrategy.type immediate counts as 100 %)" if {
	object.get(doc, ["spec", "updateStrategy", "type"], null) == "immediate"
} else := " (no rolloutPercentage counts as 100 %)" if {
	not is_number(object.get(doc, ["spec", "updateStrategy", "rolloutPercentage"], null))
} else := ""

# The head field a step-limit finding points at: the type that implies 100 %, the
# percentage, or the nearest present parent of a missing percentage.
percentage_field := "spec.updateStrategy.type" if {
	strategy.type == "immediate"
} else := lib.field_at(["spec", "updateStrategy", "rolloutPercentage"])

# next_step is the highest percentage allowed after `previous`: the first rung above it, or
# `previous` itself when it is already at (or above) the top rung. The lowest rung is found
# with comparisons, not min(): the embedded engine's min/max/sort order numbers as text
# (min({50, 100}) == 100).
next_step(previous) := rung if {
	above := {r | some r in cfg.rungs; r > previous}
	some rung in above
	every other in above {
		rung <= other
	}
} else := previous

# (a) one rung at a time
deny contains lib.finding("rollout.step-limit", msg, percentage_field) if {
	input.change == "modified"
	is_object(input.previous)
	old := effective_percentage(input.previous)
	new := effective_percentage(input.manifest)
	limit := next_step(old)
	new > limit
	not restoring(new)
	# concat, not sprintf %s: a concat result would be printed with quotes (see lib).
	msg := concat("", [
		sprintf("the rollout rises from %v %%", [old]), how_counted(input.previous),
		sprintf(" to %v %%", [new]), how_counted(input.manifest),
		sprintf(
			" of devices, more than one rung of the ladder %v: from %v %% the next step is at most %v %%",
			[cfg.rungs, old, limit],
		),
	])
}

# (b) a new deployment or a new artifact starts low
deny contains lib.finding("rollout.step-limit", msg, percentage_field) if {
	some reason in fresh_start
	new := effective_percentage(input.manifest)
	new > cfg.initialMax
	not restoring(new)
	# concat, not sprintf %s: a concat result would be printed with quotes (see lib).
	msg := concat("", [reason, sprintf(
		", so it must start at no more than %v %% of devices, but it starts at %v %%",
		[cfg.initialMax, new],
	), how_counted(input.manifest)])
}

fresh_start contains "the deployment is new" if input.change == "added"

fresh_start contains reason if {
	input.change == "modified"
	is_object(input.previous)
	changes := [sprintf("spec.%v changed from %v to %v", [key, old, new]) |
		some key in cfg.newArtifactFields
		old := object.get(input.previous, ["spec", key], null)
		new := object.get(input.manifest, ["spec", key], null)
		old != new
	]
	count(changes) > 0
	reason := concat("", ["the artifact is new (", concat("; ", changes), ")"])
}

# restoring(p): the change returns to an artifact the base branch deployed at p % or more.
restoring(p) if {
	restores := input.facts.rollback.restores
	is_object(restores)
	p <= restores.percentage
}
