"""Pages of change requests, improvements and feedback (M-19).

A service's pages live under catalogue/services/<pk>/operations/ (its change requests,
each request's page with the moves the viewer may make, the improvement log, the
feedback received); customers give feedback at catalogue/services/<pk>/feedback/; the
organisation's change-request queue is at operations/changes/.

Views parse input, call one selector or service and render. A refusal is shown on the
form (422 for input, 409 for a state that moved on); rights and tenancy raise 403/404.
The one-button actions answer only POST, after their lookups, so another organisation's
id is a 404 whatever the method.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Service
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, can
from carte.core.views import filtered, form_page, is_htmx, post_back
from carte.operations.choices import ChangeState, ImprovementStatus
from carte.operations.filters import ChangeFilter, ImprovementFilter
from carte.operations.forms.changes import (
    AgreeForm,
    ChangeRequestForm,
    DecisionForm,
    FeedbackForm,
    ImprovementForm,
    NoteForm,
)
from carte.operations.models import ChangeRequest, Feedback, Improvement
from carte.operations.permissions import IMPLEMENT, OWNER_DECIDES
from carte.operations.selectors import changes as selectors
from carte.operations.services import changes as services
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole

PAGE_SIZE = 25


# ---------------------------------------------------------------- helpers


def _url(name: str, actor: Actor, service: Service, *args: Any) -> str:
    return reverse(f"operations:{name}", args=[actor.organisation.slug, service.pk, *args])


def change_url(actor: Actor, change: ChangeRequest) -> str:
    return reverse(
        "operations:change_detail", args=[actor.organisation.slug, change.service_id, change.pk]
    )


def _staff_only(actor: Actor, model: type[Any]) -> None:
    if not can(actor, VIEW, model):
        raise PermissionDenied("This page is for the PMO.")


# The form pages of change requests and improvements: a page of its own, or the form in
# place with htmx (`change_action.html`).
FORM_PAGE = "operations/change_form.html"
FORM_PARTIAL = "operations/change_action.html"


def _form_context(
    service: Service,
    *,
    title: str,
    action: str,
    cancel: str,
    submit: str = "Save",
    intro: str = "",
    change: ChangeRequest | None = None,
) -> dict[str, Any]:
    return {
        "service": service,
        "title": title,
        "action": action,
        "cancel_url": cancel,
        "submit": submit,
        "intro": intro,
        "change": change,
    }


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# ---------------------------------------------------------------- change requests


@org_view
def change_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's change requests: open ones first, filterable by state and text."""
    service = selectors.service_for(actor, pk)
    _staff_only(actor, ChangeRequest)
    filters, errors = ChangeFilter.from_query(request.GET.dict())
    filters = filters.model_copy(update={"service": None})
    changes, filters = filtered(
        lambda f: selectors.changes_for_service(actor=actor, service=service, filters=f),
        filters,
        errors,
    )
    page = _page(request, changes)
    context = {
        "service": service,
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "states": ChangeState.choices,
        "query": _query(request),
        "can_add": can(actor, ADD, ChangeRequest(organisation=actor.organisation, service=service)),
    }
    if is_htmx(request):
        return render(request, "operations/change_rows.html", context)
    return render(request, "operations/change_list.html", context)


