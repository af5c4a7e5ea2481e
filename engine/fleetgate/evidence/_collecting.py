"""Run the collectors of one gathering: the libraries each needs, the fact cache, one failure shape.

A :class:`CollectorRunner` is frozen: its settings, cache and supplied collectors are fixed when
it is built; it only keeps the collector modules it has loaded by name.

* a collector whose libraries are not installed here leaves its fact absent, with how to
  install them (a light install, such as the pre-commit hook's own environment, gathers what
  it can);
* a cached fact is reused when the collector's cache key is the same (errors are never cached);
* a collector that raises :class:`EvidenceError` or fails unexpectedly leaves
  ``{"error": "<message>"}``; a :class:`ConfigError` stops the check.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fleetgate.config import EvidenceConfig
from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.interface import Collector, CollectorContext
from fleetgate.evidence.registry import spec as collector_spec

__all__ = ["CollectorRunner"]

Fact = Mapping[str, Any]


@dataclass(frozen=True)
class CollectorRunner:
    """Runs collectors by name (see the module docstring)."""

    settings: EvidenceConfig
    cache: FactCache
    # Collectors given as objects instead of loaded by name.
    supplied: Mapping[str, Collector] = field(default_factory=dict)
    _loaded: dict[str, Collector] = field(default_factory=dict, repr=False)

    def collector(self, name: str) -> Collector:
        if name in self.supplied:
            return self.supplied[name]
        if name not in self._loaded:
            self._loaded[name] = importlib.import_module(collector_spec(name).module).COLLECTOR
        return self._loaded[name]

    def with_settings(self, name: str, context: CollectorContext) -> CollectorContext:
        settings = self.settings.collectors.get(name, {})
        # A context built with these very settings is used as is: a scan prices every change.
        return context if context.settings is settings else replace(context, settings=settings)

    def collect(self, name: str, context: CollectorContext) -> Fact | None:
        """The fact of collector ``name``: absent without its libraries, else cached or measured."""
        model_format = context.artifact.format if context.artifact is not None else ""
        missing = _missing_library(name, model_format)
        if missing is not None:
            extra = collector_spec(name).requirements(model_format)[0]
            return {
                "status": "absent",
                "reason": f"{missing} is not installed here (pip install 'fleetgate[{extra}]')",
            }
        collector = self.collector(name)
        context = self.with_settings(name, context)
        key = _guarded_key(collector, context) if collector_spec(name).cacheable else None
        if key is not None:
            hit = self.cache.get(name, key)
            if hit is not None:
                return hit
        fact = guarded(name, collector.collect, context)
        # Errors are not cached: the next run tries again and reports afresh.
        if key is not None and fact is not None and "error" not in fact:
            self.cache.put(name, key, fact)
        return fact

    def collect_uncached(self, name: str, context: CollectorContext) -> Fact | None:
        """The fact of collector ``name``, always gathered afresh (deployment-scope facts)."""
        return guarded(name, self.collector(name).collect, self.with_settings(name, context))


def guarded(
    name: str, collect: Callable[[CollectorContext], Fact | None], context: CollectorContext
) -> Fact | None:
    """Run a collector; every failure but a configuration error becomes an ``error`` fact."""
    try:
        return collect(context)
    except ConfigError:
        raise
    except EvidenceError as exc:
        return {"error": exc.diagnostics()}
    except Exception as exc:
        return {"error": f"the {name} collector failed unexpectedly: {type(exc).__name__}: {exc}"}


def _guarded_key(collector: Collector, context: CollectorContext) -> Mapping[str, Any] | None:
    try:
        key = collector.cache_key(context)
    except Exception:
        return None
    return None if key is None else {**key, "settings": dict(context.settings)}


def _missing_library(name: str, model_format: str = "") -> str | None:
    """The first library ``name`` needs for ``model_format`` that is not installed (found
    without importing it)."""
    for module in collector_spec(name).requirements(model_format)[1]:
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            return module
    return None
