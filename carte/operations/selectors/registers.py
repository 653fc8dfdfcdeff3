"""Reads of the organisation's registers: every risk and issue of every service, at every
level, and every action taken on them, each list one query whatever its size (the next
open action's due date is computed in it), with the choices of their filters.

Risks, issues and their actions are the staff's records: the whole organisation's staff
reads them (`permissions.RISK_ISSUE`), so a register lists the organisation's rows and
nothing else; a customer is refused.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery

from carte.catalogue.models import Service
from carte.core.errors import forbidden
from carte.core.permissions import VIEW, can
from carte.operations.filters import ActionRegisterFilter, RiskRegisterFilter
from carte.operations.models import ItemAction, RiskIssue
from carte.organisations.actor import Actor
from carte.organisations.models import Person

MINE = "mine"


def may_view(actor: Actor) -> bool:
    """Whether the actor reads the registers (the PMO's staff, not customers)."""
    return can(actor, VIEW, RiskIssue)


def _require_view(actor: Actor) -> None:
    if not may_view(actor):
        raise forbidden("Risks and issues are for the PMO's staff.")


def _mine(actor: Actor, field: str = "owner") -> Q:
    """Rows owned by the actor's own person (none for a login that is no person here)."""
    if actor.user is None:
        return Q(pk__in=[])
    return Q(
        **{f"{field}__user_id": actor.user.pk, f"{field}__organisation_id": actor.organisation.pk}
    )


def risk_register(actor: Actor, filters: RiskRegisterFilter) -> QuerySet[RiskIssue]:
    """The organisation's risks and issues on its live services, filtered, with their
    service, owner and the due date of their next open action (`next_due`); worst score
    first by default."""
    _require_view(actor)
    next_due = (
        ItemAction.objects.filter(
            item=OuterRef("pk"), archived_at__isnull=True, done_at__isnull=True
        )
        .order_by("due_date", "id")
        .values("due_date")[:1]
    )
    qs = RiskIssue.objects.filter(
        organisation_id=actor.organisation.pk, service__archived_at__isnull=True
    )
    if filters.owner == MINE:
        qs = qs.filter(_mine(actor))
    return filters.apply(
        qs.select_related("service", "owner").annotate(next_due=Subquery(next_due))
    )


def action_register(actor: Actor, filters: ActionRegisterFilter) -> QuerySet[ItemAction]:
    """Every action of the organisation's live risks and issues (on live services),
    filtered, with its item, service and owner; soonest due first by default."""
    _require_view(actor)
    qs = ItemAction.objects.filter(
        organisation_id=actor.organisation.pk,
        item__archived_at__isnull=True,
        item__service__archived_at__isnull=True,
    )
    if filters.owner == MINE:
        qs = qs.filter(_mine(actor))
    return filters.apply(qs.select_related("item", "item__service", "owner"))


def service_options(actor: Actor) -> list[tuple[int, str]]:
    """The organisation's live services ("REP Portfolio reporting"), by code."""
    rows = (
        Service.objects.filter(organisation_id=actor.organisation.pk, archived_at__isnull=True)
        .order_by("code", "id")
        .values_list("pk", "code", "name")
    )
    return [(pk, f"{code} {name}") for pk, code, name in rows]


def owner_options(actor: Actor, *, of: str) -> list[tuple[int | str, str]]:
    """ "Me", then the people who own a live risk or issue (`of="items"`) or a live
    action (`of="actions"`) in the organisation, by name."""
    owned = {"items": "owned_items", "actions": "item_actions"}[of]
    people = (
        Person.objects.filter(
            organisation_id=actor.organisation.pk,
            **{
                f"{owned}__archived_at__isnull": True,
                f"{owned}__organisation_id": actor.organisation.pk,
            },
        )
        .distinct()
        .order_by("name", "id")
        .values_list("pk", "name")
    )
    return [(MINE, "Me"), *people]
