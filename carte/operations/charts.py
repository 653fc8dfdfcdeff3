"""Charts drawn on the server as inline SVG: no JavaScript, nothing the Content-Security-
Policy would refuse (colours are presentation attributes, not `style`), and each one a
labelled image whose page also holds its values as text.

`sparkline()` is the small line beside a KPI (or a satisfaction score) in a table;
`trend_chart()` is a KPI's history with its target and thresholds drawn across it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = {"green": "#2fb344", "amber": "#f59f00", "red": "#d63939", "": "#667382"}
LINE = "#206bc4"
# A shape beside each colour, so the RAG reads without telling colours apart.
SHAPES = {"green": "circle", "amber": "diamond", "red": "square", "": "circle"}

Number = float | int | Decimal


def _fmt(value: Number) -> str:
    """A number as people write it: 95, 87.5, 0.25 (no trailing zeros, no exponent)."""
    number = Decimal(str(value)).normalize()
    text = f"{number:f}"
    return text


def _xy(x: float, y: float) -> str:
    return f"{x:.1f},{y:.1f}"


def _marker(x: float, y: float, rag: str, size: float, title: str = "") -> str:
    colour = COLOURS.get(rag, COLOURS[""])
    tip = f"<title>{escape(title)}</title>" if title else ""
    shape = SHAPES.get(rag, "circle")
    if shape == "square":
        s = size * 0.9
        return (
            f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" '
            f'fill="{colour}">{tip}</rect>'
        )
    if shape == "diamond":
        s = size * 1.2
        points = " ".join(
            _xy(px, py) for px, py in ((x, y - s), (x + s, y), (x, y + s), (x - s, y))
        )
        return f'<polygon points="{points}" fill="{colour}">{tip}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="{colour}">{tip}</circle>'


def _segments(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points: a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [r for r in runs if r]


def _polylines(points: Sequence[tuple[float, float] | None], width: float) -> str:
    return "".join(
        f'<polyline points="{" ".join(_xy(x, y) for x, y in run)}" fill="none" '
        f'stroke="{LINE}" stroke-width="{width}" stroke-linejoin="round"/>'
        for run in _segments(points)
        if len(run) > 1
    )


def sparkline(
    values: Sequence[Number | None],
    rags: Sequence[str] | None = None,
    *,
    label: str = "",
    width: int = 120,
    height: int = 28,
) -> SafeString:
    """A small line of `values` (None: no value that period), the last point marked in
    its RAG colour (every point, when `rags` is given); labelled for screen readers."""
    known = [float(v) for v in values if v is not None]
    said = ", ".join("no value" if v is None else _fmt(v) for v in values)
    name = f"{label}: {said}" if label else said or "no values"
    if not known:
        return mark_safe(  # noqa: S308 - built from escaped text
            f'<svg class="sparkline" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(name)}"><title>{escape(name)}</title>'
            f'<line x1="2" y1="{height / 2}" x2="{width - 2}" y2="{height / 2}" stroke="#dadfe5" '
            'stroke-dasharray="2 3"/></svg>'
        )
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    pad = 4.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y_of(v: float) -> float:
        return height - pad - (v - low) / span * (height - 2 * pad)

    points = [None if v is None else (pad + i * step, y_of(float(v))) for i, v in enumerate(values)]
    parts = [_polylines(points, 1.5)]
    last = max(i for i, v in enumerate(values) if v is not None)
    for i, point in enumerate(points):
        if point is None:
            continue
        rag = rags[i] if rags is not None and i < len(rags) else ""
        if i == last or rags is not None:
            parts.append(_marker(point[0], point[1], rag, 2.6 if i == last else 1.8))
    return mark_safe(  # noqa: S308 - built from escaped text and numbers
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(name)}"><title>{escape(name)}</title>'
        f"{''.join(parts)}</svg>"
    )


@dataclass(frozen=True)
class Point:
    """One period of a trend: how it is named, its value (None: not reported), its RAG."""

    label: str
    value: Number | None
    rag: str = ""


def trend_chart(
    points: Sequence[Point],
    *,
    target: Number,
    amber: Number,
    red: Number,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 260,
    chart_id: str = "trend",
) -> SafeString:
    """A KPI's values over its periods, with the target and both thresholds as labelled
    horizontal lines. `title` names the chart (its text alternative is the page's table)."""
    left, right, top, bottom = 48.0, 110.0, 16.0, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [float(p.value) for p in points if p.value is not None]
    lines = [("Target", float(target), "#206bc4"), ("Amber", float(amber), COLOURS["amber"])]
    lines.append(("Red", float(red), COLOURS["red"]))
    scale = known + [v for _, v, _ in lines]
    low, high = min(scale), max(scale)
    margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - margin, high + margin

    def y_of(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    step = plot_w / max(len(points) - 1, 1)

    def x_of(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    suffix = f" {unit}" if unit and unit != "%" else unit
    desc = (
        f"{len(known)} value{'s' if len(known) != 1 else ''} over {len(points)} period"
        f"{'s' if len(points) != 1 else ''}; target {_fmt(target)}{suffix}, amber threshold "
        f"{_fmt(amber)}{suffix}, red threshold {_fmt(red)}{suffix}."
    )
    parts = [
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f8fafc" '
        'stroke="#dadfe5"/>',
    ]
    # The y axis: the bottom, middle and top of the scale.
    for v in (low, (low + high) / 2, high):
        y = y_of(v)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#667382">{escape(_fmt(round(v, 2)))}</text>'
        )
    # Target and thresholds, labelled at the right; labels nudged apart when close.
    placed: list[float] = []
    for name, value, colour in sorted(lines, key=lambda line: -line[1]):
        y = y_of(value)
        label_y = y + 4
        while any(abs(label_y - p) < 12 for p in placed):
            label_y += 12
        placed.append(label_y)
        dash = "" if name == "Target" else ' stroke-dasharray="6 4"'
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="1.5"{dash}/>'
            f'<text x="{left + plot_w + 6}" y="{label_y:.1f}" font-size="11" fill="{colour}">'
            f"{escape(name)} {escape(_fmt(value))}{escape(suffix)}</text>"
        )
    # The x axis: the first, middle and last periods.
    if points:
        shown = sorted({0, len(points) // 2, len(points) - 1})
        for i in shown:
            parts.append(
                f'<text x="{x_of(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="#667382">{escape(points[i].label)}</text>'
            )
    coords = [
        None if p.value is None else (x_of(i), y_of(float(p.value))) for i, p in enumerate(points)
    ]
    parts.append(_polylines(coords, 2))
    for p, xy in zip(points, coords, strict=True):
        if xy is not None and p.value is not None:
            tip = f"{p.label}: {_fmt(p.value)}{suffix} ({p.rag or 'no status'})"
            parts.append(_marker(xy[0], xy[1], p.rag, 4, tip))
    if not known:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#667382">No values yet</text>'
        )
    return mark_safe(  # noqa: S308 - built from escaped text and numbers
        f'<svg class="trend-chart" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">{"".join(parts)}</svg>'
    )
