package fleetgate.cost

import rego.v1

import data.fleetgate.fixtures as fx

timed(p50) := {"latency": {"p50_ms": p50, "threads": 2, "batch": 1}}

against(p50, base) := {"latency": {"p50_ms": p50, "threads": 2, "batch": 1, "base": {"p50_ms": base}}}

# cost.inference-budget (fixture: tier standard, 50 ms)

test_inference_budget_admits_exactly_the_budget if {
	count(measured("cost.inference-budget", fx.manifest, timed(50))) == 0
}

test_inference_budget_denies_above_the_budget if {
	found := measured("cost.inference-budget", fx.manifest, timed(50.5))
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig"
	f.msg == "the model's p50 CPU latency is 50.5 ms (2 threads, batch 1), above the 50 ms budget of tier standard"
}

test_inference_budget_follows_the_tier if {
	lite := fx.set_field(["spec", "tier"], "lite")
	count(measured("cost.inference-budget", lite, timed(21))) == 1
	premium := fx.set_field(["spec", "tier"], "premium")
	count(measured("cost.inference-budget", premium, timed(149))) == 0
}

test_inference_budget_needs_a_measurement if {
	count(measured("cost.inference-budget", fx.manifest, {})) == 0
}

# cost.latency-regression (factor 1.15)

test_latency_regression_admits_up_to_the_factor if {
	count(measured("cost.latency-regression", fx.manifest, against(11.5, 10))) == 0
}

test_latency_regression_denies_beyond_the_factor if {
	found := measured("cost.latency-regression", fx.manifest, against(12, 10))
	count(found) == 1
	some f in found
	f.field == "spec.modelUri"
	f.msg == "the new artifact's p50 CPU latency is 12 ms, 1.2 times the previous artifact's 10 ms (limit 1.15 times, timed in the same run)"
}

compared(p50, base, ratio, low, high) := {"latency": {
	"p50_ms": p50, "threads": 2, "batch": 1,
	"base": {"p50_ms": base, "ratio": ratio, "ratio_low": low, "ratio_high": high},
}}

test_latency_regression_decides_on_the_interval_not_the_p50s if {
	# Identical models on a noisy runner: p50s 30 % apart, but the interval holds 1.
	count(measured("cost.latency-regression", fx.manifest, compared(13, 10, 1.01, 0.97, 1.05))) == 0
	# A slowdown whose interval reaches below the factor is not proven.
	count(measured("cost.latency-regression", fx.manifest, compared(12, 10, 1.2, 1.1, 1.3))) == 0
}

test_latency_regression_denies_an_interval_above_the_factor if {
	found := measured("cost.latency-regression", fx.manifest, compared(20, 10, 1.98, 1.9, 2.05))
	count(found) == 1
	some f in found
	f.field == "spec.modelUri"
	f.msg == "the new artifact's CPU latency is 1.98 times the previous artifact's (95% interval 1.9 to 2.05; p50 20 ms against 10 ms), above the limit of 1.15 times (timed in the same run)"
}

test_latency_regression_needs_the_base_timed_in_the_same_run if {
	count(measured("cost.latency-regression", fx.manifest, timed(1000))) == 0
}
