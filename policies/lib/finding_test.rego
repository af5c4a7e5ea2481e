package fleetgate.lib

import rego.v1

import data.fleetgate.fixtures as fx

test_finding_has_the_shared_shape if {
	finding("area.rule", "a sentence", "spec.x") == {"rule": "area.rule", "msg": "a sentence", "field": "spec.x"}
}

size_view(manifest, facts) := [bytes, origin, location] if {
	bytes := model_size with input.manifest as manifest with input.facts as facts
	origin := model_size_source with input.manifest as manifest with input.facts as facts
	location := model_size_field with input.manifest as manifest with input.facts as facts
}

test_model_size_prefers_the_measured_artifact if {
	size_view(fx.manifest, {"artifact": {"size": 7}}) == [7, "measured", "spec.sizeBytes"]
}

test_model_size_falls_back_to_the_declared_size if {
	size_view(fx.manifest, {}) == [12582912, "declared", "spec.sizeBytes"]
}

test_model_size_is_unknown_without_either if {
	manifest := fx.drop_field(["spec", "sizeBytes"])
	not known_size(manifest)
	location := model_size_field with input.manifest as manifest with input.facts as {}
	location == "spec.modelUri"
}

known_size(manifest) if {
	model_size with input.manifest as manifest with input.facts as {}
}

test_num_reads_the_same_in_every_engine if {
	num(1024) == "1024"
	num(0.25 * 4096) == "1024"
	num(99.9) == "99.9"
	num(0.567) == "0.567"
	num(0.100001) == "0.100001"
	num(12.3456789) == "12.3457"
	num(-0.25) == "-0.25"
}

test_mib_has_one_decimal if {
	mib(52428800) == "50.0 MiB"
	mib(12582912) == "12.0 MiB"
	mib(1153434) == "1.1 MiB"
	mib(262144) == "0.2 MiB"
	mib(786432) == "0.8 MiB"
	mib(0) == "0.0 MiB"
}

located(manifest, path) := location if {
	location := field_at(path) with input.manifest as manifest
}

test_field_at_names_a_present_field if {
	located(fx.manifest, ["spec", "updateStrategy", "type"]) == "spec.updateStrategy.type"
}

test_field_at_falls_back_to_the_nearest_present_parent if {
	manifest := fx.drop_field(["spec", "updateStrategy"])
	located(manifest, ["spec", "updateStrategy", "type"]) == "spec"
	located(fx.manifest, ["spec", "updateStrategy", "missing"]) == "spec.updateStrategy"
	located(fx.manifest, ["status", "phase"]) == "status"
}

strict(manifest) if {
	strict_namespace with input.manifest as manifest
}

test_strict_namespace_follows_config if {
	strict(fx.manifest)
	not strict(fx.set_field(["metadata", "namespace"], "dev"))
}
