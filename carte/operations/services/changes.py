"""Change requests, the continuous-improvement log and customer feedback (M-19).

A change request moves draft -> submitted -> approved or rejected (only the service's
Owner decides, with a note) -> implemented (by delivery management). An improvement moves
idea -> in progress -> awaiting the Owner's agreement -> implemented (only the Owner
agrees) or dropped. Each workflow is a table of moves (`CHANGE_MOVES`,
`IMPROVEMENT_TABLE`) made by `core.workflow.apply_move`: each service function checks the
right first (403), then the move locks the row and checks the state (409), the right of
the move and its note and payload (422), and writes the change, its audit entry and (for a
change request) a `ChangeEvent` in one transaction, so a refusal writes nothing.
Implementing a change that affects the catalogue publishes the next version of the
service and links it both ways (`version_before` and `version` on the request,
`change_requests` on the version).

Feedback is a customer's rating of a service they use; a suggestion in it becomes a
draft change request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service, ServiceCustomer, ServiceVersion
from carte.core import audit
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.models import AuditAction
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    record_created,
    update_object,
    validate,
)
from carte.core.workflow import Move, Step, Values, Workflow, apply_move
from carte.operations.choices import (
    Affects,
    ChangeReason,
    ChangeState,
    ImprovementStatus,
    NoticeKind,
    RaisedAs,
)
from carte.operations.models import ChangeEvent, ChangeRequest, Feedback, Improvement, RiskIssue
from carte.operations.permissions import (
    IMPLEMENT,
    MOVE_IMPROVEMENT,
    OWNER_DECIDES,
    SUBMIT_CHANGE,
)
from carte.operations.selectors import notices
from carte.operations.services.notices import notify
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Person, User
from carte.organisations.permissions import STAFF_SIDE

# What a change request's edit may touch, while it is a draft or submitted.
CHANGE_FIELDS = ("title", "description", "raised_as", "reason", "affects", "raised_by", "item")
EDITABLE_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED)
OPEN_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED)
IMPROVEMENT_FIELDS = ("title", "description", "expected_benefit", "raised_by")
FEEDBACK_STAFF = STAFF_SIDE - {OrgRole.VIEWER}  # may record feedback for a named customer
NUMBER_ATTEMPTS = 5  # tries at the next number when others take it at the same moment


# ---------------------------------------------------------------- shared helpers


def actor_person(actor: Actor) -> Person | None:
    """The actor's own live Person row in the organisation, if they have one."""
    if actor.user is None:
        return None
    return Person.objects.filter(
        organisation_id=actor.organisation.pk, user=actor.user, archived_at__isnull=True
    ).first()


def owner_users(service: Service) -> list[User]:
    """The logins of the service's live Owner (one, normally; see `notices.role_users`)."""
    owner = ServiceRoleKind.OWNER
    return notices.role_users(service.organisation, [service.pk], [owner])[(service.pk, owner)]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _check_live_service(actor: Actor, service: Service) -> None:
    if service.organisation_id != actor.organisation.pk:
        raise DomainError.field("service", "No such service in this organisation.")
    if service.is_archived:
        raise DomainError("This service is archived.", code=CONFLICT)


# ---------------------------------------------------------------- change requests

ARCHIVED = "archived"  # not a state: an archived change request or improvement makes no move


class ChangePayload(StrEnum):
    NOTE = "note"  # a change request's moves take only their note


ChangeMove = Move[ChangeRequest, str, ChangePayload]
_DECIDES = replace(
    OWNER_DECIDES, refusal="Only the service's Owner decides on its change requests."
)
_WHY = "Say why: the decision needs a note."

