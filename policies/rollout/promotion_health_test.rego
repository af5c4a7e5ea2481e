package fleetgate.rollout

import rego.v1

import data.fleetgate.fixtures as fx

# promotion_head is the fixture manifest raised from 10 % to 25 %, the same artifact.
promotion_head := at(25)

promotion_segment := {
	"segment": "android-34-8g-us-high", "outcome": "healthy", "breaches": [], "reasons": [],
	"values": {"crashFreeRate": 0.998}, "baseline": {"crashFreeRate": 0.997},
}

promotion_healthy := {
	"version": "3.2.1", "previousVersion": "3.2.0", "bakeHours": 30, "rung": 10,
	"bakeSince": "2026-12-01T04:00:00Z", "outcome": "healthy", "reasons": [],
	"segments": [promotion_segment],
}

# promotion_judged evaluates the rule's denies and warns for a change from the fixture to
# `manifest` at `stage`, with `fact` as the telemetry fact.
promotion_judged(stage, manifest, fact) := promotion_findings(stage, manifest, {"telemetry": fact})

promotion_without_telemetry(stage) := promotion_findings(stage, promotion_head, {})

promotion_findings(stage, manifest, facts) := {"deny": denied, "warn": warned} if {
	denied := fx.only(deny, "rollout.promotion-health") with input.manifest as manifest
		with input.previous as at(10)
		with input.change as fx.clean("modified")
		with input.stage as fx.clean(stage)
		with input.facts as facts
	warned := fx.only(warn, "rollout.promotion-health") with input.manifest as manifest
		with input.previous as at(10)
		with input.change as fx.clean("modified")
		with input.stage as fx.clean(stage)
		with input.facts as facts
}

test_promotion_health_admits_a_healthy_baked_rung if {
	found := promotion_judged("pre-deploy", promotion_head, promotion_healthy)
	count(found.deny) == 0
	count(found.warn) == 0
}

test_promotion_health_denies_too_little_bake_time if {
	found := promotion_judged("pre-merge", promotion_head, json.patch(promotion_healthy, [{"op": "replace", "path": "/bakeHours", "value": 3.5}]))
	count(found.deny) == 1
	some f in found.deny
	f.field == "spec.updateStrategy.rolloutPercentage"
	contains(f.msg, "from 10 % to 25 % after 3.5 hours at 10 %")
	contains(f.msg, "minimum bake time of 24 hours")
}

test_promotion_health_reads_min_bake_hours_from_config if {
	fact := json.patch(promotion_healthy, [{"op": "replace", "path": "/bakeHours", "value": 3.5}])
	found := promotion_judged("pre-merge", promotion_head, fact) with data.fleetgate.config.telemetry.minBakeHours as 2
	count(found.deny) == 0
}

promotion_battery_breach := {
	"metric": "batteryDrainPctPerDay", "measured": 0.55, "threshold": 1.1,
	"baseline": 0.4, "ratio": 1.375,
}

promotion_crash_breach := {"metric": "crashFreeRate", "measured": 0.97, "threshold": 0.99, "baseline": 0.996}

test_promotion_health_denies_each_breach_with_value_threshold_and_baseline if {
	segment := json.patch(promotion_segment, [
		{"op": "replace", "path": "/outcome", "value": "breach"},
		{"op": "replace", "path": "/breaches", "value": [promotion_battery_breach, promotion_crash_breach]},
	])
	found := promotion_judged("pre-merge", promotion_head, json.patch(promotion_healthy, [{"op": "replace", "path": "/segments", "value": [segment]}]))
	count(found.deny) == 2
	some battery in found.deny
	contains(battery.msg, "segment android-34-8g-us-high: version 3.2.1 drains 0.55 % battery per day, 1.375 times the previous version, above the limit of 1.1 times (previous version 3.2.0: 0.4)")
	some crash in found.deny
	contains(crash.msg, "crash-free session rate of 0.97, below the minimum of 0.99 (previous version 3.2.0: 0.996)")
}

