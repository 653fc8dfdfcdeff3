"""Notes on a service's timeline: minutes of a meeting, a decision, a link."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from carte.catalogue.models import Service
from carte.core.services import clean_text
from carte.lifecycle.choices import EventKind
from carte.lifecycle.models import LifecycleEvent
from carte.lifecycle.services.base import Attachment, record_event, require_manage
from carte.organisations.actor import Actor


@transaction.atomic
def note_add(
    *, actor: Actor, service: Service, note: str, attachments: Sequence[Attachment] = ()
) -> LifecycleEvent:
    """A note on the service's timeline (minutes of a meeting, a decision, a link)."""
    require_manage(actor, service)
    return record_event(
        actor,
        service,
        "Note",
        note=clean_text("note", note),
        kind=EventKind.NOTE,
        attachments=attachments,
    )
