"""What waits for a person in running services, for My work (`core.work`): the reports
they make that are due, the actions of risks and issues they own, the risks and issues
escalated to the level they answer for, the change requests waiting for their decision
as the service's Owner, and the change requests they asked for, still under way. Each
section is at most two queries (its first rows, and its count when there are more)
whatever the data size; the service rights come from the actor's memo
(`catalogue.permissions`), read once per request."""

from __future__ import annotations

from typing import cast

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from carte.catalogue.permissions import SERVICE_EDITORS, managed_service_ids, owned_service_ids
from carte.core.audit import people_date
from carte.core.clock import today
from carte.core.permissions import ActorLike
from carte.core.work import WorkItem, WorkSource, first_rows, register_work
from carte.operations import periods
from carte.operations.choices import ChangeState, ItemStatus, Level
from carte.operations.models import ChangeRequest, ItemAction, RiskIssue
from carte.operations.permissions import own_person_ids
from carte.operations.selectors.due import reports_due
from carte.organisations.actor import Actor
from carte.organisations.permissions import STAFF_SIDE


def _staff(actor: ActorLike) -> bool:
    return actor.user is not None and bool(actor.roles & STAFF_SIDE)


def _slug(actor: ActorLike) -> str:
    return cast(Actor, actor).organisation.slug


def _reports(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    if not _staff(actor):
        return 0, []
    on = today()
    count, kpis = first_rows(reports_due(actor=cast(Actor, actor), user=actor.user), limit)
    slug = _slug(actor)
    return count, [
        WorkItem(
            title=f"Report {k.name}",
            url=reverse("operations:kpi_detail", args=[slug, k.service_id, k.pk]),
            context=" · ".join(
                p
                for p in (
                    k.service.name,
                    periods.label(k.next_period, k.frequency) if k.next_period else "",
                )
                if p
            ),
            due=k.next_due,
            overdue=k.next_due is not None and k.next_due < on,
        )
        for k in kpis
    ]


def _actions(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    if not _staff(actor):
        return 0, []
    on = today()
    qs = (
        ItemAction.objects.filter(
            organisation_id=cast(Actor, actor).organisation.pk,
            owner__user=actor.user,
            owner__archived_at__isnull=True,
            done_at__isnull=True,
            archived_at__isnull=True,
            item__archived_at__isnull=True,
            item__service__archived_at__isnull=True,
        )
        .select_related("item__service")
        .order_by("due_date", "pk")
    )
    count, rows = first_rows(qs, limit)
    slug = _slug(actor)
    return count, [
        WorkItem(
            title=a.description,
            url=reverse("operations:item", args=[slug, a.item.service_id, a.item_id]),
            context=f"{a.item.get_kind_display()}: {a.item.title} · {a.item.service.name}",
            due=a.due_date,
            overdue=a.due_date < on,
        )
        for a in rows
    ]


def _escalated(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    """Open risks and issues at a level the actor answers for: delivery management (level
    2) on the services they manage (all of them for the Director and the PMO Managers),
    service ownership (level 3) on the services they own."""
    if not _staff(actor):
        return 0, []
    delivery = Q(level=Level.DELIVERY)
    if not actor.roles & SERVICE_EDITORS:
        delivery &= Q(service_id__in=managed_service_ids(actor))
    ownership = Q(level=Level.OWNERSHIP, service_id__in=owned_service_ids(actor))
    qs = (
        RiskIssue.objects.filter(
            delivery | ownership,
            organisation_id=cast(Actor, actor).organisation.pk,
            status=ItemStatus.OPEN,
            archived_at__isnull=True,
            service__archived_at__isnull=True,
        )
        .select_related("service")
        .order_by("-level", "-score", "pk")
    )
    count, rows = first_rows(qs, limit)
    slug = _slug(actor)
    return count, [
        WorkItem(
            title=i.title,
            url=reverse("operations:item", args=[slug, i.service_id, i.pk]),
            context=(
                f"{i.get_kind_display()} · {i.service.name} · {i.get_level_display()} · "
                f"score {i.score}"
            ),
        )
        for i in rows
    ]


def _changes(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    """Change requests submitted for a decision on the services the actor owns."""
    owned = owned_service_ids(actor) if _staff(actor) else frozenset()
    if not owned:
        return 0, []
    qs = (
        ChangeRequest.objects.filter(
            organisation_id=cast(Actor, actor).organisation.pk,
            service_id__in=owned,
            state=ChangeState.SUBMITTED,
            archived_at__isnull=True,
            service__archived_at__isnull=True,
        )
        .select_related("service")
        .order_by("created_at", "pk")
    )
    count, rows = first_rows(qs, limit)
    slug = _slug(actor)
    return count, [
        WorkItem(
            title=str(c),
            url=reverse("operations:change_detail", args=[slug, c.service_id, c.pk]),
            context=f"{c.service.name} · raised {people_date(timezone.localdate(c.created_at))}",
        )
        for c in rows
    ]


def _requests(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    """The change requests the person asked for that are still under way: they follow
    each one's status (a customer's suggestion, a Manager's request)."""
    mine = own_person_ids(actor)
    if not mine:
        return 0, []
    qs = (
        ChangeRequest.objects.filter(
            organisation_id=cast(Actor, actor).organisation.pk,
            raised_by_id__in=mine,
            state__in=[ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED],
            archived_at__isnull=True,
        )
        .select_related("service")
        .order_by("-created_at", "-pk")
    )
    count, rows = first_rows(qs, limit)
    slug = _slug(actor)
    return count, [
        WorkItem(
            title=str(c),
            url=reverse("operations:my_request", args=[slug, c.pk]),
            context=f"{c.service.name} · {c.get_state_display()}",
        )
        for c in rows
    ]


register_work(
    WorkSource(
        key="reports",
        title="Reports due",
        order=10,
        collect=_reports,
        more=lambda actor: reverse("operations:reports_enter", args=[_slug(actor)]),
    )
)
register_work(
    WorkSource(
        key="actions",
        title="Actions assigned to you",
        order=20,
        collect=_actions,
        more=lambda actor: (
            reverse("operations:action_register", args=[_slug(actor)]) + "?owner=mine"
        ),
    )
)
register_work(
    WorkSource(
        key="escalated",
        title="Escalated to your level",
        order=30,
        collect=_escalated,
        more=lambda actor: reverse("operations:escalations", args=[_slug(actor)]),
    )
)
register_work(
    WorkSource(key="changes", title="Change requests to decide", order=45, collect=_changes)
)
register_work(
    WorkSource(
        key="requests",
        title="Your requests",
        order=60,
        collect=_requests,
        more=lambda actor: reverse("operations:my_requests", args=[_slug(actor)]),
    )
)
