# Cost rules: how much storage, download and CPU a deployment may take on a device.
# Thresholds come from data.fleetgate.config.cost.
package fleetgate.cost

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.cost

# cost.model-size: each tier has a size envelope; bigger models cost download time, storage
# and memory on every device. An unknown size is reported by evidence.missing instead.
deny contains lib.finding("cost.model-size", msg, lib.model_size_field) if {
	size := lib.model_size
	tier := object.get(input.manifest.spec, "tier", cfg.defaultTier)
	cap := cfg.tierCapBytes[tier]
	size > cap
	msg := sprintf(
		"the model is %v (%v), above the %v cap of tier %v",
		[lib.mib(size), lib.model_size_source, lib.mib(cap), tier],
	)
}

# cost.threads: more threads or a bigger batch than the budget starves the app that hosts
# the model and drains the battery. One finding per setting.
deny contains lib.finding("cost.threads", msg, "spec.inferenceConfig.numThreads") if {
	threads := input.manifest.spec.inferenceConfig.numThreads
	is_number(threads)
	threads > cfg.maxThreads
	msg := sprintf("numThreads is %v, above the maximum of %v", [threads, cfg.maxThreads])
}

deny contains lib.finding("cost.threads", msg, "spec.inferenceConfig.batchSize") if {
	batch := input.manifest.spec.inferenceConfig.batchSize
	is_number(batch)
	batch > cfg.maxBatchSize
	msg := sprintf("batchSize is %v, above the maximum of %v", [batch, cfg.maxBatchSize])
}
