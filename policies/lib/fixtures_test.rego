# Test fixtures shared by every area's tests: one valid manifest (the manifest reference
# example, at 10 % in production) and helpers to derive variants from it.
#
# Variants are made with json.patch rather than object.union: object.union of the embedded
# engine merges only the top level, so a nested patch would silently drop sibling fields.
# The file ends in _test.rego, so it is loaded by `fleetgate policy test` but never at gate time.
package fleetgate.lib.fixtures

import rego.v1

checksum := "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

manifest := {
	"apiVersion": "mobileai.apexlogic.com/v1",
	"kind": "OnDeviceModel",
	"metadata": {"name": "image-classifier-v3", "namespace": "production"},
	"spec": {
		"modelId": "img-cls-003",
		"version": "3.2.1",
		"modelUri": "s3://apexlogic-models/image-classifier/v3.2.1/model.onnx",
		"checksum": checksum,
		"tier": "standard",
		"sizeBytes": 12582912,
		"targetDevices": {"minOSVersion": "iOS16", "minAPILevel": 30, "minMemoryMB": 4096, "regions": ["US", "EU"]},
		"updateStrategy": {"type": "stagedRollout", "rolloutPercentage": 10, "minBatteryLevel": 50, "networkConstraint": "WIFI"},
		"inferenceConfig": {"batchSize": 1, "numThreads": 2, "quantization": "int8"},
		"featureFlags": {"enableNewPostProcessing": true},
	},
}

# patched applies JSON-patch operations to the fixture manifest.
patched(ops) := json.patch(manifest, ops)

# clean returns its argument unchanged. The embedded engine mishandles a string literal
# written directly as a function argument (f("x")): inside the function it can keep its
# quotes, so it compares unequal to "x", prints as "\"x\"" in sprintf and is refused as a
# JSON pointer. A round trip through JSON gives back a plain value; helpers that take
# strings from tests pass them through clean.
clean(value) := json.unmarshal(json.marshal(value))

# set_field sets (or adds) one field, addressed by its keys, e.g. ["spec", "tier"].
set_field(path, value) := patched([{"op": "add", "path": path, "value": clean(value)}])

# drop_field removes one field, addressed by its keys.
drop_field(path) := patched([{"op": "remove", "path": path}])

# only keeps the findings of one rule.
only(findings, rule) := {f | some f in findings; f.rule == clean(rule)}
