package fleetgate.rollout

import rego.v1

import data.fleetgate.fixtures as fx

# at is the fixture manifest at a given rollout percentage.
at(percentage) := fx.set_field(["spec", "updateStrategy", "rolloutPercentage"], percentage)

# at_version is the fixture manifest at a given percentage and spec.version.
at_version(percentage, version) := json.patch(at(percentage), [{"op": "add", "path": ["spec", "version"], "value": fx.clean(version)}])

# steps evaluates rollout.step-limit for one change (only input fields are overridden).
steps(change, previous, head) := found if {
	found := fx.only(deny, "rollout.step-limit") with input.change as fx.clean(change)
		with input.previous as previous
		with input.manifest as head
}

test_step_one_rung_up_is_admitted if {
	count(steps("modified", at(5), at(10))) == 0
}

test_step_two_rungs_up_is_denied if {
	found := steps("modified", at(5), at(25))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.rolloutPercentage"
	contains(f.msg, "from 5 % to 25 %")
	contains(f.msg, "at most 10 %")
}

test_step_decrease_is_admitted if {
	count(steps("modified", at(50), at(10))) == 0
}

test_step_from_off_ladder_previous_allows_next_rung if {
	count(steps("modified", at(7), at(10))) == 0
}

test_step_from_off_ladder_previous_denies_two_rungs if {
	some f in steps("modified", at(7), at(25))
	contains(f.msg, "from 7 % to 25 %")
	contains(f.msg, "at most 10 %")
}

test_step_staying_at_top_rung_is_admitted if {
	count(steps("modified", at(100), at(100))) == 0
}

test_step_without_previous_percentage_is_admitted if {
	previous := fx.drop_field(["spec", "updateStrategy", "rolloutPercentage"])
	count(steps("modified", previous, at(10))) == 0
}

test_added_at_initial_max_is_admitted if {
	count(steps("added", null, at(10))) == 0
}

test_added_above_initial_max_is_denied if {
	found := steps("added", null, at(25))
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.rolloutPercentage"
	contains(f.msg, "the deployment is new")
	contains(f.msg, "no more than 10 %")
	contains(f.msg, "starts at 25 %")
}

test_added_initial_max_comes_from_config if {
	found := steps("added", null, at(25)) with data.fleetgate.config.rollout.initialMax as 25
	count(found) == 0
}

test_version_change_above_initial_max_is_denied if {
	found := steps("modified", at_version(25, "3.2.0"), at_version(25, "3.2.1"))
	count(found) == 1
	some f in found
	contains(f.msg, "spec.version changed from 3.2.0 to 3.2.1")
	contains(f.msg, "no more than 10 %")
	contains(f.msg, "starts at 25 %")
}

test_version_change_at_initial_max_is_admitted if {
	count(steps("modified", at_version(5, "3.2.0"), at_version(10, "3.2.1"))) == 0
}

test_model_uri_and_checksum_change_restart_the_ladder if {
	previous := fx.patched([
		{"op": "add", "path": ["spec", "updateStrategy", "rolloutPercentage"], "value": 50},
		{"op": "add", "path": ["spec", "modelUri"], "value": "s3://apexlogic-models/old/model.onnx"},
		{"op": "add", "path": ["spec", "checksum"], "value": concat("", ["sha256:", strings.replace_n({"9": "0"}, substring(fx.checksum, 7, -1))])},
	])
	some f in steps("modified", previous, at(50))
	contains(f.msg, "spec.modelUri changed from s3://apexlogic-models/old/model.onnx to s3://apexlogic-models/image-classifier/v3.2.1/model.onnx")
	contains(f.msg, "spec.checksum changed")
	contains(f.msg, "starts at 50 %")
}

test_unchanged_artifact_may_widen_above_initial_max if {
	count(steps("modified", at(25), at(50))) == 0
}

test_switch_to_immediate_counts_as_full_rollout if {
	head := fx.set_field(["spec", "updateStrategy", "type"], "immediate")
	found := steps("modified", at(25), head)
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy.type"
	contains(f.msg, "from 25 % to 100 %")
	contains(f.msg, "at most 50 %")
}

test_added_immediate_exceeds_initial_max if {
	head := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "dev"},
		{"op": "add", "path": ["spec", "updateStrategy", "type"], "value": "immediate"},
		{"op": "remove", "path": ["spec", "updateStrategy", "rolloutPercentage"]},
	])
	some f in steps("added", null, head)
	f.field == "spec.updateStrategy.type"
	contains(f.msg, "starts at 100 %")
}

test_removing_the_percentage_counts_as_full_rollout if {
	head := fx.drop_field(["spec", "updateStrategy", "rolloutPercentage"])
	found := steps("modified", at(25), head)
	count(found) == 1
	some f in found
	f.field == "spec.updateStrategy"
	contains(f.msg, "from 25 % to 100 % (no rolloutPercentage counts as 100 %)")
	contains(f.msg, "at most 50 %")
}

test_removing_the_update_strategy_counts_as_full_rollout if {
	head := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "dev"},
		{"op": "remove", "path": ["spec", "updateStrategy"]},
	])
	some f in steps("modified", at(10), head)
	f.field == "spec"
	contains(f.msg, "from 10 % to 100 %")
}

test_added_without_a_percentage_exceeds_initial_max if {
	head := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "dev"},
		{"op": "remove", "path": ["spec", "updateStrategy"]},
	])
	some f in steps("added", null, head)
	contains(f.msg, "the deployment is new")
	contains(f.msg, "starts at 100 % (no rolloutPercentage counts as 100 %)")
}

test_previous_without_a_percentage_counts_as_full_rollout if {
	previous := fx.drop_field(["spec", "updateStrategy", "rolloutPercentage"])
	count(steps("modified", previous, at(100))) == 0
}

# A rollback: the artifact the base branch deployed before, up to the percentage it reached.

rolled_back(previous, head, facts) := found if {
	found := fx.only(deny, "rollout.step-limit") with input.change as fx.clean("modified")
		with input.previous as previous
		with input.manifest as head
		with input.facts as facts
}

test_rollback_to_a_deployed_artifact_is_admitted_up_to_its_percentage if {
	facts := {"rollback": {"restores": {"version": "3.2.0", "commit": "abc", "percentage": 100}}}
	count(rolled_back(at_version(25, "3.2.1"), at_version(100, "3.2.0"), facts)) == 0
}

test_rollback_above_the_percentage_it_reached_is_denied if {
	facts := {"rollback": {"restores": {"version": "3.2.0", "commit": "abc", "percentage": 25}}}
	found := rolled_back(at_version(10, "3.2.1"), at_version(100, "3.2.0"), facts)
	count(found) == 2
}

test_a_new_artifact_never_deployed_still_starts_low if {
	found := rolled_back(at_version(25, "3.2.1"), at_version(100, "3.3.0"), {"rollback": {"restores": null}})
	count(found) == 2
}
