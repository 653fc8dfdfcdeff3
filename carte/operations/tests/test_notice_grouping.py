"""Issue 13: one notice per thing that happened. A service level missed for a period is
one notice whatever the number of customer groups that agreed it (and the notices
recorded per group before are merged into one), and the decisions waiting in the
lifecycle reach whoever takes them: a proposal its Director, a pilot ready for sign-off
its Owner. Every sweep can run twice."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import ServiceFactory, ServiceRoleFactory
from carte.core.clock import as_of
from carte.lifecycle.choices import PilotOutcome
from carte.lifecycle.models import PilotIteration
from carte.operations.choices import NoticeKind
from carte.operations.models import KPI, Notice, ServiceLevelTarget
from carte.operations.services.measurements import Reading, measurements_record
from carte.operations.services.notify import Counts, notify_due
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.organisations.models import CustomerGroup
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

RECORDED = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
SWEEP = dt.datetime(2026, 5, 10, 18, tzinfo=dt.UTC)
GROUPS = ("Finance programmes", "HR change", "IT portfolio")


def missed_kpi(ops: Ops) -> KPI:
    """A monthly KPI of the running service, January to April reported, each under 95%."""
    kpi: KPI = KPIFactory(service=ops.service, name="Packs on time", unit="%")
    with as_of(RECORDED):
        measurements_record(
            actor=ops.system,
            readings=[
                Reading(kpi, f"2026-0{m}-01", v, row=m)
                for m, v in enumerate(["96", "91", "93", "92.5"], start=1)
            ],
        )
    kpi.refresh_from_db()
    return kpi


def groups(ops: Ops) -> list[CustomerGroup]:
    found = [ops.group]
    for name in GROUPS[1:]:
        found.append(CustomerGroupFactory(organisation=ops.org, name=name))
    return found


def agree(ops: Ops, kpi: KPI, group: CustomerGroup, aim: str = "95") -> ServiceLevelTarget:
    target: ServiceLevelTarget = ServiceLevelTarget.objects.create(
        organisation=ops.org,
        service=ops.service,
        customer_group=group,
        level=ops.level,
        kpi=kpi,
        statement=f"At least {aim}% of status packs issued on time",
        target=Decimal(aim),
    )
    return target


def level_notices(user: Any) -> list[Notice]:
    return list(Notice.objects.filter(recipient=user, kind=NoticeKind.LEVEL_MISSED).order_by("key"))


# ---------------------------------------------------------------- one notice per breach


def test_a_level_missed_for_a_period_is_one_notice_whatever_the_number_of_groups(
    ops: Ops,
) -> None:
    kpi = missed_kpi(ops)
    for group in groups(ops):
        agree(ops, kpi, group)
    with as_of(SWEEP):
        counts = notify_due(organisation=ops.org)
        again = notify_due(organisation=ops.org)
    # March and April missed, told to the Manager and the Owner: 4, not 12.
    assert counts.level_missed == 4
    assert again == Counts()
    for persona in (ops.manager, ops.owner):
        found = level_notices(persona.user)
        assert len(found) == 2
        assert len({n.key for n in found}) == 2
    april = next(n for n in level_notices(ops.manager.user) if n.key.endswith("2026-04-01"))
    assert april.body.startswith(
        "Packs on time was 92.5% for Apr 2026, against the 95% agreed with "
        "Finance programmes, HR change and IT portfolio."
    )
    assert "with the customer groups" in april.body


def test_groups_that_agreed_different_aims_are_named_each_with_its_aim(ops: Ops) -> None:
    kpi = missed_kpi(ops)
    finance, hr, it = groups(ops)
    agree(ops, kpi, finance, "95")
    agree(ops, kpi, hr, "95")
    agree(ops, kpi, it, "93")
    with as_of(SWEEP):
        notify_due(organisation=ops.org)
    april = next(n for n in level_notices(ops.owner.user) if n.key.endswith("2026-04-01"))
    assert (
        "against the 95% agreed with Finance programmes and HR change; "
        "the 93% agreed with IT portfolio." in april.body
    )


def test_the_managers_inbox_counts_each_breach_once(ops: Ops) -> None:
    kpi = missed_kpi(ops)
    for group in groups(ops):
        agree(ops, kpi, group)
    with as_of(SWEEP):
        notify_due(organisation=ops.org)
    page = ops.manager.client.get(reverse("operations:inbox", args=[ops.org.slug]))
    html = page.content.decode()
    assert "2 unread notices" in html
    assert html.count('data-testid="notice"') == 2


def test_notices_recorded_per_group_before_are_merged_into_one_per_breach(ops: Ops) -> None:
    """The data migration: the old per-target keys become the breach's key, one notice
    per person kept, unread while any copy was, and the next sweep adds nothing."""
    kpi = missed_kpi(ops)
    targets = [agree(ops, kpi, group) for group in groups(ops)]
    moment = SWEEP - dt.timedelta(hours=2)
    for n, target in enumerate(targets):
        for period in ("2026-03-01", "2026-04-01"):
            Notice.objects.create(
                organisation=ops.org,
                recipient=ops.manager.user,
                kind=NoticeKind.LEVEL_MISSED,
                key=f"level_missed:target:{target.pk}:{period}",
                title=f"Service level missed ({period}) for group {n}",
                created_at=moment,
                emailed_at=moment,
                read_at=moment if (n or period.startswith("2026-03")) else None,
            )
    assert Notice.objects.filter(recipient=ops.manager.user).count() == 6
    migration = importlib.import_module("carte.operations.migrations.0002_notice_one_per_breach")
    migration.one_per_breach(apps, None)
    kept = level_notices(ops.manager.user)
    assert len(kept) == 2
    by_period = {n.key.rsplit(":", 1)[1]: n for n in kept}
    assert by_period["2026-03-01"].read_at is not None  # every copy was read
    assert by_period["2026-04-01"].read_at is None  # one copy was not
    assert all(n.emailed_at is not None for n in kept)
    with as_of(SWEEP):
        assert notify_due(organisation=ops.org).level_missed == 2  # the Owner's only
    assert len(level_notices(ops.manager.user)) == 2


# ---------------------------------------------------------------- decisions waiting


def decisions(user: Any) -> list[Notice]:
    return list(Notice.objects.filter(recipient=user, kind=NoticeKind.DECISION).order_by("id"))


def test_the_director_is_told_of_a_proposal_waiting_for_their_decision(ops: Ops) -> None:
    proposal: Service = ServiceFactory(
        organisation=ops.org,
        category=ops.service.category,
        name="Benefits tracking",
        outcome="Benefits are tracked to closure.",
    )
    with as_of(SWEEP):
        assert notify_due(organisation=ops.org).decisions == 1
        assert notify_due(organisation=ops.org) == Counts()
    [notice] = decisions(ops.director.user)
    assert notice.title == "The proposal to set up Benefits tracking waits for your decision"
    assert notice.url == reverse("lifecycle:service", args=[ops.org.slug, proposal.pk])
    assert "Benefits are tracked to closure." in notice.body
    for persona in (ops.manager, ops.owner, ops.pmo_manager, ops.staff):
        assert decisions(persona.user) == []
    page = ops.director.client.get(reverse("operations:inbox", args=[ops.org.slug]))
    assert "1 unread notice" in page.content.decode()
    assert "Benefits tracking waits for your decision" in page.content.decode()


def test_a_proposal_decided_is_not_told_and_one_proposed_again_is_told_again(
    ops: Ops,
) -> None:
    proposal: Service = ServiceFactory(
        organisation=ops.org, category=ops.service.category, name="Benefits tracking"
    )
    decided = ServiceFactory(
        organisation=ops.org, category=ops.service.category, stage=Stage.DEFERRED
    )
    with as_of(SWEEP):
        notify_due(organisation=ops.org)
    assert [n.title for n in decisions(ops.director.user)] == [
        "The proposal to set up Benefits tracking waits for your decision"
    ]
    assert decided.name not in decisions(ops.director.user)[0].title
    later = SWEEP + dt.timedelta(days=20)
    Service.objects.filter(pk=proposal.pk)._move_stage(Stage.DEFERRED, later)
    Service.objects.filter(pk=proposal.pk)._move_stage(Stage.PROPOSED, later)
    with as_of(later):
        assert notify_due(organisation=ops.org).decisions == 1
    assert len(decisions(ops.director.user)) == 2


def test_the_owner_is_told_of_a_pilot_ready_for_sign_off(ops: Ops) -> None:
    service: Service = ServiceFactory(
        organisation=ops.org, category=ops.service.category, name="Benefits tracking"
    )
    ServiceRoleFactory(service=service, person=ops.owner_person, role=ServiceRoleKind.OWNER)
    Service.objects.filter(pk=service.pk)._move_stage(Stage.PILOT, SWEEP)
    pilot = PilotIteration.objects.create(
        organisation=ops.org,
        service=service,
        number=1,
        starts_on=dt.date(2026, 4, 1),
        ends_on=dt.date(2026, 4, 30),
    )
    with as_of(SWEEP):
        assert notify_due(organisation=ops.org).decisions == 0  # under way: nothing to sign
        PilotIteration.objects.filter(pk=pilot.pk).update(
            outcome=PilotOutcome.PASSED, result_at=SWEEP
        )
        assert notify_due(organisation=ops.org).decisions == 1
        assert notify_due(organisation=ops.org) == Counts()
    [notice] = decisions(ops.owner.user)
    assert notice.title == "The pilot of Benefits tracking waits for your sign-off"
    assert notice.url == reverse("lifecycle:service", args=[ops.org.slug, service.pk])
    assert decisions(ops.manager.user) == []
