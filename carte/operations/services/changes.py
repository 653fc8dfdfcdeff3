"""Change requests, the continuous-improvement log and customer feedback (M-19).

A change request moves draft -> submitted -> approved or rejected (only the service's
Owner decides, with a note) -> implemented (by delivery management). Each move is one
function here: it locks the row, checks the right (403), the state (409) and the input
(422) in that order, then writes the change, a `ChangeEvent` and an audit entry in one
transaction, so a refusal writes nothing. Implementing a change that affects the
catalogue publishes the next version of the service and links it both ways
(`version_before` and `version` on the request, `change_requests` on the version).

An improvement moves idea -> in progress -> awaiting the Owner's agreement ->
implemented (only the Owner agrees) or dropped. Feedback is a customer's rating of a
service they use; a suggestion in it becomes a draft change request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from carte.core.permissions import ADD, ARCHIVE, CHANGE, can, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    record_created,
    update_object,
    validate,
)
from carte.operations import notices
from carte.operations.choices import (
    Affects,
    ChangeReason,
    ChangeState,
    ImprovementStatus,
    NoticeKind,
    RaisedAs,
)
from carte.operations.models import ChangeEvent, ChangeRequest, Feedback, Improvement, RiskIssue
from carte.operations.notices import notify
from carte.operations.permissions import IMPLEMENT, OWNER_DECIDES
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Person, User
from carte.organisations.permissions import STAFF_SIDE

# What a change request's edit may touch, while it is a draft or submitted.
CHANGE_FIELDS = ("title", "description", "raised_as", "reason", "affects", "raised_by", "item")
EDITABLE_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED)
OPEN_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED)
IMPROVEMENT_FIELDS = ("title", "description", "expected_benefit", "raised_by")
OPEN_IMPROVEMENTS = (
    ImprovementStatus.IDEA,
    ImprovementStatus.IN_PROGRESS,
    ImprovementStatus.AWAITING,
)
# The moves the Service Manager makes on an improvement; "implemented" is the Owner's
# (improvement_agree), and asking for it is the move to "awaiting".
IMPROVEMENT_MOVES: dict[str, tuple[str, ...]] = {
    ImprovementStatus.IDEA: (ImprovementStatus.IN_PROGRESS, ImprovementStatus.DROPPED),
    ImprovementStatus.IN_PROGRESS: (ImprovementStatus.AWAITING, ImprovementStatus.DROPPED),
    ImprovementStatus.AWAITING: (ImprovementStatus.IN_PROGRESS, ImprovementStatus.DROPPED),
    ImprovementStatus.DROPPED: (ImprovementStatus.IDEA,),
    ImprovementStatus.IMPLEMENTED: (),
}
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


def _changed(actor: Actor, obj: Any, changes: dict[str, tuple[Any, Any]]) -> None:
    audit.record(
        actor=actor,
        obj=obj,
        action=AuditAction.UPDATE,
        changes={
            k: {"before": audit._plain(b), "after": audit._plain(a)}
            for k, (b, a) in changes.items()
        },
    )


# ---------------------------------------------------------------- change requests


def _event(actor: Actor, change: ChangeRequest, before: str, after: str, note: str) -> ChangeEvent:
    return ChangeEvent.objects.create(
        organisation_id=change.organisation_id,
        change=change,
        from_state=before,
        to_state=after,
        note=note,
        at=now(),
        actor=actor.user,
        actor_label=actor.label,
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
    cr.state = ChangeState.DRAFT
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


@transaction.atomic
def change_request_submit(*, actor: Actor, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """Put a draft before the service's Owner, who is told it waits for their decision."""
    require(actor, CHANGE, change)
    row = _locked(change)
    _not_archived(row)
    _expect(row, ChangeState.DRAFT, doing="submitted")
    if not row.affects:
        raise DomainError.field(
            "affects", "Say which documents the change affects before submitting it."
        )
    at = now()
    row.state, row.submitted_at = ChangeState.SUBMITTED, at
    row.save(update_fields=["state", "submitted_at", "updated_at"])
    _changed(actor, row, {"state": (ChangeState.DRAFT, ChangeState.SUBMITTED)})
    event = _event(actor, row, ChangeState.DRAFT, ChangeState.SUBMITTED, _text(note))
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
    _refresh(change, row)
    return change


