"""What every lifecycle write shares: the timeline's events and their attachments, the
service's row lock, and the checks on tenancy, stage and right that steps begin with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import ActorLike, can
from carte.core.services import clean_text, create_object
from carte.lifecycle.choices import EventKind
from carte.lifecycle.models import EventAttachment, LifecycleEvent
from carte.lifecycle.permissions import MANAGE


@dataclass(frozen=True)
class Attachment:
    """A file or link to attach to an event: `file` is an uploaded file, or None."""

    name: str
    url: str = ""
    file: Any = None


def in_stage(service: Service, *stages: str, doing: str) -> None:
    if service.stage not in stages:
        names = " or ".join(Stage(s).label for s in stages)
        raise DomainError(
            f"You can {doing} only while the service is at {names}; it is at "
            f"{Stage(service.stage).label}.",
            code=CONFLICT,
        )


def record_event(
    actor: ActorLike,
    service: Service,
    title: str,
    *,
    note: str = "",
    kind: str = EventKind.STEP,
    source: str = "",
    target: str = "",
    attachments: Sequence[Attachment] = (),
    at: dt.datetime | None = None,
) -> LifecycleEvent:
    """An event on the service's timeline, with its attachments."""
    event = LifecycleEvent.objects.create(
        organisation=actor.organisation,
        service=service,
        kind=kind,
        from_stage=source,
        to_stage=target,
        title=title[:200],
        note=note,
        at=at or now(),
        actor=actor.user,
        actor_label=actor.label,
    )
    # The event's attachments, as a prefetch would have them: readers need no query.
    event._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "attachments": [_attach(actor, event, item) for item in attachments]
    }
    return event


def _attach(actor: ActorLike, event: LifecycleEvent, item: Attachment) -> EventAttachment:
    name = clean_text("attachments", item.name or getattr(item.file, "name", ""), limit=200)
    attachment = EventAttachment(event=event, name=name, url=item.url.strip())
    if item.file is not None:
        attachment.file = item.file
    return create_object(actor, attachment)


def lock(service: Service) -> Service:
    """The service row, locked until the transaction ends (a no-op lock on SQLite, whose
    write transactions are serialised anyway)."""
    return Service.objects.select_for_update().get(pk=service.pk)


def check_tenant(actor: ActorLike, service: Service) -> None:
    """A service of another organisation is not found."""
    if service.organisation_id != actor.organisation.pk:
        raise DomainError("No such service.", code="not_found")


def require_manage(actor: ActorLike, service: Service) -> None:
    check_tenant(actor, service)
    if not can(actor, MANAGE, service):
        raise forbidden(
            "Only the Owner, a Service Manager, the Director or a PMO Manager may do this."
        )
