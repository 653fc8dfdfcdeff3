"""Pages of the Service Manager's continuous-improvement log: the log with each entry's
next moves, its forms, and the Owner's agreement that an improvement is done."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Service
from carte.core.permissions import ADD, CHANGE, Right, can
from carte.core.views import filtered, post_back
from carte.operations.choices import ImprovementStatus
from carte.operations.filters import ImprovementFilter
from carte.operations.forms.changes import AgreeForm, ImprovementForm
from carte.operations.models import Improvement
from carte.operations.permissions import OWNER_DECIDES
from carte.operations.selectors import changes as selectors
from carte.operations.services import improvements as services
from carte.operations.views.changes.base import (
    S,
    form_step,
    page,
    query,
    record_for,
    staff_only,
    url,
)
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

_MOVE_LABELS: dict[str, str] = {
    ImprovementStatus.IDEA: "Reopen",
    ImprovementStatus.IN_PROGRESS: "Start",
    ImprovementStatus.AWAITING: "Ask the Owner to agree it is done",
    ImprovementStatus.DROPPED: "Drop",
}


@org_view
def improvement_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """The Service Manager's continuous-improvement log, with each entry's next moves."""
    service = selectors.service_for(actor, pk)
    staff_only(actor, Improvement)
    filters, errors = ImprovementFilter.from_query(request.GET.dict())
    improvements, filters = filtered(
        lambda f: selectors.improvements_for_service(actor=actor, service=service, filters=f),
        filters,
        errors,
    )
    shown = page(request, improvements)
    editable = can(actor, CHANGE, Improvement(organisation=actor.organisation, service=service))
    owner = can(actor, OWNER_DECIDES, Improvement(organisation=actor.organisation, service=service))
    rows = []
    for improvement in shown.object_list:
        moves = (
            [
                (status, _MOVE_LABELS[status])
                for status in services.IMPROVEMENT_MOVES[improvement.status]
            ]
            if editable and improvement.archived_at is None
            else []
        )
        rows.append(
            {
                "object": improvement,
                "moves": moves,
                "agree": owner
                and improvement.archived_at is None
                and improvement.status == ImprovementStatus.AWAITING,
            }
        )
    context = {
        "service": service,
        "page": shown,
        "rows": rows,
        "filters": filters,
        "filter_errors": errors,
        "statuses": ImprovementStatus.choices,
        "query": query(request),
        "can_add": editable,
        "agree_form": AgreeForm(actor=actor),
    }
    return render(request, "operations/improvement_list.html", context)


def _list_url(actor: Actor, service: Service) -> str:
    return url("improvement_list", actor, service)


@org_view
@require_http_methods(["GET", "POST"])
def improvement_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_for(actor, pk)
    if not can(actor, ADD, Improvement(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    return form_step(
        request,
        ImprovementForm(request.POST if request.method == "POST" else None, actor=actor),
        save=lambda data: services.improvement_create(actor=actor, service=service, data=data),
        done=lambda i: f"“{i.title}” logged.",
        back=_list_url(actor, service),
        service=service,
        title="Log an improvement",
        submit="Log it",
    )


def _improvement_for(
    actor: Actor, pk: int, item: int, right: Right | None = None, refusal: str = ""
) -> tuple[Service, Improvement]:
    return record_for(actor, pk, item, selectors.improvement_get, right, refusal)


@org_view
@require_http_methods(["GET", "POST"])
def improvement_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item, CHANGE)
    form = ImprovementForm(
        request.POST if request.method == "POST" else None, actor=actor, improvement=improvement
    )
    return form_step(
        request,
        form,
        save=lambda data: services.improvement_update(
            actor=actor, improvement=improvement, data=data
        ),
        done=lambda i: f"“{i.title}” saved.",
        back=_list_url(actor, service),
        service=service,
        title="Edit an improvement",
    )


@org_view
def improvement_move(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    status = request.POST.get("status", "")
    return post_back(
        request,
        _list_url(actor, service),
        lambda: services.improvement_move(
            actor=actor, improvement=improvement, status=status, note=request.POST.get("note", "")
        ),
        f"“{improvement.title}” moved.",
    )


@org_view
@require_http_methods(["GET", "POST"])
def improvement_agree(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(
        actor, pk, item, OWNER_DECIDES, "Only the service's Owner agrees an improvement is done."
    )
    return form_step(
        request,
        AgreeForm(request.POST if request.method == "POST" else None, actor=actor),
        save=lambda data: services.improvement_agree(
            actor=actor, improvement=improvement, agree=data["agree"] == "yes", note=data["note"]
        ),
        done=lambda i: f"“{i.title}” is {ImprovementStatus(i.status).label.lower()}.",
        back=_list_url(actor, service),
        service=service,
        title=f"Agree “{improvement.title}” is implemented",
        submit="Record",
    )


@org_view
def improvement_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    return post_back(
        request,
        _list_url(actor, service),
        lambda: services.improvement_archive(actor=actor, improvement=improvement),
        f"“{improvement.title}” archived.",
    )


urlpatterns: list[URLPattern] = [
    path(f"{S}/improvements/", improvement_list, name="improvement_list"),
    path(f"{S}/improvements/new/", improvement_create, name="improvement_create"),
    path(f"{S}/improvements/<id:item>/edit/", improvement_update, name="improvement_update"),
    path(f"{S}/improvements/<id:item>/move/", improvement_move, name="improvement_move"),
    path(f"{S}/improvements/<id:item>/agree/", improvement_agree, name="improvement_agree"),
    path(f"{S}/improvements/<id:item>/archive/", improvement_archive, name="improvement_archive"),
]