# A change request's moves; nobody else than the service's Owner decides, not even the
# Director (M-19).
CHANGE_MOVES: tuple[ChangeMove, ...] = (
    ChangeMove(
        source=ChangeState.DRAFT,
        target=ChangeState.SUBMITTED,
        name="submit",
        label="Submit to the Owner",
        right=SUBMIT_CHANGE,
        payload=ChangePayload.NOTE,
    ),
    ChangeMove(
        source=ChangeState.SUBMITTED,
        target=ChangeState.APPROVED,
        name="approve",
        label="Approve",
        right=_DECIDES,
        payload=ChangePayload.NOTE,
        note=_WHY,
    ),
    ChangeMove(
        source=ChangeState.SUBMITTED,
        target=ChangeState.REJECTED,
        name="reject",
        label="Reject",
        right=_DECIDES,
        payload=ChangePayload.NOTE,
        note=_WHY,
    ),
    ChangeMove(
        source=ChangeState.APPROVED,
        target=ChangeState.IMPLEMENTED,
        name="implement",
        label="Implement",
        right=IMPLEMENT,
        payload=ChangePayload.NOTE,
    ),
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
    _check_live_service(actor, service)
    unknown = set(data) - {*CHANGE_FIELDS}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _change_refs(actor, service, data)
    cr.title = _text(data.get("title"))
    cr.description = _text(data.get("description"))
    cr.raised_as = _text(data.get("raised_as"))
    cr.reason = _text(data.get("reason"))
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


def _locked(change: ChangeRequest) -> ChangeRequest:
    """The stored row, locked for the move, with the caller's object brought up to date."""
    row = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("service")
        .get(pk=change.pk)
    )
    return row


