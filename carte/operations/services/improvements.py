"""The Service Manager's continuous-improvement log (M-19).

An improvement moves idea -> in progress -> awaiting the Owner's agreement ->
implemented (only the Owner agrees) or dropped. The moves are a table
(`IMPROVEMENT_TABLE`) made by `core.workflow.apply_move`: each service function checks
the right first (403), then the move locks the row and checks the status (409), the right
of the move and its note (422), and writes the change and its audit entry in one
transaction, so a refusal writes nothing. Improvements have no event rows of their own:
the audit trail records each move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.urls import reverse

from carte.catalogue.models import Service
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import archive_object, check_same_org, create_object, update_object
from carte.core.workflow import Move, Step, Values, Workflow, apply_move
from carte.operations.choices import ImprovementStatus, NoticeKind
from carte.operations.models import Improvement
from carte.operations.permissions import MOVE_IMPROVEMENT, OWNER_DECIDES
from carte.operations.services.common import (
    ARCHIVED,
    actor_person,
    check_live_service,
    locked,
    owner_users,
    refresh,
    text,
)
from carte.operations.services.notices import notify
from carte.organisations.actor import Actor
from carte.organisations.models import Person

IMPROVEMENT_FIELDS = ("title", "description", "expected_benefit", "raised_by")


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
    check_live_service(actor, service)
    unknown = set(data) - set(IMPROVEMENT_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _improvement_refs(actor, data)
    improvement.title = text(data.get("title"))
    improvement.description = text(data.get("description"))
    improvement.expected_benefit = text(data.get("expected_benefit"))
    improvement.raised_by = data.get("raised_by") or actor_person(actor)
    return create_object(actor, improvement)


@transaction.atomic
def improvement_update(
    *, actor: Actor, improvement: Improvement, data: Mapping[str, Any]
) -> Improvement:
    """Edit an improvement that is not implemented."""
    require(actor, CHANGE, improvement)
    row = locked(improvement)
    if row.is_archived:
        raise DomainError("This improvement is archived.", code=CONFLICT)
    if row.status == ImprovementStatus.IMPLEMENTED:
        raise DomainError("This improvement is implemented: it is kept as it was.", code=CONFLICT)
    unknown = set(data) - set(IMPROVEMENT_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    _improvement_refs(actor, data)
    clean = {k: (v if k == "raised_by" else text(v)) for k, v in data.items()}
    update_object(actor, row, clean)
    refresh(improvement, row)
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
    refresh(improvement, row)
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
    refresh(improvement, row)
    return improvement


@transaction.atomic
def improvement_archive(*, actor: Actor, improvement: Improvement) -> Improvement:
    require(actor, ARCHIVE, improvement)
    return archive_object(actor, improvement)
