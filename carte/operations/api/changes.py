"""API of change requests, improvements and feedback (M-19) under /api/v1/orgs/{org}/.

Change requests: CRUD on `services/{id}/change-requests` and `change-requests/{cr_id}`,
the moves `.../submit`, `.../decide` (the service's Owner only), `.../implement`, and
the organisation's queue `GET change-requests` (the staff's). The caller's own: `GET
my-requests` (the change requests they raised) and `GET my-feedback`; a customer reads
their own change request at `change-requests/{cr_id}` too (another's is 404), without the
staff's link to a risk or issue and with only the decision's note in its story.
Improvements: CRUD, `.../status`,
`.../request-agreement` and `.../agree` (the Owner). Feedback: `POST` and `GET
services/{id}/feedback`, and `GET services/{id}/satisfaction`. Every write goes through
`carte.operations.services.changes`; ids in payloads are resolved within the caller's
organisation (`ref`), so another organisation's id is a 422 naming the field.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from carte.catalogue.api import SERVICE_PARENT
from carte.catalogue.models import Service
from carte.core.api import (
    CrudSpec,
    Stamped,
    Strict,
    crud_routes,
    no_nulls,
    paged,
    ref,
    resolve_refs,
    step_routes,
)
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, VIEW, Right, require
from carte.core.workflow import Move
from carte.lifecycle.api import ServiceBrief
from carte.operations.api.items import PersonBrief
from carte.operations.choices import (
    Affects,
    ChangeReason,
    ChangeState,
    ImprovementStatus,
    RaisedAs,
)
from carte.operations.filters import ChangeFilter, ImprovementFilter
from carte.operations.models import ChangeRequest, Feedback, Improvement, RiskIssue
from carte.operations.permissions import MOVE_IMPROVEMENT
from carte.operations.selectors import changes as selectors
from carte.operations.services import changes as services
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import Person

router = Router()

ORG = "/orgs/{org}"
SERVICE = ORG + "/services/{int:id}"
CHANGE = ORG + "/change-requests/{int:cr_id}"
IMPROVEMENT = ORG + "/improvements/{int:improvement_id}"
CHANGES = "Change requests"
IMPROVEMENTS = "Improvements"
FEEDBACK = "Feedback"


# ---------------------------------------------------------------- schemas


class VersionBrief(Schema):
    id: int
    number: int


class ChangeRequestOut(Stamped):
    number: int
    reference: str = Field(..., description="CR-<number>, unique in the organisation.")
    service: ServiceBrief
    title: str
    description: str
    raised_by: PersonBrief | None
    raised_as: RaisedAs
    reason: ChangeReason
    affects: list[Affects] = Field(..., description="The documents the change affects.")
    state: ChangeState
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_note: str
    implemented_at: datetime | None
    item_id: int | None = Field(None, description="The risk or issue behind it, if any.")
    version_before: VersionBrief | None = Field(
        None, description="The service's published version before the change was implemented."
    )
    version: VersionBrief | None = Field(
        None, description="The version published when the change was implemented."
    )


class ChangeEventOut(Schema):
    id: int
    from_state: ChangeState | None
    to_state: ChangeState
    note: str
    at: datetime
    actor: str

    @staticmethod
    def resolve_from_state(obj: Any) -> str | None:
        return obj.from_state or None

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return str(obj.actor_label)


class OwnChangeRequestOut(Stamped):
    """A change request as the person who raised it follows it."""

    number: int
    reference: str = Field(..., description="CR-<number>, unique in the organisation.")
    service: ServiceBrief
    title: str
    description: str
    state: ChangeState
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_note: str = Field(..., description="Why the Owner approved or rejected it.")
    implemented_at: datetime | None


class ChangeRequestDetailOut(ChangeRequestOut):
    events: list[ChangeEventOut] = Field(..., description="Its story, oldest first.")

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.events_list)


class ChangeRequestIn(Strict):
    title: str
    description: str
    raised_as: RaisedAs
    reason: ChangeReason
    affects: list[Affects] = Field(
        default_factory=list, description="Needed before submitting: strategy, catalogue, handbook."
    )
    raised_by: int | None = Field(None, description="A person (id); the caller by default.")
    item: int | None = Field(None, description="The risk or issue (id) of the same service.")


class ChangeNoteIn(Strict):
    note: str = ""


class DecisionIn(Strict):
    approve: bool = Field(..., description="True approves the change, false rejects it.")
    note: str = Field(..., description="Why: required.")


class ImprovementOut(Stamped):
    service_id: int
    title: str = Field(..., description="The idea.")
    description: str
    expected_benefit: str
    status: ImprovementStatus
    raised_by: PersonBrief | None
    note: str = Field(..., description="The latest note on a move or the Owner's answer.")
    agreed_at: datetime | None


class ImprovementIn(Strict):
    title: str
    description: str = ""
    expected_benefit: str = ""
    raised_by: int | None = None


class ImprovementStatusIn(Strict):
    status: ImprovementStatus = Field(
        ...,
        description="in_progress, awaiting (asks the Owner), dropped, or idea (reopen); "
        "implemented is the Owner's (…/agree).",
    )
    note: str = ""


class AgreeIn(Strict):
    agree: bool
    note: str = Field("", description="Required when sending it back (agree false).")


class FeedbackIn(Strict):
    rating: int = Field(..., description="1 (poor) to 5 (excellent).")
    comment: str = ""
    suggestion: str = Field("", description="A suggested change: becomes a draft request.")
    person: int | None = Field(
        None, description="PMO staff recording for a customer: the customer (a person id)."
    )


class FeedbackOut(Stamped):
    service_id: int
    person: PersonBrief | None
    customer_group_id: int | None
    rating: int
    comment: str
    suggestion: str
    change_request_id: int | None
    given_at: datetime


class MonthOut(Schema):
    month: date = Field(..., description="The month's first day.")
    average: Decimal | None = Field(..., description="Average rating, one decimal.")
    count: int


class SatisfactionOut(Schema):
    average: Decimal | None = Field(..., description="Over the months shown, weighted.")
    count: int
    months: list[MonthOut]


# ---------------------------------------------------------------- helpers


def _service(actor: Actor, id: int) -> Service:
    return selectors.service_for(actor, id)


def _change(actor: Actor, cr_id: int, right: Right = VIEW) -> ChangeRequest:
    """The change request (404 if hidden), refused (403) without `right` on it."""
    change = selectors.change_get(actor=actor, pk=cr_id)
    require(actor, right, change)
    return change


def _detail_of(actor: Actor, pk: int, right: Right = VIEW) -> ChangeRequest:
    """The change request as stored now and as the caller may read it, with its story
    (read once); refused (403) without `right` on it."""
    fresh = selectors.shown_to(actor, _change(actor, pk, right))
    fresh.events_list = selectors.change_story(actor=actor, change=fresh)  # type: ignore[attr-defined]
    return fresh


def _detail(actor: Actor, change: ChangeRequest) -> ChangeRequest:
    return _detail_of(actor, change.pk)


def _change_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("title", "description", "raised_as", "reason", "affects"))
    if not actor.staff_side and data.get("item") is not None:
        # Refused before the id is looked up: a customer learns nothing of the risks.
        raise DomainError.field("item", "Only the service's team links a risk or issue.")
    resolve_refs(actor, data, {"raised_by": Person, "item": RiskIssue})
    if "affects" in data:
        data["affects"] = [str(a) for a in data["affects"]]
    for key in ("raised_as", "reason"):
        if key in data:
            data[key] = str(data[key])
    return data


# ---------------------------------------------------------------- change requests


# Raised on its service; read, edited (while a draft or submitted) and archived on its own.
crud_routes(
    router,
    CrudSpec(
        path="change-requests",
        tag=CHANGES,
        noun="change request",
        out=ChangeRequestOut,
        detail_out=ChangeRequestDetailOut,
        create_in=ChangeRequestIn,
        filters=ChangeFilter,
        parent=SERVICE_PARENT,
        shallow=True,
        list_selector=lambda *, actor, service, filters: selectors.changes_for_service(
            actor=actor, service=service, filters=filters.model_copy(update={"service": None})
        ),
        get_selector=lambda *, actor, pk, action=VIEW, **_: _detail_of(actor, pk, action),
        create=services.change_request_create,
        update=services.change_request_update,
        archive=services.change_request_archive,
        restore=services.change_request_archive,  # not offered: see verbs
        obj_arg="change",
        resolve=_change_data,
        operation="operations_change_requests",
        child="cr_id",
        verbs=frozenset({"list", "create", "retrieve", "update", "archive"}),
    ),
)


@router.get(
    ORG + "/change-requests",
    response=list[ChangeRequestOut],
    tags=[CHANGES],
    summary="The organisation's change-request queue",
    operation_id="operations_change_queue",
)
@paged
def change_queue(request: HttpRequest, org: str, filters: Query[ChangeFilter]) -> Any:
    """Submitted requests awaiting their Owner's decision (oldest first), then approved
    ones awaiting implementation; `state` lists another state instead, `service` one
    service, `mine` what waits for the caller."""
    actor = api_actor(request, org)
    return selectors.change_queue(actor, filters)


@router.get(
    ORG + "/my-requests",
    response=list[OwnChangeRequestOut],
    tags=[CHANGES],
    summary="The change requests the caller raised",
    operation_id="operations_my_requests",
)
@paged
def my_requests(request: HttpRequest, org: str) -> Any:
    """Newest first, archived ones too, whatever the caller's role: a customer follows
    here what they suggested (each one in full at `change-requests/{cr_id}`)."""
    actor = api_actor(request, org)
    return selectors.my_changes(actor)


change_step = step_routes(
    router, CHANGE, stem="operations_change_requests", tag=CHANGES, response=ChangeRequestDetailOut
)


def _step_right(moves: Iterable[Move[Any, Any, Any]], name: str) -> Right:
    """The right of the move `name` of a workflow's table: the one its service checks."""
    return next(m.right for m in moves if m.name == name)


