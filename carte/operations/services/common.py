"""What the writes of a service's change requests, improvements and feedback share: the
people they name (the actor's own Person, the Owner's logins), the service they are
raised on, and the stored row a change is made on (risks and issues too).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model

from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Service
from carte.core.errors import CONFLICT, DomainError
from carte.operations.selectors import notices
from carte.organisations.actor import Actor
from carte.organisations.models import Person, User

ARCHIVED = "archived"  # not a state: an archived change request or improvement makes no move

M = TypeVar("M", bound=Model)


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


def text(value: Any) -> str:
    """A text as it was typed, stripped; none is empty."""
    return "" if value is None else str(value).strip()


def check_live_service(actor: Actor, service: Service) -> None:
    """The service a record is raised on: the organisation's own, not archived."""
    if service.organisation_id != actor.organisation.pk:
        raise DomainError.field("service", "No such service in this organisation.")
    if service.is_archived:
        raise DomainError("This service is archived.", code=CONFLICT)


def locked(obj: M) -> M:
    """The stored row of `obj`, with its service, locked for the change."""
    return (
        type(obj)
        ._default_manager.select_for_update(of=("self",))
        .select_related("service")
        .get(pk=obj.pk)
    )


def refresh(target: M, source: M) -> None:
    """The caller's object brought up to date with the row as stored (`source`)."""
    for field in type(target)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
