"""The OPA server engine owns its concurrency: a bounded number of requests in flight."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from corpus_policy import policy_inputs
from fleetgate.errors import PolicyError
from fleetgate.policy import build_engine, builtin_policy_dir, load_library
from support_opa import opa_path
from support_opa_server import Behaviour, StandInOpa

LIBRARY = load_library([builtin_policy_dir()])


@pytest.fixture
def server() -> Iterator[StandInOpa]:
    opa_path()
    with StandInOpa(LIBRARY, Behaviour(LIBRARY.revision, delay=0.1)) as opa:
        yield opa


def test_evaluations_run_concurrently_within_the_configured_bound(server: StandInOpa) -> None:
    engine = build_engine("opa", LIBRARY, {"url": server.url, "concurrency": 3})
    inputs = policy_inputs(12)
    results = engine.evaluate_many(inputs, jobs=1)
    assert server.behaviour.peak == 3
    embedded = build_engine("embedded", LIBRARY)
    assert results == [embedded.evaluate(i) for i in inputs]


def test_one_failing_request_fails_the_batch(server: StandInOpa) -> None:
    engine = build_engine("opa", LIBRARY, {"url": server.url})
    server.behaviour.status = 503
    with pytest.raises(PolicyError, match="HTTP 503"):
        engine.evaluate_many(policy_inputs(4), jobs=4)


def test_a_url_with_a_path_is_refused() -> None:
    with pytest.raises(PolicyError, match="give only scheme, host and port"):
        build_engine("opa", LIBRARY, {"url": "http://127.0.0.1:8181/v1/data"})


def test_a_slow_server_times_out(server: StandInOpa) -> None:
    engine = build_engine("opa", LIBRARY, {"url": server.url, "timeoutSeconds": 0.2})
    server.behaviour.delay = 1.0
    with pytest.raises(PolicyError, match="Timeout"):
        engine.evaluate(policy_inputs(1)[0])
