# Supply-chain rules that need only the manifest: the artifact is pinned by digest and
# fetched from an approved location. The rules that check the artifact itself
# (checksum-match, signature, provenance) need gathered evidence; until it is gathered,
# evidence.missing speaks for them. Prefixes come from data.fleetgate.config.supplychain.
package fleetgate.supplychain

import rego.v1

import data.fleetgate.lib

cfg := data.fleetgate.config.supplychain

# supplychain.checksum-format: the checksum pins the exact bytes that ship; only a full
# lowercase sha256 digest can be compared with the artifact.
deny contains lib.finding("supplychain.checksum-format", msg, "spec.checksum") if {
	checksum := input.manifest.spec.checksum
	not sha256_digest(checksum)
	msg := sprintf(
		"checksum %v is not sha256: followed by 64 lowercase hex digits",
		[checksum],
	)
}

sha256_digest(checksum) if {
	is_string(checksum)
	regex.match(`^sha256:[0-9a-f]{64}$`, checksum)
}

# supplychain.registry: artifacts come only from approved storage, so access control,
# retention and scanning apply to everything that ships.
deny contains lib.finding("supplychain.registry", msg, "spec.modelUri") if {
	uri := input.manifest.spec.modelUri
	not approved(uri)
	msg := sprintf(
		"modelUri %v does not start with an allowed prefix %v",
		[uri, cfg.allowedRegistries],
	)
}

approved(uri) if {
	is_string(uri)
	strings.any_prefix_match(uri, cfg.allowedRegistries)
}

# supplychain.registry, local paths: a file: URI must stay inside the repository, so a ".."
# path segment (also percent-encoded, or with backslashes) is refused.
deny contains lib.finding("supplychain.registry", msg, "spec.modelUri") if {
	uri := input.manifest.spec.modelUri
	is_string(uri)
	startswith(uri, "file:")
	climbs_out(uri)
	msg := sprintf(
		"modelUri %v leaves the repository through a .. path segment",
		[uri],
	)
}

climbs_out(uri) if {
	decoded := replace(replace(replace(lower(uri), "%2e", "."), "%2f", "/"), "%5c", "/")
	regex.match(`(^|[/\\:])\.\.([/\\]|$)`, decoded)
}
