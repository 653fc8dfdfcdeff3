"""`{{ date|period:frequency }}`: a reporting period as people name it ("2026 Q3")."""

from __future__ import annotations

import datetime as dt

from django import template

from carte.operations import periods

register = template.Library()


@register.filter(name="period")
def period_label(start: dt.date | None, frequency: str) -> str:
    return "" if start is None else periods.label(start, frequency)
