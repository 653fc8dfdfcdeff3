"""Filters of the capacity records' pages: FTE as people write it ("0.5", "1")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def fte(value: Any) -> str:
    """`{{ allocation.fte|fte }}` -> "0.5"; a dash for none."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)).normalize():f}"
