"""Pages of change requests: a service's requests, each request's page with the moves the
viewer may make and their forms, and the organisation's queue at operations/changes/
(its register: requester, decider and decision, downloadable as .xlsx or CSV).

These pages are the staff's: a customer who raised a change request follows it on "My
requests" (`mine`), where its page opening here sends them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Service
from carte.core.exports import export_format, table_download
from carte.core.permissions import ADD, ARCHIVE, CHANGE, Right, can
from carte.core.views import filtered, is_htmx, post_back
from carte.operations.choices import ChangeState
from carte.operations.filters import ChangeFilter
from carte.operations.forms.changes import ChangeRequestForm, DecisionForm, NoteForm
from carte.operations.models import ChangeRequest
from carte.operations.permissions import IMPLEMENT, OWNER_DECIDES
from carte.operations.selectors import changes as selectors
from carte.operations.services import changes as services
from carte.operations.services.common import owner_users
from carte.operations.views.changes.base import (
    S,
    change_url,
    form_step,
    page,
    query,
    record_for,
    staff_only,
    url,
)
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


@org_view
def change_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's change requests: open ones first, filterable by state and text."""
    service = selectors.service_for(actor, pk)
    staff_only(actor, ChangeRequest)
    filters, errors = ChangeFilter.from_query(request.GET.dict())
    filters = filters.model_copy(update={"service": None})
    changes, filters = filtered(
        lambda f: selectors.changes_for_service(actor=actor, service=service, filters=f),
        filters,
        errors,
    )
    context = {
        "service": service,
        "page": page(request, changes),
        "filters": filters,
        "filter_errors": errors,
        "states": ChangeState.choices,
        "query": query(request),
        "can_add": can(actor, ADD, ChangeRequest(organisation=actor.organisation, service=service)),
    }
    if is_htmx(request):
        return render(request, "operations/change_rows.html", context)
    return render(request, "operations/change_list.html", context)


QUEUE_COLUMNS = [
    "Reference",
    "Service",
    "Title",
    "State",
    "Raised as",
    "Reason",
    "Requester",
    "Raised",
    "Submitted",
    "Decider",
    "Decided",
    "Decision note",
    "Implemented",
]


def _day(moment: Any) -> Any:
    return timezone.localdate(moment) if moment is not None else None


def _queue_rows(changes: Iterable[ChangeRequest]) -> Iterator[list[Any]]:
    for change in changes:
        yield [
            change.reference,
            f"{change.service.code} {change.service.name}",
            change.title,
            change.get_state_display(),
            change.get_raised_as_display(),
            change.get_reason_display(),
            getattr(change, "requester_name", None),
            _day(change.created_at),
            _day(change.submitted_at),
            getattr(change, "decider_name", None),
            _day(change.decided_at),
            change.decision_note,
            _day(change.implemented_at),
        ]


def _export_query(request: HttpRequest) -> str:
    """The query string without the page or the file format: the filters a download keeps."""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    return params.urlencode()


@org_view
def change_queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The organisation's queue: awaiting the Owner's decision, then awaiting
    implementation; "waiting for me" narrows it to what the viewer must act on. Each row
    names its requester and decider; the filtered list downloads whole, as .xlsx or CSV."""
    staff_only(actor, ChangeRequest)
    filters, errors = ChangeFilter.from_query(request.GET.dict())
    queue, filters = filtered(
        lambda f: selectors.change_queue(actor=actor, filters=f), filters, errors
    )
    fmt = export_format(request)
    if fmt:
        return table_download(
            fmt=fmt,
            filename="change-requests",
            title="Change requests",
            columns=QUEUE_COLUMNS,
            rows=_queue_rows(queue),
        )
    context = {
        "page": page(request, queue),
        "filters": filters,
        "filter_errors": errors,
        "states": ChangeState.choices,
        "services": Service.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True
        )
        .order_by("code")
        .values_list("pk", "code", "name"),
        "query": _export_query(request),
    }
    if is_htmx(request):
        return render(request, "operations/change_queue_results.html", context)
    return render(request, "operations/change_queue.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def change_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_for(actor, pk)
    staff_only(actor, ChangeRequest)
    if not can(actor, ADD, ChangeRequest(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    form = ChangeRequestForm(
        request.POST if request.method == "POST" else None, actor=actor, service=service
    )
    return form_step(
        request,
        form,
        save=lambda _: services.change_request_create(
            actor=actor, service=service, data=form.data_for_service()
        ),
        done=lambda cr: f"{cr.reference} raised as a draft.",
        back=url("change_list", actor, service),
        then=lambda cr: change_url(actor, cr),
        service=service,
        title="Raise a change request",
        submit="Raise as a draft",
    )


@org_view
def change_detail(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """A change request: details, state, history and the moves the viewer may make. Its
    requester, when not on the staff's side, follows it on their own page instead."""
    service, change = _change_for(actor, pk, item)
    if not actor.staff_side:
        return redirect("operations:my_request", actor.organisation.slug, change.pk)
    open_ = change.archived_at is None
    may = {
        "edit": open_ and change.state in services.EDITABLE_STATES and can(actor, CHANGE, change),
        "submit": open_ and change.state == ChangeState.DRAFT and can(actor, CHANGE, change),
        "decide": open_
        and change.state == ChangeState.SUBMITTED
        and can(actor, OWNER_DECIDES, change),
        "implement": open_
        and change.state == ChangeState.APPROVED
        and can(actor, IMPLEMENT, change),
        "archive": open_ and can(actor, ARCHIVE, change),
    }
    diff_url = None
    if change.version is not None:
        before = (
            change.version_before.number if change.version_before else change.version.number - 1
        )
        if before >= 1:
            diff_url = reverse(
                "version_diff",
                args=[actor.organisation.slug, service.pk, before, change.version.number],
            )
    context = {
        "service": service,
        "change": change,
        "events": list(selectors.change_events(actor=actor, change=change)),
        "feedback": selectors.change_feedback(actor=actor, change=change),
        "may": may,
        "diff_url": diff_url,
        "decision_form": DecisionForm(actor=actor),
        "note_form": NoteForm(actor=actor),
        "owners": owner_users(service) if change.state == ChangeState.SUBMITTED else [],
    }
    return render(request, "operations/change_detail.html", context)


