"""Demo service levels: for each running service that has KPIs (made by the KPIs demo,
which runs first) and customer groups, one or two targets per customer group on its
first KPIs. As a PMO agrees them: the level promised to a customer is the KPI's red
threshold (what the service must never fall below), not its target (what the team aims
at), so a value that is amber on its thresholds is a warning, not a breach. A finance
group asks for a little more (a quarter of the way to the amber threshold), so a few
amber values breach its level and turn their service red, the level missed being the
reason. Written through the services, as of a year ago (or when the service went live,
if later: `kpis.live_since`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service, ServiceCustomer, ServiceLevel
from carte.core.clock import as_of, now
from carte.operations.choices import Direction, Frequency
from carte.operations.demo.kpis import live_since
from carte.operations.models import KPI
from carte.operations.services.levels import level_target_create
from carte.operations.status import number
from carte.organisations.actor import Actor

EVERY: dict[str, str] = {Frequency.WEEKLY: "every week", Frequency.MONTHLY: "every month"}


def _stricter(kpi: KPI) -> Decimal:
    """A quarter of the way from the KPI's red threshold to its amber one, in a round step,
    within its range: stricter than the standard level, well short of green."""
    step = Decimal("0.5") if abs(kpi.target) >= 10 else Decimal("0.1")
    value = ((kpi.red + (kpi.amber - kpi.red) / 4) / step).quantize(Decimal(1)) * step
    if kpi.direction == Direction.HIGHER:
        return min(value, kpi.maximum) if kpi.maximum is not None else value
    return max(value, kpi.minimum) if kpi.minimum is not None else value


def _statement(kpi: KPI, group: str, value: Decimal, strict: bool) -> str:
    side = "at least" if kpi.direction == Direction.HIGHER else "no more than"
    every = EVERY.get(kpi.frequency, "every quarter")
    amount = number(value, kpi.unit)
    if strict:
        return (
            f"{kpi.name}: {side} {amount} {every}, tighter than standard because {group} "
            "feed the figures straight into the quarterly board pack."
        )[:300]
    return (
        f"{kpi.name}: {side} {amount} {every}, as agreed with {group} at the annual service review."
    )[:300]


def _is_strict(name: str) -> bool:
    return "financ" in name.lower()


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """Targets for the demo's running services that have KPIs and customers."""
    running = [s for s in by_code.values() if s.stage == Stage.RUNNING]
    kpis: dict[int, list[KPI]] = defaultdict(list)
    for kpi in KPI.objects.filter(service__in=running, archived_at__isnull=True).order_by(
        "service_id", "position", "name", "id"
    ):
        kpis[kpi.service_id].append(kpi)
    if not kpis:
        return
    customers: dict[int, list[ServiceCustomer]] = defaultdict(list)
    links = ServiceCustomer.objects.filter(
        service__in=running, archived_at__isnull=True, customer_group__archived_at__isnull=True
    ).select_related("customer_group")
    for link in links.order_by("service_id", "customer_group__name", "id"):
        customers[link.service_id].append(link)
    levels: dict[int, ServiceLevel] = {}
    for level in ServiceLevel.objects.filter(
        service__in=running, archived_at__isnull=True
    ).order_by("service_id", "-position", "-id"):
        levels[level.service_id] = level  # the first level of each service wins
    year_ago = now() - dt.timedelta(days=365)
    for service in running:
        with as_of(live_since(service, year_ago)):
            own = kpis.get(service.pk, [])
            for index, link in enumerate(customers.get(service.pk, [])):
                group = link.customer_group
                strict = _is_strict(group.name)
                # One target for most groups; two (the first two KPIs) for every other one.
                for position, kpi in enumerate(own[: 2 if index % 2 == 0 else 1]):
                    value = _stricter(kpi) if strict else kpi.red
                    level_target_create(
                        actor=actor,
                        service=service,
                        data={
                            "customer_group": group,
                            "kpi": kpi,
                            "level": levels.get(service.pk) if position == 1 else None,
                            "statement": _statement(kpi, group.name, value, strict),
                            "target": value,
                        },
                    )
