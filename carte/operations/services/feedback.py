"""Customer feedback (M-19): a customer's rating of a running service they use, with a
comment; a suggestion in it becomes a draft change request. PMO staff record feedback a
named customer gave them, one by one or many at once (past survey results, the demo).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service, ServiceCustomer
from carte.core import audit
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.models import AuditAction
from carte.core.permissions import ADD, require
from carte.core.services import check_same_org, record_created, validate
from carte.operations.choices import ChangeReason, RaisedAs
from carte.operations.models import Feedback
from carte.operations.services.common import actor_person, check_live_service, text
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Person
from carte.organisations.permissions import STAFF_SIDE

FEEDBACK_STAFF = STAFF_SIDE - {OrgRole.VIEWER}  # may record feedback for a named customer


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
    check_live_service(actor, service)
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
        comment=text(comment),
        suggestion=text(suggestion),
        given_at=now(),
    )
    validate(feedback)
    if feedback.suggestion:
        # Imported here: the change requests' module offers feedback's writes too.
        from carte.operations.services.changes import change_request_create

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
        check_live_service(actor, service)
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
