"""Capacity pages of people's records: a person's capacity page (assessments with their
history, latest levels, availability, allocations and their load by month), the forms of
each record, the allocations list (over-allocated people at its top) and a service's
staffing (needs against allocations).

Views parse input, call one selector or service and render. Whoever may not see a
person's records gets 404 for every page about them (`selectors.person_for`).
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from carte.capacity import charts, services
from carte.capacity import permissions as perms
from carte.capacity.choices import AllocationKind
from carte.capacity.filters import AllocationFilter
from carte.capacity.forms.records import (
    AllocationForm,
    AssessmentForm,
    ContractForm,
    ExceptionForm,
)
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.months import parse_month
from carte.capacity.selectors import records as selectors
from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.models import Service
from carte.catalogue.selectors import Audience
from carte.core.listing import paginate
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, can
from carte.core.views import filtered, form_page, is_htmx, page_size, post_back
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.models import Person

P = "capacity/people/<id:pk>"
FORM = "capacity/record_form.html"


def person_url(actor: Actor, person: Person | int, anchor: str = "") -> str:
    pk = person if isinstance(person, int) else person.pk
    return reverse("capacity:person", args=[actor.organisation.slug, pk]) + anchor


def allocations_url(actor: Actor) -> str:
    return reverse("capacity:allocations", args=[actor.organisation.slug])


def _months(request: HttpRequest) -> list[Any]:
    """The months a page shows: twelve from `?from=YYYY-MM`, this month by default."""
    start = None
    text = request.GET.get("from", "")
    if text:
        try:
            start = parse_month(text)
        except ValueError:
            start = None
    return selectors.next_months(selectors.LOAD_MONTHS, start)


# ---------------------------------------------------------------- a person's page


def _latest(assessments: list[Assessment]) -> list[Assessment]:
    """The assessment that counts per competence (they come newest first within each)."""
    found: dict[int, Assessment] = {}
    for assessment in assessments:
        if assessment.archived_at is None and assessment.counts:
            found.setdefault(assessment.competence_id, assessment)
    return sorted(found.values(), key=lambda a: (a.competence.group, a.competence.name))


@org_view
def person(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A person's capacity: levels, assessments with history, availability, allocations
    and their load by month as a chart with its table."""
    who = selectors.person_for(actor=actor, pk=pk)
    assessments = list(selectors.assessment_list(actor=actor, person=who))
    for a in assessments:
        a.person = who
    contract = selectors.contract_of(actor=actor, person=who)
    exceptions = list(selectors.exception_list(actor=actor, person=who))
    allocations = list(
        selectors.allocation_list(
            actor=actor, filters=AllocationFilter.model_validate({"person": who.pk})
        )
    )
    for exception in exceptions:
        exception.person = who
    for allocation in allocations:
        allocation.person = who
    load = selectors.person_load(
        actor,
        who,
        _months(request),
        contract=contract,
        exceptions=exceptions,
        allocations=allocations,
    )
    own = selectors.own_person(actor)
    is_own = own is not None and own.pk == who.pk
    keeper = perms.keeps(actor, who)
    context = {
        "person": who,
        "is_own": is_own,
        "keeper": keeper,
        "latest": _latest(assessments),
        "assessments": [a for a in assessments if a.archived_at is None],
        "archived_assessments": [a for a in assessments if a.archived_at is not None],
        "contract": contract,
        "exceptions": exceptions,
        "allocations": allocations,
        "load": load,
        "chart": charts.load_chart(load.months, title=f"{who.name}'s load by month"),
        "can_assess": who.archived_at is None and (keeper or is_own),
        "can_confirm": keeper,
        "can_keep_availability": keeper and who.archived_at is None,
        "can_allocate": who.archived_at is None and can(actor, ADD, Allocation),
        "editable_allocations": {a.pk for a in allocations if can(actor, CHANGE, a)},
    }
    return render(request, "capacity/person.html", context)


@org_view
def me(request: HttpRequest, actor: Actor) -> HttpResponse:
    """One's own capacity page (404 without a person in the organisation)."""
    own = selectors.own_person(actor)
    if own is None or not perms.sees_person_records(actor, own):
        raise Http404("You have no person in this organisation.")
    return HttpResponseRedirect(person_url(actor, own))


# ---------------------------------------------------------------- assessments


def _record_context(
    actor: Actor, who: Person, title: str, action: str, anchor: str
) -> dict[str, Any]:
    return {
        "person": who,
        "title": title,
        "action": action,
        "cancel_url": person_url(actor, who, anchor),
    }


