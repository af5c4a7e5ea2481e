# evidence.failed for the comparison rules: the change replaced the artifact, but the previous
# artifact could not be read (from the base commit, the mirror or a download). The collector
# still measured the new artifact and says why it could not compare, in <fact>.base.error.
# "Could not compare" is never "no regression", so it denies at every stage.
package fleetgate.evidence

import rego.v1

import data.fleetgate.lib

# The comparison rule each fact's base measurement serves.
comparison_rules := {"latency": "cost.latency-regression", "fairness": "responsible.accuracy-drop"}

deny contains lib.finding("evidence.failed", msg, "spec.modelUri") if {
	some name, rule in comparison_rules
	reason := input.facts[name].base.error
	is_string(reason)
	msg := concat("", [rule, " cannot compare with the previous artifact, so it cannot decide: ", reason])
}