def _refresh(target: ChangeRequest, source: ChangeRequest) -> None:
    for f in ChangeRequest._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


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
    row = _locked(change)
    _not_archived(row)
    _expect(row, *EDITABLE_STATES, doing="edited")
    unknown = set(data) - {*CHANGE_FIELDS}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _change_refs(actor, row.service, data)
    clean = {
        k: (_text(v) if k in ("title", "description", "raised_as", "reason") else v)
        for k, v in data.items()
    }
    if "affects" in clean:
        clean["affects"] = _clean_affects(clean["affects"])
    if row.state == ChangeState.SUBMITTED and "affects" in clean and not clean["affects"]:
        raise DomainError.field("affects", "Say which documents the change affects.")
    update_object(actor, row, clean)
    _refresh(change, row)
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
    _refresh(change, row)
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
    decides, not even the Director (M-19)."""
    require(actor, _DECIDES, change)
    _move_change(actor, change, "approve" if approve else "reject", note, _decided)
    return change


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


# ---------------------------------------------------------------- improvements


class ImprovementPayload(StrEnum):
    NOTE = "note"  # an improvement's moves take only their note


ImprovementMove = Move[Improvement, str, ImprovementPayload]
_I = ImprovementStatus
_AGREES = replace(
    OWNER_DECIDES, refusal="Only the service's Owner agrees that an improvement is implemented."
)


def _manager(source: str, target: str, label: str) -> ImprovementMove:
    """A move of the Service Manager's (`improvement_move`): named by the status it reaches,
    as the page and the API ask for it."""
    return ImprovementMove(
        source=source,
        target=target,
        name=target,
        label=label,
        right=MOVE_IMPROVEMENT,
        payload=ImprovementPayload.NOTE,
    )


# An improvement's moves: the Service Manager's, then the Owner's agreement, which alone
# marks it implemented (`improvement_agree`).
IMPROVEMENT_TABLE: tuple[ImprovementMove, ...] = (
    _manager(_I.IDEA, _I.IN_PROGRESS, "Start"),
    _manager(_I.IDEA, _I.DROPPED, "Drop"),
    _manager(_I.IN_PROGRESS, _I.AWAITING, "Ask the Owner's agreement"),
    _manager(_I.IN_PROGRESS, _I.DROPPED, "Drop"),
    _manager(_I.AWAITING, _I.IN_PROGRESS, "Withdraw the request"),
    _manager(_I.AWAITING, _I.DROPPED, "Drop"),
    _manager(_I.DROPPED, _I.IDEA, "Reopen"),
    ImprovementMove(
        source=_I.AWAITING,
        target=_I.IMPLEMENTED,
        name="agree",
        label="Agree it is implemented",
        right=_AGREES,
        payload=ImprovementPayload.NOTE,
    ),
    ImprovementMove(
        source=_I.AWAITING,
        target=_I.IN_PROGRESS,
        name="send_back",
        label="Send it back",
        right=_AGREES,
        payload=ImprovementPayload.NOTE,
        note="Say what is missing: a note is needed to send it back.",
    ),
)
# The statuses the Service Manager may move an improvement to, from each status.
IMPROVEMENT_MOVES: dict[str, tuple[str, ...]] = {
    status: tuple(
        m.target for m in IMPROVEMENT_TABLE if m.source == status and m.right is MOVE_IMPROVEMENT
    )
    for status in ImprovementStatus.values
}


def _improvement_state(improvement: Improvement) -> str:
    return ARCHIVED if improvement.is_archived else improvement.status


def _refuse_improvement(
    improvement: Improvement, state: str, name: str, allowed: Sequence[ImprovementMove]
) -> DomainError:
    if state == ARCHIVED:
        return DomainError("This improvement is archived.", code=CONFLICT)
    current = ImprovementStatus(state).label.lower()
    if name in ("agree", "send_back"):
        return DomainError(
            f"This improvement is not waiting for the Owner's agreement (it is {current}).",
            code=CONFLICT,
        )
    if name not in ImprovementStatus.values:
        return DomainError.field("status", f"{name!r} is not a status of an improvement.")
    if name == ImprovementStatus.IMPLEMENTED:
        return DomainError(
            "Only the service's Owner marks an improvement implemented: ask for their agreement.",
            code=CONFLICT,
        )
    return DomainError(
        f"An improvement that is {current} cannot become {ImprovementStatus(name).label.lower()}.",
        code=CONFLICT,
    )


# Improvements have no event rows of their own: the audit trail records each move.
IMPROVEMENTS: Workflow[Improvement, Improvement, str, ImprovementPayload, None] = Workflow(
    moves=IMPROVEMENT_TABLE,
    rows=Improvement.objects.select_related("service"),
    state=_improvement_state,
    fields=lambda status: {"status": status},
    takes={ImprovementPayload.NOTE: frozenset()},
    facts=lambda improvement: improvement,
    event=lambda step: None,
    refuse=_refuse_improvement,
)


def _noted(step: Step[Improvement, str, ImprovementPayload]) -> Values:
    """A move's note replaces the improvement's; a move without one keeps it."""
    return {"note": step.note} if step.note else {}


def _improvement_refs(actor: Actor, data: Mapping[str, Any]) -> None:
    raised_by = data.get("raised_by")
    if raised_by is not None and not isinstance(raised_by, Person):
        raise DomainError.field("raised_by", "Name a person of this organisation.")
    check_same_org(actor, live=True, raised_by=raised_by)


@transaction.atomic
def improvement_create(*, actor: Actor, service: Service, data: Mapping[str, Any]) -> Improvement:
    """Log an idea to improve the service (the Service Manager's log): the idea, what it
    should bring, who raised it (the actor by default)."""
    improvement = Improvement(organisation=actor.organisation, service=service)
    require(actor, ADD, improvement)
    _check_live_service(actor, service)
    unknown = set(data) - set(IMPROVEMENT_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _improvement_refs(actor, data)
    improvement.title = _text(data.get("title"))
    improvement.description = _text(data.get("description"))
    improvement.expected_benefit = _text(data.get("expected_benefit"))
    improvement.raised_by = data.get("raised_by") or actor_person(actor)
    return create_object(actor, improvement)


def _locked_improvement(improvement: Improvement) -> Improvement:
    return (
        Improvement.objects.select_for_update(of=("self",))
        .select_related("service")
        .get(pk=improvement.pk)
    )


def _refresh_improvement(target: Improvement, source: Improvement) -> None:
    for f in Improvement._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


@transaction.atomic
def improvement_update(
    *, actor: Actor, improvement: Improvement, data: Mapping[str, Any]
) -> Improvement:
    """Edit an improvement that is not implemented."""
    require(actor, CHANGE, improvement)
    row = _locked_improvement(improvement)
    if row.is_archived:
        raise DomainError("This improvement is archived.", code=CONFLICT)
    if row.status == ImprovementStatus.IMPLEMENTED:
        raise DomainError("This improvement is implemented: it is kept as it was.", code=CONFLICT)
    unknown = set(data) - set(IMPROVEMENT_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _improvement_refs(actor, data)
    clean = {k: (v if k == "raised_by" else _text(v)) for k, v in data.items()}
    update_object(actor, row, clean)
    _refresh_improvement(improvement, row)
    return improvement


@transaction.atomic
def improvement_move(
    *, actor: Actor, improvement: Improvement, status: str, note: str = ""
) -> Improvement:
    """The Service Manager's moves: start, ask the Owner's agreement (the Owner is told),
    withdraw the request, drop, reopen. Implemented is the Owner's (`improvement_agree`)."""
    require(actor, CHANGE, improvement)
    row, _ = apply_move(
        IMPROVEMENTS, actor=actor, obj=improvement, name=status, note=note, write=_noted
    )
    if row.status == ImprovementStatus.AWAITING:
        service = row.service
        notify(
            organisation=actor.organisation,
            users=owner_users(service),
            kind=NoticeKind.DECISION,
            key=f"decision:improvement:{row.pk}:{row.updated_at.isoformat()}",
            title=f"An improvement to {service.name} waits for your agreement",
            body=f"{row.title}\n\n{row.expected_benefit}"[:2000],
            url=reverse("operations:improvement_list", args=[actor.organisation.slug, service.pk]),
        )
    _refresh_improvement(improvement, row)
    return improvement


def improvement_request_agreement(
    *, actor: Actor, improvement: Improvement, note: str = ""
) -> Improvement:
    """Ask the service's Owner to agree the improvement is implemented."""
    return improvement_move(
        actor=actor, improvement=improvement, status=ImprovementStatus.AWAITING, note=note
    )


@transaction.atomic
def improvement_agree(
    *, actor: Actor, improvement: Improvement, agree: bool, note: str = ""
) -> Improvement:
    """The service's Owner agrees the improvement is implemented, or sends it back in
    progress with a note saying why (required then)."""
    require(actor, _AGREES, improvement)

    def agreed(step: Step[Improvement, str, ImprovementPayload]) -> Values:
        return {**_noted(step), "agreed_by": step.actor.user, "agreed_at": step.at}

    row, _ = apply_move(
        IMPROVEMENTS,
        actor=actor,
        obj=improvement,
        name="agree" if agree else "send_back",
        note=note,
        write=agreed if agree else _noted,
    )
    _refresh_improvement(improvement, row)
    return improvement


@transaction.atomic
def improvement_archive(*, actor: Actor, improvement: Improvement) -> Improvement:
    require(actor, ARCHIVE, improvement)
    return archive_object(actor, improvement)


# ---------------------------------------------------------------- feedback


def customer_groups_of(service: Service) -> set[int]:
    """The customer groups the service serves (live SIPOC customers)."""
    return set(
        ServiceCustomer.objects.filter(service=service, archived_at__isnull=True).values_list(
            "customer_group_id", flat=True
        )
    )


def _rating(value: Any) -> int:
    if isinstance(value, bool):
        raise DomainError.field("rating", "Rate from 1 (poor) to 5 (excellent).")
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError.field("rating", "Rate from 1 (poor) to 5 (excellent).") from None
    if not 1 <= rating <= 5:
        raise DomainError.field("rating", "Rate from 1 (poor) to 5 (excellent).")
    return rating


def _suggestion_title(suggestion: str) -> str:
    first = suggestion.splitlines()[0].strip() if suggestion else ""
    return first if len(first) <= 120 else first[:117].rstrip() + "…"


@transaction.atomic
def feedback_give(
    *,
    actor: Actor,
    service: Service,
    rating: int | str,
    comment: str = "",
    suggestion: str = "",
    person: Person | None = None,
) -> Feedback:
    """A customer rates a running, published service their customer group uses (1 to 5,
    with a comment); PMO staff may record it for a named customer. A suggested change
    becomes a draft change request, raised as the customer for feedback."""
    require(actor, ADD, Feedback(organisation=actor.organisation, service=service))
    _check_live_service(actor, service)
    staff = actor.system or bool(actor.roles & FEEDBACK_STAFF)
    if not staff and OrgRole.CUSTOMER not in actor.roles:
        raise forbidden("Only customers of the service give feedback on it.")
    if service.stage != Stage.RUNNING or service.current_version_id is None:
        raise DomainError("Feedback is given on a running, published service.", code=CONFLICT)
    who: Person | None
    if staff:
        if person is None:
            raise DomainError.field("person", "Name the customer who gave this feedback.")
        if not isinstance(person, Person):
            raise DomainError.field("person", "Name a person of this organisation.")
        check_same_org(actor, live=True, person=person)
        who = person
    else:
        if person is not None and (actor.user is None or person.user_id != actor.user.pk):
            raise forbidden("Customers give feedback in their own name.")
        who = actor_person(actor)
        if who is None or who.customer_group_id is None:
            raise forbidden("Your login is not linked to a customer of this service.")
    groups = customer_groups_of(service)
    if who.customer_group_id is None or who.customer_group_id not in groups:
        if staff:
            raise DomainError.field(
                "person", f"{who.name} is not in a customer group this service serves."
            )
        raise forbidden(
            "Feedback is given by customers of the service: your group does not use it."
        )
    rating_value = _rating(rating)
    feedback = Feedback(
        organisation=actor.organisation,
        service=service,
        person=who,
        customer_group_id=who.customer_group_id,
        rating=rating_value,
        comment=_text(comment),
        suggestion=_text(suggestion),
        given_at=now(),
    )
    validate(feedback)
    if feedback.suggestion:
        feedback.change_request = change_request_create(
            actor=actor,
            service=service,
            data={
                "title": _suggestion_title(feedback.suggestion),
                "description": feedback.suggestion,
                "raised_as": RaisedAs.CUSTOMER,
                "reason": ChangeReason.FEEDBACK,
                "affects": [],
                "raised_by": who,
            },
        )
    feedback.save()
    record_created(actor, feedback)
    return feedback


@transaction.atomic
def feedback_record_many(*, actor: Actor, rows: Iterable[Feedback]) -> list[Feedback]:
    """Record many ratings at once (entering past survey results, the demo), checked as
    `feedback_give` checks them for staff recording on behalf of a named customer, but
    without suggestions (those go one by one through `feedback_give`); audited together."""
    batch = list(rows)
    if not (actor.system or actor.roles & FEEDBACK_STAFF):
        raise forbidden("Only PMO staff record feedback on behalf of customers.")
    served: dict[int, set[int]] = {}
    for row in batch:
        service = row.service
        require(actor, ADD, row)
        _check_live_service(actor, service)
        if service.pk not in served:
            served[service.pk] = customer_groups_of(service)
        person = row.person
        if person is None:
            raise DomainError.field("person", "Name the customer who gave this feedback.")
        check_same_org(actor, live=True, person=person)
        if person.customer_group_id not in served[service.pk]:
            raise DomainError.field(
                "person", f"{person.name} is not in a customer group {service.code} serves."
            )
        if row.suggestion:
            raise DomainError.field("suggestion", "Suggestions are recorded one by one.")
        row.organisation = actor.organisation
        row.customer_group_id = person.customer_group_id
        row.rating = _rating(row.rating)
        if row.given_at is None:
            row.given_at = now()
        validate(row)
    created = Feedback.objects.bulk_create(batch, batch_size=500)
    audit.record_many(
        actor=actor,
        action=AuditAction.CREATE,
        entries=[
            (
                f,
                {
                    k: {"before": None, "after": v}
                    for k, v in audit.snapshot(f).items()
                    if v not in (None, "")
                },
            )
            for f in created
        ],
    )
    return created
