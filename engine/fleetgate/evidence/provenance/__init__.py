"""The ``provenance`` fact: the artifact came out of a verified supply chain.

Two kinds of evidence, from the trust file's ``provenance`` section
(``attestations/provenance.schema.json``): an in-toto layout whose final step's product is the
artifact, and an SLSA provenance v1 statement whose subject is the artifact, signed by a
trusted key or a sigstore identity. When both are configured both must verify.

The fact::

    {"status": "verified" | "failed" | "absent",
     "kind": "in-toto-layout" | "slsa" | "in-toto-layout+slsa",
     "layout", "layout_digest", "layout_signers", "steps", "final_step", "product_digest",
     "slsa": {"predicate_type", "builder_id", "signer", "subject_digest", "statement_digest"},
     "trust_config": "sha256:<trust file>", "reason": "<one line>" (failed and absent only)}

This module stays light: in-toto, securesystemslib and sigstore are imported only inside
:meth:`ProvenanceCollector.collect`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fleetgate.errors import FleetgateError
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.provenance._config import load_config
from fleetgate.evidence.provenance._outcome import Outcome, combine, failed

__all__ = ["COLLECTOR", "ProvenanceCollector"]


class ProvenanceCollector:
    """Verifies the in-toto layout and/or SLSA statement the trust file asks for."""

    @property
    def fact(self) -> str:
        return "provenance"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Never cached: the verdict depends on the clock (layout expiry) and on files beside
        the artifact that no digest in the context covers."""
        return None

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """The provenance fact; None without a trust file, a provenance section or an artifact.

        Raises ConfigError for a bad provenance section, bad settings or unreadable trust
        material (layout, keys). Any verification problem is a ``failed`` fact, never a pass.
        """
        trust, artifact = context.trust, context.artifact
        if trust is None or trust.provenance is None or artifact is None:
            return None
        config = load_config(trust, context.settings)
        outcomes: list[Outcome] = []
        kinds: list[str] = []
        layout, slsa = config.layout, config.slsa
        if layout is not None:
            from fleetgate.evidence.provenance._layout import verify_layout

            kinds.append("in-toto-layout")
            outcomes.append(_guarded(lambda: verify_layout(layout, artifact, context.root, config.max_bytes)))
        if slsa is not None:
            from fleetgate.evidence.provenance._slsa import verify_statement

            kinds.append("slsa")
            root, cap = context.root, config.max_bytes
            outcomes.append(_guarded(lambda: verify_statement(slsa, artifact, root, cap)))
        outcome = combine(outcomes)
        fact: dict[str, Any] = {"status": outcome.status, "kind": "+".join(kinds), **outcome.details}
        fact["trust_config"] = trust.digest
        if outcome.reason is not None:
            fact["reason"] = outcome.reason
        return fact


def _guarded(check: Callable[[], Outcome]) -> Outcome:
    """``check()``, with any unexpected exception turned into a failed outcome (fail closed).

    ConfigError and the other FleetgateErrors pass through: they mean "could not decide".
    """
    try:
        return check()
    except FleetgateError:
        raise
    except Exception as exc:  # a library bug or hostile input we did not foresee: never a pass
        return failed(f"provenance verification failed ({type(exc).__name__}): {exc}")


COLLECTOR = ProvenanceCollector()
