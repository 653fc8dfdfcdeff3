"""Pages of the steps recorded between moves: success criteria, task lists and tasks
(ticked done with htmx), pilot results and waivers, readiness, transition phases,
supporting services, artefact decisions, a new service from a closed one, and notes.

Each form opens in place with htmx (the errors replace it, 422) or as a page of its own
without JavaScript; a success goes back to the Lifecycle panel. The one-button steps
(remove, mark done) refuse a GET only after their lookups, so another organisation's id
is a 404 whatever the method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Artefact, Service
from carte.catalogue.selectors import Audience, service_for
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import ADD, can
from carte.core.views import done, form_page, is_htmx, post_back, refusal_status
from carte.lifecycle import forms, machine, selectors, services
from carte.lifecycle.choices import TaskStatus
from carte.lifecycle.models import (
    CriterionResult,
    SuccessCriterion,
    Task,
    TaskList,
)
from carte.lifecycle.permissions import MANAGE, SIGN_OFF
from carte.lifecycle.views import lifecycle_url, step_url
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

F = TypeVar("F", bound=forms.LifecycleForm)


def step_form(
    request: HttpRequest, form: type[F], actor: Actor, service: Service, **kwargs: Any
) -> F:
    """A step's form, bound to what was posted (files included) on a POST."""
    post = request.method == "POST"
    return form(
        request.POST if post else None,
        request.FILES if post else None,
        actor=actor,
        service=service,
        **kwargs,
    )


