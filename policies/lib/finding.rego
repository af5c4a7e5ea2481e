# Shared helpers of the fleetgate policy library.
#
# Every area builds its findings with finding/3, so the engine receives one shape from
# every rule: {"rule": "<area>.<name>", "msg": "<sentence with the numbers>", "field": "spec.x.y"}.
# `field` is the manifest path the finding is about; the engine turns it into file:line.
#
# Writing messages for the embedded engine (see README.md, "Engine notes"): give sprintf
# numbers, arrays, input or data values, rule constants and other sprintf results. A string
# that comes from concat, from a literal default of object.get, from a literal bound to a
# local variable or from a literal function argument is printed with its quotes.
package fleetgate.lib

import rego.v1

finding(rule, msg, field) := {"rule": rule, "msg": msg, "field": field}

# A strict namespace ships to customer devices and gets the strictest rules.
strict_namespace if input.manifest.metadata.namespace in data.fleetgate.config.strictNamespaces

# The model size the cost and rollout rules judge: the measured artifact size when the
# artifact was gathered, else the declared spec.sizeBytes. Undefined when neither is known
# (the evidence area reports that as evidence.missing).
model_size_source := "measured" if {
	is_number(input.facts.artifact.size)
} else := "declared" if {
	is_number(input.manifest.spec.sizeBytes)
}

model_size := input.facts.artifact.size if model_size_source == "measured"

model_size := input.manifest.spec.sizeBytes if model_size_source == "declared"

# Where a size finding points: the declared size when the manifest has one, else the artifact URI.
model_size_field := "spec.sizeBytes" if {
	is_number(input.manifest.spec.sizeBytes)
} else := "spec.modelUri"

# num renders a measured number for messages, the same in every engine: whole numbers with %v
# (OPA prints an integer given to %g as "%!g(int64=...)"), others with %g after rounding to at
# most six significant digits (the embedded engine prints 0.567 as 0.5669999999999999 with %v,
# and %g there keeps six digits where OPA keeps them all).
num(x) := sprintf("%v", [rounded]) if {
	rounded := _rounded(x)
	rounded == round(rounded)
} else := sprintf("%g", [_rounded(x)])

_rounded(x) := round(x * 1000000) / 1000000 if {
	abs(x) < 1
} else := round(x * 10000) / 10000 if {
	abs(x) < 100
} else := round(x * 100) / 100 if {
	abs(x) < 10000
} else := round(x)

# mib renders a byte count for messages, e.g. 52428800 -> "50.0 MiB".
# Written with %d, not %.1f: OPA prints a whole number given to %.1f as "%!f(int64=50)".
# Tenths are rounded half to even, as %.1f did.
mib(bytes) := sprintf("%d.%d MiB", [floor(tenths / 10), tenths % 10]) if {
	tenths := _tenths(bytes)
}

_tenths(bytes) := exact - 1 if {
	exact := round((bytes * 10) / 1048576)
	exact - ((bytes * 10) / 1048576) == 0.5
	exact % 2 == 1
} else := round((bytes * 10) / 1048576)

# field_at returns the dotted path of `path` (an array of keys) when the manifest has that
# field, else the path of its longest present prefix, so a finding about an absent optional
# field still lands on a line of the document. The present field is tried first: it is the
# common case, and the prefix search costs the embedded engine about 0.3 ms per finding.
field_at(path) := concat(".", path) if {
	present(path)
} else := concat(".", array.slice(path, 0, n)) if {
	some n in numbers.range(1, count(path))
	present(array.slice(path, 0, n))
	not present(array.slice(path, 0, n + 1))
} else := path[0]

present(path) if object.get(input.manifest, path, null) != null
