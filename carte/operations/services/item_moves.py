"""The escalation table of risks and issues (M-18): the moves between an item's states
(kind, status, level), who may make each and the note it asks for, the refusals of a move
that cannot be made, and the story each move records (`ItemEvent`). The moves are made
by `core.workflow.apply_move`, through the services of `items`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from typing import NamedTuple

from carte.core import workflow
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import ActorLike
from carte.core.workflow import Move, Step, Workflow
from carte.operations.choices import ItemKind, ItemStatus, Level
from carte.operations.models import ItemEvent, RiskIssue
from carte.operations.permissions import ANSWERS_AT, MAKE_ISSUE, OWNER_DECIDES

# The kinds of step an item's story records (ItemEvent.kind).
RAISED = "raised"
ESCALATED = "escalated"
DEESCALATED = "deescalated"
BECAME_ISSUE = "became_issue"
DECIDED = "decided"
CLOSED = "closed"
REOPENED = "reopened"
EVENT_LABELS: dict[str, str] = {
    RAISED: "Raised",
    ESCALATED: "Escalated",
    DEESCALATED: "De-escalated",
    BECAME_ISSUE: "Became an issue",
    DECIDED: "Owner's decision",
    CLOSED: "Closed",
    REOPENED: "Reopened",
}
WHO_AT_LEVEL: dict[int, str] = {
    Level.OPERATIONS: "whoever works on the service",
    Level.DELIVERY: "the service's Managers, its Owner, the Director or a PMO Manager",
    Level.OWNERSHIP: "the Service Owner",
}


def record_event(
    actor: ActorLike,
    item: RiskIssue,
    kind: str,
    *,
    note: str = "",
    from_level: int | None = None,
    to_level: int | None = None,
    at: dt.datetime | None = None,
) -> ItemEvent:
    """A step of the item's story, as of `at` (now by default)."""
    return ItemEvent.objects.create(
        organisation_id=item.organisation_id,
        item=item,
        kind=kind,
        from_level=from_level,
        to_level=to_level,
        note=note,
        at=at or now(),
        actor=actor.user,
        actor_label=actor.label,
    )


class ItemState(NamedTuple):
    """Where an item stands in its story; an archived item makes no move."""

    kind: str  # ItemKind
    status: str  # ItemStatus
    level: int  # Level
    archived: bool = False


def item_state(item: RiskIssue) -> ItemState:
    return ItemState(item.kind, item.status, int(item.level), item.archived_at is not None)


class ItemPayload(StrEnum):
    NOTE = "note"  # only the note that explains the move
    DECISION = "decision"  # the Owner's decision and what it needs (`item_decide`)


# What each move records as the item's story (ItemEvent.kind).
EVENT_KINDS: dict[str, str] = {
    "escalate": ESCALATED,
    "deescalate": DEESCALATED,
    "make_issue": BECAME_ISSUE,
    "decide": DECIDED,
    "close": CLOSED,
    "reopen": REOPENED,
}


_O, _C, _RISK, _ISSUE = ItemStatus.OPEN, ItemStatus.CLOSED, ItemKind.RISK, ItemKind.ISSUE
_KINDS, _LEVELS = (_RISK, _ISSUE), (Level.OPERATIONS, Level.DELIVERY, Level.OWNERSHIP)


def _level(level: int) -> str:
    return Level(level).label.lower()


ItemMove = Move[RiskIssue, ItemState, ItemPayload]


def _at_levels(
    name: str,
    label: str,
    levels: Sequence[int],
    *,
    status: tuple[str, str] = (_O, _O),
    up: int = 0,
    refusal: str,
    note: str,
) -> tuple[ItemMove, ...]:
    """The move `name` of a risk and of an issue at each of `levels`: from `status[0]` to
    `status[1]` and `up` levels up (or down), by those who answer for the item at the level
    it leaves. `refusal` may name them (`{who}`), that level (`{at}`) and the one reached
    (`{to}`)."""
    return tuple(
        ItemMove(
            source=ItemState(kind, status[0], level),
            target=ItemState(kind, status[1], level + up),
            name=name,
            label=label,
            right=replace(
                ANSWERS_AT[level],
                refusal=refusal.format(
                    who=WHO_AT_LEVEL[level], at=_level(level), to=_level(level + up)
                ),
            ),
            payload=ItemPayload.NOTE,
            note=note,
        )
        for kind in _KINDS
        for level in levels
    )