@transaction.atomic
def change_request_decide(
    *, actor: Actor, change: ChangeRequest, approve: bool, note: str
) -> ChangeRequest:
    """The service's Owner approves or rejects a submitted change, saying why. Nobody else
    decides, not even the Director (M-19)."""
    if not can(actor, OWNER_DECIDES, change):
        raise forbidden("Only the service's Owner decides on its change requests.")
    row = _locked(change)
    _not_archived(row)
    _expect(row, ChangeState.SUBMITTED, doing="decided")
    note = _text(note)
    if not note:
        raise DomainError.field("note", "Say why: the decision needs a note.")
    to = ChangeState.APPROVED if approve else ChangeState.REJECTED
    row.state, row.decided_at, row.decided_by, row.decision_note = to, now(), actor.user, note
    row.save(update_fields=["state", "decided_at", "decided_by", "decision_note", "updated_at"])
    _changed(actor, row, {"state": (ChangeState.SUBMITTED, to), "decision_note": ("", note)})
    _event(actor, row, ChangeState.SUBMITTED, to, note)
    _refresh(change, row)
    return change


@transaction.atomic
def change_request_implement(
    *, actor: Actor, change: ChangeRequest, note: str = ""
) -> ChangeRequest:
    """Record an approved change as done. When it affects the catalogue, the service's
    next version is published now (edit the service first), and the request keeps the
    versions before and after."""
    require(actor, IMPLEMENT, change)
    row = _locked(change)
    _not_archived(row)
    _expect(row, ChangeState.APPROVED, doing="implemented")
    note = _text(note)
    changes: dict[str, tuple[Any, Any]] = {"state": (ChangeState.APPROVED, ChangeState.IMPLEMENTED)}
    fields = ["state", "implemented_at", "updated_at"]
    if Affects.CATALOGUE in row.affects:
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
        row.version_before, row.version = before, version
        fields += ["version_before", "version"]
        changes["version"] = (before, version)
    row.state, row.implemented_at = ChangeState.IMPLEMENTED, now()
    row.save(update_fields=fields)
    _changed(actor, row, changes)
    _event(actor, row, ChangeState.APPROVED, ChangeState.IMPLEMENTED, note)
    _refresh(change, row)
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
    row = _locked_improvement(improvement)
    if row.is_archived:
        raise DomainError("This improvement is archived.", code=CONFLICT)
    if status not in ImprovementStatus.values:
        raise DomainError.field("status", f"{status!r} is not a status of an improvement.")
    current = ImprovementStatus(row.status)
    if status == ImprovementStatus.IMPLEMENTED:
        raise DomainError(
            "Only the service's Owner marks an improvement implemented: ask for their agreement.",
            code=CONFLICT,
        )
    if status not in IMPROVEMENT_MOVES[current]:
        raise DomainError(
            f"An improvement that is {current.label.lower()} cannot become "
            f"{ImprovementStatus(status).label.lower()}.",
            code=CONFLICT,
        )
    note = _text(note)
    before_note = row.note
    row.status = status
    row.note = note or row.note
    row.save(update_fields=["status", "note", "updated_at"])
    changes: dict[str, tuple[Any, Any]] = {"status": (current.value, status)}
    if row.note != before_note:
        changes["note"] = (before_note, row.note)
    _changed(actor, row, changes)
    if status == ImprovementStatus.AWAITING:
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
    if not can(actor, OWNER_DECIDES, improvement):
        raise forbidden("Only the service's Owner agrees that an improvement is implemented.")
    row = _locked_improvement(improvement)
    if row.is_archived:
        raise DomainError("This improvement is archived.", code=CONFLICT)
    if row.status != ImprovementStatus.AWAITING:
        raise DomainError(
            "This improvement is not waiting for the Owner's agreement "
            f"(it is {ImprovementStatus(row.status).label.lower()}).",
            code=CONFLICT,
        )
    note = _text(note)
    if not agree and not note:
        raise DomainError.field("note", "Say what is missing: a note is needed to send it back.")
    before_note = row.note
    if agree:
        row.status, row.agreed_by, row.agreed_at = ImprovementStatus.IMPLEMENTED, actor.user, now()
    else:
        row.status = ImprovementStatus.IN_PROGRESS
    row.note = note or row.note
    row.save(update_fields=["status", "note", "agreed_by", "agreed_at", "updated_at"])
    changes: dict[str, tuple[Any, Any]] = {"status": (ImprovementStatus.AWAITING, row.status)}
    if row.note != before_note:
        changes["note"] = (before_note, row.note)
    _changed(actor, row, changes)
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