def _changed(
    actor: Actor, cr_id: int, move: Callable[..., object], name: str, payload: Schema
) -> Any:
    """Make the move `name` of the change request, with `payload`'s fields: the request is
    fetched and the move's right checked before the body is read, so a caller without it
    is refused (403, or 404 if hidden) whatever they send. The answer is the request as it
    is now."""
    change = _change(actor, cr_id, _step_right(services.CHANGE_MOVES, name))
    move(actor=actor, change=change, **payload.model_dump(mode="json"))
    return _detail(actor, change)


@change_step("submit", "Submit a draft for the Owner's decision")
def change_requests_submit(
    request: HttpRequest, org: str, cr_id: int, payload: ChangeNoteIn
) -> Any:
    """The service's Owner is told it waits for their decision (inbox and e-mail)."""
    actor = api_actor(request, org)
    return _changed(actor, cr_id, services.change_request_submit, "submit", payload)


@change_step("decide", "Approve or reject a submitted change (the service's Owner)")
def change_requests_decide(request: HttpRequest, org: str, cr_id: int, payload: DecisionIn) -> Any:
    """Only the service's Owner decides, not the Director (403); only a submitted
    request (409); the note is required (422)."""
    actor = api_actor(request, org)
    return _changed(actor, cr_id, services.change_request_decide, "approve", payload)


