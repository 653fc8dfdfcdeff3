"""Success criteria (M-14): what the pilot must show, each agreed with named customers
or customer groups; written during set-up and design."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.errors import CONFLICT, DomainError
from carte.core.services import archive_object, check_same_org, create_object, update_object
from carte.lifecycle.models import SuccessCriterion
from carte.lifecycle.services.base import in_stage, require_manage
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup, Person


def _criterion_people(
    actor: Actor, groups: Iterable[CustomerGroup], people: Iterable[Person]
) -> tuple[list[CustomerGroup], list[Person]]:
    g, p = list(groups), list(people)
    for group in g:
        check_same_org(actor, live=True, agreed_with_groups=group)
    for person in p:
        check_same_org(actor, live=True, agreed_with_people=person)
    if not g and not p:
        raise DomainError.field(
            "agreed_with_groups", "Name the customers or customer groups who agreed it."
        )
    return g, p


@transaction.atomic
def criterion_create(
    *,
    actor: Actor,
    service: Service,
    description: str,
    measure: str = "",
    agreed_with_groups: Iterable[CustomerGroup] = (),
    agreed_with_people: Iterable[Person] = (),
) -> SuccessCriterion:
    require_manage(actor, service)
    in_stage(service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria")
    groups, people = _criterion_people(actor, agreed_with_groups, agreed_with_people)
    last = SuccessCriterion.objects.filter(service=service).aggregate(m=Max("position"))["m"] or 0
    criterion = SuccessCriterion(
        service=service, description=description, measure=measure, position=last + 10
    )
    create_object(
        actor,
        criterion,
        extra={
            "agreed_with_groups": [x.name for x in groups],
            "agreed_with_people": [str(x) for x in people],
        },
    )
    criterion.agreed_with_groups.set(groups)
    criterion.agreed_with_people.set(people)
    return criterion


@transaction.atomic
def criterion_update(
    *, actor: Actor, criterion: SuccessCriterion, data: dict[str, Any]
) -> SuccessCriterion:
    service = criterion.service
    require_manage(actor, service)
    in_stage(service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria")
    if criterion.is_archived:
        raise DomainError(
            "This success criterion is archived: it can no longer be changed.", code=CONFLICT
        )
    unknown = set(data) - {"description", "measure", "agreed_with_groups", "agreed_with_people"}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    groups = data.pop("agreed_with_groups", None)
    people = data.pop("agreed_with_people", None)
    before_groups = [x.name for x in criterion.agreed_with_groups.all()]
    before_people = [str(x) for x in criterion.agreed_with_people.all()]
    new_groups, new_people = _criterion_people(
        actor,
        criterion.agreed_with_groups.all() if groups is None else groups,
        criterion.agreed_with_people.all() if people is None else people,
    )
    update_object(
        actor,
        criterion,
        data,
        extra_before={"agreed_with_groups": before_groups, "agreed_with_people": before_people},
        extra_after={
            "agreed_with_groups": [x.name for x in new_groups],
            "agreed_with_people": [str(x) for x in new_people],
        },
    )
    criterion.agreed_with_groups.set(new_groups)
    criterion.agreed_with_people.set(new_people)
    return criterion


@transaction.atomic
def criterion_archive(*, actor: Actor, criterion: SuccessCriterion) -> SuccessCriterion:
    require_manage(actor, criterion.service)
    in_stage(
        criterion.service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria"
    )
    return archive_object(actor, criterion)
