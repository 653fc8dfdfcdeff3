"""`transition()`, the one way a service's stage changes: the lifecycle's moves
(`machine.MOVES`) made through `core.workflow.apply_move`.

It refuses another organisation's service (404), a stage that does not exist (422) and
an actor without any lifecycle right (403); then the move locks the service row, so that
of two people pressing the same button at once exactly one succeeds and the other is
told what happened, and checks the stage the caller saw (409), that the move exists from
the current stage (409), the actor's right to it (403), its conditions (409, each unmet
one listed) and its payload (422), before it writes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core import workflow
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import can
from carte.core.workflow import Step, Values, Workflow, apply_move
from carte.lifecycle import machine
from carte.lifecycle.choices import EventKind
from carte.lifecycle.machine import Facts, Payload
from carte.lifecycle.models import LifecycleEvent
from carte.lifecycle.permissions import CLOSE, DECIDE, MANAGE, SIGN_OFF
from carte.lifecycle.services import moves
from carte.lifecycle.services.base import Attachment, check_tenant, record_event
from carte.organisations.actor import Actor

LifecycleStep = Step[Service, str, Payload]


def _moved_meanwhile(service: Service, expected: str | None) -> DomainError:
    last = (
        LifecycleEvent.objects.filter(service=service, kind=EventKind.TRANSITION)
        .order_by("-at", "-id")
        .first()
    )
    who = f" by {last.actor_label} at {timezone.localtime(last.at):%H:%M}" if last else ""
    was = f" from {Stage(expected).label}" if expected else ""
    return DomainError(
        f"This service has just moved{was} to {Stage(service.stage).label}{who}: "
        "reload to see what changed.",
        code=CONFLICT,
    )


def _no_move(
    service: Service, current: str, to: str, allowed: Sequence[workflow.Move[Facts, str, Payload]]
) -> DomainError:
    if current == to:  # someone else made this very move first
        return _moved_meanwhile(service, None)
    ways = ", ".join(Stage(m.target).label for m in allowed)
    return DomainError(
        f"A service at {Stage(current).label} cannot move to {Stage(to).label}"
        + (f"; from here it can move to {ways}." if ways else "."),
        code=CONFLICT,
    )


def _move_stage(service: Service, values: Values, at: dt.datetime) -> None:
    """The one statement that moves a stage (`ServiceQuerySet._move_stage`); the lifecycle's
    writers record the rest themselves, so the stage is all there is to store."""
    stage = values["stage"]
    Service.objects.filter(pk=service.pk)._move_stage(stage, at)
    service.stage = service._stored_stage = stage
    service.stage_changed_at = at


def _timeline(step: LifecycleStep, attachments: Sequence[Attachment] = ()) -> LifecycleEvent:
    return record_event(
        step.actor,
        step.row,
        machine.BY_NAME[step.move.name].done,
        note=step.note,
        kind=EventKind.TRANSITION,
        source=step.before,
        target=step.move.target,
        attachments=attachments,
        at=step.at,
    )


LIFECYCLE: Workflow[Service, Facts, str, Payload, LifecycleEvent] = Workflow(
    moves=machine.MOVES,
    rows=Service.objects.all(),
    state=lambda service: service.stage,
    fields=lambda stage: {"stage": stage},
    takes=moves.TAKES,
    facts=Facts,
    event=_timeline,
    save=_move_stage,
    stale=_moved_meanwhile,
    refuse=_no_move,
)


def transition(
    *,
    actor: Actor,
    service: Service,
    to: str,
    expected_from: str | None = None,
    note: str = "",
    attachments: Sequence[Attachment] = (),
    **payload: Any,
) -> LifecycleEvent:
    """Move `service` to the stage `to`, with the payload that move takes; the one way
    a service's stage ever changes."""
    check_tenant(actor, service)
    if to not in Stage.values:
        raise DomainError.field("to", f"Unknown stage {to!r}.")
    if not any(can(actor, right, service) for right in (DECIDE, MANAGE, SIGN_OFF, CLOSE)):
        raise forbidden("You are not allowed to move this service through its lifecycle.")

    def write(step: LifecycleStep) -> None:
        writer = moves.WRITERS.get(step.move.name)
        if writer is not None:
            writer(actor, step.row, dict(step.payload))

    # The event carries this call's attachments.
    flow = replace(LIFECYCLE, event=lambda step: _timeline(step, attachments))
    # Going live (the one move into running) publishes unless asked not to, in the move's
    # transaction; any other move is `apply_move`'s transaction alone (no savepoint).
    going_live = to == Stage.RUNNING and payload.get("publish", True)
    with transaction.atomic() if going_live else nullcontext():
        locked, event = apply_move(
            flow,
            actor=actor,
            obj=service,
            to=to,
            expected=expected_from or None,
            note=note,
            payload=payload,
            write=write,
        )
        if going_live:
            _publish_if_changed(actor, locked)
    service.stage = service._stored_stage = locked.stage
    service.stage_changed_at = locked.stage_changed_at
    service.current_version_id = locked.current_version_id
    return event


def _publish_if_changed(actor: Actor, service: Service) -> None:
    """Going live publishes the service (what customers see) unless nothing changed."""
    system = Actor.for_system(actor.organisation, actor.user)
    try:
        catalogue.service_publish(actor=system, service=service, note="Published at go-live.")
    except DomainError as exc:
        if exc.code != CONFLICT:
            raise


__all__ = ["LIFECYCLE", "transition"]