@org_view
@require_http_methods(["GET", "POST"])
def assessment_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    is_own = selectors.own_person(actor) == who
    if not (perms.keeps(actor, who) or (is_own and can(actor, ADD, Assessment))):
        raise PermissionDenied("Only a PMO Manager records someone else's assessment.")
    form = AssessmentForm(
        request.POST if request.method == "POST" else None, actor=actor, person=who
    )
    title = "Assess yourself" if is_own and not perms.keeps(actor, who) else "Record an assessment"
    return form_page(
        request,
        form=form,
        save=lambda data: services.assessment_create(
            actor=actor, person=who, data=form.data_for_service()
        ),
        success=lambda a: (
            person_url(actor, who, "#assessments"),
            f"Assessment of “{a}” recorded.",
        ),
        template=FORM,
        context=_record_context(actor, who, title, request.path, "#assessments"),
    )


@org_view
@require_http_methods(["GET", "POST"])
def assessment_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    obj = selectors.assessment_get(actor=actor, person=who, pk=item, action=CHANGE)
    form = AssessmentForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        person=who,
        assessment=obj,
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.assessment_update(
            actor=actor, assessment=obj, data=form.data_for_service()
        ),
        success=lambda a: (person_url(actor, who, "#assessments"), f"Assessment “{a}” saved."),
        template=FORM,
        context=_record_context(actor, who, f"Edit “{obj}”", request.path, "#assessments"),
    )


@org_view
def assessment_step(
    request: HttpRequest, actor: Actor, pk: int, item: int, step: str
) -> HttpResponse:
    """Confirm, archive or restore an assessment: one button each."""
    who = selectors.person_for(actor=actor, pk=pk)
    right = perms.CONFIRM if step == "confirm" else ARCHIVE
    obj = selectors.assessment_get(actor=actor, person=who, pk=item, action=right)
    calls = {
        "confirm": (services.assessment_confirm, f"Self-assessment “{obj}” confirmed."),
        "archive": (services.assessment_archive, f"Assessment “{obj}” archived."),
        "restore": (services.assessment_restore, f"Assessment “{obj}” restored."),
    }
    call, message = calls[step]
    return post_back(
        request,
        person_url(actor, who, "#assessments"),
        lambda: call(actor=actor, assessment=obj),
        message,
    )


# ---------------------------------------------------------------- availability


@org_view
@require_http_methods(["GET", "POST"])
def availability_set(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    contract = selectors.contract_of(actor=actor, person=who)
    if not can(actor, CHANGE if contract else ADD, contract or Availability):
        raise PermissionDenied("Only a PMO Manager records a person's contract.")
    form = ContractForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        contract=copy.copy(contract) if contract else None,
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.availability_set(actor=actor, person=who, data=data),
        success=lambda c: (person_url(actor, who, "#availability"), "Contract saved."),
        template=FORM,
        context=_record_context(
            actor, who, "Contract and availability", request.path, "#availability"
        ),
    )


@org_view
@require_http_methods(["GET", "POST"])
def exception_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    if not can(actor, ADD, AvailabilityException):
        raise PermissionDenied("Only a PMO Manager records a person's availability.")
    form = ExceptionForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.exception_create(actor=actor, person=who, data=data),
        success=lambda e: (person_url(actor, who, "#availability"), f"“{e}” recorded."),
        template=FORM,
        context=_record_context(
            actor, who, "Add months of other availability", request.path, "#availability"
        ),
    )


@org_view
@require_http_methods(["GET", "POST"])
def exception_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    obj = selectors.exception_get(actor=actor, person=who, pk=item, action=CHANGE)
    form = ExceptionForm(
        request.POST if request.method == "POST" else None, actor=actor, exception=obj
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.exception_update(actor=actor, exception=obj, data=data),
        success=lambda e: (person_url(actor, who, "#availability"), f"“{e}” saved."),
        template=FORM,
        context=_record_context(actor, who, f"Edit “{obj}”", request.path, "#availability"),
    )


@org_view
def exception_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    who = selectors.person_for(actor=actor, pk=pk)
    obj = selectors.exception_get(actor=actor, person=who, pk=item, action=ARCHIVE)
    return post_back(
        request,
        person_url(actor, who, "#availability"),
        lambda: services.exception_archive(actor=actor, exception=obj),
        f"“{obj}” withdrawn.",
    )


# ---------------------------------------------------------------- allocations


