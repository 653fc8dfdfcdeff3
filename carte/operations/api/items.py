"""API of risks and issues (`/api/v1/orgs/{org}/...`): a service's register, each item
with its actions and story, the steps of the story (escalate, de-escalate, make issue,
the Owner's decision, close, reopen), and the organisation's escalations list.

Every write goes through `carte.operations.services.items`. Ids in a payload are resolved
within the caller's organisation first (`ref()`), so another organisation's id is a 422
naming the field.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from carte.catalogue.api import STAFF_SERVICE_PARENT
from carte.catalogue.models import Service
from carte.core.api import (
    CrudSpec,
    Parent,
    Stamped,
    Strict,
    crud_routes,
    no_nulls,
    paged,
    resolve_refs,
    step_routes,
)
from carte.core.permissions import CHANGE, VIEW, Right, require
from carte.lifecycle.api import ServiceBrief
from carte.operations.choices import (
    ActionPurpose,
    Affects,
    Decision,
    ItemKind,
    ItemStatus,
    RaisedAs,
)
from carte.operations.filters import EscalationFilter, ItemFilter
from carte.operations.models import ItemAction, ItemEvent, RiskIssue
from carte.operations.permissions import ESCALATE, OWNER_DECIDES
from carte.operations.selectors import items as selectors
from carte.operations.services import items as services
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import Person

router = Router()

TAG = "Risks and issues"
SERVICE = "/orgs/{org}/services/{int:id}/risks-issues"
ITEM = "/orgs/{org}/risks-issues/{int:item_id}"
ACTION = "/orgs/{org}/risks-issues/{int:item_id}/actions/{int:action_id}"


# ---------------------------------------------------------------- schemas


class PersonBrief(Schema):
    id: int
    name: str


class ItemOut(Stamped):
    service: ServiceBrief
    kind: ItemKind
    title: str
    description: str
    cause: str
    effect: str
    probability: int
    impact: int
    score: int = Field(..., description="Probability times impact, 1 to 25.")
    owner: PersonBrief | None
    status: ItemStatus
    level: Literal[1, 2, 3] = Field(
        ..., description="1 service operations, 2 delivery management, 3 service ownership."
    )
    level_label: str
    level_since: datetime = Field(..., description="When the item reached its level.")
    became_issue_at: datetime | None = Field(
        None, description="When a risk became an issue (null if raised as one)."
    )
    closed_at: datetime | None
    decision: Decision | Literal[""]
    decision_note: str
    decided_at: datetime | None
    open_actions: int
    overdue_actions: int

    @staticmethod
    def resolve_level_label(obj: RiskIssue) -> str:
        return obj.get_level_display()


class ItemIn(Strict):
    kind: ItemKind = ItemKind.RISK
    title: str
    description: str = ""
    cause: str = ""
    effect: str = ""
    probability: int = Field(..., ge=1, le=5)
    impact: int = Field(..., ge=1, le=5)
    owner: int | None = Field(None, description="A person's id.")
    level: Literal[1, 2, 3] = Field(
        1, description="Above 1 only for delivery management (Managers, Owner, Director)."
    )


class ItemPatch(Strict):
    title: str | None = None
    description: str | None = None
    cause: str | None = None
    effect: str | None = None
    probability: int | None = Field(None, ge=1, le=5)
    impact: int | None = Field(None, ge=1, le=5)
    owner: int | None = None


class ItemNoteIn(Strict):
    note: str = Field(..., description="Why: required for every step of the story.")


class DecideIn(Strict):
    decision: Decision
    note: str
    title: str | None = Field(None, description="change: the change request's title.")
    description: str | None = Field(None, description="change: what should change.")
    affects: list[Affects] | None = Field(None, description="change: the documents it changes.")
    reason: str | None = Field(
        None,
        description="change: a change reason (business, feedback, policy, tools); "
        "close_service: a closure reason of the lifecycle.",
    )
    raised_as: RaisedAs | None = Field(None, description="change: manager by default.")
    replacing_service: int | None = Field(
        None, description="close_service with reason 'replaced': the replacing service's id."
    )


class ItemEventOut(Schema):
    id: int
    kind: str = Field(
        ...,
        description="raised, escalated, deescalated, became_issue, decided, closed, reopened.",
    )
    from_level: int | None
    to_level: int | None
    note: str
    at: datetime
    actor: str = Field(..., description="Who did it, as they were known then.")

    @staticmethod
    def resolve_actor(obj: ItemEvent) -> str:
        return obj.actor_label


class ItemStepOut(Schema):
    event: ItemEventOut
    item: ItemOut


class ActionOut(Stamped):
    item_id: int
    purpose: ActionPurpose
    description: str
    owner: PersonBrief
    due_date: date
    done_at: datetime | None
    overdue: bool

    @staticmethod
    def resolve_overdue(obj: ItemAction) -> bool:
        from carte.core.clock import today

        return obj.done_at is None and obj.due_date < today()


class ActionIn(Strict):
    description: str
    owner: int
    due_date: date


class DoneIn(Strict):
    done: bool


# ---------------------------------------------------------------- helpers


def _item(actor: Actor, pk: int, right: Right = VIEW) -> RiskIssue:
    """The item (404 if hidden), refused (403) without `right` on it: a step fetches it
    with its own right before the body is read."""
    return selectors.item_get(actor, pk, action=right)


def _owner(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    return resolve_refs(actor, data, {"owner": Person})


# ---------------------------------------------------------------- items


def _item_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """The owner's id as the person; the fields a risk cannot lack may not be null."""
    no_nulls(data, ("title", "description", "cause", "effect", "probability", "impact"))
    return _owner(actor, data)


