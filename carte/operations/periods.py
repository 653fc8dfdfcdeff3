"""Reporting periods: calendar weeks (from Monday), months and quarters, each named by
its first day, and the date a period's report falls due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from carte.operations.choices import Frequency

WEEK = dt.timedelta(days=7)


def start_of(day: dt.date, frequency: str) -> dt.date:
    """The first day of the period of `frequency` that contains `day`."""
    if frequency == Frequency.WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown frequency {frequency!r}")


def is_start(day: dt.date, frequency: str) -> bool:
    return start_of(day, frequency) == day


def following(start: dt.date, frequency: str) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if frequency == Frequency.WEEKLY:
        return start + WEEK
    months = 1 if frequency == Frequency.MONTHLY else 3
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def preceding(start: dt.date, frequency: str) -> dt.date:
    """The first day of the period before the one starting on `start`."""
    return start_of(start - dt.timedelta(days=1), frequency)


def end_of(start: dt.date, frequency: str) -> dt.date:
    """The last day of the period starting on `start`."""
    return following(start, frequency) - dt.timedelta(days=1)


def due_on(start: dt.date, frequency: str, grace_days: int) -> dt.date:
    """The report for a period is due `grace_days` after the period ends."""
    return end_of(start, frequency) + dt.timedelta(days=grace_days)


def between(first: dt.date, last: dt.date, frequency: str) -> Iterator[dt.date]:
    """The starts of the periods from the one holding `first` to the one holding `last`."""
    start = start_of(first, frequency)
    while start <= last:
        yield start
        start = following(start, frequency)


def label(start: dt.date, frequency: str) -> str:
    """How people name a period: "2026-W07", "Mar 2026", "2026 Q1"."""
    if frequency == Frequency.WEEKLY:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == Frequency.MONTHLY:
        return start.strftime("%b %Y")
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"