@change_step("implement", "Implement an approved change")
def change_requests_implement(
    request: HttpRequest, org: str, cr_id: int, payload: ChangeNoteIn
) -> Any:
    """When it affects the catalogue, the service's next version is published and linked
    (`version_before`, `version`); 409 "Nothing changed since version N" means the
    service has not been edited yet."""
    actor = api_actor(request, org)
    return _changed(actor, cr_id, services.change_request_implement, "implement", payload)


# ---------------------------------------------------------------- improvements


def _improvement(actor: Actor, improvement_id: int, right: Right = VIEW) -> Improvement:
    """The improvement (404 if hidden), refused (403) without `right` on it."""
    improvement = selectors.improvement_get(actor=actor, pk=improvement_id)
    require(actor, right, improvement)
    return improvement


def _improvement_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("title", "description", "expected_benefit"))
    return resolve_refs(actor, data, {"raised_by": Person})


# Logged on its service; read and edited on its own, moved by the steps below.
crud_routes(
    router,
    CrudSpec(
        path="improvements",
        tag=IMPROVEMENTS,
        noun="improvement",
        out=ImprovementOut,
        create_in=ImprovementIn,
        filters=ImprovementFilter,
        parent=SERVICE_PARENT,
        shallow=True,
        list_selector=selectors.improvements_for_service,
        get_selector=lambda *, actor, pk, action=VIEW, **_: _improvement(actor, pk, action),
        create=services.improvement_create,
        update=services.improvement_update,
        archive=services.improvement_archive,
        restore=services.improvement_archive,  # not offered: see verbs
        obj_arg="improvement",
        resolve=_improvement_data,
        operation="operations_improvements",
        child="improvement_id",
        verbs=frozenset({"list", "create", "retrieve", "update"}),
    ),
)


improvement_step = step_routes(
    router, IMPROVEMENT, stem="operations_improvements", tag=IMPROVEMENTS, response=ImprovementOut
)


