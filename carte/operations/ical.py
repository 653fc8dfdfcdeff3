"""The iCalendar document (RFC 5545) of a user's KPI reports due, read by ordinary
calendar programs from a subscribed address.

One all-day event per report on its due date. The UID names the KPI and the period
(`kpi-{id}-{period}@carte`), so a calendar updates an event in place when the feed is read
again, and the event disappears once the report is in (the KPI then has a next period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from icalendar import Calendar, Event
from icalendar.enums import TRANSP

from carte.core.clock import now, today
from carte.operations import periods
from carte.operations.models import KPI
from carte.organisations.models import Organisation

PRODID = "-//Carte//KPI reports due//EN"
REFRESH = dt.timedelta(hours=1)  # how often a calendar should read the feed again


def event_uid(kpi: KPI) -> str:
    assert kpi.next_period is not None
    return f"kpi-{kpi.pk}-{kpi.next_period.isoformat()}@carte"


def summary(kpi: KPI) -> str:
    assert kpi.next_period is not None
    label = periods.label(kpi.next_period, kpi.frequency)
    return f"Report {kpi.name} ({kpi.service.code}) for {label}"


def reports_calendar(
    *,
    organisation: Organisation,
    feed_id: int,
    kpis: Sequence[KPI],
    entry_url: str,
    on: dt.date | None = None,
) -> bytes:
    """The calendar of the reports in `kpis` (each KPI's next report), as bytes."""
    day = on or today()
    stamp = now().astimezone(dt.UTC).replace(microsecond=0)
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"reports-due-{feed_id}@carte",
        name=f"KPI reports due · {organisation.name}",
        description="The KPI reports you have due in Carte, on the day each falls due.",
    )
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for kpi in kpis:
        if kpi.next_due is None or kpi.next_period is None:
            continue
        late = kpi.next_due < day
        lines = [
            f"{kpi.service.name}: the {periods.label(kpi.next_period, kpi.frequency)} value "
            f"of {kpi.name}{' (OVERDUE)' if late else ''}.",
            kpi.definition,
            f"Enter it here: {entry_url}",
        ]
        calendar.add_component(
            Event.new(
                uid=event_uid(kpi),
                stamp=stamp,
                start=kpi.next_due,
                end=kpi.next_due + dt.timedelta(days=1),
                summary=summary(kpi),
                description="\n\n".join(line for line in lines if line),
                url=entry_url,
                categories=["KPI report"],
                transparency=TRANSP.TRANSPARENT,
            )
        )
    return bytes(calendar.to_ical())