def _change_for(
    actor: Actor, pk: int, item: int, right: Right | None = None, refusal: str = ""
) -> tuple[Service, ChangeRequest]:
    return record_for(actor, pk, item, selectors.change_get, right, refusal)


@org_view
@require_http_methods(["GET", "POST"])
def change_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item, CHANGE)
    form = ChangeRequestForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        service=service,
        change=change,
    )
    return form_step(
        request,
        form,
        save=lambda _: services.change_request_update(
            actor=actor, change=change, data=form.data_for_service()
        ),
        done=lambda cr: f"{cr.reference} saved.",
        back=change_url(actor, change),
        service=service,
        title=f"Edit {change.reference}",
        change=change,
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_submit(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item, CHANGE)
    return form_step(
        request,
        NoteForm(request.POST if request.method == "POST" else None, actor=actor),
        save=lambda data: services.change_request_submit(
            actor=actor, change=change, note=data["note"]
        ),
        done=lambda cr: f"{cr.reference} submitted: the service's Owner has been told.",
        back=change_url(actor, change),
        service=service,
        title=f"Submit {change.reference} for the Owner's decision",
        submit="Submit",
        change=change,
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_decide(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(
        actor, pk, item, OWNER_DECIDES, "Only the service's Owner decides on its change requests."
    )
    return form_step(
        request,
        DecisionForm(request.POST if request.method == "POST" else None, actor=actor),
        save=lambda data: services.change_request_decide(
            actor=actor, change=change, approve=data["decision"] == "approve", note=data["note"]
        ),
        done=lambda cr: f"{cr.reference} {ChangeState(cr.state).label.lower()}.",
        back=change_url(actor, change),
        service=service,
        title=f"Decide on {change.reference}",
        submit="Record the decision",
        change=change,
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_implement(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item, IMPLEMENT)
    intro = (
        "This change affects the catalogue: implementing it publishes the service's next "
        "version. Make the change in the service's catalogue entry first."
        if "catalogue" in change.affects
        else ""
    )

    def done(cr: ChangeRequest) -> str:
        extra = f" Version {cr.version.number} published." if cr.version else ""
        return f"{cr.reference} implemented.{extra}"

    return form_step(
        request,
        NoteForm(request.POST if request.method == "POST" else None, actor=actor),
        save=lambda data: services.change_request_implement(
            actor=actor, change=change, note=data["note"]
        ),
        done=done,
        back=change_url(actor, change),
        service=service,
        title=f"Implement {change.reference}",
        submit="Mark implemented",
        intro=intro,
        change=change,
    )


@org_view
def change_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    return post_back(
        request,
        url("change_list", actor, service),
        lambda: services.change_request_archive(actor=actor, change=change),
        f"{change.reference} archived.",
    )


urlpatterns: list[URLPattern] = [
    path("operations/changes/", change_queue, name="change_queue"),
    path(f"{S}/changes/", change_list, name="change_list"),
    path(f"{S}/changes/new/", change_create, name="change_create"),
    path(f"{S}/changes/<id:item>/", change_detail, name="change_detail"),
    path(f"{S}/changes/<id:item>/edit/", change_update, name="change_update"),
    path(f"{S}/changes/<id:item>/submit/", change_submit, name="change_submit"),
    path(f"{S}/changes/<id:item>/decide/", change_decide, name="change_decide"),
    path(f"{S}/changes/<id:item>/implement/", change_implement, name="change_implement"),
    path(f"{S}/changes/<id:item>/archive/", change_archive, name="change_archive"),
]
