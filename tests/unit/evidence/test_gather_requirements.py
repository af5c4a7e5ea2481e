"""A collector whose libraries are not installed leaves its fact absent, with the reason."""

from __future__ import annotations

import pytest

from fleetgate.evidence import gather


def test_a_missing_library_is_found_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(gather._REQUIRES, "model", ("model", ("json", "fleetgate_no_such_library")))
    assert gather._missing_library("model") == "fleetgate_no_such_library"


def test_installed_libraries_are_not_missing() -> None:
    for name in gather.COLLECTORS:
        assert gather._missing_library(name) is None, name


def test_the_fact_is_absent_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(gather._REQUIRES, "latency", ("model", ("fleetgate_no_such_library",)))
    fact = gather._collect("latency", None, None)  # type: ignore[arg-type]
    assert fact == {
        "status": "absent",
        "reason": "fleetgate_no_such_library is not installed here (pip install 'fleetgate[model]')",
    }