@org_view
def allocation_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The allocations of the people the actor sees, filtered by person, service, kind
    and month; the over-allocated people at the top."""
    if not can(actor, VIEW, Allocation):
        raise Http404("No such page.")
    filters, errors = AllocationFilter.from_query(request.GET.dict())
    qs, filters = filtered(
        lambda f: selectors.allocation_list(actor=actor, filters=f), filters, errors
    )
    page = paginate(qs, page_size(request), request.GET.get("page"))
    month = filters.the_month()
    months = [month] if month else selectors.next_months()
    query = request.GET.copy()
    query.pop("page", None)
    rows = list(page.object_list)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "filter_errors": errors,
        "query": query.urlencode(),
        "kinds": AllocationKind.choices,
        "people": [(p.pk, p.name) for p in _filter_people(actor)],
        "services": [(s.pk, str(s)) for s in _filter_services(actor)],
        "over": selectors.over_allocated(actor, months),
        "over_span": (months[0], months[-1]),
        "can_add": can(actor, ADD, Allocation),
        "editable": {a.pk for a in rows if can(actor, CHANGE, a)},
    }
    if is_htmx(request):
        return render(request, "capacity/allocation_results.html", context)
    return render(request, "capacity/allocations.html", context)


def _filter_people(actor: Actor) -> list[Person]:
    ids = selectors.visible_person_ids(actor)
    rows = selectors.people_choices(actor=actor)
    return list(rows if ids is None else rows.filter(pk__in=ids))


def _filter_services(actor: Actor) -> list[Service]:
    return list(selectors.service_choices(actor=actor))


def _back(request: HttpRequest, actor: Actor, person: Person | None) -> str:
    if request.GET.get("back") == "list" or person is None:
        return allocations_url(actor)
    return person_url(actor, person, "#allocations")


@org_view
@require_http_methods(["GET", "POST"])
def allocation_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    who = None
    if request.GET.get("person"):
        who = selectors.person_for(actor=actor, pk=request.GET["person"])
    if not can(actor, ADD, Allocation):
        raise PermissionDenied("Only a PMO Manager or a service's Owner or Manager allocates.")
    form = AllocationForm(
        request.POST if request.method == "POST" else None, actor=actor, person=who
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.allocation_create(actor=actor, data=form.data_for_service()),
        success=lambda a: (
            person_url(actor, a.person, "#allocations") if who else allocations_url(actor),
            f"Allocation of {a.person} recorded.",
        ),
        template=FORM,
        context={
            "person": who,
            "title": "Allocate time",
            "action": request.get_full_path(),
            "cancel_url": person_url(actor, who, "#allocations") if who else allocations_url(actor),
        },
    )


@org_view
@require_http_methods(["GET", "POST"])
def allocation_update(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    obj = selectors.allocation_get(actor=actor, pk=pk, action=CHANGE)
    form = AllocationForm(
        request.POST if request.method == "POST" else None, actor=actor, allocation=obj
    )
    back = _back(request, actor, obj.person)
    return form_page(
        request,
        form=form,
        save=lambda data: services.allocation_update(
            actor=actor, allocation=obj, data=form.data_for_service()
        ),
        success=lambda a: (back, f"Allocation of {a.person} saved."),
        template=FORM,
        context={
            "person": obj.person,
            "title": f"Edit the allocation of {obj.person}",
            "action": request.get_full_path(),
            "cancel_url": back,
        },
    )


@org_view
def allocation_step(request: HttpRequest, actor: Actor, pk: int, step: str) -> HttpResponse:
    obj = selectors.allocation_get(actor=actor, pk=pk, action=ARCHIVE)
    call = services.allocation_restore if step == "restore" else services.allocation_archive
    verb = "restored" if step == "restore" else "archived"
    return post_back(
        request,
        _back(request, actor, obj.person),
        lambda: call(actor=actor, allocation=obj),
        f"Allocation of {obj.person} {verb}.",
    )


# ---------------------------------------------------------------- a service's staffing


@org_view
def service_staffing(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's needs against its allocations, per competence, month by month (404 to
    whoever may not see its people)."""
    service = catalogue_selectors.service_for(actor=actor, pk=pk, audience=Audience.STAFF)
    staffing = selectors.service_staffing(actor, service, _months(request))
    return render(
        request,
        "capacity/staffing.html",
        {
            "service": service,
            "staffing": staffing,
            "can_add": can(
                actor, ADD, Allocation(organisation=actor.organisation, service=service)
            ),
        },
    )


urlpatterns: list[Any] = [
    path("capacity/me/", me, name="me"),
    path(f"{P}/", person, name="person"),
    path(f"{P}/assessments/new/", assessment_create, name="assessment_create"),
    path(f"{P}/assessments/<id:item>/edit/", assessment_update, name="assessment_update"),
    *(
        path(
            f"{P}/assessments/<id:item>/{step}/",
            assessment_step,
            {"step": step},
            name=f"assessment_{step}",
        )
        for step in ("confirm", "archive", "restore")
    ),
    path(f"{P}/availability/", availability_set, name="availability_set"),
    path(f"{P}/exceptions/new/", exception_create, name="exception_create"),
    path(f"{P}/exceptions/<id:item>/edit/", exception_update, name="exception_update"),
    path(f"{P}/exceptions/<id:item>/archive/", exception_archive, name="exception_archive"),
    path("capacity/allocations/", allocation_list, name="allocations"),
    path("capacity/allocations/new/", allocation_create, name="allocation_create"),
    path("capacity/allocations/<id:pk>/edit/", allocation_update, name="allocation_update"),
    *(
        path(
            f"capacity/allocations/<id:pk>/{step}/",
            allocation_step,
            {"step": step},
            name=f"allocation_{step}",
        )
        for step in ("archive", "restore")
    ),
    path("capacity/services/<id:pk>/", service_staffing, name="service_staffing"),
]
