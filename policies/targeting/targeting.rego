# Targeting rules: which devices, OS versions and regions a deployment may reach, and
# whether its numeric format suits them. Thresholds come from data.fleetgate.config.targeting.
package fleetgate.targeting

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.targeting

devices := object.get(input.manifest, ["spec", "targetDevices"], {})

# targeting.min-api-level: Android releases below the floor lack the NNAPI and security
# updates the on-device runtime relies on. A manifest without minAPILevel is not judged.
deny contains lib.finding("targeting.min-api-level", msg, "spec.targetDevices.minAPILevel") if {
	level := devices.minAPILevel
	is_number(level)
	level < cfg.minAPILevel
	msg := sprintf(
		"minAPILevel is %v, below the lowest supported Android API level %v",
		[level, cfg.minAPILevel],
	)
}

# targeting.min-os, format half: minOSVersion must read iOS<major>, e.g. iOS16.
deny contains lib.finding("targeting.min-os", msg, "spec.targetDevices.minOSVersion") if {
	version := devices.minOSVersion
	not ios_major(version)
	msg := sprintf(
		"minOSVersion %v is not of the form iOS<major> (for example iOS%v)",
		[version, cfg.minIOSMajor],
	)
}

# targeting.min-os, floor half.
deny contains lib.finding("targeting.min-os", msg, "spec.targetDevices.minOSVersion") if {
	version := devices.minOSVersion
	major := ios_major(version)
	major < cfg.minIOSMajor
	msg := sprintf(
		"minOSVersion %v targets iOS major version %v, below the lowest supported major version %v",
		[version, major, cfg.minIOSMajor],
	)
}

# ios_major is the major version of "iOS<digits>", undefined for anything else. Leading
# zeros are stripped before to_number: the embedded engine compares a number parsed from
# "016" wrongly.
ios_major(version) := 0 if {
	ios_digits(version) == ""
} else := to_number(digits) if {
	digits := ios_digits(version)
	digits != ""
}

ios_digits(version) := trim_left(substring(version, 3, -1), "0") if {
	is_string(version)
	regex.match(`^iOS[0-9]+$`, version)
}

# targeting.regions: a deployment names where it ships, and only regions the fleet
# operates in (data residency and export rules are reviewed per region).
deny contains lib.finding("targeting.regions", msg, "spec.targetDevices.regions") if {
	count(object.get(devices, "regions", [])) == 0
	msg := sprintf(
		"targetDevices.regions is missing or empty: name the regions this deployment ships to, from %v",
		[cfg.allowedRegions],
	)
}

deny contains lib.finding("targeting.regions", msg, sprintf("spec.targetDevices.regions[%v]", [i])) if {
	some i, region in devices.regions
	not region in cfg.allowedRegions
	msg := sprintf("region %v is not an allowed region %v", [region, cfg.allowedRegions])
}

# targeting.quantization, strict half: full-precision models are too large and slow for
# customer devices in strict namespaces. Judged on the declared value and on the measured
# one (input.facts.model, gathered by the model inspector), so leaving the field out does
# not let an fp32 artifact through; strict namespaces must declare it.
deny contains lib.finding("targeting.quantization", msg, "spec.inferenceConfig.quantization") if {
	lib.strict_namespace
	input.manifest.spec.inferenceConfig.quantization == "fp32"
	msg := sprintf(
		"namespace %v is strict and does not accept fp32 models: quantize to int8, uint8 or fp16",
		[input.manifest.metadata.namespace],
	)
}

deny contains lib.finding("targeting.quantization", msg, field) if {
	not declared_quantization
	lib.strict_namespace
	field := lib.field_at(["spec", "inferenceConfig", "quantization"])
	msg := sprintf(
		"namespace %v is strict and requires spec.inferenceConfig.quantization, so the numeric format the devices get is declared and checked%v",
		[input.manifest.metadata.namespace, measured_fp32],
	)
}

# What the model inspector found, when that is a format strict namespaces refuse.
measured_fp32 := ", and the model artifact is fp32 (measured), which it does not accept: quantize to int8, uint8 or fp16" if {
	input.facts.model.quantization == "fp32"
} else := ""

# targeting.quantization, measured half: the declared quantization must match the artifact
# (input.facts.model is gathered by the model inspector; absent facts are evidence.missing).
deny contains lib.finding("targeting.quantization", msg, "spec.inferenceConfig.quantization") if {
	declared := input.manifest.spec.inferenceConfig.quantization
	actual := input.facts.model.quantization
	is_string(actual)
	declared != actual
	msg := sprintf(
		"inferenceConfig.quantization declares %v but the model artifact is %v (%v percent of weight bytes stored quantized, %v of %v compute nodes run quantized)",
		[
			declared, actual,
			round(object.get(input.facts.model, "quantized_weight_share", 0) * 100),
			object.get(input.facts.model, "quantized_compute_nodes", 0),
			object.get(input.facts.model, "compute_nodes", 0),
		],
	)
}

declared_quantization if is_string(input.manifest.spec.inferenceConfig.quantization)
