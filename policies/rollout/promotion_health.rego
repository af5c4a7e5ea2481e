# rollout.promotion-health: a rollout steps up only when the current rung is healthy.
#
# Applies when rolloutPercentage rises and the artifact (rollout.newArtifactFields) is the
# same as in the base: a promotion. The telemetry fact (SPEC section 12) says, per segment,
# healthy | breach | insufficient. Each failed condition is its own finding:
#
#   * too little bake time at the current rung (bakeHours < telemetry.minBakeHours): deny;
#   * every breached SLO of every segment, with its value, the threshold and the baseline: deny;
#   * telemetry that cannot decide (the snapshot absent, the source unavailable, stale data, too
#     few devices, NaN, duplicate series, unknown bake time): warn at pre-merge, deny at
#     pre-deploy (telemetry.enforce). Insufficient data is never read as healthy and never
#     counted as a breach.
#
# Opt-in like the cost envelopes: without a telemetry source (telemetry.source in fleetgate.yaml,
# or check --telemetry) no telemetry fact is gathered and this rule has nothing to judge.
package fleetgate.rollout

import rego.v1

import data.fleetgate.lib

tcfg := data.fleetgate.config.telemetry

promotion_field := "spec.updateStrategy.rolloutPercentage"

promotion if {
	input.change == "modified"
	is_object(input.previous)
	every key in cfg.newArtifactFields {
		object.get(input.previous, ["spec", key], null) == object.get(input.manifest, ["spec", key], null)
	}
	effective_percentage(input.manifest) > effective_percentage(input.previous)
}

telemetry := input.facts.telemetry

default telemetry_enforcement := "deny"

telemetry_enforcement := tcfg.enforce[input.stage]

deny contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	is_number(telemetry.bakeHours)
	telemetry.bakeHours < tcfg.minBakeHours
	msg := sprintf(
		"the rollout rises from %v %% to %v %% after %v hours at %v %% (since %v), less than the minimum bake time of %v hours",
		[
			effective_percentage(input.previous), effective_percentage(input.manifest),
			telemetry.bakeHours, telemetry.rung, telemetry.bakeSince, tcfg.minBakeHours,
		],
	)
}

deny contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	some segment in telemetry.segments
	segment.outcome == "breach"
	some breach in segment.breaches
	msg := concat("", [
		sprintf("segment %v: version %v ", [segment.segment, telemetry.version]),
		breach_text(breach),
		baseline_text(breach),
	])
}

deny contains f if {
	telemetry_enforcement != "warn"
	some f in undecided
}

warn contains f if {
	telemetry_enforcement == "warn"
	some f in undecided
}

breach_text(b) := sprintf("has a crash-free session rate of %v, below the minimum of %v", [b.measured, b.threshold]) if {
	b.metric == "crashFreeRate"
}

breach_text(b) := sprintf("has %v model load failures per device reporting, above the limit of %v", [b.measured, b.threshold]) if {
	b.metric == "loadFailureRate"
}

breach_text(b) := sprintf("drains %v %% battery per day, %v times the previous version, above the limit of %v times", [b.measured, b.ratio, b.threshold]) if {
	b.metric == "batteryDrainPctPerDay"
}

breach_text(b) := sprintf("has a p95 inference latency of %v ms, %v times the previous version, above the limit of %v times", [b.measured, b.ratio, b.threshold]) if {
	b.metric == "p95LatencyMs"
}

baseline_text(b) := sprintf(" (previous version %v: %v)", [telemetry.previousVersion, b.baseline]) if {
	b.baseline != null
} else := no_baseline

no_baseline := " (no previous version to compare with)"

undecided contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	telemetry.status in {"absent", "unavailable"}
	msg := sprintf("the rollout rises but the telemetry is %v: %v", [telemetry.status, telemetry.reason])
}

undecided contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	not telemetry.status
	telemetry.bakeHours == null
	msg := "the rollout rises but the bake time at the current rung is unknown: no commit of the base branch holds this artifact at this rung"
}

undecided contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	some reason in telemetry.reasons
	msg := sprintf("the rollout rises but the telemetry is insufficient: %v", [reason])
}

undecided contains lib.finding("rollout.promotion-health", msg, promotion_field) if {
	promotion
	some segment in telemetry.segments
	segment.outcome == "insufficient"
	some reason in segment.reasons
	msg := sprintf("the rollout rises but the telemetry of segment %v is insufficient: %v", [segment.segment, reason])
}
