"""Server-drawn SVG: denials marked, versions labelled, every label escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fleetgate.audit.store import StoredRecord
from fleetgate.console.charts import history_chart, per_day_chart
from fleetgate.console.history import Point

SVG = "{http://www.w3.org/2000/svg}"


def point(
    seq: int, decision: str, version: str, rollout: float | None, denied: tuple[str, ...] = ()
) -> Point:
    record = StoredRecord(
        decision_id=f"r{seq}",
        timestamp=f"2026-01-0{seq + 1}T00:00:00.000000Z",
        stage="pre-deploy",
        kind="decision",
        decision=decision,
        version=version,
        seq=seq,
        body=b"{}",
        leaf_hash=b"",
    )
    return Point(record, rollout, denied)


def test_history_marks_denials_with_their_rules_and_labels_versions() -> None:
    points = [
        point(0, "admit", "1.0.0", 10),
        point(1, "deny", "1.1.0", 50, ("rollout.step-limit",)),
        point(2, "admit", "1.1.0", 25),
    ]
    svg = ET.fromstring(history_chart(points, lambda seq: f"/decisions/{seq}"))
    links = svg.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/decisions/0", "/decisions/1", "/decisions/2"]
    assert [len(a.findall(f"{SVG}circle")) for a in links] == [1, 0, 1]
    assert links[1].find(f"{SVG}path") is not None  # the denial's cross
    assert "denied by rollout.step-limit" in (links[1].findtext(f"{SVG}title") or "")
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert labels.count("v1.0.0") == 1 and labels.count("v1.1.0") == 1
    [line] = svg.findall(f"{SVG}polyline")
    assert len(line.get("points", "").split()) == 2  # only the admits are joined


def test_labels_from_the_log_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    svg_text = history_chart([point(0, "deny", hostile, None, (hostile,))], lambda seq: f"/d/{seq}?a=1&b=2")
    assert "<script>" not in svg_text and "&lt;script&gt;" in svg_text
    svg = ET.fromstring(svg_text)  # still well-formed XML
    assert svg.find(f"{SVG}a").get("href") == "/d/0?a=1&b=2"  # type: ignore[union-attr]


def test_per_day_bars_stack_by_outcome() -> None:
    days = ["2026-01-01", "2026-01-02"]
    svg = ET.fromstring(per_day_chart([("2026-01-02", "admit", 3), ("2026-01-02", "deny", 1)], days))
    bars = svg.findall(f"{SVG}rect")
    assert [b.findtext(f"{SVG}title") for b in bars] == ["2026-01-02: 3 admit", "2026-01-02: 1 deny"]
    heights = [float(b.get("height", "0")) for b in bars]
    assert heights[0] == 3 * heights[1]
    assert ET.fromstring(history_chart([], str)).findtext(f"{SVG}title") == "No records to draw."
