"""The lifecycle of a service through the API: its state (stage, the checklist of each
next move, the current records), the timeline, the transitions and the notes.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Service, Supplier
from carte.catalogue.selectors import Audience
from carte.core.api import paged, ref
from carte.core.errors import DomainError
from carte.core.permissions import VIEW, Right
from carte.lifecycle import selectors, services
from carte.lifecycle.api.schemas import (
    MOVE_FIELDS,
    LifecycleEventOut,
    LifecycleOut,
    MoveNoteIn,
    TransitionIn,
    TransitionOut,
)
from carte.lifecycle.choices import (
    ClosureReason,
    EventKind,
)
from carte.lifecycle.permissions import MANAGE, MOVE
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

router = Router()

SERVICE = "/orgs/{org}/services/{int:id}"
TAG = "Lifecycle"


# ---------------------------------------------------------------- reads


def service_at(actor: Actor, pk: int, action: Right = VIEW) -> Service:
    """The service a step acts on (404 if not the organisation's, or hidden from the
    caller); the step's own right is the service function's to check. A step whose right
    does not depend on what it is sent names it (`action`), so that a caller without it
    is refused (403) before the body is read."""
    return catalogue_selectors.service_for(actor=actor, pk=pk, action=action)


def service_read(actor: Actor, pk: int) -> Service:
    """The service whose lifecycle records are read: the PMO's working papers (a customer
    who may see the service is refused them)."""
    return catalogue_selectors.service_for(actor=actor, pk=pk, audience=Audience.STAFF)


def lifecycle_out(actor: Actor, service: Service) -> dict[str, Any]:
    """GET …/lifecycle: the Lifecycle panel's state (`selectors.lifecycle_state`), as the
    API shows it."""
    state = selectors.lifecycle_state(actor, service, panel=False)
    since = state.since or service.created_at
    pilot = state.current_pilot
    return {
        "service": service,
        "stage": service.stage,
        "stage_label": Stage(service.stage).label,
        "since": since,
        "age_days": max((timezone.now() - since).days, 0),
        "next_moves": [
            {
                "name": m.move.name,
                "target": m.move.target,
                "label": m.move.label,
                "who": m.move.who,
                "payload": m.move.payload,
                "allowed": m.allowed,
                "ready": m.ready,
                "checklist": m.checks,
            }
            for m in state.moves
        ],
        "transitions": [m.move.target for m in state.moves if m.allowed and m.ready],
        "decision": state.decision,
        "criteria": state.criteria,
        "pilot": pilot.pilot if pilot is not None else None,
        "readiness": state.readiness,
        "plan": state.plan,
        "closure": state.closure,
        "task_lists": [view.task_list for view in state.task_lists],
        "due_for_closure": (
            {"end_date": service.end_date, "proposed_reason": ClosureReason.END_DATE}
            if state.due_for_closure
            else None
        ),
    }


# ---------------------------------------------------------------- resolving ids


def _refs(actor: Actor, model: type[Model], ids: list[int] | None, field: str) -> list[Any]:
    """Each id (once) as a row of the caller's organisation, or a 422 naming `field`."""
    return [ref(actor, model, pk, field) for pk in dict.fromkeys(ids or [])]


