"""Reads of risks and issues: a service's register, one item with its actions and story,
the organisation's escalations list, the items at the level a user answers for, and the
Operations tab's section. Each list is one query (counts and the time an item reached
its level are computed in it), whatever the number of items.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from carte.catalogue.models import Service
from carte.catalogue.permissions import _service_roles
from carte.core.clock import today
from carte.core.errors import forbidden
from carte.core.listing import get_for
from carte.core.permissions import VIEW, Right, can
from carte.operations.choices import ItemKind, ItemStatus, Level
from carte.operations.filters import EscalationFilter, ItemFilter
from carte.operations.models import ItemAction, ItemEvent, RiskIssue
from carte.organisations.actor import Actor

SECTION_TOP = 5  # items listed per level on the Operations tab


def _require_view(actor: Actor) -> None:
    if not can(actor, VIEW, RiskIssue):
        raise forbidden("Risks and issues are for the PMO's staff.")


def _annotated(qs: QuerySet[RiskIssue]) -> QuerySet[RiskIssue]:
    """Items with their owner and service, open and overdue actions, and since when they
    have been at their level (the latest event that brought them there)."""
    live_actions = ItemAction.objects.filter(item=OuterRef("pk"), archived_at__isnull=True)
    open_actions = live_actions.filter(done_at__isnull=True)
    overdue = open_actions.filter(due_date__lt=today())

    def counted(actions: QuerySet[ItemAction]) -> Coalesce:
        return Coalesce(
            Subquery(
                actions.order_by().values("item").annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )

    since = (
        ItemEvent.objects.filter(item=OuterRef("pk"), to_level=OuterRef("level"))
        .exclude(kind__in=("decided", "closed", "reopened", "became_issue"))
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return qs.select_related("service", "owner").annotate(
        open_actions=counted(open_actions),
        overdue_actions=counted(overdue),
        level_since=Coalesce(Subquery(since, output_field=DateTimeField()), F("created_at")),
    )


def items_for_service(actor: Actor, service: Service, filters: ItemFilter) -> QuerySet[RiskIssue]:
    """The service's register, filtered; highest score first by default."""
    _require_view(actor)
    qs = RiskIssue.objects.filter(organisation_id=actor.organisation.pk, service=service)
    return filters.apply(_annotated(qs))


def item_get(actor: Actor, pk: int | str, *, action: Right = VIEW) -> RiskIssue:
    """One item of the organisation (404 otherwise), with its counts."""
    return get_for(actor, _annotated(RiskIssue.objects.all()), pk, action=action)


def item_of_service(
    actor: Actor, service: Service, pk: int | str, *, action: str = VIEW
) -> RiskIssue:
    return get_for(actor, _annotated(RiskIssue.objects.filter(service=service)), pk, action=action)


def item_choices(actor: Actor, service: Service) -> QuerySet[RiskIssue]:
    """The service's live risks and issues, newest first: the item behind a change."""
    return RiskIssue.objects.filter(
        organisation_id=actor.organisation.pk, service=service, archived_at__isnull=True
    ).order_by("-id")


def action_get(*, actor: Actor, item: RiskIssue, pk: int | str) -> ItemAction:
    """One action of the item (404 for another item's or organisation's)."""
    rows = ItemAction.objects.filter(item=item).select_related("item", "owner")
    return get_for(actor, rows, pk)


def item_actions(item: RiskIssue) -> QuerySet[ItemAction]:
    """The item's live actions, open first by due date, with their owners."""
    return (
        ItemAction.objects.filter(item=item, archived_at__isnull=True)
        .select_related("owner")
        .order_by(F("done_at").asc(nulls_first=True), "due_date", "id")
    )


def item_events(item: RiskIssue) -> QuerySet[ItemEvent]:
    """The item's story, newest first."""
    return ItemEvent.objects.filter(item=item, archived_at__isnull=True).order_by("-at", "-id")


def _mine_q(actor: Actor, levels: tuple[int, ...]) -> Q:
    """Items at the level the user answers for on their services: Operatives at 1,
    Managers at 2, the Owner at 3."""
    roles = _service_roles(actor)
    by_level: dict[int, frozenset[int]] = {
        Level.OPERATIONS: roles["operative"],
        Level.DELIVERY: roles["manager"],
        Level.OWNERSHIP: roles["owner"],
    }
    q = Q(pk__in=[])
    for level in levels:
        if by_level[level]:
            q |= Q(level=level, service_id__in=sorted(by_level[level]))
    return q


def escalations(actor: Actor, filters: EscalationFilter) -> QuerySet[RiskIssue]:
    """Open items escalated to delivery management or service ownership, with service,
    owner, since when at their level and overdue actions; `mine`: the ones at my level."""
    _require_view(actor)
    qs = RiskIssue.objects.filter(
        organisation_id=actor.organisation.pk,
        status=ItemStatus.OPEN,
        level__gte=Level.DELIVERY,
        archived_at__isnull=True,
        service__archived_at__isnull=True,
    )
    if filters.mine:
        qs = qs.filter(_mine_q(actor, (Level.DELIVERY, Level.OWNERSHIP)))
    return filters.apply(_annotated(qs))


def section(actor: Actor, service: Service) -> dict[str, Any]:
    """The Operations tab's risks and issues: open items counted by level and the top
    ones of each level by score (two queries, three with the right to add)."""
    _require_view(actor)
    open_items = RiskIssue.objects.filter(
        organisation_id=actor.organisation.pk,
        service=service,
        status=ItemStatus.OPEN,
        archived_at__isnull=True,
    )
    counts: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for level, kind, n in (
        open_items.order_by().values_list("level", "kind").annotate(n=Count("id"))
    ):
        counts[level] = counts.get(level, 0) + n
        kinds[kind] = kinds.get(kind, 0) + n
    overdue = ItemAction.objects.filter(
        item=OuterRef("pk"), archived_at__isnull=True, done_at__isnull=True, due_date__lt=today()
    )
    top = list(
        open_items.only("id", "title", "level", "score", "probability", "impact")
        .annotate(
            overdue_actions=Coalesce(
                Subquery(
                    overdue.order_by().values("item").annotate(n=Count("id")).values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            )
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("level")], order_by=[F("score").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=SECTION_TOP)
        .order_by("-level", "-score", "-id")
    )
    levels = [
        {
            "level": level,
            "label": label,
            "count": counts.get(level, 0),
            "items": [i for i in top if i.level == level],
        }
        for level, label in reversed(Level.choices)
    ]
    return {
        "levels": levels,
        "total": sum(counts.values()),
        "risks": kinds.get(ItemKind.RISK, 0),
        "issues": kinds.get(ItemKind.ISSUE, 0),
        "can_add": can(actor, "add", RiskIssue(service=service, organisation=actor.organisation)),
    }
