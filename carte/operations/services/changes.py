"""Change requests (M-19), and through this module the improvement log and feedback
(`improvements`, `feedback`), which its callers know here.

A change request moves draft -> submitted -> approved or rejected (only the service's
Owner decides, with a note) -> implemented (by delivery management). The workflow is a
table of moves (`CHANGE_MOVES`) made by `core.workflow.apply_move`: each service
function checks the right first (403), then the move locks the row and checks the state
(409), the right of the move and its note and payload (422), and writes the change, its
audit entry and a `ChangeEvent` in one transaction, so a refusal writes nothing.
Implementing a change that affects the catalogue publishes the next version of the
service and links it both ways (`version_before` and `version` on the request,
`change_requests` on the version).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse

from carte.catalogue.models import Service, ServiceVersion
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import ADD, ARCHIVE, CHANGE, Action, ActorLike, require
from carte.core.services import (
    archive_object,
    check_same_org,
    record_created,
    update_object,
    validate,
)
from carte.core.workflow import Move, Step, Values, Workflow, apply_move
from carte.operations.choices import Affects, ChangeState, NoticeKind
from carte.operations.models import ChangeEvent, ChangeRequest, RiskIssue
from carte.operations.permissions import IMPLEMENT, OWNER_DECIDES, SUBMIT_CHANGE
from carte.operations.services.common import (
    ARCHIVED,
    actor_person,
    check_live_service,
    locked,
    owner_users,
    refresh,
    text,
)
from carte.operations.services.feedback import (
    FEEDBACK_STAFF,
    customer_groups_of,
    feedback_give,
    feedback_record_many,
)
from carte.operations.services.improvements import (
    IMPROVEMENT_MOVES,
    IMPROVEMENT_TABLE,
    improvement_agree,
    improvement_archive,
    improvement_create,
    improvement_move,
    improvement_request_agreement,
    improvement_update,
)
from carte.operations.services.notices import notify
from carte.organisations.actor import Actor
from carte.organisations.models import Person

# What a change request's edit may touch, while it is a draft or submitted.
CHANGE_FIELDS = ("title", "description", "raised_as", "reason", "affects", "raised_by", "item")
EDITABLE_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED)
NUMBER_ATTEMPTS = 5  # tries at the next number when others take it at the same moment

__all__ = [
    "CHANGES",
    "CHANGE_FIELDS",
    "CHANGE_MOVES",
    "EDITABLE_STATES",
    "NUMBER_ATTEMPTS",
    "ChangeMove",
    "ChangePayload",
    "change_request_archive",
    "change_request_create",
    "change_request_decide",
    "change_request_implement",
    "change_request_submit",
    "change_request_update",
]
# The improvement log and feedback are written in modules of their own; this one's
# callers find them here too.
__all__ += [
    "FEEDBACK_STAFF",
    "IMPROVEMENT_MOVES",
    "IMPROVEMENT_TABLE",
    "customer_groups_of",
    "feedback_give",
    "feedback_record_many",
    "improvement_agree",
    "improvement_archive",
    "improvement_create",
    "improvement_move",
    "improvement_request_agreement",
    "improvement_update",
]


class ChangePayload(StrEnum):
    NOTE = "note"  # a change request's moves take only their note


ChangeMove = Move[ChangeRequest, str, ChangePayload]
_DECIDES = replace(
    OWNER_DECIDES, refusal="Only the service's Owner decides on its change requests."
)
_WHY = "Say why: the decision needs a note."

_S = ChangeState


def _move(
    source: str, target: str, name: str, label: str, right: Action, note: str = ""
) -> ChangeMove:
    """A move of a change request: each takes only its note (`note`: required, asked so)."""
    return ChangeMove(
        source=source,
        target=target,
        name=name,
        label=label,
        right=right,
        payload=ChangePayload.NOTE,
        note=note,
    )


# A change request's moves; nobody else than the service's Owner decides, not even the
# Director (M-19).
CHANGE_MOVES: tuple[ChangeMove, ...] = (
    _move(_S.DRAFT, _S.SUBMITTED, "submit", "Submit to the Owner", SUBMIT_CHANGE),
    _move(_S.SUBMITTED, _S.APPROVED, "approve", "Approve", _DECIDES, note=_WHY),
    _move(_S.SUBMITTED, _S.REJECTED, "reject", "Reject", _DECIDES, note=_WHY),
    _move(_S.APPROVED, _S.IMPLEMENTED, "implement", "Implement", IMPLEMENT),
)
_DONE = {
    "submit": "submitted",
    "approve": "decided",
    "reject": "decided",
    "implement": "implemented",
}


def _change_state(change: ChangeRequest) -> str:
    return ARCHIVED if change.is_archived else change.state


def _refuse_change(
    change: ChangeRequest, state: str, name: str, allowed: Sequence[ChangeMove]
) -> DomainError:
    if state == ARCHIVED:
        return DomainError(f"{change.reference} is archived.", code=CONFLICT)
    sources = dict.fromkeys(m.source for m in CHANGE_MOVES if m.name == name)
    return DomainError(
        f"{change.reference} is {ChangeState(state).label.lower()}: only a "
        + " or ".join(ChangeState(s).label.lower() for s in sources)
        + f" change request can be {_DONE[name]}.",
        code=CONFLICT,
    )


def _event(
    actor: ActorLike,
    change: ChangeRequest,
    before: str,
    after: str,
    note: str,
    at: dt.datetime | None = None,
) -> ChangeEvent:
    return ChangeEvent.objects.create(
        organisation_id=change.organisation_id,
        change=change,
        from_state=before,
        to_state=after,
        note=note,
        at=at or now(),
        actor=actor.user,
        actor_label=actor.label,
    )


def _change_event(step: Step[ChangeRequest, str, ChangePayload]) -> ChangeEvent:
    return _event(step.actor, step.row, step.before, step.move.target, step.note, step.at)


CHANGES: Workflow[ChangeRequest, ChangeRequest, str, ChangePayload, ChangeEvent] = Workflow(
    moves=CHANGE_MOVES,
    rows=ChangeRequest.objects.select_related("service"),
    state=_change_state,
    fields=lambda state: {"state": state},
    takes={ChangePayload.NOTE: frozenset()},
    facts=lambda change: change,
    event=_change_event,
    refuse=_refuse_change,
)


def _change_refs(actor: Actor, service: Service, data: Mapping[str, Any]) -> None:
    """References of a change request's payload: the organisation's own, live, and a risk
    or issue of the same service."""
    raised_by = data.get("raised_by")
    item = data.get("item")
    if raised_by is not None and not isinstance(raised_by, Person):
        raise DomainError.field("raised_by", "Name a person of this organisation.")
    if item is not None and not isinstance(item, RiskIssue):
        raise DomainError.field("item", "Name a risk or issue of this service.")
    check_same_org(actor, live=True, raised_by=raised_by, item=item)
    if item is not None and item.service_id != service.pk:
        raise DomainError.field("item", "This risk or issue belongs to another service.")


def _own_name(actor: Actor, data: Mapping[str, Any]) -> None:
    """A customer raises a change in their own name, and links no risk or issue (the
    staff's records): they follow what they raise, nothing else."""
    if actor.staff_side:
        return
    if data.get("item") is not None:
        raise DomainError.field("item", "Only the service's team links a risk or issue.")
    raised_by = data.get("raised_by")
    own = actor_person(actor)
    if own is None:
        raise forbidden("Your login is not linked to a person of this organisation.")
    if raised_by is not None and getattr(raised_by, "pk", None) != own.pk:
        raise forbidden("Customers raise changes in their own name.")


def _clean_affects(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    codes = sorted({str(v) for v in value})
    unknown = [c for c in codes if c not in Affects.values]
    if unknown:
        raise DomainError.field(
            "affects", f"{unknown[0]!r} is not one of: {', '.join(Affects.values)}."
        )
    return codes


def _next_number(organisation_id: int) -> int:
    top = ChangeRequest.objects.filter(organisation_id=organisation_id).aggregate(n=Max("number"))
    return int(top["n"] or 0) + 1


@transaction.atomic
def change_request_create(
    *, actor: Actor, service: Service, data: Mapping[str, Any]
) -> ChangeRequest:
    """Raise a draft change request on a service, numbered CR-<n> within the organisation.

    `data`: title, description, raised_as, reason, affects (a list of documents: strategy,
    catalogue, handbook), and optionally item (the risk or issue behind it) and raised_by
    (a Person; the actor's own by default)."""
    cr = ChangeRequest(organisation=actor.organisation, service=service)
    require(actor, ADD, cr)
    check_live_service(actor, service)
    unknown = set(data) - {*CHANGE_FIELDS}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _own_name(actor, data)
    _change_refs(actor, service, data)
    cr.title = text(data.get("title"))
    cr.description = text(data.get("description"))
    cr.raised_as = text(data.get("raised_as"))
    cr.reason = text(data.get("reason"))
    cr.affects = _clean_affects(data.get("affects"))
    cr.item = data.get("item")
    cr.raised_by = data.get("raised_by") or actor_person(actor)
    cr.number = _next_number(actor.organisation.pk)
    validate(cr, exclude=["number"])
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                cr.save()
            break
        except IntegrityError as exc:
            # Someone took the number meanwhile: the unique constraint said so; take the next.
            cr.pk = None
            cr._state.adding = True
            if attempt == NUMBER_ATTEMPTS - 1:
                raise DomainError(
                    "Many change requests are being raised at this moment; try again.",
                    code=CONFLICT,
                ) from exc
            cr.number = _next_number(actor.organisation.pk)
    record_created(actor, cr)
    _event(actor, cr, "", ChangeState.DRAFT, "")
    return cr


def _expect(change: ChangeRequest, *states: str, doing: str) -> None:
    if change.state not in states:
        allowed = " or ".join(ChangeState(s).label.lower() for s in states)
        raise DomainError(
            f"{change.reference} is {ChangeState(change.state).label.lower()}: only a "
            f"{allowed} change request can be {doing}.",
            code=CONFLICT,
        )


def _not_archived(change: ChangeRequest) -> None:
    if change.is_archived:
        raise DomainError(f"{change.reference} is archived.", code=CONFLICT)


@transaction.atomic
def change_request_update(
    *, actor: Actor, change: ChangeRequest, data: Mapping[str, Any]
) -> ChangeRequest:
    """Edit a draft or submitted change request (not once it is decided)."""
    require(actor, CHANGE, change)
    row = locked(change)
    _not_archived(row)
    _expect(row, *EDITABLE_STATES, doing="edited")
    unknown = set(data) - {*CHANGE_FIELDS}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _change_refs(actor, row.service, data)
    clean = {
        k: (text(v) if k in ("title", "description", "raised_as", "reason") else v)
        for k, v in data.items()
    }
    if "affects" in clean:
        clean["affects"] = _clean_affects(clean["affects"])
    if row.state == ChangeState.SUBMITTED and "affects" in clean and not clean["affects"]:
        raise DomainError.field("affects", "Say which documents the change affects.")
    update_object(actor, row, clean)
    refresh(change, row)
    return change


def _move_change(
    actor: Actor,
    change: ChangeRequest,
    name: str,
    note: str,
    write: Callable[[Step[ChangeRequest, str, ChangePayload]], Values],
) -> tuple[ChangeRequest, ChangeEvent]:
    """Make the move on the stored request; the caller's object follows."""
    row, event = apply_move(CHANGES, actor=actor, obj=change, name=name, note=note, write=write)
    refresh(change, row)
    return row, event


def _submitted(step: Step[ChangeRequest, str, ChangePayload]) -> Values:
    if not step.row.affects:
        raise DomainError.field(
            "affects", "Say which documents the change affects before submitting it."
        )
    return {"submitted_at": step.at}


def _decided(step: Step[ChangeRequest, str, ChangePayload]) -> Values:
    return {"decided_at": step.at, "decided_by": step.actor.user, "decision_note": step.note}


@transaction.atomic
def change_request_submit(*, actor: Actor, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """Put a draft before the service's Owner, who is told it waits for their decision."""
    require(actor, CHANGE, change)
    row, event = _move_change(actor, change, "submit", note, _submitted)
    service = row.service
    notify(
        organisation=actor.organisation,
        users=owner_users(service),
        kind=NoticeKind.DECISION,
        key=f"decision:change:{row.pk}:{event.pk}",
        title=f"{row.reference} on {service.name} waits for your decision",
        body=f"{row.title}\n\n{row.description}"[:2000],
        url=reverse("operations:change_detail", args=[actor.organisation.slug, service.pk, row.pk]),
    )
    return change


@transaction.atomic
def change_request_decide(
    *, actor: Actor, change: ChangeRequest, approve: bool, note: str
) -> ChangeRequest:
    """The service's Owner approves or rejects a submitted change, saying why. Nobody else
    decides, not even the Director (M-19). Whoever raised it is told (once per decision),
    and follows it from the notice to its status."""
    require(actor, _DECIDES, change)
    row, event = _move_change(actor, change, "approve" if approve else "reject", note, _decided)
    _tell_requester(actor, row, event)
    return change


def _tell_requester(actor: Actor, row: ChangeRequest, event: ChangeEvent) -> None:
    """A notice to the login of the person who raised the change (not to the decider
    deciding their own): the decision and its note, linked to the request's status."""
    requester = row.raised_by.user if row.raised_by_id and row.raised_by else None
    if requester is None or (actor.user is not None and requester.pk == actor.user.pk):
        return
    decision = ChangeState(row.state).label.lower()
    notify(
        organisation=actor.organisation,
        users=[requester],
        kind=NoticeKind.DECIDED,
        key=f"decided:change:{row.pk}:{event.pk}",
        title=f"{row.reference} on {row.service.name} was {decision}",
        body=f"{row.title}\n\n{event.note}"[:2000],
        url=reverse("operations:my_request", args=[actor.organisation.slug, row.pk]),
    )


@transaction.atomic
def change_request_implement(
    *, actor: Actor, change: ChangeRequest, note: str = ""
) -> ChangeRequest:
    """Record an approved change as done. When it affects the catalogue, the service's
    next version is published now (edit the service first), and the request keeps the
    versions before and after."""
    require(actor, IMPLEMENT, change)

    def implemented(step: Step[ChangeRequest, str, ChangePayload]) -> Values:
        row = step.row
        if Affects.CATALOGUE not in row.affects:
            return {"implemented_at": step.at}
        service = row.service
        before: ServiceVersion | None = service.current_version
        try:
            version = _publish(actor, service, f"{row.reference}: {row.title}")
        except DomainError as exc:
            if exc.code != CONFLICT:
                raise
            raise DomainError(
                f"{exc.message} Make the change in the service's catalogue entry first, "
                "then implement this request: that publishes the new version.",
                code=CONFLICT,
            ) from exc
        return {"implemented_at": step.at, "version_before": before, "version": version}

    _move_change(actor, change, "implement", note, implemented)
    return change


def _publish(actor: Actor, service: Service, note: str) -> ServiceVersion:
    from carte.catalogue.services import service_publish

    return service_publish(actor=actor, service=service, note=note)


@transaction.atomic
def change_request_archive(*, actor: Actor, change: ChangeRequest) -> ChangeRequest:
    """Put a change request out of the lists; it is kept with its history."""
    require(actor, ARCHIVE, change)
    return archive_object(actor, change)
