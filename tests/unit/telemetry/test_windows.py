"""When a breach counts: N consecutive windows, beside a total limit."""

from __future__ import annotations

from typing import Any

from fleetgate.telemetry.windows import Persistence, lasting


def windows(*breached: str) -> list[list[dict[str, Any]]]:
    """One window per string (newest first); each letter a segment that breached in it."""
    return [
        [{"segment": s, "metric": "batteryDrainPctPerDay", "window": k} for s in w]
        for k, w in enumerate(breached)
    ]


def test_a_breach_in_every_consecutive_window_counts() -> None:
    counted, reasons = lasting(windows("ab", "a", "ab"), Persistence(windows=3))
    assert [(b["segment"], b["windows"], b["window"]) for b in counted] == [("a", 3, 0)]
    assert reasons == ["b: a breach now, but not in all 3 consecutive windows of 60 minutes"]


def test_a_flapping_breach_counts_when_it_reaches_the_total_limit() -> None:
    rules = Persistence(windows=3, total_windows=6, total_limit=4)
    counted, reasons = lasting(windows("a", "a", "", "a", "a", ""), rules)
    assert [(b["segment"], b["breachedWindows"], b["totalWindows"]) for b in counted] == [("a", 4, 6)]
    assert reasons == []
    # Three of six is below the limit: not yet a breach, and the reason names both rules.
    counted, reasons = lasting(windows("a", "", "a", "", "a", ""), rules)
    assert counted == []
    assert reasons == [
        "a: a breach now, but not in all 3 consecutive windows of 60 minutes, nor in 4 of the last 6"
    ]


def test_the_total_limit_counts_a_segment_that_is_fine_right_now() -> None:
    # Bad in 4 of the last 6 windows, recovered in the newest: still a breach, with the evidence
    # of the newest window it breached in.
    counted, _ = lasting(
        windows("", "a", "a", "", "a", "a"), Persistence(windows=2, total_windows=6, total_limit=4)
    )
    assert [(b["segment"], b["window"]) for b in counted] == [("a", 1)]


def test_windows_beyond_the_total_are_not_counted() -> None:
    counted, _ = lasting(
        windows("a", "", "a", "", "a", "a"), Persistence(windows=3, total_windows=4, total_limit=3)
    )
    assert counted == []


def test_settings_come_from_the_telemetry_data() -> None:
    rules = Persistence.from_data(
        {"breachWindows": 3, "windowMinutes": 30, "totalWindows": 6, "totalBreachWindows": 4}
    )
    assert (rules.windows, rules.minutes, rules.read, rules.counts_total) == (3, 30.0, 6, True)
    assert Persistence.from_data({}).read == 1 and not Persistence.from_data({}).counts_total
    # A limit above the windows it counts over could never be met: no total limit, not a silent one.
    assert not Persistence.from_data({"totalWindows": 2, "totalBreachWindows": 3}).counts_total
    assert Persistence.from_data({"breachWindows": 0, "windowMinutes": -5}) == Persistence()
