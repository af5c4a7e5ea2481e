package fleetgate.targeting

import rego.v1

import data.fleetgate.fixtures as fx

# findings evaluates one rule of this area on a manifest, with no evidence.
findings(rule, manifest) := measured(rule, manifest, {})

# measured is findings with the given evidence facts.
measured(rule, manifest, facts) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as facts
}

api_level(level) := fx.set_field(["spec", "targetDevices", "minAPILevel"], level)

ios(version) := fx.set_field(["spec", "targetDevices", "minOSVersion"], version)

regions(list) := fx.set_field(["spec", "targetDevices", "regions"], list)

quantization(q) := fx.set_field(["spec", "inferenceConfig", "quantization"], q)

# targeting.min-api-level

test_min_api_level_admits_exactly_the_floor if {
	count(findings("targeting.min-api-level", api_level(26))) == 0
}

test_min_api_level_denies_one_below_the_floor if {
	found := findings("targeting.min-api-level", api_level(25))
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices.minAPILevel"
	contains(f.msg, "minAPILevel is 25, below the lowest supported Android API level 26")
}

test_min_api_level_is_not_required if {
	manifest := fx.patched([
		{"op": "remove", "path": ["spec", "targetDevices", "minAPILevel"]},
		{"op": "remove", "path": ["spec", "targetDevices", "minOSVersion"]},
	])
	count(findings("targeting.min-api-level", manifest)) == 0
	count(findings("targeting.min-os", manifest)) == 0
}

test_min_api_level_reads_the_floor_from_config if {
	found := findings("targeting.min-api-level", api_level(30)) with data.fleetgate.config.targeting.minAPILevel as 31
	count(found) == 1
}

# targeting.min-os

test_min_os_admits_exactly_the_floor if {
	count(findings("targeting.min-os", ios("iOS15"))) == 0
}

test_min_os_denies_one_major_below_the_floor if {
	found := findings("targeting.min-os", ios("iOS14"))
	count(found) == 1
	some f in found
	f.field == "spec.targetDevices.minOSVersion"
	contains(f.msg, "minOSVersion iOS14 targets iOS major version 14, below the lowest supported major version 15")
}

test_min_os_reads_leading_zeros_as_a_number if {
	count(findings("targeting.min-os", ios("iOS016"))) == 0
	some f in findings("targeting.min-os", ios("iOS014"))
	contains(f.msg, "major version 14,")
	some g in findings("targeting.min-os", ios("iOS0"))
	contains(g.msg, "major version 0,")
}

test_min_os_admits_a_two_digit_major_above_a_one_digit_floor if {
	found := findings("targeting.min-os", ios("iOS10")) with data.fleetgate.config.targeting.minIOSMajor as 9
	count(found) == 0
}

test_min_os_denies_a_malformed_version if {
	every version in ["ios16", "iOS 16", "iOS16.1", "16", "iOS", "iOS16\n"] {
		some f in findings("targeting.min-os", ios(version))
		f.field == "spec.targetDevices.minOSVersion"
		contains(f.msg, "is not of the form iOS<major> (for example iOS15)")
	}
}

test_min_os_names_the_malformed_value if {
	some f in findings("targeting.min-os", ios("android12"))
	contains(f.msg, "minOSVersion android12 is not of the form")
}

# targeting.regions

test_regions_admits_allowed_regions if {
	count(findings("targeting.regions", regions(["US", "EU", "UK", "CA", "JP", "AU", "IN", "BR"]))) == 0
}

test_regions_denies_each_region_outside_the_allowed_list if {
	found := findings("targeting.regions", regions(["US", "CN", "EU", "RU"]))
	count(found) == 2
	fields := {f.field | some f in found}
	fields == {"spec.targetDevices.regions[1]", "spec.targetDevices.regions[3]"}
	some f in found
	f.field == "spec.targetDevices.regions[1]"
	contains(f.msg, "region CN is not an allowed region")
	contains(f.msg, "US")
}

test_regions_denies_an_empty_list if {
	some f in findings("targeting.regions", regions([]))
	f.field == "spec.targetDevices.regions"
	contains(f.msg, "missing or empty")
}

test_regions_denies_a_missing_list if {
	some f in findings("targeting.regions", fx.drop_field(["spec", "targetDevices", "regions"]))
	f.field == "spec.targetDevices.regions"
}

test_regions_reads_the_allowed_list_from_config if {
	found := findings("targeting.regions", regions(["CN"])) with data.fleetgate.config.targeting.allowedRegions as ["CN"]
	count(found) == 0
}

# targeting.quantization

test_quantization_denies_fp32_in_a_strict_namespace if {
	found := findings("targeting.quantization", quantization("fp32"))
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig.quantization"
	contains(f.msg, "namespace production is strict and does not accept fp32 models")
}

test_quantization_admits_fp32_outside_strict_namespaces if {
	manifest := fx.patched([
		{"op": "add", "path": ["metadata", "namespace"], "value": "research"},
		{"op": "add", "path": ["spec", "inferenceConfig", "quantization"], "value": "fp32"},
	])
	count(findings("targeting.quantization", manifest)) == 0
}

test_quantization_admits_quantized_models_in_a_strict_namespace if {
	every q in ["int8", "uint8", "fp16"] {
		count(findings("targeting.quantization", quantization(q))) == 0
	}
}

test_quantization_denies_a_declaration_the_artifact_contradicts if {
	found := measured("targeting.quantization", fx.manifest, {"model": {"quantization": "fp16"}})
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig.quantization"
	contains(f.msg, "declares int8 but the model artifact is fp16")
}

test_quantization_admits_a_declaration_the_artifact_confirms if {
	count(measured("targeting.quantization", fx.manifest, {"model": {"quantization": "int8"}})) == 0
}

undeclared := fx.drop_field(["spec", "inferenceConfig", "quantization"])

test_quantization_denies_a_measured_fp32_model_that_declares_nothing if {
	found := measured("targeting.quantization", undeclared, {"model": {"quantization": "fp32"}})
	some f in found
	f.field == "spec.inferenceConfig"
	contains(f.msg, "the model artifact is fp32 (measured)")
}

test_quantization_requires_the_field_in_a_strict_namespace if {
	found := measured("targeting.quantization", undeclared, {"model": {"quantization": "int8"}})
	count(found) == 1
	some f in found
	f.field == "spec.inferenceConfig"
	contains(f.msg, "namespace production is strict and requires spec.inferenceConfig.quantization")
}

test_quantization_may_be_left_out_outside_strict_namespaces if {
	manifest := json.patch(undeclared, [{"op": "add", "path": ["metadata", "namespace"], "value": "dev"}])
	count(measured("targeting.quantization", manifest, {"model": {"quantization": "fp32"}})) == 0
}
