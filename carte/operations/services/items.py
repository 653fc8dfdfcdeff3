"""Writes of risks and issues (M-18): the item itself, its mitigation or resolution
actions, and the moves of its story (escalation up and down the three levels, a risk
becoming an issue, the Owner's decision, closing and reopening), each recorded as an
`ItemEvent` with the note that explains it and audited in the same transaction.

Who answers for an item depends on the level it sits at: the service's Operatives (and
whoever manages the service) at service operations, delivery management (the service's
Managers, its Owner, the Director and PMO Managers) at level 2, the service's own Owner
at level 3. Escalating to a level tells its people (a notice, later e-mailed).

The moves are a table (`item_moves.ITEM_MOVES`) between the item's states (kind,
status, level), made by `core.workflow.apply_move`: the row is locked and a step taken on
a stale copy is refused, then the move, the right of the level it leaves, the note and the
payload are checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse

from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Service
from carte.core import workflow
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import ADD, ARCHIVE, CHANGE, can, require
from carte.core.services import (
    archive_object,
    check_same_org,
    clean_text,
    create_object,
    restore_object,
    update_object,
)
from carte.core.workflow import Step, Values, apply_move
from carte.operations.choices import (
    ActionPurpose,
    Decision,
    ItemKind,
    ItemStatus,
    Level,
    NoticeKind,
)
from carte.operations.models import ItemAction, ItemEvent, RiskIssue
from carte.operations.permissions import ANSWERS_AT, ESCALATE, OWNER_DECIDES
from carte.operations.selectors import notices
from carte.operations.services.common import refresh
from carte.operations.services.item_moves import (
    ESCALATED,
    ITEMS,
    RAISED,
    WHO_AT_LEVEL,
    ItemPayload,
    ItemState,
    item_state,
    record_event,
)
from carte.operations.services.item_moves import (
    ITEM_MOVES as ITEM_MOVES,  # the table, as this module's callers know it
)
from carte.operations.services.notices import notify
from carte.organisations.actor import Actor
from carte.organisations.models import Person, User

ITEM_FIELDS = ("title", "description", "cause", "effect", "probability", "impact", "owner")
ACTION_FIELDS = ("description", "owner", "due_date")
# Who is told when an item reaches a level: the service role answering for it.
LEVEL_ROLES: dict[int, str] = {
    Level.OPERATIONS: ServiceRoleKind.OPERATIVE,
    Level.DELIVERY: ServiceRoleKind.MANAGER,
    Level.OWNERSHIP: ServiceRoleKind.OWNER,
}


# ---------------------------------------------------------------- helpers


def _unknown(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise DomainError.field(extra[0], "No such field.")


def _open(item: RiskIssue, doing: str) -> None:
    if item.status != ItemStatus.OPEN:
        raise DomainError(f"This item is closed: reopen it before you {doing}.", code=CONFLICT)
    if item.archived_at is not None:
        raise DomainError(f"This item is archived: restore it before you {doing}.", code=CONFLICT)


def answers_at(actor: Actor, item: RiskIssue, level: int) -> bool:
    """Is the actor among those responsible for the item at `level` (M-18)?"""
    return can(actor, ANSWERS_AT[min(int(level), Level.OWNERSHIP)], item)


def may_escalate(actor: Actor, item: RiskIssue) -> bool:
    """Raising to delivery management: anyone on the service; to ownership: delivery
    management (not an Operative)."""
    if item.level >= Level.OWNERSHIP:
        return False
    needed = Level.OPERATIONS if item.level == Level.OPERATIONS else Level.DELIVERY
    return answers_at(actor, item, needed)


def may_deescalate(actor: Actor, item: RiskIssue) -> bool:
    """Handing an item down is for those who answer for the level it sits at."""
    return item.level > Level.OPERATIONS and answers_at(actor, item, item.level)


def item_url(actor: Actor, item: RiskIssue) -> str:
    return reverse("operations:item", args=[actor.organisation.slug, item.service_id, item.pk])


def level_people(service: Service, level: int) -> list[User]:
    """The users answering for `level` on the service: its Operatives, Managers or Owner
    (see `notices.role_users`)."""
    role = LEVEL_ROLES[level]
    return notices.role_users(service.organisation, [service.pk], [role])[(service.pk, role)]


def _tell_level(actor: Actor, item: RiskIssue, event: ItemEvent, note: str) -> int:
    """Notify the people of the level the item has reached (not the actor)."""
    level = int(item.level)
    users = [
        u for u in level_people(item.service, level) if actor.user is None or u.pk != actor.user.pk
    ]
    verb = "escalated" if event.kind in (ESCALATED, RAISED) else "handed back"
    kind_label = ItemKind(item.kind).label.lower()
    return notify(
        organisation=actor.organisation,
        users=users,
        kind=NoticeKind.ESCALATED,
        key=f"escalated:item:{item.pk}:event:{event.pk}",
        title=(
            f"{item.service.code}: {kind_label} “{item.title}” {verb} to "
            f"{Level(level).label.lower()}"
        )[:300],
        body=note,
        url=item_url(actor, item),
    )


def _person(actor: Actor, field: str, person: Any, *, required: bool) -> Person | None:
    if person is None:
        if required:
            raise DomainError.field(field, "Choose a person.")
        return None
    if not isinstance(person, Person):
        raise DomainError.field(field, "Choose a person of this organisation.")
    check_same_org(actor, live=True, **{field: person})
    return person


# ---------------------------------------------------------------- the item


def item_create(*, actor: Actor, service: Service, data: Mapping[str, Any]) -> RiskIssue:
    """Raise a risk or an issue on a service, at service operations unless a level is
    given by someone who may raise it there."""
    _unknown(data, (*ITEM_FIELDS, "kind", "level"))
    item = RiskIssue(service=service, organisation=actor.organisation)
    require(actor, ADD, item)
    check_same_org(actor, live=True, service=service)
    kind = data.get("kind") or ItemKind.RISK
    if kind not in ItemKind.values:
        raise DomainError.field("kind", "Choose risk or issue.")
    level = data.get("level") or Level.OPERATIONS
    if level not in Level.values:
        raise DomainError.field("level", "Choose a level from 1 to 3.")
    if level > Level.OPERATIONS and not answers_at(actor, item, Level.DELIVERY):
        raise DomainError.field(
            "level",
            f"Only {WHO_AT_LEVEL[Level.DELIVERY]} may raise an item above service operations.",
        )
    for name in ITEM_FIELDS:
        if name in data:
            setattr(item, name, data[name])
    item.title = clean_text("title", data.get("title"), limit=200)
    item.owner = _person(actor, "owner", data.get("owner"), required=False)
    item.kind = kind
    item.level = level
    with transaction.atomic():
        create_object(actor, item)
        event = record_event(actor, item, RAISED, note=item.description, to_level=level)
        if level > Level.OPERATIONS:
            _tell_level(actor, item, event, item.description)
    return item


def item_update(*, actor: Actor, item: RiskIssue, data: Mapping[str, Any]) -> RiskIssue:
    """Change what the item says (title, cause and effect, probability and impact, owner);
    its kind, level and status move only through their own steps."""
    require(actor, CHANGE, item)
    _unknown(data, ITEM_FIELDS)
    values = dict(data)
    if "title" in values:
        values["title"] = clean_text("title", values["title"], limit=200)
    if "owner" in values:
        values["owner"] = _person(actor, "owner", values["owner"], required=False)
    for name in ("probability", "impact"):
        if name in values and values[name] is None:
            raise DomainError.field(name, "Rate it from 1 to 5.")
    if item.archived_at is not None:
        raise DomainError("This item is archived: restore it before you change it.", code=CONFLICT)
    with transaction.atomic():
        return update_object(actor, item, values)


def item_archive(*, actor: Actor, item: RiskIssue) -> RiskIssue:
    """Archive an item entered by mistake (it is kept and can be restored)."""
    require(actor, ARCHIVE, item)
    with transaction.atomic():
        return archive_object(actor, item)


def item_restore(*, actor: Actor, item: RiskIssue) -> RiskIssue:
    require(actor, ARCHIVE, item)
    with transaction.atomic():
        return restore_object(actor, item)


# ---------------------------------------------------------------- the moves


def _apply(
    actor: Actor,
    item: RiskIssue,
    name: str,
    note: str,
    *,
    payload: Mapping[str, Any] | None = None,
    write: workflow.Writer[RiskIssue, ItemState, ItemPayload] | None = None,
) -> tuple[RiskIssue, ItemEvent]:
    """Make the move on the item as the caller saw it; the caller's copy follows."""
    row, event = apply_move(
        ITEMS,
        actor=actor,
        obj=item,
        name=name,
        expected=item_state(item),
        note=note,
        payload=payload,
        write=write,
    )
    refresh(item, row)
    return row, event