def _item_get(*, actor: Actor, pk: int, action: Right = VIEW, **_: Any) -> RiskIssue:
    return selectors.item_get(actor, pk, action=action)


# Raised and listed on their service; read, changed, archived and restored on their own.
crud_routes(
    router,
    CrudSpec(
        path="risks-issues",
        model=RiskIssue,
        tag=TAG,
        noun="risk or issue",
        plural="risks and issues",
        out=ItemOut,
        create_in=ItemIn,
        update_in=ItemPatch,
        filters=ItemFilter,
        parent=STAFF_SERVICE_PARENT,
        shallow=True,
        list_selector=selectors.items_for_service,
        get_selector=_item_get,
        create=services.item_create,
        update=services.item_update,
        archive=services.item_archive,
        restore=services.item_restore,
        obj_arg="item",
        resolve=_item_data,
        operation="operations_items",
        child="item_id",
    ),
)


@router.get(
    ITEM + "/events",
    response=list[ItemEventOut],
    tags=[TAG],
    summary="The story of a risk or issue",
    operation_id="operations_item_events_list",
)
@paged
def item_events(request: HttpRequest, org: str, item_id: int) -> Any:
    """Raised, escalated and handed down, became an issue, decided, closed: newest first."""
    actor = api_actor(request, org)
    return selectors.item_events(_item(actor, item_id))


# ---------------------------------------------------------------- steps of the story


item_step = step_routes(router, ITEM, stem="operations_items", tag=TAG, response={201: ItemStepOut})


def _moved(actor: Actor, item: RiskIssue, move: Callable[..., ItemEvent], **kwargs: Any) -> Any:
    """Make one step of the item's story; the answer is its event and the item as it is now."""
    event = move(actor=actor, item=item, **kwargs)
    return Status(201, {"event": event, "item": _item(actor, item.pk)})


@item_step("escalate", "Escalate one level up, with a note")
def items_escalate(request: HttpRequest, org: str, item_id: int, payload: ItemNoteIn) -> Any:
    """1 → 2 by anyone on the service; 2 → 3 by delivery management (not an Operative);
    past level 3: 409, nothing written. The people of the level reached are told."""
    actor = api_actor(request, org)
    item = _item(actor, item_id, ESCALATE)
    return _moved(actor, item, services.item_escalate, note=payload.note)


@item_step("deescalate", "Hand down one level, with a note")
def items_deescalate(request: HttpRequest, org: str, item_id: int, payload: ItemNoteIn) -> Any:
    """By those who answer for the level it is at (the Owner at 3, delivery management
    at 2); below level 1: 409."""
    actor = api_actor(request, org)
    item = _item(actor, item_id, ESCALATE)
    return _moved(actor, item, services.item_deescalate, note=payload.note)


