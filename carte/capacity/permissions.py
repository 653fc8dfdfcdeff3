"""Who may see and change capacity records (issue 14, "who sees what").

Assessments, availability and allocations are personal. The PMO Director, PMO Managers
and administrators see and keep them all; a Service Manager or Owner sees the people
allocated to the services they manage; every person sees their own (and records their
own self-assessment, which a PMO Manager confirms); customers and viewers see none of
them, only the aggregate grid (`GRID`).
"""

from __future__ import annotations

from typing import Any

from carte.catalogue.permissions import managed_service_ids, may_edit_service
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, Access, Action
from carte.operations.permissions import own_person_ids
from carte.organisations.choices import OrgRole
from carte.organisations.permissions import CONTRIBUTORS, EVERYONE

# Those who keep everyone's capacity records.
KEEPERS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR, OrgRole.PMO_MANAGER})


def _person_id(target: Any) -> int | None:
    """The person a record is about (a Person itself, or a row with `person_id`)."""
    from carte.organisations.models import Person

    return int(target.pk) if isinstance(target, Person) else target.person_id


def _own(actor: Any, target: Any) -> bool:
    """The record is about the actor's own person."""
    if isinstance(target, type) or actor.user is None:
        return False
    return _person_id(target) in own_person_ids(actor)


def managed_people_ids(actor: Any) -> frozenset[int]:
    """The people with a live allocation to a service the actor owns or manages, asked
    once per request (memoised on the actor)."""
    if "managed_people_ids" not in actor.cache:
        managed = managed_service_ids(actor)
        found: frozenset[int] = frozenset()
        if managed:
            from carte.capacity.models import Allocation

            found = frozenset(
                Allocation.objects.filter(
                    organisation_id=actor.organisation.pk,
                    service_id__in=managed,
                    archived_at__isnull=True,
                ).values_list("person_id", flat=True)
            )
        actor.cache["managed_people_ids"] = found
    ids: frozenset[int] = actor.cache["managed_people_ids"]
    return ids


def _allocated_to_managed(actor: Any, target: Any) -> bool:
    """The record's person is allocated to a service the actor manages or owns."""
    if isinstance(target, type):
        return False
    return _person_id(target) in managed_people_ids(actor)


def sees_person_records(actor: Any, target: Any) -> bool:
    """A keeper sees all; a contributor (PMO staff) their own and those of the people
    allocated to the services they manage; customers and viewers none (only the grid)."""
    if actor.system or actor.roles & KEEPERS:
        return True
    if not actor.roles & CONTRIBUTORS:
        return False
    if isinstance(target, type):
        return True  # "may this actor see some of these records at all" (a list's guard)
    return _own(actor, target) or _allocated_to_managed(actor, target)


def keeps(actor: Any, target: Any) -> bool:
    return bool(actor.system or actor.roles & KEEPERS)


def keeps_or_self_assesses(actor: Any, target: Any) -> bool:
    """A keeper records any assessment; a person their own self-assessment."""
    if keeps(actor, target):
        return True
    if not actor.roles & CONTRIBUTORS:
        return False
    if isinstance(target, type):
        return actor.user is not None
    return bool(getattr(target, "self_assessed", False)) and _own(actor, target)


def keeps_or_manages(actor: Any, target: Any) -> bool:
    """A keeper allocates anyone; a service's Owner or Manager to their own service."""
    if keeps(actor, target):
        return True
    if not actor.roles & CONTRIBUTORS:
        return False
    if isinstance(target, type):
        return bool(managed_service_ids(actor))
    service = getattr(target, "service", None)
    return service is not None and may_edit_service(actor, service)


ASSESSMENT: Access = {
    VIEW: sees_person_records,
    ADD: keeps_or_self_assesses,
    CHANGE: keeps_or_self_assesses,
    ARCHIVE: keeps_or_self_assesses,
}
AVAILABILITY: Access = {VIEW: sees_person_records, ADD: keeps, CHANGE: keeps, ARCHIVE: keeps}
ALLOCATION: Access = {
    VIEW: sees_person_records,
    ADD: keeps_or_manages,
    CHANGE: keeps_or_manages,
    ARCHIVE: keeps_or_manages,
}

# Confirm a self-assessment: a keeper (the PMO Managers), never the person themself.
CONFIRM = Action("capacity.confirm", keeps, "Only a PMO Manager confirms a self-assessment.")
# The aggregate grid (demand, supply, gaps by competence and month): everyone.
GRID = EVERYONE