def transition_payload(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A transition's payload with every id replaced by the row of the organisation it
    names; the fields the client did not send stay out (the move refuses what it does not
    take)."""
    out = dict(data)
    singles: dict[str, type[Model]] = {
        "owner": Person,
        "template": Artefact,
        "replacing_service": Service,
    }
    for name, model in singles.items():
        if name in out:
            out[name] = ref(actor, model, out[name], name)
    lists: dict[str, type[Model]] = {
        "delivering_pmos": PMO,
        "suppliers": Supplier,
        "customers": CustomerGroup,
        "operatives": Person,
    }
    for name, model in lists.items():
        if name in out:
            out[name] = _refs(actor, model, out[name], name)
    if "managers" in out:
        managers: dict[PMO, Person] = {}
        for item in out["managers"] or []:
            pmo = ref(actor, PMO, item["pmo"], "managers")
            if pmo in managers:
                raise DomainError.field("managers", f"Appoint one Service Manager for {pmo}.")
            managers[pmo] = ref(actor, Person, item["person"], "managers")
        out["managers"] = managers
    if "phases" in out:
        out["phases"] = [
            {
                **phase,
                "customer_groups": _refs(
                    actor,
                    CustomerGroup,
                    phase.get("customer_groups"),
                    f"phases.{position}.customer_groups",
                ),
            }
            for position, phase in enumerate(out["phases"] or [], start=1)
        ]
    return out


def _attachments(items: list[dict[str, Any]] | None) -> list[services.Attachment]:
    return [services.Attachment(name=i["name"], url=i["url"]) for i in items or []]


# ---------------------------------------------------------------- lifecycle and timeline


@router.get(
    SERVICE + "/lifecycle",
    response=LifecycleOut,
    tags=[TAG],
    summary="The lifecycle of a service: stage, next moves with checklists, current records",
    operation_id="lifecycle_retrieve",
)
def lifecycle_retrieve(request: HttpRequest, org: str, id: int) -> Any:
    """The stage and how long the service has been there; each move out of it with who
    may make it, whether the caller may, and its checklist; the stages the caller may move
    it to now; and the records of its life so far."""
    actor = api_actor(request, org)
    return lifecycle_out(actor, service_read(actor, id))


@router.get(
    SERVICE + "/events",
    response=list[LifecycleEventOut],
    tags=[TAG],
    summary="The timeline of a service",
    operation_id="lifecycle_events_list",
)
@paged
def lifecycle_events(request: HttpRequest, org: str, id: int, kind: EventKind | None = None) -> Any:
    """Every stage change, recorded step and note, newest first, with attachments."""
    actor = api_actor(request, org)
    service = service_read(actor, id)
    qs = selectors.events_of(service)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")


@router.post(
    SERVICE + "/transitions",
    response={201: TransitionOut},
    tags=[TAG],
    summary="Move a service to another stage",
    operation_id="lifecycle_transition",
)
def lifecycle_transition(request: HttpRequest, org: str, id: int, payload: TransitionIn) -> Any:
    """Make one move with its payload. Refusals: 409 when the move does not exist from
    the current stage, the service moved meanwhile (`expected_from`), or a condition is
    unmet (each listed in `unmet`: code, label, hint); 403 without the right; 422 for a
    payload that is wrong, naming each field."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MOVE)
    data = payload.model_dump(exclude_unset=True)
    moving = {name: data.pop(name, None) for name in MOVE_FIELDS}
    event = services.transition(
        actor=actor,
        service=service,
        to=payload.to,
        expected_from=payload.expected_from,
        note=payload.note,
        attachments=_attachments(moving["attachments"]),
        **transition_payload(actor, data),
    )
    # `transition()` has brought `service` up to date (stage, since, published version);
    # the actor's memo of service roles is dropped, as the move may have appointed some.
    fresh = Actor(actor.user, actor.organisation, actor.roles)
    return Status(201, {"event": event, "lifecycle": lifecycle_out(fresh, service)})


@router.post(
    SERVICE + "/notes",
    response={201: LifecycleEventOut},
    tags=[TAG],
    summary="Add a note to the timeline of a service",
    operation_id="lifecycle_notes_create",
)
def lifecycle_note(request: HttpRequest, org: str, id: int, payload: MoveNoteIn) -> Any:
    """Minutes of a meeting, a decision, a link: an event of its own."""
    actor = api_actor(request, org)
    event = services.note_add(
        actor=actor,
        service=service_at(actor, id, MANAGE),
        note=payload.note,
        attachments=_attachments(payload.model_dump()["attachments"]),
    )
    # The event carries its attachments as a prefetch would (services._event).
    return Status(201, event)
