"""Bar charts drawn on the server as SVG: the geometry here, the drawing in
templates/_bar_chart.html. No script and no chart library: a chart is readable (and printable)
as the page arrives, on any phone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WIDTH: Final = 420  # the viewBox's width; the SVG scales to its container
LABEL_WIDTH: Final = 165
COUNT_WIDTH: Final = 45
ROW_HEIGHT: Final = 30
BAR_HEIGHT: Final = 20


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    href: str  # the events behind the figure
    y: int  # top of the row
    width: float  # of the bar, 0 for a zero count


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    height: int
    width: int = WIDTH
    bar_x: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    row_height: int = ROW_HEIGHT


def bar_chart(title: str, rows: list[tuple[str, int, str]]) -> BarChart:
    """A horizontal bar chart of (label, count, link) rows, the longest bar filling the space."""
    span = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    largest = max((count for _, count, _ in rows), default=0)
    bars = tuple(
        Bar(
            label=label,
            count=count,
            href=href,
            y=index * ROW_HEIGHT,
            width=round(span * count / largest, 1) if largest else 0.0,
        )
        for index, (label, count, href) in enumerate(rows)
    )
    return BarChart(title=title, bars=bars, height=max(len(rows), 1) * ROW_HEIGHT)
