"""Geometry of the console's charts, drawn by the templates as inline SVG.

The network of the deployment is closed, so no chart library is fetched from
a CDN. The server computes every bar and point here, and the template only
writes the SVG elements. Each element carries its number in ``data-value``
and a ``<title>``, and the page repeats the numbers in a table.
"""

from dataclasses import dataclass, field

# Sizes in SVG user units; the SVG scales to the width of the page.
WIDTH = 480
LABEL_WIDTH = 96
VALUE_WIDTH = 48
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 6

LINE_HEIGHT = 220
LINE_LEFT = 44
LINE_RIGHT = 12
LINE_TOP = 10
LINE_BOTTOM = 26


@dataclass(frozen=True)
class Series:
    """One kind of number in a chart: a key, its Chinese label, its CSS class."""

    key: str
    label: str

    @property
    def css_class(self):
        return f"series-{self.key}"


@dataclass
class Segment:
    series: Series
    value: int
    x: float
    width: float


@dataclass
class BarRow:
    label: str
    total: int
    y: float
    url: str | None = None
    segments: list = field(default_factory=list)


@dataclass
class BarChart:
    """Horizontal stacked bars, one row per town."""

    title: str
    series: list
    rows: list
    width: int = WIDTH
    label_width: int = LABEL_WIDTH

    @property
    def height(self):
        return TOP * 2 + ROW_HEIGHT * max(1, len(self.rows))

    @property
    def bar_height(self):
        return BAR_HEIGHT


def stacked_bars(title, series, rows):
    """Lay out ``rows`` of ``(label, {series key: value}, url)`` as stacked bars.

    All rows share one scale: the largest row total fills the bar area.
    """
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((sum(values.values()) for _, values, _ in rows), default=0)
    scale = area / largest if largest else 0
    chart = BarChart(title=title, series=list(series), rows=[])
    for index, (label, values, url) in enumerate(rows):
        row = BarRow(
            label=label,
            total=sum(values.values()),
            y=TOP + index * ROW_HEIGHT,
            url=url,
        )
        x = float(LABEL_WIDTH)
        for item in series:
            value = values.get(item.key, 0)
            width = value * scale
            row.segments.append(Segment(item, value, round(x, 2), round(width, 2)))
            x += width
        chart.rows.append(row)
    return chart


@dataclass
class LinePoint:
    label: str
    value: int
    x: float
    y: float


@dataclass
class Line:
    series: Series
    points: list

    @property
    def path(self):
        return " ".join(f"{point.x},{point.y}" for point in self.points)


@dataclass
class LineChart:
    """One line per series over days; ``ticks`` label the y axis."""

    title: str
    lines: list
    x_labels: list
    ticks: list
    width: int = WIDTH
    height: int = LINE_HEIGHT
    left: int = LINE_LEFT
    right: int = WIDTH - LINE_RIGHT
    bottom: int = LINE_HEIGHT - LINE_BOTTOM
    top: int = LINE_TOP


def nice_maximum(value):
    """Round ``value`` up to 1, 2, 4, 6 or 8 times a power of ten, for the y axis.

    Apart from 1, each of these halves to a whole number, so the middle tick
    is an integer count.
    """
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 4, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def daily_lines(title, series, days):
    """Lay out ``days`` of ``(label, {series key: value})`` as one line per series."""
    top, bottom = LINE_TOP, LINE_HEIGHT - LINE_BOTTOM
    left, right = LINE_LEFT, WIDTH - LINE_RIGHT
    largest = max((max(values.values(), default=0) for _, values in days), default=0)
    maximum = nice_maximum(largest)

    def x_of(index):
        if len(days) == 1:
            return (left + right) / 2
        return left + index * (right - left) / (len(days) - 1)

    def y_of(value):
        return bottom - value * (bottom - top) / maximum

    lines = []
    for item in series:
        points = [
            LinePoint(
                label,
                values.get(item.key, 0),
                round(x_of(index), 2),
                round(y_of(values.get(item.key, 0)), 2),
            )
            for index, (label, values) in enumerate(days)
        ]
        lines.append(Line(item, points))
    ticks = [
        (value, round(y_of(value), 2)) for value in sorted({0, maximum // 2, maximum})
    ]
    return LineChart(title, lines, _x_labels(days, x_of), ticks)


def _x_labels(days, x_of):
    """Label the first and last day, and the middle one when there are three or more."""
    if not days:
        return []
    chosen = sorted({0, len(days) // 2, len(days) - 1})
    return [(days[index][0], round(x_of(index), 2)) for index in chosen]