# ---------------------------------------------------------------- escalation


def item_escalate(*, actor: Actor, item: RiskIssue, note: str) -> ItemEvent:
    """Move the item one level up, with the note that says why; the people of the level
    it reaches are told."""
    require(actor, ESCALATE, item)
    with transaction.atomic():
        row, event = _apply(actor, item, "escalate", note)
        _tell_level(actor, row, event, event.note)
    return event


def item_deescalate(*, actor: Actor, item: RiskIssue, note: str) -> ItemEvent:
    """Hand the item back one level down, with a note; its people are told."""
    require(actor, ESCALATE, item)
    with transaction.atomic():
        row, event = _apply(actor, item, "deescalate", note)
        _tell_level(actor, row, event, event.note)
    return event


# ---------------------------------------------------------------- risk to issue


def item_make_issue(*, actor: Actor, item: RiskIssue, note: str) -> ItemEvent:
    """The risk has happened: the same row becomes an issue, its events and actions kept;
    actions added from now on are resolution actions."""
    require(actor, CHANGE, item)
    return _apply(actor, item, "make_issue", note, write=lambda step: {"became_issue_at": step.at})[
        1
    ]


# ---------------------------------------------------------------- the Owner's decision


def item_decide(
    *, actor: Actor, item: RiskIssue, decision: str, note: str, **payload: Any
) -> ItemEvent:
    """The Service Owner's decision on an item at service ownership: agree the
    mitigation, accept it, change the service (a change request linked to the item) or
    close the service (the lifecycle's closure starts). The item stays open until
    closed.

    `payload`: for `change`, title, description, affects, reason (a ChangeReason,
    "business" by default) and raised_as ("manager" by default); for `close_service`,
    reason (a lifecycle ClosureReason) and replacing_service when it is "replaced"."""
    if not can(actor, OWNER_DECIDES, item):
        raise forbidden(
            "Only the Service Owner decides on a risk or issue escalated to service "
            "ownership (the Director cannot decide in the Owner's place)."
        )

    def write(step: Step[RiskIssue, ItemState, ItemPayload]) -> Values:
        return _decide(actor, step, decision)

    return _apply(actor, item, "decide", note, payload=payload, write=write)[1]


