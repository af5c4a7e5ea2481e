package fleetgate.supplychain

import rego.v1

import data.fleetgate.fixtures as fx

# findings evaluates one rule of this area on a manifest, with no evidence.
findings(rule, manifest) := found if {
	found := fx.only(deny, rule) with input.manifest as manifest
		with input.change as "added"
		with input.previous as null
		with input.stage as "pre-merge"
		with input.facts as {}
}

checksum(value) := fx.set_field(["spec", "checksum"], value)

model_uri(uri) := fx.set_field(["spec", "modelUri"], uri)

# supplychain.checksum-format

test_checksum_format_admits_a_lowercase_sha256_digest if {
	count(findings("supplychain.checksum-format", fx.manifest)) == 0
}

test_checksum_format_denies_malformed_checksums if {
	every value in [
		upper(fx.checksum),
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
		concat("", [fx.checksum, "0"]),
		"md5:9e107d9d372bb6826bd81d3542a419d6",
		substring(fx.checksum, 7, -1),
		concat("", [fx.checksum, "\n"]),
	] {
		some f in findings("supplychain.checksum-format", checksum(value))
		f.field == "spec.checksum"
		contains(f.msg, "is not sha256: followed by 64 lowercase hex digits")
	}
}

test_checksum_format_names_the_bad_value if {
	some f in findings("supplychain.checksum-format", checksum("sha1:abc"))
	contains(f.msg, "checksum sha1:abc is not")
}

# supplychain.registry

test_registry_admits_every_allowed_prefix if {
	every uri in [
		"s3://apexlogic-models/m.onnx",
		"gs://apexlogic-models/m.onnx",
		"https://models.example.com/m.onnx",
		"file:models/m.onnx",
	] {
		count(findings("supplychain.registry", model_uri(uri))) == 0
	}
}

test_registry_denies_an_unlisted_scheme if {
	found := findings("supplychain.registry", model_uri("http://models.example.com/m.onnx"))
	count(found) == 1
	some f in found
	f.field == "spec.modelUri"
	contains(f.msg, "modelUri http://models.example.com/m.onnx does not start with an allowed prefix")
	contains(f.msg, "s3://")
}

test_registry_reads_prefixes_from_config if {
	manifest := model_uri("s3://apexlogic-models/m.onnx")
	found := findings("supplychain.registry", manifest) with data.fleetgate.config.supplychain.allowedRegistries as ["gs://"]
	count(found) == 1
}

test_registry_denies_file_uris_that_leave_the_repository if {
	every uri in [
		"file:../secrets/m.onnx",
		"file:models/../../m.onnx",
		"file:models/..",
		"file:models/%2E%2E/%2e%2e/m.onnx",
		"file:models\\..\\m.onnx",
		"file:///srv/models/../m.onnx",
	] {
		some f in findings("supplychain.registry", model_uri(uri))
		f.field == "spec.modelUri"
		contains(f.msg, "leaves the repository through a .. path segment")
	}
}

test_registry_admits_dots_inside_file_names if {
	every uri in ["file:models/m..onnx", "file:models/..hidden/m.onnx", "file:./models/m.onnx"] {
		count(findings("supplychain.registry", model_uri(uri))) == 0
	}
}

test_registry_leaves_remote_paths_to_the_server if {
	# Only file: URIs are read from the repository; a remote URL's path is resolved by its server.
	count(findings("supplychain.registry", model_uri("https://models.example.com/a/../m.onnx"))) == 0
}
