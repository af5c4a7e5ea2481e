"""evidence.fairness settings: defaults, validation, one-line ConfigError naming the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fleetgate.errors import ConfigError
from fleetgate.evidence.fairness import COLLECTOR, FairnessSettings, parse_settings
from fleetgate.evidence.interface import CollectorContext

ContextFactory = Callable[..., CollectorContext]


def test_defaults() -> None:
    assert parse_settings({}) == FairnessSettings(
        threshold=0.5, min_group_rows=30, max_bytes=256 * 1024 * 1024, batch_rows=4096
    )
    assert parse_settings({"threshold": 0.7, "minGroupRows": 5, "batchRows": 10, "maxBytes": 99}) == (
        FairnessSettings(threshold=0.7, min_group_rows=5, max_bytes=99, batch_rows=10)
    )


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"threshold": 0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "0.5"}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"minGroupRows": 0}, "minGroupRows"),
        ({"minGroupRows": 2.5}, "minGroupRows"),
        ({"maxBytes": -1}, "maxBytes"),
        ({"batchRows": False}, "batchRows"),
        ({"batchRows": 1 << 30}, "batchRows"),
        ({"treshold": 0.5}, "treshold"),
    ],
)
def test_bad_settings_raise_config_error(context: ContextFactory, settings: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^fleetgate\.yaml: evidence\.fairness\.{key}: "):
        COLLECTOR.collect(context(settings=settings))


def test_bad_settings_are_refused_even_without_an_evaluation_block(context: ContextFactory) -> None:
    with pytest.raises(ConfigError, match="evidence.fairness.minGroupRows"):
        COLLECTOR.collect(context(settings={"minGroupRows": -3}, evaluation=None))