@item_step("make-issue", "A risk has happened: make it an issue")
def items_make_issue(request: HttpRequest, org: str, item_id: int, payload: ItemNoteIn) -> Any:
    """The same item, its story and actions kept; new actions are resolution actions."""
    actor = api_actor(request, org)
    item = _item(actor, item_id, CHANGE)
    return _moved(actor, item, services.item_make_issue, note=payload.note)


@item_step("decide", "The Service Owner's decision on an item at service ownership")
def items_decide(request: HttpRequest, org: str, item_id: int, payload: DecideIn) -> Any:
    """Only the service's Owner (403 otherwise, the Director included), only at level 3
    (409 otherwise). `mitigate` needs an open action; `change` opens a draft change
    request linked to the item (title, description, affects, reason, raised_as);
    `close_service` starts the service's closure (reason: a lifecycle closure reason)."""
    actor = api_actor(request, org)
    item = _item(actor, item_id, OWNER_DECIDES)
    data = payload.model_dump(exclude_unset=True)
    decision, note = data.pop("decision"), data.pop("note")
    data = {k: v for k, v in data.items() if v is not None}
    resolve_refs(actor, data, {"replacing_service": Service})
    return _moved(actor, item, services.item_decide, decision=decision, note=note, **data)


@item_step("close", "Close a risk or issue, with a note")
def items_close(request: HttpRequest, org: str, item_id: int, payload: ItemNoteIn) -> Any:
    """By those who answer for the level it is at."""
    actor = api_actor(request, org)
    item = _item(actor, item_id, CHANGE)
    return _moved(actor, item, services.item_close, note=payload.note)


@item_step("reopen", "Reopen a closed risk or issue, with a note")
def items_reopen(request: HttpRequest, org: str, item_id: int, payload: ItemNoteIn) -> Any:
    actor = api_actor(request, org)
    item = _item(actor, item_id, CHANGE)
    return _moved(actor, item, services.item_reopen, note=payload.note)


# ---------------------------------------------------------------- actions


def _action_get(*, actor: Actor, item: RiskIssue, pk: int, action: Right = VIEW) -> ItemAction:
    """The item's action (404 if hidden), refused (403) without `action` on it."""
    found = selectors.action_get(actor=actor, item=item, pk=pk)
    require(actor, action, found)
    return found


ITEM_PARENT = Parent(
    path="risks-issues",
    fetch=lambda *, actor, pk: selectors.item_get(actor, pk),
    arg="item",
    param="item_id",
)

crud_routes(
    router,
    CrudSpec(
        path="actions",
        tag=TAG,
        noun="action",
        out=ActionOut,
        create_in=ActionIn,
        parent=ITEM_PARENT,
        list_selector=lambda *, actor, item: selectors.item_actions(item),
        get_selector=_action_get,
        create=services.action_create,
        update=services.action_update,
        archive=services.action_archive,
        restore=services.action_archive,  # not offered: see verbs
        obj_arg="action",
        resolve=lambda actor, data: _owner(
            actor, no_nulls(data, ("description", "owner", "due_date"))
        ),
        operation="operations_item_actions",
        child="action_id",
        verbs=frozenset({"list", "create", "update", "archive"}),
    ),
)


action_step = step_routes(
    router, ACTION, stem="operations_item_actions", tag=TAG, response=ActionOut
)


@action_step("done", "Mark an action done, or open it again")
def actions_done(
    request: HttpRequest, org: str, item_id: int, action_id: int, payload: DoneIn
) -> Any:
    actor = api_actor(request, org)
    item = _item(actor, item_id)
    action = _action_get(actor=actor, item=item, pk=action_id, action=CHANGE)
    services.action_done(actor=actor, action=action, done=payload.done)
    return selectors.action_get(actor=actor, item=item, pk=action_id)


# ---------------------------------------------------------------- escalations


@router.get(
    "/orgs/{org}/escalations",
    response=list[ItemOut],
    tags=[TAG],
    summary="The organisation's escalated risks and issues",
    operation_id="operations_escalations_list",
)
@paged
def escalations_list(request: HttpRequest, org: str, filters: Query[EscalationFilter]) -> Any:
    """Open items at delivery management (2) and service ownership (3), highest level
    first; `mine=true`: the ones at the level the caller answers for."""
    actor = api_actor(request, org)
    return selectors.escalations(actor, filters)
