"""My work (issue 13): one page per person with everything waiting for them, whatever
their role, and the home page that starts from it. The sections are registered by the
operations and lifecycle apps (`core.work`): reports due, actions, escalations, change
requests to decide, lifecycle decisions and tasks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.tests.factories import ServiceFactory, ServiceRoleFactory, move_stage
from carte.core.clock import today
from carte.core.testing import assert_constant_queries
from carte.core.views_workspace import WORK_LIMIT
from carte.lifecycle.choices import PilotOutcome, TaskPurpose, TaskStatus
from carte.lifecycle.models import PilotIteration, Task, TaskList
from carte.operations.choices import (
    ActionPurpose,
    ChangeState,
    ItemStatus,
    Level,
    ReporterRole,
)
from carte.operations.models import ItemAction, Notice
from carte.operations.services.notify import notify_due
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import ChangeRequestFactory, KPIFactory, RiskIssueFactory

pytestmark = pytest.mark.django_db


def counts(html: str) -> dict[str, int]:
    """Section key -> its count, as the page shows it."""
    return {k: int(n) for k, n in re.findall(r'data-testid="work-count-(\w+)">(\d+)<', html)}


def my_work(persona: Any, slug: str) -> str:
    response = persona.client.get(reverse("my_work", args=[slug]))
    assert response.status_code == 200
    return str(response.content.decode())


def _action(ops: Ops, owner: Any, *, due: dt.date, done: bool = False, **item: Any) -> ItemAction:
    risk = RiskIssueFactory(service=item.pop("service", ops.service), **item)
    action: ItemAction = ItemAction.objects.create(
        organisation=ops.org,
        item=risk,
        purpose=ActionPurpose.MITIGATION,
        description=f"Chase {risk.title}",
        owner=owner,
        due_date=due,
        done_at=timezone.now() if done else None,
    )
    return action


def test_each_person_sees_what_waits_for_them_and_only_that(ops: Ops) -> None:
    slug = ops.org.slug
    on = today()
    # Reports: the Manager reports this KPI (its reporter role), one is overdue.
    KPIFactory(
        service=ops.service,
        name="On-time packs",
        reporter_role=ReporterRole.MANAGER,
        next_due=on - dt.timedelta(days=2),
    )
    # Actions: the Operative owns two open ones and a done one; the Manager one.
    late = _action(ops, ops.operative_person, due=on - dt.timedelta(days=1), title="Late data")
    _action(ops, ops.operative_person, due=on + dt.timedelta(days=9), title="Tooling")
    _action(ops, ops.operative_person, due=on, done=True, title="Finished")
    _action(ops, ops.manager_person, due=on, title="Budget")
    # Escalations: one at delivery management (the Manager's), one at ownership (the Owner's),
    # one closed, one at ownership of a service the Owner does not own.
    RiskIssueFactory(service=ops.service, title="Supplier slips", level=Level.DELIVERY)
    RiskIssueFactory(service=ops.service, title="Board unhappy", level=Level.OWNERSHIP)
    RiskIssueFactory(
        service=ops.service, title="Old", level=Level.OWNERSHIP, status=ItemStatus.CLOSED
    )
    RiskIssueFactory(service=ops.other_service, title="Elsewhere", level=Level.OWNERSHIP)
    # A change request for the Owner's decision, and a draft that is not.
    ChangeRequestFactory(service=ops.service, title="Programme view", state=ChangeState.SUBMITTED)
    ChangeRequestFactory(service=ops.service, title="Draft idea", state=ChangeState.DRAFT)
    # Lifecycle: a proposal (the Director's), a pilot ready for sign-off and a closure (the
    # Owner's), a task assigned to the Operative.
    ServiceFactory(organisation=ops.org, name="Benefits tracking")  # proposed
    pilot_service = ServiceFactory(organisation=ops.org, name="Risk clinic")
    move_stage(pilot_service, Stage.PILOT)
    ServiceRoleFactory(service=pilot_service, person=ops.owner_person, role=ServiceRoleKind.OWNER)
    PilotIteration.objects.create(
        organisation=ops.org,
        service=pilot_service,
        number=1,
        starts_on=on - dt.timedelta(days=60),
        ends_on=on - dt.timedelta(days=5),
        outcome=PilotOutcome.PASSED,
        result_at=timezone.now(),
    )
    closing = ServiceFactory(organisation=ops.org, name="Legacy dashboards")
    move_stage(closing, Stage.CLOSING)
    ServiceRoleFactory(service=closing, person=ops.owner_person, role=ServiceRoleKind.OWNER)
    tasks = TaskList.objects.create(
        organisation=ops.org, service=pilot_service, purpose=TaskPurpose.SETUP, name="Set-up"
    )
    Task.objects.create(
        organisation=ops.org,
        task_list=tasks,
        title="Book the training room",
        assignee=ops.operative_person,
        due_on=on + dt.timedelta(days=3),
    )
    Task.objects.create(
        organisation=ops.org,
        task_list=tasks,
        title="Done already",
        assignee=ops.operative_person,
        status=TaskStatus.DONE,
    )

    page = my_work(ops.operative, slug)
    assert counts(page) == {"actions": 2, "tasks": 1}
    assert "Chase Late data" in page and "Chase Finished" not in page
    assert "Overdue since" in page  # the late action, said in words, not by colour alone
    assert reverse("operations:item", args=[slug, ops.service.pk, late.item_id]) in page
    assert "Book the training room" in page and "Done already" not in page

    page = my_work(ops.manager, slug)
    assert counts(page) == {"reports": 1, "actions": 1, "escalated": 1}
    assert "Report On-time packs" in page and "Supplier slips" in page
    assert "Board unhappy" not in page

    page = my_work(ops.owner, slug)
    assert counts(page) == {"escalated": 2, "changes": 1, "decisions": 2}
    assert "Board unhappy" in page and "Elsewhere" not in page and "Old" not in page
    assert "Programme view" in page and "Draft idea" not in page
    assert "Sign off the pilot of Risk clinic" in page
    assert "Approve the closure of Legacy dashboards" in page

    page = my_work(ops.director, slug)
    # The Director answers at delivery management for every service, and decides proposals.
    assert counts(page)["decisions"] == 1
    assert "Decide on the proposal to set up Benefits tracking" in page
    assert "Supplier slips" in page

    for nobody in (ops.customer, ops.viewer):
        page = my_work(nobody, slug)
        assert counts(page) == {}
        assert "Nothing is waiting for you" in page


def test_the_home_page_starts_with_what_waits_for_the_person(ops: Ops) -> None:
    on = today()
    _action(ops, ops.operative_person, due=on - dt.timedelta(days=1), title="Late data")
    home = ops.operative.client.get(reverse("org_home", args=[ops.org.slug])).content.decode()
    assert "Waiting for you" in home
    assert counts(home) == {"actions": 1}
    assert "1 overdue" in home
    assert f"{reverse('my_work', args=[ops.org.slug])}#actions" in home
    # Someone with nothing waiting is told so, not shown empty boxes.
    home = ops.viewer.client.get(reverse("org_home", args=[ops.org.slug])).content.decode()
    assert 'data-testid="nothing-waiting"' in home


def test_another_organisations_work_never_shows(ops: Ops, other_org: Any) -> None:
    theirs = ServiceFactory(organisation=other_org, name="Their service")
    RiskIssueFactory(service=theirs, title="Their escalation", level=Level.DELIVERY)
    page = my_work(ops.director, ops.org.slug)
    assert "Their escalation" not in page
    # Their organisation's My work is not the Director's to open.
    response = ops.director.client.get(reverse("my_work", args=[other_org.slug]))
    assert response.status_code == 404


def test_my_work_and_home_run_the_same_queries_whatever_the_size(ops: Ops) -> None:
    on = today()
    slug = ops.org.slug

    def add(n: int) -> None:
        for i in range(n):
            _action(ops, ops.owner_person, due=on + dt.timedelta(days=i), title=f"R{i}")
            RiskIssueFactory(service=ops.service, title=f"E{i}", level=Level.OWNERSHIP)
            ChangeRequestFactory(service=ops.service, state=ChangeState.SUBMITTED)
            ServiceFactory(organisation=ops.org)  # a proposal for the Director

    # More than a page shows already (a section that all fits is one query, not two).
    add(WORK_LIMIT + 1)
    for name in ("my_work", "org_home"):
        url = reverse(name, args=[slug])
        for who in (ops.owner, ops.director):
            assert_constant_queries(lambda: who.client.get(url), lambda: add(30))  # noqa: B023


def test_the_owner_is_told_a_closure_waits_for_their_approval(ops: Ops) -> None:
    closing = ServiceFactory(organisation=ops.org, name="Legacy dashboards")
    ServiceRoleFactory(service=closing, person=ops.owner_person, role=ServiceRoleKind.OWNER)
    move_stage(closing, Stage.CLOSING)
    notify_due(organisation=ops.org)
    notify_due(organisation=ops.org)  # once, however often the sweep runs
    notices = Notice.objects.filter(title__contains="closure of Legacy dashboards")
    assert [n.recipient_id for n in notices] == [ops.owner.user.pk]
    assert notices[0].url == reverse("lifecycle:service", args=[ops.org.slug, closing.pk])
