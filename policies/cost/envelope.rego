# Cost envelopes: what a namespace may spend delivering models to its fleet. The figures come
# from the cost fact (engine: fleetgate/fleet/cost.py), exact decimal amounts written as text
# in the price sheet's currency, formatted for messages by lib (format.rego) as the engine's
# tables write them; the limits are policy data (data.fleetgate.config.cost.envelopes.<namespace>),
# in the same currency.
package fleetgate.cost

import rego.v1

import data.fleetgate.lib

spend := input.facts.cost

namespace := input.manifest.metadata.namespace

envelope := cfg.envelopes[namespace]

# cost.envelope-change: one change may not deliver more egress than the per-change envelope.
deny contains lib.finding("cost.envelope-change", msg, lib.field_at(rollout_path)) if {
	limit := envelope.maxEgressPerChange
	is_number(limit)
	is_string(spend.egress)
	to_number(spend.egress) > limit
	msg := concat("", [
		"this step delivers ", lib.size_text(spend.bytesPerDownload), " to ", lib.count_text(spend.newDownloads),
		" devices (", lib.size_text(spend.newDownloads * spend.bytesPerDownload), "): ", money(spend.egress),
		" of egress, above the ", money(limit), " per-change envelope of ", namespace,
	])
}

# cost.envelope-window: this change, the other changes of the same check in the namespace and
# every change admitted at pre-deploy in the trailing window (summed from the decision log by
# the engine) may not exceed the window envelope.
deny contains lib.finding("cost.envelope-window", msg, lib.field_at(rollout_path)) if {
	limit := envelope.maxEgressPerWindow
	is_number(limit)
	window := spend.window
	to_number(window.total) > limit
	msg := concat("", [
		"with this step (", money(spend.egress), ")", other_changes(window), ", ", namespace, " reaches ",
		money(window.total), " of egress in ", sprintf("%v", [window.days]), " days (",
		money(window.admitted), " admitted at pre-deploy since ", window.since, "), above its ",
		money(limit), " window envelope",
	])
}

# The other changes of the same check in the namespace are admitted together with this one.
other_changes(window) := concat("", [
	" and ", sprintf("%v", [window.otherChanges]), " other change(s) of this check (", money(window.others), ")",
]) if {
	window.otherChanges > 0
} else := ""

# cost.fallback-budget: devices the model does not fit (memory headroom) fall back to cloud
# inference; warn when the namespace's monthly fallback bill would rise above its budget. The
# bill is the namespace's (namespaceFallback, summed by the engine): the latest admitted figure of
# each deployment this check leaves alone, the other changes of this check and this one. Without
# that sum, this deployment's own bill, which the namespace's is never below.
warn contains lib.finding("cost.fallback-budget", msg, lib.field_at(memory_path)) if {
	limit := envelope.maxFallbackPerMonth
	is_number(limit)
	fallback := spend.fallbackPerMonth
	to_number(namespace_fallback.total) > limit
	msg := concat("", [
		sprintf("%v", [fallback.devices]), " reached devices lack the memory for this model (peak ",
		sprintf("%v MB", [fallback.peakMemoryMB]), ") and fall back to cloud inference: ",
		money(fallback.amount), " a month", namespace_fallback.shown, ", above the ", money(limit),
		" fallback budget of ", namespace,
	])
}

namespace_fallback := {"total": bill.total, "shown": shown} if {
	bill := spend.namespaceFallback
	sum([bill.otherChanges, bill.deployments]) > 0
	shown := concat("", [
		"; with", fallback_others(bill), fallback_admitted(bill), ", ", namespace, " pays ",
		money(bill.total), " a month for fallback",
	])
} else := {"total": spend.fallbackPerMonth.amount, "shown": ""}

fallback_others(bill) := concat("", [
	" ", sprintf("%v", [bill.otherChanges]), " other change(s) of this check (", money(bill.others), ")",
]) if {
	bill.otherChanges > 0
} else := ""

fallback_admitted(bill) := concat("", [
	joiner(bill), sprintf("%v", [bill.deployments]), " deployment(s) admitted at pre-deploy in ",
	sprintf("%v", [bill.days]), " days (", money(bill.admitted), ")",
]) if {
	bill.deployments > 0
} else := ""

joiner(bill) := " and " if {
	bill.otherChanges > 0
} else := " "

rollout_path := ["spec", "updateStrategy", "rolloutPercentage"]

memory_path := ["spec", "targetDevices", "minMemoryMB"]

# money writes an exact amount of the fact or a limit of the policy data in the price sheet's
# currency, as the engine's tables do: "$1,105.24", "2,000,000.00 CHF".
money(amount) := lib.money_text(amount, spend.currency)
