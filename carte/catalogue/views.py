"""Pages of the catalogue: the menu, a service's page with its tabs, the forms, inline
editing of a service's parts (htmx, and plain forms without JavaScript), versions and
their comparison, and the dependency graph."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from carte.catalogue import selectors, services, snapshots
from carte.catalogue.choices import DeliveryMode, PricingBasis, Scope, Stage
from carte.catalogue.filters import CategoryFilter, ServiceFilter
from carte.catalogue.forms import PART_FORMS, CategoryForm, ServiceForm
from carte.catalogue.graph import layout
from carte.catalogue.models import Category, Service
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import ADD, CHANGE, Actor, can
from carte.core.views import (
    Column,
    UIResource,
    apply_domain_error,
    is_htmx,
    org_view,
    resource_urls,
)
from carte.organisations import selectors as org_selectors
from carte.organisations.selectors import audit_for_object

MENU_PAGE = 60  # services per page of the menu: a long catalogue stays quick to load

TABS = [
    ("overview", "Overview"),
    ("sipoc", "SIPOC"),
    ("roles", "Roles"),
    ("levels", "Levels"),
    ("needs", "Needs"),
    ("artefacts", "Artefacts"),
    ("dependencies", "Dependencies"),
    ("versions", "Versions"),
    ("history", "History"),
]
# The tab on which each kind of part is edited.
PART_TAB = {
    "roles": "roles",
    "levels": "levels",
    "symptoms": "overview",
    "suppliers": "sipoc",
    "inputs": "sipoc",
    "steps": "sipoc",
    "outputs": "sipoc",
    "customers": "sipoc",
    "competences": "needs",
    "governance": "needs",
    "artefacts": "artefacts",
}


def _service_url(actor: Actor, service: Service, tab: str = "overview") -> str:
    url = reverse("service_detail", args=[actor.organisation.slug, service.pk])
    return url if tab == "overview" else f"{url}?tab={tab}"


def _card(service: Service, staff_view: bool) -> dict[str, Any]:
    """What the menu shows of a service: the live card for PMO staff, the published
    version for everyone else (never unpublished edits)."""
    pricing = dict(PricingBasis.choices)
    modes = dict(DeliveryMode.choices)
    if staff_view or service.current_version is None:
        data: dict[str, Any] = {
            "name": service.name,
            "summary": service.summary,
            "pricing_basis": service.pricing_basis,
            "price": service.price,
            "currency": service.currency,
            "price_unit": service.price_unit,
            "delivery_mode": service.delivery_mode,
            "delivering_pmos": [p.name for p in service.delivering_pmos.all()],
        }
    else:
        data = dict(service.current_version.snapshot["service"])
    return {
        "service": service,
        "name": data["name"],
        "summary": data["summary"],
        "price": (
            f"{pricing.get(data['pricing_basis'], '')}"
            + (f": {data['price']} {data['currency']}" if data.get("price") is not None else "")
            + (f" {data['price_unit']}" if data.get("price_unit") else "")
        ),
        "delivery": modes.get(data["delivery_mode"], "")
        if data["delivery_mode"] != "in_house"
        else "",
        "pmos": ", ".join(data["delivering_pmos"]),
    }


@org_view
def catalogue(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The menu: services by category, filtered and searched (M-3)."""
    filters, errors = ServiceFilter.from_query(request.GET.dict())
    staff_view = selectors.sees_everything(actor)
    page = Paginator(selectors.menu_services(actor=actor, filters=filters), MENU_PAGE).get_page(
        request.GET.get("page")
    )
    sections = [
        (section.category, [_card(s, staff_view) for s in section.services])
        for section in selectors.catalogue_menu(page.object_list)
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "sections": sections,
        "page": page,
        "query": query.urlencode(),
        "filters": filters,
        "filter_errors": errors,
        "total": page.paginator.count,
        "staff_view": staff_view,
        "can_add": can(actor, ADD, Service),
        "options": {
            "category": [(c.pk, c.name) for c in selectors.category_list(actor=actor)],
            "customer_group": [
                (g.pk, g.name) for g in org_selectors.customer_group_choices(actor=actor)
            ],
            "scope": list(Scope.choices),
            "stage": list(Stage.choices) if staff_view else [],
            "delivery_mode": list(DeliveryMode.choices),
            "pmo": [(p.pk, p.name) for p in org_selectors.pmo_choices(actor=actor)],
            "pricing_basis": list(PricingBasis.choices),
        },
        "labels": {
            "category": "Category",
            "customer_group": "Customer group",
            "scope": "Scope",
            "stage": "Stage",
            "delivery_mode": "Delivery",
            "pmo": "Delivering PMO",
            "pricing_basis": "Price basis",
        },
    }
    template = "catalogue/_menu.html" if is_htmx(request) else "catalogue/catalogue.html"
    return render(request, template, context)


