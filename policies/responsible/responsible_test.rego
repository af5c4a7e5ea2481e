package fleetgate.responsible

import rego.v1

import data.fleetgate.fixtures as fx

found_by(rule, facts) := found_by_manifest(rule, fx.manifest, facts)

found_by_manifest(rule, manifest, facts) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-deploy"
		with input.facts as facts
}

members := {
	"F": {
		"group": {"gender": "F"}, "name": "gender=F", "rows": 200, "positives": 90, "negatives": 110,
		"selection_rate": 0.45, "accuracy": 0.9, "true_positive_rate": 0.9, "false_positive_rate": 0.05,
	},
	"M": {
		"group": {"gender": "M"}, "name": "gender=M", "rows": 200, "positives": 100, "negatives": 100,
		"selection_rate": 0.49, "accuracy": 0.9, "true_positive_rate": 0.95, "false_positive_rate": 0.05,
	},
}

fair := {"fairness": {
	"rows": 400, "accuracy": 0.91, "sensitive_features": ["gender"],
	"demographic_parity_difference": 0.04, "equalized_odds_difference": 0.05,
	"groups": [members.F, members.M],
	"insufficient": [],
}}

with_fairness(ops) := json.patch(fair, ops)

test_a_fair_model_on_enough_data_is_admitted if {
	every rule in ["responsible.demographic-parity", "responsible.equalized-odds", "responsible.insufficient-data", "responsible.accuracy-drop"] {
		count(found_by(rule, fair)) == 0
	}
}

# responsible.demographic-parity

test_demographic_parity_admits_exactly_the_maximum if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/demographic_parity_difference", "value": 0.1}])
	count(found_by("responsible.demographic-parity", facts)) == 0
}

test_demographic_parity_denies_above_the_maximum if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/demographic_parity_difference", "value": 0.31}])
	found := found_by("responsible.demographic-parity", facts)
	count(found) == 1
	some f in found
	f.field == "spec"
	f.msg == "the demographic parity difference is 0.31 (selection rate gender=F: 0.45; gender=M: 0.49), above the maximum 0.1"
}

# responsible.equalized-odds

test_equalized_odds_denies_above_the_maximum if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/equalized_odds_difference", "value": 0.25}])
	found := found_by("responsible.equalized-odds", facts)
	count(found) == 1
	some f in found
	f.msg == "the equalized odds difference is 0.25 (true-positive rate gender=F: 0.9; gender=M: 0.95), above the maximum 0.1"
}

test_equalized_odds_is_not_judged_on_insufficient_data if {
	facts := with_fairness([
		{"op": "replace", "path": "/fairness/equalized_odds_difference", "value": 1},
		{"op": "replace", "path": "/fairness/groups/0/positives", "value": 0},
	])
	count(found_by("responsible.equalized-odds", facts)) == 0
	count(found_by("responsible.insufficient-data", facts)) == 1
}

# responsible.insufficient-data

test_insufficient_data_denies_a_small_group if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/groups/1/rows", "value": 29}])
	found := found_by("responsible.insufficient-data", facts)
	count(found) == 1
	some f in found
	f.msg == "group gender=M has 29 rows in the evaluation set, fewer than the minimum 30"
}

test_insufficient_data_admits_exactly_the_minimum if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/groups/1/rows", "value": 30}])
	count(found_by("responsible.insufficient-data", facts)) == 0
}

test_insufficient_data_denies_a_group_without_negatives if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/groups/0/negatives", "value": 0}])
	found := found_by("responsible.insufficient-data", facts)
	count(found) == 1
	some f in found
	contains(f.msg, "has no negative labels")
}

test_insufficient_data_denies_a_measurement_without_groups if {
	facts := with_fairness([{"op": "replace", "path": "/fairness/groups", "value": []}])
	count(found_by("responsible.insufficient-data", facts)) == 1
}

# responsible.accuracy-drop

test_accuracy_drop_admits_a_drop_within_the_maximum if {
	facts := with_fairness([{"op": "add", "path": "/fairness/base", "value": {"accuracy": 0.92}}])
	count(found_by("responsible.accuracy-drop", facts)) == 0
}

test_accuracy_drop_denies_a_larger_drop if {
	facts := with_fairness([{"op": "add", "path": "/fairness/base", "value": {"accuracy": 0.95}}])
	found := found_by("responsible.accuracy-drop", facts)
	count(found) == 1
	some f in found
	f.msg == "accuracy on the evaluation set fell from 0.95 to 0.91, more than the allowed drop of 0.01"
}

test_accuracy_drop_needs_the_previous_version_measured if {
	count(found_by("responsible.accuracy-drop", fair)) == 0
}
