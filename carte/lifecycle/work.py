"""What waits for a person in services' lives, for My work (`core.work`): the decisions
that are theirs to take (a proposal for the Director; a pilot to sign off and a closure
to approve for the service's Owner: `selectors.waiting`, which the notifications read
too) and the set-up and closure tasks assigned to them. Each section is a fixed number
of queries whatever the data size."""

from __future__ import annotations

from typing import cast

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from carte.catalogue.permissions import owned_service_ids
from carte.core.audit import people_date
from carte.core.clock import today
from carte.core.permissions import ActorLike
from carte.core.work import WorkItem, WorkSource, first_rows, register_work
from carte.lifecycle.choices import TaskStatus
from carte.lifecycle.models import Task
from carte.lifecycle.selectors.waiting import (
    closures_waiting,
    proposals_waiting,
    sign_offs_waiting,
)
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.permissions import STAFF_SIDE


def _decisions(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    if actor.user is None or not actor.roles & STAFF_SIDE:
        return 0, []
    org = cast(Actor, actor).organisation
    owned = owned_service_ids(actor)
    link = reverse("lifecycle:service", args=[org.slug, 0]).replace("/0/", "/{}/")
    items: list[WorkItem] = []
    if OrgRole.DIRECTOR in actor.roles:
        for service in proposals_waiting(org):
            since = service.stage_changed_at or service.created_at
            items.append(
                WorkItem(
                    title=f"Decide on the proposal to set up {service.name}",
                    url=link.format(service.pk),
                    context=f"Proposed {people_date(timezone.localdate(since))}",
                )
            )
    if owned:
        for pilot in sign_offs_waiting(org):
            if pilot.service_id in owned:
                items.append(
                    WorkItem(
                        title=f"Sign off the pilot of {pilot.service.name}",
                        url=link.format(pilot.service_id),
                        context=f"Pilot {pilot.number} passed",
                    )
                )
        for service in closures_waiting(org):
            if service.pk in owned:
                since = service.stage_changed_at or service.created_at
                items.append(
                    WorkItem(
                        title=f"Approve the closure of {service.name}",
                        url=link.format(service.pk),
                        context=f"Closing since {people_date(timezone.localdate(since))}",
                    )
                )
    return len(items), items[:limit]


def _tasks(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    """Open set-up and closure tasks assigned to the actor, earliest due first."""
    if actor.user is None or not actor.roles & STAFF_SIDE:
        return 0, []
    org = cast(Actor, actor).organisation
    qs = (
        Task.objects.filter(
            organisation_id=org.pk,
            assignee__user=actor.user,
            assignee__archived_at__isnull=True,
            status__in=[TaskStatus.TODO, TaskStatus.DOING],
            archived_at__isnull=True,
            task_list__archived_at__isnull=True,
            task_list__service__archived_at__isnull=True,
        )
        .select_related("task_list__service")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )
    count, rows = first_rows(qs, limit)
    on = today()
    link = reverse("lifecycle:service", args=[org.slug, 0]).replace("/0/", "/{}/")
    return count, [
        WorkItem(
            title=t.title,
            url=link.format(t.task_list.service_id),
            context=(f"{t.task_list.service.name} · {t.task_list.name} · {t.get_status_display()}"),
            due=t.due_on,
            overdue=t.due_on is not None and t.due_on < on,
        )
        for t in rows
    ]


register_work(
    WorkSource(key="decisions", title="Decisions waiting for you", order=40, collect=_decisions)
)
register_work(WorkSource(key="tasks", title="Your tasks", order=50, collect=_tasks))