def _decide(actor: Actor, step: Step[RiskIssue, ItemState, ItemPayload], decision: str) -> Values:
    """What the decision sets in motion; the decision itself is recorded on the item."""
    item, text, payload = step.row, step.note, dict(step.payload)
    if decision not in Decision.values:
        raise DomainError.field("decision", "Choose one of the four decisions.")
    if decision == Decision.MITIGATE:
        _unknown(payload, ())
        if not ItemAction.objects.filter(
            item=item, archived_at__isnull=True, done_at__isnull=True
        ).exists():
            raise DomainError.field(
                "decision",
                "Add the mitigation or resolution action you agree to first: this item "
                "has no open action.",
            )
    elif decision == Decision.ACCEPT:
        _unknown(payload, ())
    elif decision == Decision.CHANGE:
        _open_change(actor, item, text, payload)
    else:
        _start_closure(actor, item, text, payload)
    return {
        "decision": decision,
        "decision_note": text,
        "decided_at": step.at,
        "decided_by": actor.user,
    }


def _open_change(actor: Actor, item: RiskIssue, note: str, payload: dict[str, Any]) -> Any:
    from carte.operations.choices import ChangeReason, RaisedAs
    from carte.operations.services import changes

    _unknown(payload, ("title", "description", "affects", "reason", "raised_as"))
    affects = list(payload.get("affects") or [])
    if not affects:
        raise DomainError.field("affects", "Name the documents the change affects.")
    return changes.change_request_create(
        actor=actor,
        service=item.service,
        data={
            "title": clean_text("title", payload.get("title") or item.title, limit=200),
            "description": clean_text("description", payload.get("description") or note),
            "raised_as": payload.get("raised_as") or RaisedAs.MANAGER,
            "reason": payload.get("reason") or ChangeReason.BUSINESS,
            "affects": affects,
            "item": item,
        },
    )


