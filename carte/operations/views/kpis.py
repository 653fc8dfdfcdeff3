"""Pages of KPIs and measurements (M-17).

A service's KPIs are managed from its Operations tab (`operations/_section_kpis.html`):
define and change a KPI, its page (definition, thresholds, trend chart, values with their
corrections, a form to correct one), a value entered for one KPI. The organisation's
pages: "My reports due" (a value per KPI the user reports, all recorded together or
none), the list of every report due and overdue, and the import of a CSV or .xlsx file.

Views parse input, call one selector or service and render; a refusal is shown next to
the field it names (422) with everything typed kept. One-button actions refuse a GET only
after their lookups, so another organisation's id is a 404 whatever the method.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Service
from carte.catalogue.selectors import Audience, service_for
from carte.core.errors import DomainError
from carte.core.jobs import check_file_size
from carte.core.jobs.views import job_url
from carte.core.listing import paginate
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, can, require
from carte.core.views import (
    done,
    form_page,
    is_htmx,
    post_back,
    refusal_status,
)
from carte.operations import charts, periods, tasks
from carte.operations.choices import Source
from carte.operations.filters import ReportsDueFilter
from carte.operations.forms.kpis import CorrectionForm, ImportForm, KPIForm, MeasurementForm
from carte.operations.importing import MAX_BYTES, import_measurements
from carte.operations.models import KPI
from carte.operations.permissions import REPORT
from carte.operations.selectors import kpis as selectors
from carte.operations.selectors.due import REPORTING_STAGES, is_overdue
from carte.operations.services import kpis as services
from carte.operations.services.measurements import Reading, measurement_record, measurements_record
from carte.operations.status import statuses_of
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

S = "catalogue/services/<id:pk>/operations/kpis"
MEASUREMENTS_PAGE = 25


def kpi_url(actor: Actor, kpi: KPI) -> str:
    return reverse("operations:kpi_detail", args=[actor.organisation.slug, kpi.service_id, kpi.pk])


def tab_url(actor: Actor, service: Service) -> str:
    """The service's Operations tab."""
    return reverse("operations:service", args=[actor.organisation.slug, service.pk])


def _service(actor: Actor, pk: int) -> Service:
    """The service whose KPIs are shown: the PMO's working records (a customer is refused
    them once the catalogue has answered whether the service may be seen)."""
    return service_for(actor=actor, pk=pk, audience=Audience.STAFF)


def _kpi(actor: Actor, pk: int, kpi: int, action: str = VIEW) -> KPI:
    service = _service(actor, pk)
    found = selectors.kpi_get(actor=actor, service=service, pk=kpi, action=action)
    found.service = service
    return found


# ---------------------------------------------------------------- define and change


@org_view
@require_http_methods(["GET", "POST"])
def kpi_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = _service(actor, pk)
    if not can(actor, ADD, KPI(service=service, organisation_id=actor.organisation.pk)):
        raise PermissionDenied("Only the service's Owner and Managers define its KPIs.")
    return form_page(
        request,
        form=KPIForm(request.POST or None, actor=actor),
        save=lambda data: services.kpi_create(actor=actor, service=service, data=data),
        success=lambda kpi: (kpi_url(actor, kpi), f"KPI “{kpi}” defined."),
        template="operations/kpi_form.html",
        context={
            "service": service,
            "kpi": None,
            "title": "Define a KPI",
            "cancel_url": tab_url(actor, service),
        },
    )