def _improved(
    actor: Actor,
    improvement_id: int,
    move: Callable[..., object],
    right: Right,
    payload: Schema | None = None,
) -> Any:
    """Make a step on the improvement, with `payload`'s fields: the improvement is fetched
    and the step's `right` checked before the body is read (403, or 404 if hidden,
    whatever is sent). The answer is the improvement as it is now."""
    improvement = _improvement(actor, improvement_id, right)
    fields = payload.model_dump(mode="json") if payload is not None else {}
    move(actor=actor, improvement=improvement, **fields)
    return _improvement(actor, improvement.pk)


@improvement_step("status", "Move an improvement (start, drop, reopen, ask the Owner)")
def improvements_status(
    request: HttpRequest, org: str, improvement_id: int, payload: ImprovementStatusIn
) -> Any:
    """409 for a move that does not exist from its status."""
    actor = api_actor(request, org)
    # Whichever move the body asks for, the Service Manager's moves take the same right.
    move = services.improvement_move
    return _improved(actor, improvement_id, move, MOVE_IMPROVEMENT, payload)


@improvement_step(
    "request-agreement", "Ask the service's Owner to agree the improvement is implemented"
)
def improvements_request_agreement(
    request: HttpRequest, org: str, improvement_id: int, payload: ChangeNoteIn
) -> Any:
    actor = api_actor(request, org)
    move = services.improvement_request_agreement
    return _improved(actor, improvement_id, move, MOVE_IMPROVEMENT, payload)


@improvement_step("agree", "Agree an improvement is implemented, or send it back (the Owner)")
def improvements_agree(
    request: HttpRequest, org: str, improvement_id: int, payload: AgreeIn
) -> Any:
    actor = api_actor(request, org)
    right = _step_right(services.IMPROVEMENT_TABLE, "agree")
    return _improved(actor, improvement_id, services.improvement_agree, right, payload)


@improvement_step("archive", "Archive an improvement")
def improvements_archive(request: HttpRequest, org: str, improvement_id: int) -> Any:
    actor = api_actor(request, org)
    return _improved(actor, improvement_id, services.improvement_archive, ARCHIVE)


# ---------------------------------------------------------------- feedback


@router.post(
    SERVICE + "/feedback",
    response={201: FeedbackOut},
    tags=[FEEDBACK],
    summary="Rate a service (customers of the service; staff for a named customer)",
    operation_id="operations_feedback_create",
)
def feedback_create(request: HttpRequest, org: str, id: int, payload: FeedbackIn) -> Any:
    """A suggestion becomes a draft change request (`change_request_id`)."""
    actor = api_actor(request, org)
    service = _service(actor, id)
    # The right first (as `feedback_give` checks it), then the body.
    require(actor, ADD, Feedback(organisation=actor.organisation, service=service))
    feedback = services.feedback_give(
        actor=actor,
        service=service,
        rating=payload.rating,
        comment=payload.comment,
        suggestion=payload.suggestion,
        person=ref(actor, Person, payload.person, "person"),
    )
    return Status(201, feedback)


@router.get(
    SERVICE + "/feedback",
    response=list[FeedbackOut],
    tags=[FEEDBACK],
    summary="The feedback a service received (PMO staff)",
    operation_id="operations_feedback_list",
)
@paged
def feedback_list(request: HttpRequest, org: str, id: int) -> Any:
    actor = api_actor(request, org)
    return selectors.feedback_for_service(actor=actor, service=_service(actor, id))


@router.get(
    ORG + "/my-feedback",
    response=list[FeedbackOut],
    tags=[FEEDBACK],
    summary="The feedback the caller gave",
    operation_id="operations_my_feedback",
)
@paged
def my_feedback(request: HttpRequest, org: str) -> Any:
    """Newest first; `change_request_id` is the change a suggestion became (its status at
    `change-requests/{cr_id}`)."""
    actor = api_actor(request, org)
    return selectors.my_feedback(actor)


@router.get(
    SERVICE + "/satisfaction",
    response=SatisfactionOut,
    tags=[FEEDBACK],
    summary="Average rating per month (PMO staff)",
    operation_id="operations_satisfaction",
)
def satisfaction(request: HttpRequest, org: str, id: int, months: int = 12) -> Any:
    """Each of the last `months` (1 to 120) calendar months, oldest first, with its average rating
    (None without ratings) and number of ratings; one aggregate query."""
    actor = api_actor(request, org)
    if not 1 <= months <= 120:
        raise DomainError.field("months", "Ask for 1 to 120 months.")
    monthly = selectors.satisfaction(actor, _service(actor, id), months)
    average, count = selectors.overall(monthly)
    return {"average": average, "count": count, "months": monthly}
