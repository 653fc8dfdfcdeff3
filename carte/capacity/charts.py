"""A person's load drawn on the server as inline SVG, as `operations.charts` draws KPIs:
no JavaScript, colours as presentation attributes (the Content-Security-Policy refuses
inline styles), a labelled image whose page also holds its values as a table."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from carte.capacity.selectors.records import MonthLoad

BAR = "#206bc4"
OVER = "#d63939"
AVAILABLE = "#1d273b"
GRID = "#dadfe5"
TEXT = "#667382"


def fmt(value: Decimal | float) -> str:
    """An FTE as people write it: 1, 0.5, 0.25."""
    text = f"{Decimal(str(value)).normalize():f}"
    return text


def load_chart(
    months: Sequence[MonthLoad],
    *,
    title: str,
    chart_id: str = "load",
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """A bar per month of the FTE allocated, a dark tick at the FTE available; a month
    over-allocated is drawn red, hatched, and marked "over" (read without colours)."""
    left, right, top, bottom = 40.0, 12.0, 16.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max([Decimal(1), *(m.allocated for m in months), *(m.available for m in months)])
    scale = float(highest) * 1.1

    def y_of(value: Decimal | float) -> float:
        return top + plot_h - float(value) / scale * plot_h

    over = [m for m in months if m.over]
    desc = (
        f"{len(months)} months; over-allocated in {len(over)}"
        + (": " + ", ".join(m.label for m in over) if over else "")
        + ". The table below gives each month's figures."
    )
    parts = [
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{OVER}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
    ]
    for value in (0, 0.5, 1):
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{fmt(value)}</text>'
        )
    slot = plot_w / max(len(months), 1)
    bar_w = slot * 0.6
    for i, month in enumerate(months):
        x = left + i * slot + (slot - bar_w) / 2
        top_y = y_of(month.allocated)
        fill = f"url(#{chart_id}-hatch)" if month.over else BAR
        tip = (
            f"{month.label}: {fmt(month.allocated)} FTE allocated of {fmt(month.available)} "
            "available" + (f", over by {fmt(month.excess)}" if month.over else "")
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar_w:.1f}" '
            f'height="{top + plot_h - top_y:.1f}" fill="{fill}"><title>{escape(tip)}</title></rect>'
        )
        avail_y = y_of(month.available)
        parts.append(
            f'<line x1="{x - 3:.1f}" y1="{avail_y:.1f}" x2="{x + bar_w + 3:.1f}" '
            f'y2="{avail_y:.1f}" stroke="{AVAILABLE}" stroke-width="3"/>'
        )
        if month.over:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{min(top_y, avail_y) - 4:.1f}" '
                f'text-anchor="middle" font-size="10" fill="{OVER}">over</text>'
            )
        if len(months) <= 12 or i % 3 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="10" fill="{TEXT}">{escape(month.label)}</text>'
            )
    legend_y = height - 8
    parts.append(
        f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="{BAR}"/>'
        f'<text x="{left + 14}" y="{legend_y}" font-size="11" fill="{TEXT}">Allocated</text>'
        f'<line x1="{left + 90}" y1="{legend_y - 4}" x2="{left + 104}" y2="{legend_y - 4}" '
        f'stroke="{AVAILABLE}" stroke-width="3"/>'
        f'<text x="{left + 108}" y="{legend_y}" font-size="11" fill="{TEXT}">Available</text>'
        f'<rect x="{left + 180}" y="{legend_y - 9}" width="10" height="10" '
        f'fill="url(#{chart_id}-hatch)"/>'
        f'<text x="{left + 194}" y="{legend_y}" font-size="11" fill="{TEXT}">Over-allocated</text>'
    )
    return mark_safe(  # noqa: S308 - built from escaped text and numbers
        f'<svg class="load-chart" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">{"".join(parts)}</svg>'
    )
