# Cost rules over measured latency. The latency collector times the artifact with onnxruntime
# on the CI machine's CPU, with the manifest's threads and batch; when the change replaces an
# artifact whose bytes are reachable, it times the old one in the same run, so a regression is
# judged like for like. CI latency is a regression signal, not the phone's latency.
package fleetgate.cost

import rego.v1

import data.fleetgate.lib

latency := input.facts.latency

tier := object.get(input.manifest.spec, "tier", cfg.defaultTier)

# cost.inference-budget: each tier has a latency envelope for one inference.
deny contains lib.finding("cost.inference-budget", msg, "spec.inferenceConfig") if {
	p50 := latency.p50_ms
	is_number(p50)
	budget := cfg.inferenceBudgetMs[tier]
	p50 > budget
	msg := sprintf(
		"the model's p50 CPU latency is %v ms (%v threads, batch %v), above the %v ms budget of tier %v",
		[lib.num(p50), latency.threads, latency.batch, lib.num(budget), tier],
	)
}

# cost.latency-regression: the new artifact is slower than the one it replaces by more than
# the allowed factor, both timed in the same run. The collector times both in the same
# processes, run by run in turns, and gives the head/base ratio with a 95 % confidence interval
# (docs/evidence/latency.md): only an interval wholly above the factor is a regression, so noise
# on a shared runner never denies an unchanged model.
deny contains lib.finding("cost.latency-regression", msg, "spec.modelUri") if {
	compared := latency.base
	is_number(compared.ratio_low)
	is_number(compared.ratio_high)
	compared.ratio_low > cfg.latencyRegressionFactor
	msg := sprintf(
		"the new artifact's CPU latency is %v times the previous artifact's (95%% interval %v to %v; p50 %v ms against %v ms), above the limit of %v times (timed in the same run)",
		[lib.num(compared.ratio), lib.num(compared.ratio_low), lib.num(compared.ratio_high), lib.num(latency.p50_ms), lib.num(compared.p50_ms), lib.num(cfg.latencyRegressionFactor)],
	)
}

# A comparison without an interval (a fact from another tool) is judged on its p50s alone.
deny contains lib.finding("cost.latency-regression", msg, "spec.modelUri") if {
	p50 := latency.p50_ms
	base := latency.base.p50_ms
	not is_number(object.get(latency.base, "ratio_low", null))
	is_number(p50)
	is_number(base)
	base > 0
	p50 > cfg.latencyRegressionFactor * base
	msg := sprintf(
		"the new artifact's p50 CPU latency is %v ms, %v times the previous artifact's %v ms (limit %v times, timed in the same run)",
		[lib.num(p50), lib.num(round((p50 / base) * 100) / 100), lib.num(base), lib.num(cfg.latencyRegressionFactor)],
	)
}
