"""Service-level targets: the one write path (checks and refusals with nothing written,
rights, audit), their attainment period by period, and the breaches list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carte.catalogue.tests.factories import ServiceCustomerFactory, ServiceLevelFactory
from carte.core.clock import as_of
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import archived, no_writes
from carte.operations.choices import Direction
from carte.operations.models import KPI, ServiceLevelTarget
from carte.operations.selectors import levels as selectors
from carte.operations.services.levels import (
    level_target_archive,
    level_target_create,
    level_target_restore,
    level_target_update,
)
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory, MeasurementFactory
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)  # Apr 2026's report was due on 5 May


def audit_of(target: ServiceLevelTarget, action: str) -> AuditEntry:
    return AuditEntry.objects.get(
        content_type__model="serviceleveltarget", object_id=target.pk, action=action
    )


def kpi_with_values(ops: Ops, values: dict[str, str | None], **kwargs: Any) -> KPI:
    """A monthly KPI of the service (higher is better, 95 / 90 / 80, from January 2026)
    with a value for each period given ("2026-01-01": "96"); None leaves a period out."""
    kpi: KPI = KPIFactory(service=ops.service, **kwargs)
    for period, value in values.items():
        if value is not None:
            MeasurementFactory(kpi=kpi, period=dt.date.fromisoformat(period), value=Decimal(value))
    refresh_kpis([kpi])
    kpi.refresh_from_db()
    return kpi


def make_target(ops: Ops, kpi: KPI, target: str = "95", **data: Any) -> ServiceLevelTarget:
    return level_target_create(
        actor=ops.system,
        service=kpi.service,
        data={
            "customer_group": ops.group,
            "kpi": kpi,
            "statement": "Status pack on time for the finance programmes",
            "target": Decimal(target),
            **data,
        },
    )


def payload(ops: Ops, measured_by: KPI, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_group": ops.group,
        "kpi": measured_by,
        "level": ops.level,
        "statement": "95% of gate reviews held on the planned date",
        "target": Decimal("95"),
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- create and change


def test_it_agrees_a_service_level_and_audits_it(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    target = level_target_create(
        actor=ops.manager.actor, service=ops.service, data=payload(ops, kpi)
    )
    stored = ServiceLevelTarget.objects.get()
    assert (stored.customer_group, stored.kpi, stored.level, stored.target) == (
        ops.group,
        kpi,
        ops.level,
        Decimal("95"),
    )
    entry = audit_of(target, "create")
    assert entry.changes["customer_group"]["after"] == "Finance programmes"
    assert entry.actor == ops.manager.user


def test_it_changes_a_target_and_keeps_the_service(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    level_target_update(
        actor=ops.owner.actor,
        target=target,
        data={"target": Decimal("97.5"), "statement": "Stricter after the Q1 review"},
    )
    target.refresh_from_db()
    assert (target.target, target.statement) == (Decimal("97.5"), "Stricter after the Q1 review")
    entry = audit_of(target, "update")
    assert Decimal(entry.changes["target"]["before"]) == Decimal(95)
    assert Decimal(entry.changes["target"]["after"]) == Decimal("97.5")
    with pytest.raises(DomainError) as caught:
        level_target_update(
            actor=ops.owner.actor, target=target, data={"service": ops.other_service}
        )
    assert "service" in caught.value.errors


def test_it_archives_and_restores_a_target(ops: Ops) -> None:
    target = make_target(ops, KPIFactory(service=ops.service))
    level_target_archive(actor=ops.director.actor, target=target)
    assert target.archived_at is not None
    level_target_restore(actor=ops.director.actor, target=target)
    target.refresh_from_db()
    assert target.archived_at is None


def test_it_refuses_to_restore_a_target_whose_group_no_longer_uses_the_service(ops: Ops) -> None:
    target = make_target(ops, KPIFactory(service=ops.service))
    level_target_archive(actor=ops.director.actor, target=target)
    for link in ops.service.customers.all():
        archived(link)
    with pytest.raises(DomainError) as caught:
        level_target_restore(actor=ops.director.actor, target=target)
    assert "does not use this service" in caught.value.errors["customer_group"][0]
    target.refresh_from_db()
    assert target.archived_at is not None


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("customer_group", "does not use this service"),
        ("kpi_other_service", "this service's own KPIs"),
        ("kpi_archived", "archived"),
        ("level", "this service's levels"),
        ("target_above", "cannot be above 100"),
        ("target_text", "not a number"),
        ("statement", "required"),
        ("duplicate", "already has a target"),
    ],
)
def test_it_refuses_bad_input_naming_the_field_and_writes_nothing(
    ops: Ops, field: str, words: str
) -> None:
    kpi = KPIFactory(service=ops.service, minimum=Decimal(0), maximum=Decimal(100))
    existing = make_target(ops, kpi, level=ops.level)
    other_kpi = KPIFactory(service=ops.other_service)
    old_kpi = archived(KPIFactory(service=ops.service))
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "customer_group": (
            "customer_group",
            {"customer_group": CustomerGroupFactory(organisation=ops.org, name="HR change")},
        ),
        "kpi_other_service": ("kpi", {"kpi": other_kpi}),
        "kpi_archived": ("kpi", {"kpi": old_kpi}),
        "level": ("level", {"level": ServiceLevelFactory(service=ops.other_service)}),
        "target_above": ("target", {"target": Decimal("101")}),
        "target_text": ("target", {"target": "ninety"}),
        "statement": ("statement", {"statement": ""}),
        "duplicate": ("customer_group", {}),
    }
    name, overrides = cases[field]
    with no_writes(existing), pytest.raises(DomainError) as caught:
        level_target_create(
            actor=ops.manager.actor, service=ops.service, data=payload(ops, kpi, **overrides)
        )
    assert words in " ".join(caught.value.errors[name]), caught.value.errors
    assert ServiceLevelTarget.objects.count() == 1


def test_only_whoever_edits_the_service_sets_its_levels(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    for persona in (ops.operative, ops.staff, ops.customer, ops.viewer, ops.outsider):
        with pytest.raises(DomainError) as caught:
            level_target_create(actor=persona.actor, service=ops.service, data=payload(ops, kpi))
        assert caught.value.code == "forbidden"
    # The Owner and Manager of one service do not set another's.
    other_kpi = KPIFactory(service=ops.other_service)
    ServiceCustomerFactory(service=ops.other_service, customer_group=ops.group)
    with pytest.raises(DomainError):
        level_target_create(
            actor=ops.manager.actor,
            service=ops.other_service,
            data=payload(ops, other_kpi, level=None),
        )
    assert not ServiceLevelTarget.objects.exists()
    target = make_target(ops, kpi)
    for persona in (ops.operative, ops.staff, ops.viewer):
        with no_writes(target), pytest.raises(DomainError):
            level_target_update(actor=persona.actor, target=target, data={"target": Decimal(1)})
        with no_writes(target), pytest.raises(DomainError):
            level_target_archive(actor=persona.actor, target=target)


# ---------------------------------------------------------------- attainment


def test_it_computes_attainment_period_by_period(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "94", "2026-03-01": None})
    target = make_target(ops, kpi, target="95")
    with as_of(MOMENT):
        (row,) = selectors.attainment(ops.director.actor, ops.service)
    assert row.target == target
    assert [(p.label, p.status) for p in row.periods] == [
        ("Jan 2026", "met"),
        ("Feb 2026", "missed"),
        ("Mar 2026", "no_report"),
        ("Apr 2026", "no_report"),  # due on 5 May
    ]
    assert (row.met, row.missed, row.no_report, row.share_met) == (1, 1, 2, 0.25)


def test_a_period_whose_report_is_not_yet_due_is_pending_and_not_counted(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "99", "2026-02-01": "99", "2026-03-01": "99"})
    make_target(ops, kpi)
    with as_of(dt.datetime(2026, 4, 3, 9, tzinfo=dt.UTC)):  # March is due on 5 April
        (row,) = selectors.attainment(ops.director.actor, ops.service)
    assert [p.status for p in row.periods] == ["met", "met", "met"]
    with as_of(dt.datetime(2026, 5, 3, 9, tzinfo=dt.UTC)):  # April ended, due on 5 May
        (row,) = selectors.attainment(ops.director.actor, ops.service)
    assert [p.status for p in row.periods] == ["met", "met", "met", "pending"]
    assert row.share_met == 1.0


def test_attainment_follows_the_kpi_direction_and_the_groups_own_target(ops: Ops) -> None:
    kpi = kpi_with_values(
        ops,
        {"2026-01-01": "4", "2026-02-01": "6", "2026-03-01": "5", "2026-04-01": "8"},
        direction=Direction.LOWER,
        target=Decimal(5),
        amber=Decimal(7),
        red=Decimal(10),
        unit="days",
    )
    finance = make_target(ops, kpi, target="5")
    hr = CustomerGroupFactory(organisation=ops.org, name="HR change")
    ServiceCustomerFactory(service=ops.service, customer_group=hr)
    lenient = make_target(ops, kpi, target="7", customer_group=hr)
    with as_of(MOMENT):
        rows = {r.target.pk: r for r in selectors.attainment(ops.director.actor, ops.service, 3)}
    assert [p.status for p in rows[finance.pk].periods] == ["missed", "met", "missed"]
    assert [p.status for p in rows[lenient.pk].periods] == ["met", "met", "missed"]
    assert rows[lenient.pk].target_text == "at most 7 days"
    assert [group.name for group, _ in selectors.by_group(list(rows.values()))] == [
        "Finance programmes",
        "HR change",
    ]


def test_attainment_reads_in_a_fixed_number_of_queries(ops: Ops) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "90"}, name=f"K{n}-{i}")
            make_target(ops, kpi)

    counts = []
    for n in (1, 6):
        grow(n)
        with as_of(MOMENT), CaptureQueriesContext(connection) as ctx:
            rows = selectors.attainment(ops.director.actor, ops.service)
        assert len(rows) == (1 if n == 1 else 7)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 3


def test_customers_do_not_see_attainment(ops: Ops) -> None:
    with pytest.raises(DomainError) as caught:
        selectors.attainment(ops.customer.actor, ops.service)
    assert caught.value.code == "forbidden"


# ---------------------------------------------------------------- breaches


def test_breaches_list_each_missed_period_newest_first_in_one_query(ops: Ops) -> None:
    higher = kpi_with_values(
        ops, {"2026-01-01": "96", "2026-02-01": "94", "2026-03-01": "80", "2026-04-01": "95"}
    )
    lower = kpi_with_values(
        ops,
        {"2026-01-01": "6", "2026-02-01": "4"},
        direction=Direction.LOWER,
        target=Decimal(5),
        amber=Decimal(7),
        red=Decimal(10),
    )
    on_higher = make_target(ops, higher, target="95")
    on_lower = make_target(ops, lower, target="5")
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.as_breaches(selectors.breaches(ops.director.actor))
    assert len(ctx.captured_queries) == 1
    assert [(b.target, b.period.isoformat(), b.value) for b in found] == [
        (on_higher, "2026-03-01", Decimal("80")),
        (on_higher, "2026-02-01", Decimal("94")),
        (on_lower, "2026-01-01", Decimal("6")),
    ]
    assert found[0].target_text == "at least 95%"
    assert found[0].value_text == "80%"


def test_breaches_filter_by_service_group_and_period_and_skip_archived_rows(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80", "2026-02-01": "85", "2026-03-01": "70"})
    target = make_target(ops, kpi)
    actor = ops.director.actor
    assert len(selectors.breaches(actor, since=dt.date(2026, 2, 1))) == 2
    assert len(selectors.breaches(actor, service=ops.other_service)) == 0
    assert len(selectors.breaches(actor, service=ops.service, customer_group=ops.group.pk)) == 3
    assert len(selectors.breaches(actor, customer_group=ops.group.pk + 1000)) == 0
    level_target_archive(actor=ops.system, target=target)
    assert len(selectors.breaches(actor)) == 0
    with pytest.raises(DomainError):
        selectors.breaches(ops.customer.actor)
    # Another organisation's breaches are never listed.
    assert len(selectors.breaches(ops.outsider.actor)) == 0


@pytest.mark.parametrize("level", [True, False], ids=["at a level", "for every level"])
def test_it_refuses_a_second_target_for_the_same_group_kpi_and_level(ops: Ops, level: bool) -> None:
    kpi = KPIFactory(service=ops.service)
    data = payload(ops, kpi, level=ops.level if level else None)
    level_target_create(actor=ops.manager.actor, service=ops.service, data=data)
    with pytest.raises(DomainError) as caught:
        level_target_create(actor=ops.manager.actor, service=ops.service, data=data)
    assert "already has a target" in caught.value.errors["customer_group"][0]
    assert ServiceLevelTarget.objects.count() == 1