test_promotion_health_denies_latency_and_load_failures if {
	breaches := [
		{"metric": "p95LatencyMs", "measured": 60, "threshold": 1.15, "baseline": 40, "ratio": 1.5},
		{"metric": "loadFailureRate", "measured": 0.01, "threshold": 0.001, "baseline": null},
	]
	segment := json.patch(promotion_segment, [
		{"op": "replace", "path": "/outcome", "value": "breach"},
		{"op": "replace", "path": "/breaches", "value": breaches},
	])
	found := promotion_judged("pre-merge", promotion_head, json.patch(promotion_healthy, [{"op": "replace", "path": "/segments", "value": [segment]}]))
	count(found.deny) == 2
	some latency in found.deny
	contains(latency.msg, "p95 inference latency of 60 ms, 1.5 times the previous version")
	some load in found.deny
	contains(load.msg, "0.01 model load failures per device reporting, above the limit of 0.001 (no previous version to compare with)")
}

promotion_insufficient := json.patch(promotion_healthy, [{"op": "replace", "path": "/segments", "value": [json.patch(promotion_segment, [
	{"op": "replace", "path": "/outcome", "value": "insufficient"},
	{"op": "replace", "path": "/reasons", "value": ["40 devices reporting, fewer than the minimum of 100"]},
])]}])

test_promotion_health_insufficient_warns_at_pre_merge if {
	found := promotion_judged("pre-merge", promotion_head, promotion_insufficient)
	count(found.deny) == 0
	count(found.warn) == 1
	some f in found.warn
	contains(f.msg, "segment android-34-8g-us-high is insufficient: 40 devices reporting")
}

test_promotion_health_insufficient_denies_at_pre_deploy if {
	found := promotion_judged("pre-deploy", promotion_head, promotion_insufficient)
	count(found.deny) == 1
	count(found.warn) == 0
}

test_promotion_health_is_silent_without_a_telemetry_source if {
	count(promotion_without_telemetry("pre-merge").warn) == 0
	count(promotion_without_telemetry("pre-deploy").deny) == 0
}

test_promotion_health_absent_snapshot_warns_then_denies if {
	fact := {"status": "absent", "reason": "telemetry/snapshot.json: no such telemetry snapshot at commit abc"}
	count(promotion_judged("pre-merge", promotion_head, fact).warn) == 1
	some f in promotion_judged("pre-deploy", promotion_head, fact).deny
	contains(f.msg, "the telemetry is absent: telemetry/snapshot.json: no such telemetry snapshot")
}

test_promotion_health_unavailable_source_names_the_reason if {
	fact := {"status": "unavailable", "reason": "prometheus http://127.0.0.1:9 is unreachable"}
	found := promotion_judged("pre-deploy", promotion_head, fact)
	count(found.deny) == 1
	some f in found.deny
	contains(f.msg, "the telemetry is unavailable: prometheus http://127.0.0.1:9 is unreachable")
}

test_promotion_health_unknown_bake_time_is_insufficient if {
	found := promotion_judged("pre-merge", promotion_head, json.patch(promotion_healthy, [{"op": "replace", "path": "/bakeHours", "value": null}]))
	count(found.deny) == 0
	some f in found.warn
	contains(f.msg, "bake time at the current rung is unknown")
}

test_promotion_health_ignores_a_step_down if {
	lowered := fx.set_field(["spec", "updateStrategy", "rolloutPercentage"], 5)
	found := promotion_judged("pre-deploy", lowered, {})
	count(found.deny) == 0
	count(found.warn) == 0
}

test_promotion_health_ignores_a_new_artifact if {
	fresh := fx.patched([
		{"op": "add", "path": ["spec", "updateStrategy", "rolloutPercentage"], "value": 25},
		{"op": "add", "path": ["spec", "version"], "value": "3.3.0"},
	])
	found := promotion_judged("pre-deploy", fresh, {})
	count(found.deny) == 0
	count(found.warn) == 0
}