@org_view
@require_http_methods(["GET", "POST"])
def kpi_update(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    found = _kpi(actor, pk, kpi, CHANGE)
    # The form works on a copy so the service still sees the stored values as "before".
    return form_page(
        request,
        form=KPIForm(request.POST or None, actor=actor, instance=copy.copy(found)),
        save=lambda data: services.kpi_update(actor=actor, kpi=found, data=data),
        success=lambda _: (kpi_url(actor, found), f"KPI “{found}” saved."),
        template="operations/kpi_form.html",
        context={
            "service": found.service,
            "kpi": found,
            "title": f"Edit “{found}”",
            "cancel_url": kpi_url(actor, found),
        },
    )


@org_view
def kpi_archive(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    found = _kpi(actor, pk, kpi, ARCHIVE)
    return post_back(
        request,
        kpi_url(actor, found),
        lambda: services.kpi_archive(actor=actor, kpi=found),
        f"KPI “{found}” archived: it is no longer reported.",
    )


@org_view
def kpi_restore(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    found = _kpi(actor, pk, kpi, ARCHIVE)
    return post_back(
        request,
        kpi_url(actor, found),
        lambda: services.kpi_restore(actor=actor, kpi=found),
        f"KPI “{found}” restored.",
    )


# ---------------------------------------------------------------- the KPI page


def _kpi_page(
    request: HttpRequest, actor: Actor, kpi: KPI, correction: CorrectionForm | None = None
) -> dict[str, Any]:
    """What a KPI's page shows, with the correction form (`correction`, as typed)."""
    points = selectors.trend(kpi)
    page = paginate(
        selectors.measurements_of(actor=actor, kpi=kpi), MEASUREMENTS_PAGE, request.GET.get("page")
    )
    may_report = can(actor, REPORT, kpi) and kpi.archived_at is None
    if may_report and correction is None:
        correction = CorrectionForm(actor=actor, choices=_correctable(kpi, page.object_list))
    return {
        "service": kpi.service,
        "kpi": kpi,
        # The one rule of the heat map: a value missing an agreed service level is red.
        "status": statuses_of([kpi])[kpi.pk],
        "chart": charts.trend_chart(
            points,
            target=kpi.target,
            amber=kpi.amber,
            red=kpi.red,
            title=f"{kpi.name}: trend over the last {len(points)} periods",
            unit=kpi.unit,
            chart_id=f"trend-{kpi.pk}",
        ),
        "points": points,
        "page": page,
        "frequency_label": kpi.get_frequency_display(),
        "next_label": periods.label(kpi.next_period, kpi.frequency) if kpi.next_period else "",
        "overdue": kpi.service.stage in REPORTING_STAGES and is_overdue(kpi),
        "can_change": can(actor, CHANGE, kpi),
        "can_archive": can(actor, ARCHIVE, kpi),
        "can_report": may_report,
        "correction": correction if may_report else None,
        "tab_url": tab_url(actor, kpi.service),
    }


def _correctable(kpi: KPI, measurements: Any) -> list[tuple[str, str]]:
    """The periods of the values on show, to pick the one to correct."""
    return [
        (
            m.period.isoformat(),
            f"{periods.label(m.period, kpi.frequency)} ({m.value.normalize():f})",
        )
        for m in measurements
    ]


@org_view
def kpi_detail(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    found = _kpi(actor, pk, kpi)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return render(request, "operations/kpi_detail.html", _kpi_page(request, actor, found))


@org_view
@require_http_methods(["GET", "POST"])
def measurement_correct(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    """Correct a recorded value (the form is on the KPI page); a refusal comes back on it."""
    found = _kpi(actor, pk, kpi)
    require(actor, REPORT, found)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    periods_known = [
        (p.isoformat(), periods.label(p, found.frequency))
        for p in found.measurements.order_by("-period").values_list("period", flat=True)
    ]
    form = CorrectionForm(request.POST, actor=actor, choices=periods_known)
    return form_page(
        request,
        form=form,
        save=lambda data: measurement_record(
            actor=actor,
            kpi=found,
            period=data["period"],
            value=data["value"],
            comment=data["comment"],
            correct=True,
            reason=data["reason"],
        ),
        success=lambda _: (
            kpi_url(actor, found) + "#measurements",
            "Value corrected; the earlier one is kept in its history.",
        ),
        template="operations/kpi_detail.html",
        context=lambda: _kpi_page(request, actor, found, form),
    )


@org_view
@require_http_methods(["GET", "POST"])
def measurement_create(request: HttpRequest, actor: Actor, pk: int, kpi: int) -> HttpResponse:
    """Enter one value of one KPI (its next period by default)."""
    found = _kpi(actor, pk, kpi)
    require(actor, REPORT, found)
    return form_page(
        request,
        form=MeasurementForm(
            request.POST or None, actor=actor, initial={"period": found.next_period}
        ),
        save=lambda data: measurement_record(
            actor=actor,
            kpi=found,
            period=data["period"],
            value=data["value"],
            comment=data["comment"],
        ),
        success=lambda _: (kpi_url(actor, found), f"Value recorded for {found}."),
        template="operations/measure_form.html",
        context={"service": found.service, "kpi": found, "cancel_url": kpi_url(actor, found)},
    )


# ---------------------------------------------------------------- my reports due


def _entry_page(
    request: HttpRequest, actor: Actor, rows: list[selectors.EntryRow], error: str = ""
) -> HttpResponse:
    return render(
        request,
        "operations/measure_entry.html",
        {"rows": rows, "error": error},
        status=422 if error else 200,
    )


@org_view
@require_http_methods(["GET", "POST"])
def reports_enter(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Everything this user reports that is due or overdue, a value and a comment per KPI
    for its next period; what is filled in is recorded together, or nothing is."""
    require(actor, VIEW, KPI)
    rows = selectors.entry_rows(actor=actor, user=actor.user)
    if request.method == "GET":
        return _entry_page(request, actor, rows)
    readings: list[Reading] = []
    by_number: dict[int, selectors.EntryRow] = {}
    for number, row in enumerate(rows, start=1):
        row.value = request.POST.get(f"value-{row.kpi.pk}", "").strip()
        row.comment = request.POST.get(f"comment-{row.kpi.pk}", "").strip()
        # The period the page showed: if someone reported it meanwhile, that is a refusal,
        # not a value silently recorded for the following period.
        shown = request.POST.get(f"period-{row.kpi.pk}") or row.period.isoformat()
        if row.value:
            readings.append(Reading(row.kpi, shown, row.value, row.comment, row=number))
            by_number[number] = row
    if not readings:
        return _entry_page(request, actor, rows, "Enter at least one value.")
    try:
        measurements_record(actor=actor, readings=readings, source=Source.ENTERED)
    except DomainError as exc:
        refusal_status(exc)
        for problem in exc.extra.get("rows", []):
            target = by_number.get(problem["row"])
            if target is not None:
                target.errors.append(problem["message"])
        return _entry_page(request, actor, rows, exc.message)
    return done(
        request,
        reverse("operations:reports_enter", args=[actor.organisation.slug]),
        f"{len(readings)} value{'s' if len(readings) != 1 else ''} recorded.",
    )


# ---------------------------------------------------------------- reports due


@org_view
@require_http_methods(["GET"])
def reports_due(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every report due within a week or overdue, overdue first; filters: overdue only,
    mine, a service, a PMO. The services the user manages are highlighted."""
    # A value that is not one (a word for a flag, a number past 64 bits) is left out.
    filters, _ = ReportsDueFilter.from_query(request.GET.dict())
    kpis = selectors.reports_due_list(actor=actor, filters=filters)
    page = paginate(kpis, settings.CARTE_PAGE_SIZE * 2, request.GET.get("page"))
    managed = selectors.my_managed(actor)
    statuses = statuses_of(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "rows": [
            {
                "kpi": kpi,
                "label": periods.label(kpi.next_period, kpi.frequency) if kpi.next_period else "",
                "overdue": is_overdue(kpi),
                "mine": kpi.service_id in managed,
                "status": statuses[kpi.pk],
            }
            for kpi in page.object_list
        ],
        "filters": filters,
        "choices": selectors.reports_due_choices(actor),
        "query": query.urlencode(),
    }
    template = (
        "operations/kpis_due_results.html" if is_htmx(request) else "operations/reports_due.html"
    )
    return render(request, template, context)


# ---------------------------------------------------------------- import


@org_view
@require_http_methods(["GET", "POST"])
def measurements_import(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Upload a CSV or .xlsx file of values: all or nothing, with a report row by row
    (row, column, message) of every problem. A dry run answers here and now; an import
    runs in the background (`operations.tasks`) and the page goes to its job."""
    require(actor, VIEW, KPI)
    form = ImportForm(request.POST or None, request.FILES or None, actor=actor)
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_file_size(upload, MAX_BYTES, tasks.TOO_LARGE_MESSAGE)
                if not form.cleaned_data["dry_run"]:
                    job = tasks.import_start(actor=actor, upload=upload, name=upload.name)
                    return done(
                        request,
                        job_url(actor, job),
                        "The import runs in the background: follow it here.",
                    )
                report = import_measurements(
                    actor=actor, source=upload, name=upload.name, dry_run=True
                )
            except DomainError as exc:
                refusal_status(exc)
                form.show(exc)
        if form.errors or (report is not None and report.problems):
            status = 422
    context = {"form": form, "report": report, "max_mb": MAX_BYTES // (1024 * 1024)}
    template = (
        "operations/import_result.html"
        if is_htmx(request)
        else "operations/import_measurements.html"
    )
    return render(request, template, context, status=status)


urlpatterns: list[URLPattern] = [
    path(f"{S}/new/", kpi_create, name="kpi_create"),
    path(f"{S}/<id:kpi>/", kpi_detail, name="kpi_detail"),
    path(f"{S}/<id:kpi>/edit/", kpi_update, name="kpi_update"),
    path(f"{S}/<id:kpi>/archive/", kpi_archive, name="kpi_archive"),
    path(f"{S}/<id:kpi>/restore/", kpi_restore, name="kpi_restore"),
    path(f"{S}/<id:kpi>/measurements/new/", measurement_create, name="measurement_create"),
    path(f"{S}/<id:kpi>/measurements/correct/", measurement_correct, name="measurement_correct"),
    path("operations/reports/", reports_due, name="reports_due"),
    path("operations/reports/enter/", reports_enter, name="reports_enter"),
    path("operations/measurements/import/", measurements_import, name="measurements_import"),
]