def step_page(
    request: HttpRequest,
    form: forms.LifecycleForm,
    *,
    title: str,
    save: Callable[[dict[str, Any]], Any],
    message: str,
    anchor: str,
    body: str = "lifecycle/_fields.html",
    submit: str = "Save",
    then: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """A step's form page (`form_page`) for the form's service; the form posts back to
    the page it is on. On a valid post `save(cleaned_data)` (one service call), then back
    to the panel at `anchor`, or where `then(result)` says."""
    service = form.service
    back = lifecycle_url(form.actor, service, anchor)
    return form_page(
        request,
        form=form,
        save=save,
        success=lambda result: (then(result) if then else back, message),
        template="lifecycle/step_form.html",
        partial="lifecycle/_step_form.html",
        context={
            "service": service,
            "title": title,
            "action": request.path,
            "body": body,
            "submit": submit,
            "cancel_url": back,
        },
    )


def _require_add_service(actor: Actor) -> None:
    """The steps that make a service (a supporting one, a successor) need that right too."""
    if not can(actor, ADD, Service):
        raise PermissionDenied("Only the Director or a PMO Manager may add a service.")


# ---------------------------------------------------------------- notes


@org_view
@require_http_methods(["GET", "POST"])
def note_add(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    form = step_form(request, forms.NoteForm, actor, service)
    return step_page(
        request,
        form,
        title="Add a note",
        save=lambda data: services.note_add(
            actor=actor, service=service, note=data["note"], attachments=form.attachments()
        ),
        message="Note added to the timeline.",
        anchor="timeline",
        body="lifecycle/_note_fields.html",
        submit="Add the note",
    )


# ---------------------------------------------------------------- success criteria


@org_view
@require_http_methods(["GET", "POST"])
def criterion_edit(
    request: HttpRequest, actor: Actor, pk: int, item: int | None = None
) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    # With whom it was agreed comes loaded: the form starts from it.
    criterion = (
        selectors.criterion_get(actor=actor, service=service, pk=item) if item is not None else None
    )
    form = step_form(request, forms.CriterionForm, actor, service, instance=criterion)

    def save(values: dict[str, Any]) -> SuccessCriterion:
        if criterion is None:
            return services.criterion_create(actor=actor, service=service, **values)
        return services.criterion_update(actor=actor, criterion=criterion, data=values)

    return step_page(
        request,
        form,
        title=f"Edit “{criterion}”" if criterion else "Add a success criterion",
        save=save,
        message="Success criterion saved.",
        anchor="criteria",
    )


@org_view
def criterion_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    criterion = get_for(actor, SuccessCriterion.objects.filter(service=service), item)
    return post_back(
        request,
        lifecycle_url(actor, service, "criteria"),
        lambda: services.criterion_archive(actor=actor, criterion=criterion),
        f"“{criterion}” removed.",
    )


# ---------------------------------------------------------------- task lists and tasks


@org_view
@require_http_methods(["GET", "POST"])
def task_list_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    form = step_form(request, forms.TaskListForm, actor, service)
    return step_page(
        request,
        form,
        title="Start a task list",
        save=lambda data: services.task_list_create(actor=actor, service=service, **data),
        message="Task list created.",
        anchor="tasks",
        submit="Create the list",
    )


@org_view
@require_http_methods(["GET", "POST"])
def task_edit(
    request: HttpRequest,
    actor: Actor,
    pk: int,
    item: int | None = None,
    list_pk: int | None = None,
) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    task = (
        get_for(
            actor, Task.objects.filter(task_list__service=service).select_related("task_list"), item
        )
        if item is not None
        else None
    )
    task_list = (
        task.task_list
        if task is not None
        else get_for(actor, TaskList.objects.filter(service=service), list_pk or 0)
    )
    form = step_form(request, forms.TaskForm, actor, service, instance=task)

    def save(values: dict[str, Any]) -> Task:
        if task is None:
            return services.task_create(actor=actor, task_list=task_list, data=values)
        return services.task_update(actor=actor, task=task, data=values)

    return step_page(
        request,
        form,
        title=f"Edit “{task}”" if task else f"Add a task to {task_list.name}",
        save=save,
        message="Task saved.",
        anchor=f"tasklist-{task_list.pk}",
    )


@org_view
def task_status(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """Tick a task done (or open it again). With htmx the task list, with its progress,
    is redrawn in place."""
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    task = get_for(actor, Task.objects.filter(task_list__service=service), item)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    status = request.POST.get("status", "")
    error = ""
    if status not in TaskStatus.values:
        error = "Choose a status for the task."
    else:
        try:
            services.task_update(actor=actor, task=task, data={"status": status})
        except DomainError as exc:
            refusal_status(exc)
            error = exc.message
    url = lifecycle_url(actor, service, f"tasklist-{task.task_list_id}")
    lists = selectors.task_lists_of(service, pk=task.task_list_id) if is_htmx(request) else []
    if not lists:
        if error:
            messages.error(request, error)
            return HttpResponseRedirect(url)
        return done(request, url, f"“{task}”: {TaskStatus(status).label.lower()}.")
    context = {
        "service": service,
        "tl": lists[0],
        "rights": selectors.rights(actor, service),
        "error": error,
    }
    return render(request, "lifecycle/_task_list.html", context, status=422 if error else 200)


@org_view
def task_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    task = get_for(actor, Task.objects.filter(task_list__service=service), item)
    return post_back(
        request,
        lifecycle_url(actor, service, f"tasklist-{task.task_list_id}"),
        lambda: services.task_archive(actor=actor, task=task),
        f"“{task}” removed.",
    )


# ---------------------------------------------------------------- pilots


@org_view
@require_http_methods(["GET", "POST"])
def pilot_result(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    form = step_form(request, forms.PilotResultForm, actor, service)
    pilot = machine.latest_pilot(service)
    return step_page(
        request,
        form,
        title=f"Result of pilot {pilot.number}" if pilot else "Pilot result",
        save=lambda data: services.pilot_result_record(
            actor=actor,
            service=service,
            results=form.results(),
            governance_in_place=data["governance_in_place"],
            resources_confirmed=data["resources_confirmed"],
            outcomes_validated=data["outcomes_validated"],
            note=data["note"],
            attachments=form.attachments(),
        ),
        message="Pilot result recorded.",
        anchor="pilots",
        body="lifecycle/_pilot_result_fields.html",
        submit="Record the result",
    )


@org_view
def pilot_confirm(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Tick one confirmation of the pilot's result (governance, resources, outcomes) where
    the checklist or the pilot shows it, then back there: `back` is the sign-off form, or
    an anchor of the Lifecycle panel."""
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    code = request.POST.get("confirmation", "")
    confirmed = request.POST.get("confirmed", "1") != "0"
    back = request.POST.get("back", "")
    url = (
        step_url("move", actor, service, "sign_off")
        if back == "sign_off"
        else lifecycle_url(actor, service, back if back in ("next", "pilots") else "pilots")
    )
    spec = next((c for c in machine.CONFIRMATIONS if c[0] == code), None)
    said = (spec[2] if confirmed else spec[3]) if spec else ""
    return post_back(
        request,
        url,
        lambda: services.pilot_confirm(
            actor=actor, service=service, confirmation=code, confirmed=confirmed
        ),
        f"{said}." if said else "Done.",
    )


@org_view
@require_http_methods(["GET", "POST"])
def waive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """The Owner waives a criterion the current pilot did not meet, with a reason."""
    service = service_for(actor=actor, pk=pk, action=SIGN_OFF, audience=Audience.STAFF)
    result = get_for(
        actor,
        CriterionResult.objects.filter(pilot__service=service).select_related(
            "criterion", "pilot__service"
        ),
        item,
    )
    form = step_form(request, forms.WaiverForm, actor, service)
    return step_page(
        request,
        form,
        title=f"Waive “{result.criterion.description}”",
        save=lambda data: services.criterion_waive(
            actor=actor, result=result, reason=data["waiver_reason"]
        ),
        message="Criterion waived.",
        anchor="pilots",
        submit="Waive the criterion",
    )


# ---------------------------------------------------------------- readiness and transition


@org_view
@require_http_methods(["GET", "POST"])
def readiness(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    form = step_form(request, forms.ReadinessForm, actor, service)
    return step_page(
        request,
        form,
        title="Organisation readiness assessment",
        save=lambda data: services.readiness_record(
            actor=actor,
            service=service,
            assessor=data["assessor"],
            assessed_on=data["assessed_on"],
            answers=form.answers(),
            verdict=data["verdict"],
            note=data["note"],
            attachments=form.attachments(),
        ),
        message="Readiness assessment recorded.",
        anchor="readiness",
        body="lifecycle/_readiness_fields.html",
        submit="Record the assessment",
    )


@org_view
@require_http_methods(["GET", "POST"])
def phase_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    phase = selectors.phase_get(actor=actor, service=service, pk=item)
    form = step_form(request, forms.PhaseForm, actor, service, instance=phase)
    return step_page(
        request,
        form,
        title=f"Edit the phase “{phase}”",
        save=lambda data: services.phase_update(actor=actor, phase=phase, data=dict(data)),
        message="Phase saved.",
        anchor="plan",
    )


@org_view
def phase_done(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    phase = selectors.phase_get(actor=actor, service=service, pk=item)
    return post_back(
        request,
        lifecycle_url(actor, service, "plan"),
        lambda: services.phase_update(actor=actor, phase=phase, data={"done": True}),
        f"Phase “{phase}” complete.",
    )


@org_view
@require_http_methods(["GET", "POST"])
def supporting_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    _require_add_service(actor)
    form = step_form(request, forms.SupportingServiceForm, actor, service)
    return step_page(
        request,
        form,
        title="Add a temporary supporting service",
        save=lambda data: services.supporting_service_create(actor=actor, service=service, **data),
        message="Temporary supporting service added.",
        anchor="supporting",
        submit="Add the service",
    )


# ---------------------------------------------------------------- closure


@org_view
@require_http_methods(["GET", "POST"])
def artefact_decide(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = service_for(actor=actor, pk=pk, action=MANAGE, audience=Audience.STAFF)
    artefact = get_for(actor, Artefact.objects.filter(owner_service=service), item)
    closure = machine.open_closure(service)
    decision = (
        closure.decisions.filter(artefact=artefact, archived_at__isnull=True).first()
        if closure
        else None
    )
    initial = {"fate": decision.fate, "note": decision.note} if decision else None
    form = step_form(request, forms.ArtefactDecisionForm, actor, service, initial=initial)
    return step_page(
        request,
        form,
        title=f"Decide on the artefact “{artefact}”",
        save=lambda data: services.artefact_decide(
            actor=actor, service=service, artefact=artefact, **data
        ),
        message=f"Decision on “{artefact}” recorded.",
        anchor="closure",
    )


@org_view
@require_http_methods(["GET", "POST"])
def start_from(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Another PMO starts a new service from this closed one's kept artefacts."""
    origin = service_for(actor=actor, pk=pk, audience=Audience.STAFF)
    _require_add_service(actor)
    form = step_form(request, forms.StartFromForm, actor, origin)
    return step_page(
        request,
        form,
        title=f"Start a new service from {origin.code}",
        save=lambda data: services.service_start_from(actor=actor, origin=origin, **data),
        message="New service proposed from the kept artefacts.",
        anchor="successors",
        submit="Propose the new service",
        then=lambda new: lifecycle_url(actor, new),
    )
