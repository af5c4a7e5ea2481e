package fleetgate.cost

import rego.v1

import data.fleetgate.fixtures as fx

envelopes := {"production": {"maxEgressPerChange": 1000, "maxEgressPerWindow": 15000, "windowDays": 30, "maxFallbackPerMonth": 500}}

# spent is a cost fact: 310,000 downloads of 42 MB, and their egress (exact text).
spent(egress) := {"cost": {
	"currency": "USD",
	"egress": egress,
	"newDownloads": 310000,
	"bytesPerDownload": 42000000,
}}

windowed(egress, total) := {"cost": object.union(spent(egress).cost, {"window": {
	"days": 30,
	"since": "2026-11-02T00:00:00.000000Z",
	"admitted": "13895",
	"otherChanges": 0,
	"others": "0",
	"total": total,
}})}

falling_back(amount) := {"cost": {
	"currency": "USD",
	"fallbackPerMonth": {"amount": amount, "devices": 12000, "peakMemoryMB": 900},
}}

# A rule constant given to `with` is ignored by the embedded engine: bind it to a variable.
enveloped(rule, facts) := found if {
	limits := envelopes
	found := measured(rule, fx.manifest, facts) with data.fleetgate.config.cost.envelopes as limits
}

warned(rule, facts) := found if {
	manifest := fx.manifest
	limits := envelopes
	found := fx.only(warn, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as facts
		with data.fleetgate.config.cost.envelopes as limits
}

# cost.envelope-change

test_envelope_change_admits_exactly_the_envelope if {
	count(enveloped("cost.envelope-change", spent("1000"))) == 0
}

test_envelope_change_denies_a_cent_above_with_the_numbers if {
	found := enveloped("cost.envelope-change", spent("1000.01"))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.rolloutPercentage"
	f.msg == "this step delivers 42.0 MB to 310,000 devices (13.0 TB): $1,000.01 of egress, above the $1,000.00 per-change envelope of production"
}

test_envelope_change_needs_an_envelope_for_the_namespace if {
	count(measured("cost.envelope-change", fx.manifest, spent("99999"))) == 0
}

test_envelope_change_is_silent_when_egress_is_unknown if {
	count(enveloped("cost.envelope-change", {"cost": {"currency": "USD", "egress": null}})) == 0
}

test_envelope_change_writes_large_envelopes_and_other_currencies if {
	facts := {"cost": {"currency": "CHF", "egress": "2000000", "newDownloads": 2, "bytesPerDownload": 1000000000}}
	found := measured("cost.envelope-change", fx.manifest, facts) with data.fleetgate.config.cost.envelopes as {"production": {"maxEgressPerChange": 1234567.5}}
	some f in found
	startswith(f.msg, "this step delivers 1.0 GB to 2 devices (2.0 GB): 2,000,000.00 CHF of egress")
	endswith(f.msg, "above the 1,234,567.50 CHF per-change envelope of production")
}

# cost.envelope-window

test_envelope_window_admits_exactly_the_envelope if {
	count(enveloped("cost.envelope-window", windowed("1105", "15000"))) == 0
}

test_envelope_window_denies_above_with_the_numbers if {
	found := enveloped("cost.envelope-window", windowed("1105", "15000.5"))
	count(found) == 1
	some f in found
	f.msg == "with this step ($1,105.00), production reaches $15,000.50 of egress in 30 days ($13,895.00 admitted at pre-deploy since 2026-11-02T00:00:00.000000Z), above its $15,000.00 window envelope"
}

test_envelope_window_names_the_other_changes_of_the_check if {
	facts := json.patch(windowed("1105", "15500"), [
		{"op": "replace", "path": ["cost", "window", "otherChanges"], "value": 2},
		{"op": "replace", "path": ["cost", "window", "others"], "value": "500"},
	])
	some f in enveloped("cost.envelope-window", facts)
	startswith(f.msg, "with this step ($1,105.00) and 2 other change(s) of this check ($500.00), production reaches $15,500.00")
}

test_envelope_window_needs_the_window_sum if {
	count(enveloped("cost.envelope-window", spent("1105"))) == 0
}

# cost.fallback-budget

test_fallback_budget_admits_exactly_the_budget if {
	count(warned("cost.fallback-budget", falling_back("500"))) == 0
}

test_fallback_budget_warns_above_the_budget if {
	found := warned("cost.fallback-budget", falling_back("500.01"))
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices.minMemoryMB"
	f.msg == "12000 reached devices lack the memory for this model (peak 900 MB) and fall back to cloud inference: $500.01 a month, above the $500.00 fallback budget of production"
}

test_fallback_budget_is_silent_without_a_fallback_estimate if {
	count(warned("cost.fallback-budget", spent("1"))) == 0
}

# The namespace's bill: the engine sums the other changes of the check and the deployments
# admitted at pre-deploy in the window; a deployment within the budget alone is not enough.
namespaced(amount, others, deployments, total) := {"cost": object.union(falling_back(amount).cost, {"namespaceFallback": {
	"days": 30,
	"since": "2026-11-02T00:00:00.000000Z",
	"deployments": deployments,
	"admitted": "150",
	"otherChanges": others,
	"others": "100",
	"total": total,
}})}

test_fallback_budget_admits_a_namespace_exactly_at_the_budget if {
	count(warned("cost.fallback-budget", namespaced("250", 1, 2, "500"))) == 0
}

test_fallback_budget_warns_on_the_namespace_bill_with_its_parts if {
	found := warned("cost.fallback-budget", namespaced("250", 1, 2, "500.01"))
	count(found) == 1
	some f in found
	f.msg == "12000 reached devices lack the memory for this model (peak 900 MB) and fall back to cloud inference: $250.00 a month; with 1 other change(s) of this check ($100.00) and 2 deployment(s) admitted at pre-deploy in 30 days ($150.00), production pays $500.01 a month for fallback, above the $500.00 fallback budget of production"
}

test_fallback_budget_names_only_the_admitted_deployments_when_the_check_has_no_others if {
	some f in warned("cost.fallback-budget", namespaced("400", 0, 3, "550"))
	contains(f.msg, "$400.00 a month; with 3 deployment(s) admitted at pre-deploy in 30 days ($150.00), production pays $550.00")
}

test_fallback_budget_judges_the_namespace_not_the_deployment if {
	# $600 alone would be above the budget; the engine's namespace sum decides (here a lower
	# figure can only come from the engine, so the rule follows it).
	count(warned("cost.fallback-budget", namespaced("100", 1, 0, "600"))) == 1
}