@org_view
def change_queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The organisation's queue: awaiting the Owner's decision, then awaiting
    implementation; "waiting for me" narrows it to what the viewer must act on."""
    _staff_only(actor, ChangeRequest)
    filters, errors = ChangeFilter.from_query(request.GET.dict())
    queue, filters = filtered(
        lambda f: selectors.change_queue(actor=actor, filters=f), filters, errors
    )
    page = _page(request, queue)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "states": ChangeState.choices,
        "services": Service.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True
        )
        .order_by("code")
        .values_list("pk", "code", "name"),
        "query": _query(request),
    }
    if is_htmx(request):
        return render(request, "operations/change_queue_results.html", context)
    return render(request, "operations/change_queue.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def change_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_for(actor, pk)
    _staff_only(actor, ChangeRequest)
    if not can(actor, ADD, ChangeRequest(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    form = ChangeRequestForm(
        request.POST if request.method == "POST" else None, actor=actor, service=service
    )
    return form_page(
        request,
        form=form,
        save=lambda _: services.change_request_create(
            actor=actor, service=service, data=form.data_for_service()
        ),
        success=lambda cr: (change_url(actor, cr), f"{cr.reference} raised as a draft."),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title="Raise a change request",
            action=_url("change_create", actor, service),
            cancel=_url("change_list", actor, service),
            submit="Raise as a draft",
        ),
    )


@org_view
def change_detail(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """A change request: details, state, history and the moves the viewer may make."""
    service = selectors.service_for(actor, pk)
    change = selectors.change_get(actor=actor, pk=item, service=service)
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
        "owners": services.owner_users(service) if change.state == ChangeState.SUBMITTED else [],
    }
    return render(request, "operations/change_detail.html", context)


def _change_for(actor: Actor, pk: int, item: int) -> tuple[Service, ChangeRequest]:
    service = selectors.service_for(actor, pk)
    return service, selectors.change_get(actor=actor, pk=item, service=service)


@org_view
@require_http_methods(["GET", "POST"])
def change_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    if not can(actor, CHANGE, change):
        raise PermissionDenied
    form = ChangeRequestForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        service=service,
        change=change,
    )
    return form_page(
        request,
        form=form,
        save=lambda _: services.change_request_update(
            actor=actor, change=change, data=form.data_for_service()
        ),
        success=lambda cr: (change_url(actor, cr), f"{cr.reference} saved."),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title=f"Edit {change.reference}",
            action=_url("change_update", actor, service, change.pk),
            cancel=change_url(actor, change),
            change=change,
        ),
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_submit(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    if not can(actor, CHANGE, change):
        raise PermissionDenied
    form = NoteForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.change_request_submit(
            actor=actor, change=change, note=data["note"]
        ),
        success=lambda cr: (
            change_url(actor, cr),
            f"{cr.reference} submitted: the service's Owner has been told.",
        ),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title=f"Submit {change.reference} for the Owner's decision",
            action=_url("change_submit", actor, service, change.pk),
            cancel=change_url(actor, change),
            submit="Submit",
            change=change,
        ),
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_decide(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    if not can(actor, OWNER_DECIDES, change):
        raise PermissionDenied("Only the service's Owner decides on its change requests.")
    form = DecisionForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.change_request_decide(
            actor=actor, change=change, approve=data["decision"] == "approve", note=data["note"]
        ),
        success=lambda cr: (
            change_url(actor, cr),
            f"{cr.reference} {ChangeState(cr.state).label.lower()}.",
        ),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title=f"Decide on {change.reference}",
            action=_url("change_decide", actor, service, change.pk),
            cancel=change_url(actor, change),
            submit="Record the decision",
            change=change,
        ),
    )


@org_view
@require_http_methods(["GET", "POST"])
def change_implement(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    if not can(actor, IMPLEMENT, change):
        raise PermissionDenied
    form = NoteForm(request.POST if request.method == "POST" else None, actor=actor)
    intro = (
        "This change affects the catalogue: implementing it publishes the service's next "
        "version. Make the change in the service's catalogue entry first."
        if "catalogue" in change.affects
        else ""
    )

    def success(cr: ChangeRequest) -> tuple[str, str]:
        extra = f" Version {cr.version.number} published." if cr.version else ""
        return change_url(actor, cr), f"{cr.reference} implemented.{extra}"

    return form_page(
        request,
        form=form,
        save=lambda data: services.change_request_implement(
            actor=actor, change=change, note=data["note"]
        ),
        success=success,
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title=f"Implement {change.reference}",
            action=_url("change_implement", actor, service, change.pk),
            cancel=change_url(actor, change),
            submit="Mark implemented",
            intro=intro,
            change=change,
        ),
    )


@org_view
def change_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, change = _change_for(actor, pk, item)
    return post_back(
        request,
        _url("change_list", actor, service),
        lambda: services.change_request_archive(actor=actor, change=change),
        f"{change.reference} archived.",
    )


# ---------------------------------------------------------------- improvements


@org_view
def improvement_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """The Service Manager's continuous-improvement log, with each entry's next moves."""
    service = selectors.service_for(actor, pk)
    _staff_only(actor, Improvement)
    filters, errors = ImprovementFilter.from_query(request.GET.dict())
    improvements, filters = filtered(
        lambda f: selectors.improvements_for_service(actor=actor, service=service, filters=f),
        filters,
        errors,
    )
    page = _page(request, improvements)
    editable = can(actor, CHANGE, Improvement(organisation=actor.organisation, service=service))
    owner = can(actor, OWNER_DECIDES, Improvement(organisation=actor.organisation, service=service))
    rows = []
    for improvement in page.object_list:
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
        "page": page,
        "rows": rows,
        "filters": filters,
        "filter_errors": errors,
        "statuses": ImprovementStatus.choices,
        "query": _query(request),
        "can_add": editable,
        "agree_form": AgreeForm(actor=actor),
    }
    return render(request, "operations/improvement_list.html", context)


_MOVE_LABELS: dict[str, str] = {
    ImprovementStatus.IDEA: "Reopen",
    ImprovementStatus.IN_PROGRESS: "Start",
    ImprovementStatus.AWAITING: "Ask the Owner to agree it is done",
    ImprovementStatus.DROPPED: "Drop",
}


def _improvement_list_url(actor: Actor, service: Service) -> str:
    return _url("improvement_list", actor, service)


@org_view
@require_http_methods(["GET", "POST"])
def improvement_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_for(actor, pk)
    if not can(actor, ADD, Improvement(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    form = ImprovementForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.improvement_create(actor=actor, service=service, data=data),
        success=lambda i: (_improvement_list_url(actor, service), f"“{i.title}” logged."),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title="Log an improvement",
            action=_url("improvement_create", actor, service),
            cancel=_improvement_list_url(actor, service),
            submit="Log it",
        ),
    )


def _improvement_for(actor: Actor, pk: int, item: int) -> tuple[Service, Improvement]:
    service = selectors.service_for(actor, pk)
    return service, selectors.improvement_get(actor=actor, pk=item, service=service)


@org_view
@require_http_methods(["GET", "POST"])
def improvement_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    if not can(actor, CHANGE, improvement):
        raise PermissionDenied
    form = ImprovementForm(
        request.POST if request.method == "POST" else None, actor=actor, improvement=improvement
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.improvement_update(
            actor=actor, improvement=improvement, data=data
        ),
        success=lambda i: (_improvement_list_url(actor, service), f"“{i.title}” saved."),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title="Edit an improvement",
            action=_url("improvement_update", actor, service, improvement.pk),
            cancel=_improvement_list_url(actor, service),
        ),
    )


@org_view
def improvement_move(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    status = request.POST.get("status", "")
    return post_back(
        request,
        _improvement_list_url(actor, service),
        lambda: services.improvement_move(
            actor=actor, improvement=improvement, status=status, note=request.POST.get("note", "")
        ),
        f"“{improvement.title}” moved.",
    )


@org_view
@require_http_methods(["GET", "POST"])
def improvement_agree(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    if not can(actor, OWNER_DECIDES, improvement):
        raise PermissionDenied("Only the service's Owner agrees an improvement is done.")
    form = AgreeForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.improvement_agree(
            actor=actor, improvement=improvement, agree=data["agree"] == "yes", note=data["note"]
        ),
        success=lambda i: (
            _improvement_list_url(actor, service),
            f"“{i.title}” is {ImprovementStatus(i.status).label.lower()}.",
        ),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context=_form_context(
            service,
            title=f"Agree “{improvement.title}” is implemented",
            action=_url("improvement_agree", actor, service, improvement.pk),
            cancel=_improvement_list_url(actor, service),
            submit="Record",
        ),
    )


@org_view
def improvement_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service, improvement = _improvement_for(actor, pk, item)
    return post_back(
        request,
        _improvement_list_url(actor, service),
        lambda: services.improvement_archive(actor=actor, improvement=improvement),
        f"“{improvement.title}” archived.",
    )


# ---------------------------------------------------------------- feedback


@org_view
@require_http_methods(["GET", "POST"])
def feedback_give(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Customers rate a service they use, and may suggest a change; PMO staff record
    feedback a named customer gave them."""
    service = selectors.service_for(actor, pk)
    if not can(actor, ADD, Feedback(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    staff = bool(actor.roles & services.FEEDBACK_STAFF)
    if not staff:
        who = services.actor_person(actor) if OrgRole.CUSTOMER in actor.roles else None
        if who is None or who.customer_group_id not in services.customer_groups_of(service):
            raise PermissionDenied("Feedback is given by the customers of the service.")
    form = FeedbackForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        customers=selectors.feedback_customers(actor, service) if staff else None,
    )

    def success(feedback: Feedback) -> tuple[str, str]:
        message = "Thank you: your feedback has been recorded."
        if feedback.change_request_id:
            message += " Your suggestion has gone to the service's team."
        if staff:
            return _url("feedback_list", actor, service), message
        return reverse("service_detail", args=[actor.organisation.slug, service.pk]), message

    return form_page(
        request,
        form=form,
        save=lambda data: services.feedback_give(
            actor=actor,
            service=service,
            rating=data["rating"],
            comment=data["comment"],
            suggestion=data["suggestion"],
            person=data.get("person"),
        ),
        success=success,
        template="operations/feedback_form.html",
        context={"service": service, "staff": staff},
    )


@org_view
def feedback_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Every rating of a service with its comment and suggested change, and the monthly
    satisfaction over the last year (PMO staff)."""
    service = selectors.service_for(actor, pk)
    _staff_only(actor, Feedback)
    page = _page(request, selectors.feedback_for_service(actor=actor, service=service))
    monthly = selectors.satisfaction(actor, service)
    average, count = selectors.overall(monthly)
    return render(
        request,
        "operations/feedback_list.html",
        {
            "service": service,
            "page": page,
            "satisfaction": monthly,
            "sparkline": selectors.satisfaction_sparkline(monthly),
            "average": average,
            "count": count,
            "query": _query(request),
            "can_record": bool(actor.roles & services.FEEDBACK_STAFF),
        },
    )


S = "catalogue/services/<int:pk>/operations"

urlpatterns: list[URLPattern] = [
    path("operations/changes/", change_queue, name="change_queue"),
    path(f"{S}/changes/", change_list, name="change_list"),
    path(f"{S}/changes/new/", change_create, name="change_create"),
    path(f"{S}/changes/<int:item>/", change_detail, name="change_detail"),
    path(f"{S}/changes/<int:item>/edit/", change_update, name="change_update"),
    path(f"{S}/changes/<int:item>/submit/", change_submit, name="change_submit"),
    path(f"{S}/changes/<int:item>/decide/", change_decide, name="change_decide"),
    path(f"{S}/changes/<int:item>/implement/", change_implement, name="change_implement"),
    path(f"{S}/changes/<int:item>/archive/", change_archive, name="change_archive"),
    path(f"{S}/improvements/", improvement_list, name="improvement_list"),
    path(f"{S}/improvements/new/", improvement_create, name="improvement_create"),
    path(f"{S}/improvements/<int:item>/edit/", improvement_update, name="improvement_update"),
    path(f"{S}/improvements/<int:item>/move/", improvement_move, name="improvement_move"),
    path(f"{S}/improvements/<int:item>/agree/", improvement_agree, name="improvement_agree"),
    path(f"{S}/improvements/<int:item>/archive/", improvement_archive, name="improvement_archive"),
    path(f"{S}/feedback/", feedback_list, name="feedback_list"),
    path("catalogue/services/<int:pk>/feedback/", feedback_give, name="feedback_give"),
]