# The escalation table: up and down the levels, a risk that becomes an issue, the Owner's
# decision at the top (the item stays where it is), closing and reopening. Leaving a level
# is for those who answer for it.
ITEM_MOVES: tuple[ItemMove, ...] = (
    *_at_levels(
        "escalate",
        "Escalate",
        (Level.OPERATIONS, Level.DELIVERY),
        up=1,
        refusal="Only {who} may escalate an item to {to}.",
        note="Write a note: why does it need the next level?",
    ),
    *_at_levels(
        "deescalate",
        "Hand down",
        (Level.DELIVERY, Level.OWNERSHIP),
        up=-1,
        refusal="Only {who} may hand down an item at {at}.",
        note="Write a note: what should the level below do now?",
    ),
    *(
        ItemMove(
            source=ItemState(_RISK, _O, level),
            target=ItemState(_ISSUE, _O, level),
            name="make_issue",
            label="Make it an issue",
            right=MAKE_ISSUE,
            payload=ItemPayload.NOTE,
            note="Write a note: what happened?",
        )
        for level in _LEVELS
    ),
    *(
        ItemMove(
            source=ItemState(kind, _O, Level.OWNERSHIP),
            target=ItemState(kind, _O, Level.OWNERSHIP),
            name="decide",
            label="Decide",
            right=replace(
                OWNER_DECIDES,
                refusal="Only the Service Owner decides on a risk or issue escalated to service "
                "ownership (the Director cannot decide in the Owner's place).",
            ),
            payload=ItemPayload.DECISION,
            note="Write a note: explain the decision.",
        )
        for kind in _KINDS
    ),
    *_at_levels(
        "close",
        "Close",
        _LEVELS,
        status=(_O, _C),
        refusal="Only {who} may close an item at {at}.",
        note="Write a note: why can it be closed?",
    ),
    *_at_levels(
        "reopen",
        "Reopen",
        _LEVELS,
        status=(_C, _O),
        refusal="Only {who} may reopen an item at {at}.",
        note="Write a note: why is it open again?",
    ),
)

_DOING = {
    "escalate": "escalate it",
    "deescalate": "hand it down",
    "make_issue": "make it an issue",
    "decide": "decide on it",
    "close": "close it",
}


def _refuse(
    item: RiskIssue, state: ItemState, name: str, allowed: Sequence[ItemMove]
) -> DomainError:
    """Why the move `name` cannot be made from where the item stands."""
    if name == "make_issue" and state.kind == ItemKind.ISSUE:
        return DomainError("This is an issue already.", code=CONFLICT)
    if name == "close" and state.status == ItemStatus.CLOSED:
        return DomainError("This item is closed already.", code=CONFLICT)
    if name == "reopen":
        if state.status == ItemStatus.OPEN:
            return DomainError("This item is open already.", code=CONFLICT)
        return DomainError("This item is archived: restore it first.", code=CONFLICT)
    doing = _DOING.get(name, name)
    if state.status != ItemStatus.OPEN:
        return DomainError(f"This item is closed: reopen it before you {doing}.", code=CONFLICT)
    if state.archived:
        return DomainError(f"This item is archived: restore it before you {doing}.", code=CONFLICT)
    if name == "escalate":
        return DomainError(
            "This item is already at service ownership, the top level: it cannot be "
            "escalated further. The Service Owner decides on it.",
            code=CONFLICT,
        )
    if name == "deescalate":
        return DomainError(
            "This item is at service operations, the first level: it cannot go lower.",
            code=CONFLICT,
        )
    if name == "decide":
        return DomainError(
            "The Owner decides on an item once it has been escalated to service ownership; "
            f"this one is at {_level(state.level)}.",
            code=CONFLICT,
        )
    return workflow.no_such_move(item, state, name, allowed)


def _stale(item: RiskIssue, seen: ItemState) -> DomainError:
    return DomainError(
        "This item has just been moved by someone else: reload it to see where it is.",
        code=CONFLICT,
    )


def _story(step: Step[RiskIssue, ItemState, ItemPayload]) -> ItemEvent:
    before, after = step.before, step.move.target
    return record_event(
        step.actor,
        step.row,
        EVENT_KINDS[step.move.name],
        note=step.note,
        from_level=before.level if before.level != after.level else None,
        to_level=after.level,
        at=step.at,
    )


ITEMS: Workflow[RiskIssue, RiskIssue, ItemState, ItemPayload, ItemEvent] = Workflow(
    moves=ITEM_MOVES,
    rows=RiskIssue.objects.select_related("service"),
    state=item_state,
    fields=lambda state: {"kind": state.kind, "status": state.status, "level": state.level},
    takes={
        ItemPayload.NOTE: frozenset(),
        ItemPayload.DECISION: frozenset(
            {"title", "description", "affects", "reason", "raised_as", "replacing_service"}
        ),
    },
    facts=lambda item: item,
    event=_story,
    stale=_stale,
    refuse=_refuse,
)