@org_view
def service_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's page; customers see its published version, staff the live card."""
    service = selectors.service_detail(actor=actor, pk=pk)
    tab = request.GET.get("tab", "overview")
    if tab not in dict(TABS):
        tab = "overview"
    staff_view = selectors.sees_everything(actor)
    context: dict[str, Any] = {
        "service": service,
        "tab": tab,
        "tabs": TABS if staff_view else TABS[:4],
        "staff_view": staff_view,
        "published": selectors.published_view(service),
        "can_change": can(actor, CHANGE, service),
    }
    if tab == "dependencies":
        context["dependencies"] = selectors.service_dependencies(actor=actor, service=service)
    elif tab == "versions":
        context["versions"] = list(selectors.version_list(actor=actor, service=service))
    elif tab == "history":
        context["history"] = Paginator(audit_for_object(actor=actor, obj=service), 50).get_page(
            request.GET.get("page")
        )
    elif tab == "sipoc":
        context["swimlanes"] = _swimlanes(service)
    return render(request, "catalogue/service_detail.html", context)


def _swimlanes(service: Service) -> list[dict[str, Any]]:
    """The process steps as a swimlane diagram: one lane per performing role, steps in
    order along the lanes."""
    steps = list(service.steps.all())
    lanes: dict[str, list[tuple[int, Any]]] = {}
    for i, step in enumerate(steps):
        lanes.setdefault(step.performer, []).append((i, step))
    return [
        {"role": role, "cells": [dict(items).get(i) for i in range(len(steps))]}
        for role, items in lanes.items()
    ]


@org_view
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    if not can(actor, ADD, Service):
        raise PermissionDenied
    form = ServiceForm(
        actor=actor,
        instance=Service(organisation=actor.organisation),
        data=request.POST if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"Service “{service}” proposed.")
            return HttpResponseRedirect(_service_url(actor, service))
    return render(
        request,
        "catalogue/service_form.html",
        {
            "form": form,
            "service": None,
            "cancel_url": reverse("catalogue", args=[actor.organisation.slug]),
        },
        status=422 if form.errors else 200,
    )


