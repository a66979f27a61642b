"""The small trend chart of the home dashboard, drawn server-side as SVG coordinates.

Issue #10 item 4 asks for the % of hamlets covered over the last 12 months "as a small SVG drawn
server-side": the page draws a polyline from these points, so the chart needs no script, prints,
and works offline. The vertical scale is always 0–100 % so two areas' charts compare at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ChartPoint:
    day: date
    pct: float | None  # None: no hamlet in force that day (no point drawn)
    x: float
    y: float | None


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    points: list[ChartPoint]

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of the SVG polyline (the days with a value)."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points if p.y is not None)

    @property
    def last(self) -> ChartPoint | None:
        drawn = [p for p in self.points if p.pct is not None]
        return drawn[-1] if drawn else None

    @property
    def change(self) -> float | None:
        """Percentage points gained (or lost) from the first day with a value to the last."""
        drawn = [p for p in self.points if p.pct is not None]
        return drawn[-1].pct - drawn[0].pct if len(drawn) > 1 else None

    def y_of(self, pct: float) -> float:
        return _y(pct, self.height)


_PAD = 4.0


def _y(pct: float, height: int) -> float:
    return _PAD + (100.0 - max(0.0, min(100.0, pct))) * (height - 2 * _PAD) / 100.0


def trend_chart(points: Sequence[tuple[date, float | None]], width: int = 320, height: int = 80) -> TrendChart:
    """Place ``coverage.services.trend``'s points (oldest first) evenly across ``width``, with
    0 % at the bottom and 100 % at the top."""
    n = len(points)
    step = (width - 2 * _PAD) / (n - 1) if n > 1 else 0.0
    return TrendChart(width, height, [
        ChartPoint(day, pct, _PAD + i * step, None if pct is None else _y(pct, height))
        for i, (day, pct) in enumerate(points)])
