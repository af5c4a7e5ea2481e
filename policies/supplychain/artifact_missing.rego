# supplychain.artifact-missing: the manifest names a file in the repository that is not there.
# That is not evidence still to be gathered (evidence.missing) but a definite error: the bytes
# the manifest would ship do not exist, so it denies at every stage.
package fleetgate.supplychain

import rego.v1

import data.fleetgate.lib

deny contains lib.finding("supplychain.artifact-missing", msg, "spec.modelUri") if {
	input.facts.artifact.missing == true
	msg := sprintf(
		"spec.modelUri names %v, which does not exist in the repository",
		[input.facts.artifact.path],
	)
}
