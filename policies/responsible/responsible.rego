# Responsible-AI rules over the fairness evidence: the deployed (quantized) model, run on the
# evaluation set the manifest names, must treat the groups of each sensitive feature alike and
# must not lose accuracy against the version it replaces. Too little data is evidence of
# nothing: it denies instead of passing. Thresholds come from data.fleetgate.config.responsible.
package fleetgate.responsible

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.responsible

fairness := input.facts.fairness

field := lib.field_at(["spec", "evaluation", "sensitiveFeatures"])

# responsible.insufficient-data: one finding per group that is too small to judge or lacks
# positive or negative labels (then equalized odds is meaningless: fairlearn reports 1.0).
# The policy's minGroupRows decides; the collector's own `insufficient` list is informative.
deny contains lib.finding("responsible.insufficient-data", msg, field) if {
	some reason in insufficient
	msg := reason
}

insufficient contains msg if {
	some g in fairness.groups
	g.rows < cfg.minGroupRows
	msg := sprintf(
		"group %v has %v rows in the evaluation set, fewer than the minimum %v",
		[g.name, g.rows, cfg.minGroupRows],
	)
}

insufficient contains msg if {
	some g in fairness.groups
	g.positives == 0
	msg := sprintf("group %v has no positive labels in the evaluation set", [g.name])
}

insufficient contains msg if {
	some g in fairness.groups
	g.negatives == 0
	msg := sprintf("group %v has no negative labels in the evaluation set", [g.name])
}

# A fairness fact without groups measured nothing.
insufficient contains msg if {
	is_object(fairness)
	not is_string(object.get(fairness, "error", null))
	count(object.get(fairness, "groups", [])) == 0
	msg := sprintf("the evaluation set has no groups for the sensitive features %v", [fairness.sensitive_features])
}

judged if {
	is_object(fairness)
	count(insufficient) == 0
}

# responsible.demographic-parity: the share of positive predictions differs between groups.
deny contains lib.finding("responsible.demographic-parity", msg, field) if {
	judged
	difference := fairness.demographic_parity_difference
	difference > cfg.maxDemographicParityDifference
	# concat, not sprintf, joins the per-group parts: a joined string given to sprintf would
	# print with quotes in the embedded engine (see lib).
	msg := concat("", [
		sprintf("the demographic parity difference is %v (selection rate ", [lib.num(difference)]),
		selection_rates,
		sprintf("), above the maximum %v", [lib.num(cfg.maxDemographicParityDifference)]),
	])
}

# responsible.equalized-odds: true- or false-positive rates differ between groups.
deny contains lib.finding("responsible.equalized-odds", msg, field) if {
	judged
	difference := fairness.equalized_odds_difference
	difference > cfg.maxEqualizedOddsDifference
	msg := concat("", [
		sprintf("the equalized odds difference is %v (true-positive rate ", [lib.num(difference)]),
		true_positive_rates,
		sprintf("), above the maximum %v", [lib.num(cfg.maxEqualizedOddsDifference)]),
	])
}

selection_rates := concat("; ", [sprintf("%v: %v", [g.name, lib.num(g.selection_rate)]) | some g in fairness.groups])

true_positive_rates := concat("; ", [sprintf("%v: %v", [g.name, rate_text(g.true_positive_rate)]) | some g in fairness.groups])

rate_text(rate) := lib.num(rate) if is_number(rate) else := not_measured

not_measured := "not measured"

# responsible.accuracy-drop: the new artifact is less accurate on the same evaluation set than
# the version it replaces (measured in the same run).
deny contains lib.finding("responsible.accuracy-drop", msg, lib.field_at(["spec", "evaluation"])) if {
	accuracy := fairness.accuracy
	previous := fairness.base.accuracy
	is_number(accuracy)
	is_number(previous)
	# Accuracies carry 4 decimals; rounding the difference keeps 0.92 - 0.91 at 0.01, not 0.0100000001.
	round((previous - accuracy) * 1000000) / 1000000 > cfg.maxAccuracyDrop
	msg := sprintf(
		"accuracy on the evaluation set fell from %v to %v, more than the allowed drop of %v",
		[lib.num(previous), lib.num(accuracy), lib.num(cfg.maxAccuracyDrop)],
	)
}