@org_view
@require_http_methods(["GET", "POST"])
def service_update(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_get(actor=actor, pk=pk, action=CHANGE)
    form = ServiceForm(
        actor=actor,
        instance=copy.copy(service),
        data=request.POST if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(actor=actor, service=service, data=dict(form.cleaned_data))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"Service “{service}” saved.")
            return HttpResponseRedirect(_service_url(actor, service))
    return render(
        request,
        "catalogue/service_form.html",
        {"form": form, "service": service, "cancel_url": _service_url(actor, service)},
        status=422 if form.errors else 200,
    )


@org_view
@require_POST
def service_publish(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_get(actor=actor, pk=pk, action=CHANGE)
    try:
        version = services.service_publish(
            actor=actor, service=service, note=request.POST.get("note", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {version.number} published.")
    return HttpResponseRedirect(_service_url(actor, service, "versions"))


@org_view
def version_diff(request: HttpRequest, actor: Actor, pk: int, a: int, b: int) -> HttpResponse:
    """Two versions side by side: fields and rows added, removed, changed."""
    service = selectors.service_get(actor=actor, pk=pk)
    old = selectors.version_get(actor=actor, service=service, number=a)
    new = selectors.version_get(actor=actor, service=service, number=b)
    return render(
        request,
        "catalogue/version_diff.html",
        {
            "service": service,
            "old": old,
            "new": new,
            "diff": snapshots.compare(old.snapshot, new.snapshot),
        },
    )


# ---------------------------------------------------------------- parts, inline


def _part_form(kind: str, actor: Actor, service: Service, **kwargs: Any) -> Any:
    form_class = PART_FORMS.get(kind)
    if form_class is None:
        raise DomainError("No such part.", code="not_found")
    return form_class(actor=actor, service=service, **kwargs)


def _part_data(kind: str, actor: Actor, cleaned: dict[str, Any]) -> dict[str, Any]:
    if kind == "symptoms":
        symptom = services.symptom_get_or_create(actor=actor, statement=cleaned["statement"])
        return {"symptom": symptom, "weight": cleaned["weight"]}
    return dict(cleaned)


@org_view
@require_http_methods(["GET", "POST"])
def part_edit(
    request: HttpRequest, actor: Actor, pk: int, kind: str, part_pk: int | None = None
) -> HttpResponse:
    """Add or change one part of a service. With htmx the form and its errors replace the
    row in place; without JavaScript it is a page of its own."""
    service = selectors.service_get(actor=actor, pk=pk, action=CHANGE)
    part = (
        selectors.part_get(actor=actor, kind=kind, pk=part_pk, service=service)
        if part_pk is not None
        else None
    )
    data = request.POST if request.method == "POST" else None
    form = _part_form(kind, actor, service, data=data, instance=copy.copy(part) if part else None)
    if request.method == "POST" and form.is_valid():
        try:
            values = _part_data(kind, actor, form.cleaned_data)
            if part is None:
                services.part_create(actor=actor, service=service, kind=kind, data=values)
            else:
                services.part_update(actor=actor, part=part, data=values)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            url = _service_url(actor, service, PART_TAB[kind])
            if is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            messages.success(request, "Saved.")
            return HttpResponseRedirect(url)
    context = {
        "service": service,
        "kind": kind,
        "part": part,
        "form": form,
        "cancel_url": _service_url(actor, service, PART_TAB[kind]),
    }
    template = "catalogue/_part_form.html" if is_htmx(request) else "catalogue/part_form.html"
    return render(request, template, context, status=422 if form.errors else 200)


@org_view
@require_POST
def part_archive(
    request: HttpRequest, actor: Actor, pk: int, kind: str, part_pk: int
) -> HttpResponse:
    """Remove a part (archived, restorable from its history)."""
    service = selectors.service_get(actor=actor, pk=pk, action=CHANGE)
    part = selectors.part_get(actor=actor, kind=kind, pk=part_pk, service=service)
    try:
        services.part_archive(actor=actor, part=part)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{part}” removed.")
    return HttpResponseRedirect(_service_url(actor, service, PART_TAB.get(kind, "overview")))


# ---------------------------------------------------------------- the document (M-11)


def _document_context(actor: Actor) -> dict[str, Any]:
    sections = selectors.catalogue_document(actor=actor)
    return {
        "organisation": actor.organisation,
        "sections": sections,
        "count": sum(len(services) for _, services in sections),
        "generated": timezone.now(),
        "published_only": not selectors.sees_everything(actor),
        "pricing": dict(PricingBasis.choices),
        "scopes": dict(Scope.choices),
    }


@org_view
def catalogue_document(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The catalogue as a printable page: cover, contents, a section per category."""
    return render(request, "catalogue/document.html", _document_context(actor))


@org_view
def catalogue_pdf(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The same document as a PDF, drawn by WeasyPrint from the printable page."""
    from weasyprint import HTML  # imported here: it needs system libraries (pango)

    html = render_to_string("catalogue/document.html", _document_context(actor), request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{actor.organisation.slug}-service-catalogue.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- dependency graph


@org_view
def dependency_graph(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Services as nodes, output-to-input links as edges, left to right by dependency."""
    graph = selectors.dependency_graph(actor=actor)
    return render(request, "catalogue/graph.html", {"graph": graph, "layout": layout(graph)})


# ---------------------------------------------------------------- categories

CATEGORIES = UIResource(
    name="catalogue/categories",
    url_stem="category",
    singular="category",
    plural="Categories",
    model=Category,
    filters=CategoryFilter,
    list_selector=selectors.category_list,
    get_selector=lambda *, actor, pk, action="view": get_for(
        actor, Category.objects.all(), pk, action=action
    ),
    form=CategoryForm,
    create=lambda actor, d: services.category_create(actor=actor, **d),
    update=lambda actor, obj, d: services.category_update(actor=actor, category=obj, data=d),
    archive=lambda actor, obj: services.category_archive(actor=actor, category=obj),
    restore=lambda actor, obj: services.category_restore(actor=actor, category=obj),
    columns=[
        Column("Name", "name", order="name", link=True),
        Column("Position", "position", order="position"),
        Column("Services", "service_count"),
    ],
    detail_fields=[("Description", "description"), ("Position in the menu", "position")],
)


def catalogue_urls() -> list[Any]:
    svc = "catalogue/services/<int:pk>"
    return [
        path("catalogue/", catalogue, name="catalogue"),
        path("catalogue/graph/", dependency_graph, name="dependency_graph"),
        path("catalogue/document/", catalogue_document, name="catalogue_document"),
        path("catalogue/document.pdf", catalogue_pdf, name="catalogue_pdf"),
        path("catalogue/services/new/", service_create, name="service_create"),
        path(f"{svc}/", service_detail, name="service_detail"),
        path(f"{svc}/edit/", service_update, name="service_update"),
        path(f"{svc}/publish/", service_publish, name="service_publish"),
        path(f"{svc}/versions/<int:a>/diff/<int:b>/", version_diff, name="version_diff"),
        path(f"{svc}/<slug:kind>/new/", part_edit, name="part_create"),
        path(f"{svc}/<slug:kind>/<int:part_pk>/edit/", part_edit, name="part_update"),
        path(f"{svc}/<slug:kind>/<int:part_pk>/archive/", part_archive, name="part_archive"),
        *resource_urls(CATEGORIES),
    ]
