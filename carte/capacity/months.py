"""Months, the unit of capacity: a month is the date of its first day."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator


def month_of(day: dt.date) -> dt.date:
    """The month a day falls in (its first day)."""
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """The month `n` months after `month` (before it when negative)."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Each month from `first` to `last`, both included (none when `last` is earlier)."""
    month, end = month_of(first), month_of(last)
    while month <= end:
        yield month
        month = add_months(month, 1)


def days_inside(month: dt.date, starts: dt.date | None, leaves: dt.date | None) -> tuple[int, int]:
    """How many days of `month` fall between `starts` and `leaves` (either open), and how
    many days the month has: a contract's share of a month it starts or ends in."""
    days = calendar.monthrange(month.year, month.month)[1]
    end_of_month = month.replace(day=days)
    start = max(month, starts or month)
    end = min(end_of_month, leaves or end_of_month)
    return max((end - start).days + 1, 0), days


def parse_month(text: str) -> dt.date:
    """A month written "YYYY-MM" (or a full ISO date, whose month is taken); ValueError
    for anything else."""
    text = text.strip()
    if len(text) == 7:
        text += "-01"
    return month_of(dt.date.fromisoformat(text))


def label(month: dt.date) -> str:
    """A month as people write it: "Jan 2027"."""
    return month.strftime("%b %Y")