def _start_closure(actor: Actor, item: RiskIssue, note: str, payload: dict[str, Any]) -> Any:
    from carte.lifecycle import services as lifecycle

    _unknown(payload, ("reason", "replacing_service"))
    extra = {}
    if payload.get("replacing_service") is not None:
        extra["replacing_service"] = payload["replacing_service"]
    try:
        return lifecycle.transition(
            actor=actor,
            service=item.service,
            to="closing",
            reason=payload.get("reason") or "",
            explanation=note,
            note=note,
            **extra,
        )
    except DomainError as exc:
        if "explanation" not in exc.errors:
            raise
        errors = {("note" if k == "explanation" else k): v for k, v in exc.errors.items()}
        raise DomainError(exc.message, code=exc.code, errors=errors, extra=exc.extra) from exc


# ---------------------------------------------------------------- closing


def item_close(*, actor: Actor, item: RiskIssue, note: str) -> ItemEvent:
    """Close the item (the risk has passed, the issue is resolved), by whoever answers
    for it at its level, with a note."""
    require(actor, CHANGE, item)
    return _apply(actor, item, "close", note, write=lambda step: {"closed_at": step.at})[1]


def item_reopen(*, actor: Actor, item: RiskIssue, note: str) -> ItemEvent:
    """Open a closed item again, at the level it was closed at, with a note."""
    require(actor, CHANGE, item)
    return _apply(actor, item, "reopen", note, write=lambda step: {"closed_at": None})[1]


# ---------------------------------------------------------------- actions


def _check_action(actor: Actor, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    if creating or "description" in values:
        values["description"] = clean_text("description", values.get("description"), limit=300)
    if creating or "owner" in values:
        values["owner"] = _person(actor, "owner", values.get("owner"), required=True)
    if (creating or "due_date" in values) and values.get("due_date") is None:
        raise DomainError.field("due_date", "Give the date it is due by.")
    return values


def action_create(*, actor: Actor, item: RiskIssue, data: Mapping[str, Any]) -> ItemAction:
    """An action with its owner and due date: mitigation for a risk, resolution for an
    issue."""
    action = ItemAction(item=item, organisation=actor.organisation)
    require(actor, ADD, action)
    _unknown(data, ACTION_FIELDS)
    _open(item, "add an action")
    values = _check_action(actor, dict(data), creating=True)
    action.purpose = (
        ActionPurpose.RESOLUTION if item.kind == ItemKind.ISSUE else ActionPurpose.MITIGATION
    )
    for name, value in values.items():
        setattr(action, name, value)
    with transaction.atomic():
        return create_object(actor, action)


def action_update(*, actor: Actor, action: ItemAction, data: Mapping[str, Any]) -> ItemAction:
    require(actor, CHANGE, action)
    _unknown(data, ACTION_FIELDS)
    values = _check_action(actor, dict(data), creating=False)
    with transaction.atomic():
        return update_object(actor, action, values)


def action_done(*, actor: Actor, action: ItemAction, done: bool) -> ItemAction:
    """Tick the action done (now) or open it again."""
    require(actor, CHANGE, action)
    if done == (action.done_at is not None):
        return action
    with transaction.atomic():
        return update_object(actor, action, {"done_at": now() if done else None})


def action_archive(*, actor: Actor, action: ItemAction) -> ItemAction:
    require(actor, ARCHIVE, action)
    with transaction.atomic():
        return archive_object(actor, action)
