"""Demo KPIs: for each running service, three to five KPIs a PMO would measure it by,
mostly monthly, some quarterly and a weekly one or two, with a year of reports (or the
reports since it went live, if later): mostly green, some amber and a few red (each red
value with the reporter's comment explaining it), and a few KPIs whose latest report is
late. Deterministic (a seeded
random generator per organisation and service); written through the services, the values
in one `measurements_record` call per organisation.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import as_of, now, today
from carte.operations import periods
from carte.operations.choices import Direction, Frequency, ReporterRole
from carte.operations.models import KPI
from carte.operations.services.kpis import kpi_create
from carte.operations.services.measurements import Reading, measurements_record
from carte.organisations.actor import Actor


@dataclass(frozen=True)
class Template:
    name: str
    definition: str
    outcome: str
    unit: str
    direction: str
    target: int
    amber: int
    red: int
    frequency: str = Frequency.MONTHLY
    reporter: str = ReporterRole.MANAGER


TEMPLATES = [
    Template(
        "Status reports on time",
        "Share of programme status reports received by the portfolio cut-off, out of "
        "those due that month.",
        "The portfolio status pack rests on current information.",
        "%",
        Direction.HIGHER,
        95,
        90,
        80,
    ),
    Template(
        "Gate reviews held on the planned date",
        "Stage-gate reviews held within two working days of the date in the plan.",
        "Investment decisions are taken when the programmes need them.",
        "%",
        Direction.HIGHER,
        90,
        80,
        65,
        reporter=ReporterRole.OPERATIVE,
    ),
    Template(
        "Risk register currency",
        "Median days since each programme's RAID log was last reviewed by its board.",
        "Risks are seen while there is still time to act on them.",
        "days",
        Direction.LOWER,
        14,
        21,
        35,
    ),
    Template(
        "Forecast accuracy",
        "Gap between the quarter's forecast spend and the actual spend, as a share of the "
        "forecast, across the portfolio.",
        "Finance can plan cash on the PMO's forecasts.",
        "%",
        Direction.LOWER,
        5,
        10,
        20,
        frequency=Frequency.QUARTERLY,
    ),
    Template(
        "Training satisfaction",
        "Average rating given by attendees of the month's project-management courses, from 1 to 5.",
        "Project managers leave training able to apply the method.",
        "score",
        Direction.HIGHER,
        4,
        3,
        2,
        reporter=ReporterRole.OPERATIVE,
    ),
    Template(
        "Benefits realisation tracked",
        "Share of closed projects whose benefits were reviewed against the business case "
        "in the quarter.",
        "The portfolio learns which investments pay off.",
        "%",
        Direction.HIGHER,
        85,
        70,
        50,
        frequency=Frequency.QUARTERLY,
    ),
    Template(
        "Change requests decided within 10 days",
        "Share of change requests decided by the Service Owner within ten working days of "
        "submission.",
        "Customers are not kept waiting for decisions on their requests.",
        "%",
        Direction.HIGHER,
        90,
        75,
        60,
    ),
]
WEEKLY = Template(
    "Assurance actions closed on time",
    "Share of the week's assurance review actions closed by their due date.",
    "Assurance findings are acted on, not just recorded.",
    "%",
    Direction.HIGHER,
    90,
    80,
    70,
    frequency=Frequency.WEEKLY,
    reporter=ReporterRole.OPERATIVE,
)
COMMENTS = [
    "Two programme boards slipped to the following month; recovery agreed at the PMO review.",
    "Holiday period: reviewers unavailable. Escalated to delivery management.",
    "New finance system cut-over delayed the actuals; figure restated next period.",
    "A large transformation programme re-baselined mid-period.",
    "Tool outage during the reporting window; manual collection incomplete.",
]
RANGES = {"%": (Decimal(0), Decimal(100)), "score": (Decimal(1), Decimal(5))}


def _value(template: Template, health: float, rng: random.Random) -> Decimal:
    """A value around the target: `health` near 1 is mostly green, near 0 often red."""
    low, high = RANGES.get(template.unit, (Decimal(0), Decimal(365)))
    span = abs(template.target - template.red) or 1
    # Distance from the target towards the red side, in "spans".
    drift = rng.gauss(0.9 - health * 1.1, 0.4)
    sign = -1 if template.direction == Direction.HIGHER else 1
    raw = template.target + sign * drift * span
    step = Decimal("0.1") if template.unit == "score" else Decimal("0.5")
    value = (Decimal(str(raw)) / step).quantize(Decimal(1)) * step
    return min(max(value, low), high)


def live_since(service: Service, earliest: dt.datetime) -> dt.datetime:
    """When the demo starts running a service: `earliest`, or the day after it went live
    (its last stage change) if that is later, never after the present: a service is
    measured, given targets and rated only once it runs."""
    live = service.stage_changed_at
    went_live = earliest if live is None else live + dt.timedelta(days=1)
    return min(max(earliest, went_live), now() - dt.timedelta(hours=1))


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """KPIs and a year of values for each running demo service (see the module)."""
    # Read afresh (the stage moved in the database as the lifecycle demo ran), with the
    # running services the lifecycle demo made itself (supporting services).
    running = list(
        Service.objects.filter(
            organisation=actor.organisation, stage=Stage.RUNNING, archived_at__isnull=True
        ).order_by("code")
    )
    if not running:
        return
    slug = actor.organisation.slug
    on = today()
    start = (on.replace(day=1) - dt.timedelta(days=365)).replace(day=1)
    readings: list[Reading] = []
    created: list[KPI] = []
    year_ago = now() - dt.timedelta(days=365)
    for index, service in enumerate(running):
        since = live_since(service, year_ago)
        first = start if since == year_ago else timezone.localdate(since)
        with as_of(since):
            rng = random.Random(f"{slug}:{service.code}:kpis")
            chosen = rng.sample(TEMPLATES, rng.randint(3, 5))
            if index < 2:  # one or two weekly KPIs in each organisation
                chosen[-1] = WEEKLY
            for template in chosen:
                low, high = RANGES.get(template.unit, (None, None))
                kpi = kpi_create(
                    actor=actor,
                    service=service,
                    data={
                        "name": template.name,
                        "definition": template.definition,
                        "outcome": template.outcome,
                        "unit": template.unit,
                        "direction": template.direction,
                        "target": Decimal(template.target),
                        "amber": Decimal(template.amber),
                        "red": Decimal(template.red),
                        "minimum": low,
                        "maximum": high,
                        "frequency": template.frequency,
                        "reporter_role": template.reporter,
                        "reporting_from": periods.start_of(first, template.frequency),
                    },
                )
                created.append(kpi)
                # Most KPIs are healthy and a few struggle, as in a PMO that mostly works.
                health = 1 - (1 - rng.random()) ** 4
                # The last period that has ended; a few KPIs are a period or two behind.
                last = periods.start_of(on, kpi.frequency) - dt.timedelta(days=1)
                late = rng.random() < 0.2
                starts = list(periods.between(kpi.reporting_from, last, kpi.frequency))
                if late and len(starts) > 2:
                    starts = starts[: -rng.randint(1, 2)]
                for period in starts:
                    value = _value(template, health, rng)
                    comment = ""
                    if kpi.rag_of(value) == "red":
                        comment = rng.choice(COMMENTS)
                    readings.append(Reading(kpi, period, value, comment, row=len(readings) + 1))
    # Each period's values are recorded around their due date, as a Service Manager
    # would: a few days early to a day or two late.
    by_day: dict[dt.date, list[Reading]] = {}
    for reading in readings:
        kpi = reading.kpi
        assert isinstance(reading.period, dt.date)
        due = periods.due_on(reading.period, kpi.frequency, kpi.grace_days)
        day = min(due + dt.timedelta(days=(kpi.pk + reading.row) % 7 - 4), on)
        by_day.setdefault(day, []).append(reading)
    for day in sorted(by_day):
        moment = dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC)
        with as_of(min(moment, now())):
            measurements_record(actor=actor, readings=by_day[day])
