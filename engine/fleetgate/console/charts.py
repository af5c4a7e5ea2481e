"""Charts drawn on the server as SVG: no script, no external resource, every label escaped.

Colours and shapes are presentation attributes (not ``style``), which the page's strict
Content-Security-Policy allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape

from fleetgate.console.history import Point

__all__ = ["history_chart", "per_day_chart"]

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
COLOURS = {"admit": "#2e7d32", "deny": "#c62828", "override": "#ef6c00"}


def history_chart(points: Sequence[Point], link: Callable[[int], str]) -> str:
    """Rollout % over time: admits joined by a line, denies marked with a cross and the rules
    that blocked them (in each mark's title), version changes labelled. Marks link to records."""
    if not points:
        return _frame("No records to draw.", "")
    times = [_seconds(p.record.timestamp) for p in points]
    low, high = min(times), max(times)
    span = (high - low) or 1.0

    def x(t: float) -> float:
        return LEFT + (t - low) / span * (WIDTH - LEFT - RIGHT)

    def y(percent: float | None) -> float:
        return TOP + (1 - (percent or 0.0) / 100) * (HEIGHT - TOP - BOTTOM)

    parts = [_axes_percent(y)]
    admitted = [
        (x(t), y(p.rollout)) for t, p in zip(times, points, strict=True) if p.record.decision != "deny"
    ]
    if len(admitted) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in admitted)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2e7d32" stroke-width="2"/>')
    version = None
    for t, point in zip(times, points, strict=True):
        px, py = x(t), y(point.rollout)
        parts.append(_mark(point, px, py, link(point.record.seq)))
        if point.record.version != version and point.record.version is not None:
            version = point.record.version
            parts.append(
                f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 28}" font-size="11" text-anchor="middle">'
                f"v{escape(version)}</text>"
            )
    parts.append(_time_labels(low, high))
    return _frame("Rollout percentage and version over time; crosses are denials.", "".join(parts))


def per_day_chart(per_day: Sequence[tuple[str, str, int]], days: Sequence[str]) -> str:
    """Decisions per day, one stacked bar per day (admit, deny, override)."""
    totals: dict[str, dict[str, int]] = {day: {} for day in days}
    for day, decision, count in per_day:
        totals.setdefault(day, {})[decision] = count
    peak = max([sum(c.values()) for c in totals.values()] or [0]) or 1
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    scale = (HEIGHT - TOP - BOTTOM) / peak
    parts = [
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="11" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" font-size="11" text-anchor="end">0</text>',
    ]
    for n, day in enumerate(days):
        base = float(HEIGHT - BOTTOM)
        for decision in ("admit", "deny", "override"):
            count = totals[day].get(decision, 0)
            if count:
                height = count * scale
                base -= height
                parts.append(
                    f'<rect x="{LEFT + n * slot + 1:.1f}" y="{base:.1f}" width="{max(slot - 2, 1):.1f}" '
                    f'height="{height:.1f}" fill="{COLOURS[decision]}"><title>{escape(day)}: {count} '
                    f"{escape(decision)}</title></rect>"
                )
    if days:
        for n in (0, len(days) - 1):
            parts.append(
                f'<text x="{LEFT + (n + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
                f'text-anchor="middle">{escape(days[n][5:])}</text>'
            )
    return _frame("Decisions per day: green admit, red deny, orange override.", "".join(parts))


def _mark(point: Point, px: float, py: float, href: str) -> str:
    record = point.record
    title = f"seq {record.seq}, {record.timestamp}: {record.decision} at {record.stage}, v{record.version}"
    if point.rollout is not None:
        title += f", rollout {point.rollout:g}%"
    if point.denied_by:
        title += f"; denied by {', '.join(point.denied_by)}"
    if record.decision == "deny":
        shape = (
            f'<path d="M{px - 5:.1f},{py - 5:.1f} L{px + 5:.1f},{py + 5:.1f} M{px - 5:.1f},{py + 5:.1f} '
            f'L{px + 5:.1f},{py - 5:.1f}" stroke="{COLOURS["deny"]}" stroke-width="2.5"/>'
        )
    else:
        colour = COLOURS.get(record.decision, "#555")
        shape = f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"/>'
    return f'<a href="{escape(href)}"><title>{escape(title)}</title>{shape}</a>'


def _axes_percent(y: Callable[[float | None], float]) -> str:
    lines = []
    for percent in (0, 25, 50, 75, 100):
        py = y(percent)
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{py + 4:.1f}" font-size="11" text-anchor="end">{percent}%</text>'
        )
    return "".join(lines)


def _time_labels(low: float, high: float) -> str:
    labels = []
    for t, anchor, px in ((low, "start", LEFT), (high, "end", WIDTH - RIGHT)):
        text = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")
        labels.append(
            f'<text x="{px}" y="{HEIGHT - BOTTOM + 14}" font-size="11" text-anchor="{anchor}">{text}</text>'
        )
    return "".join(labels)


def _frame(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _seconds(timestamp: str) -> float:
    try:
        return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
