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
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from carte.catalogue import document, selectors, services, snapshots, tasks
from carte.catalogue.choices import DeliveryMode, PricingBasis, Scope, Stage
from carte.catalogue.filters import CategoryFilter, ServiceFilter
from carte.catalogue.forms import PART_FORMS, CategoryForm, ServiceForm
from carte.catalogue.graph import layout
from carte.catalogue.models import Category, Service
from carte.catalogue.search import Ranked
from carte.core import audit
from carte.core.errors import DomainError
from carte.core.jobs.views import job_url
from carte.core.listing import get_for, page_number, window_page
from carte.core.permissions import ADD, CHANGE, can
from carte.core.templatetags.carte import format_money
from carte.core.views import Column, UIResource, done, form_page, is_htmx, resource_urls
from carte.organisations import selectors as org_selectors
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

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
# The parts (related names) each tab of a service's page shows: only those are loaded.
TAB_PARTS = {
    "overview": ("symptom_links", "delivering_pmos"),
    "sipoc": ("suppliers", "inputs", "steps", "outputs", "customers"),
    "roles": ("roles",),
    "levels": ("levels",),
    "needs": ("competences", "governance"),
    "artefacts": ("own_artefacts", "artefact_links"),
}
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


_PRICING = dict(PricingBasis.choices)
_MODES = dict(DeliveryMode.choices)
_STAGES = dict(Stage.choices)


def _badge(stage: str) -> str:
    if stage == Stage.RUNNING:
        return "green"
    return "secondary" if stage in (Stage.CLOSED, Stage.REJECTED) else "azure"


def _card(row: dict[str, Any], org_slug: str, staff_view: bool) -> dict[str, str]:
    """What the menu shows of a service (a row of `selectors.catalogue_menu`: the live card
    for PMO staff, the published one for everyone else), as ready-made strings: the card
    template only prints them, which keeps a page of 60 cards quick to render."""
    version = row["version_number"]
    meta = row["code"]
    if version is not None:
        meta += f" · version {version}"
    elif staff_view:
        meta += " · not published"
    terms = _PRICING.get(row["pricing_basis"], "")
    if row["price"] is not None:
        terms += f": {format_money(row['price'], row['currency'])}"
    if row["price_unit"]:
        terms += f" {row['price_unit']}"
    if row["delivery_mode"] != "in_house":
        delivery = _MODES.get(row["delivery_mode"], "")
        terms += f" · {delivery}" if delivery else ""
    return {
        "url": reverse("service_detail", args=[org_slug, row["id"]]),
        "name": row["name"],
        "summary": row["summary"],
        "stage": _STAGES.get(row["stage"], row["stage"]) if staff_view else "",
        "badge": _badge(row["stage"]),
        "meta": meta,
        "terms": terms,
        "pmos": ", ".join(row["delivering_pmos"]),
    }


def _menu_selects(
    actor: Actor, filters: ServiceFilter, staff_view: bool
) -> list[tuple[str, str, list[tuple[str, str, bool]]]]:
    """The menu's filter menus: (field, label, [(value, text, selected)]), the values as
    they appear in the query string; a field without choices is left out."""
    options: list[tuple[str, str, list[tuple[Any, str]]]] = [
        ("category", "Category", list(selectors.category_choices(actor=actor))),
        (
            "customer_group",
            "Customer group",
            list(org_selectors.customer_group_choices(actor=actor).values_list("pk", "name")),
        ),
        ("scope", "Scope", list(Scope.choices)),
        ("stage", "Stage", list(Stage.choices) if staff_view else []),
        ("delivery_mode", "Delivery", list(DeliveryMode.choices)),
        (
            "pmo",
            "Delivering PMO",
            list(org_selectors.pmo_choices(actor=actor).values_list("pk", "name")),
        ),
        ("pricing_basis", "Price basis", list(PricingBasis.choices)),
    ]
    selects = []
    for name, label, choices in options:
        current = getattr(filters, name)
        chosen = "" if current is None else str(getattr(current, "value", current))
        selects.append(
            (name, label, [(str(v), str(text), str(v) == chosen) for v, text in choices])
        )
    return [select for select in selects if select[2]]


@org_view
def catalogue(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The menu: services by category, filtered and searched (M-3)."""
    filters, errors = ServiceFilter.from_query(request.GET.dict())
    staff_view = selectors.sees_everything(actor)
    rows = selectors.menu_services(actor=actor, filters=filters)
    if isinstance(rows, Ranked):  # searched, best match first: a page reads its own rows
        page = Paginator(rows, MENU_PAGE).get_page(page_number(request.GET.get("page")))
    else:
        page = window_page(rows, request.GET.get("page"), MENU_PAGE)
    slug = actor.organisation.slug
    sections = [
        (section.category, [_card(row, slug, staff_view) for row in section.services])
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
        "best_first": isinstance(rows, Ranked),
        "staff_view": staff_view,
        "can_add": can(actor, ADD, Service),
    }
    if is_htmx(request):  # the results only: the filter form stays as it is
        return render(request, "catalogue/_menu.html", context)
    context["selects"] = _menu_selects(actor, filters, staff_view)
    return render(request, "catalogue/catalogue.html", context)


@org_view
def service_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's page; customers see its published version, staff the live card."""
    tab = request.GET.get("tab", "overview")
    if tab not in dict(TABS):
        tab = "overview"
    staff_view = selectors.sees_everything(actor)
    # Customers read the published snapshot only; staff see one tab and its parts.
    parts = TAB_PARTS.get(tab, ()) if staff_view else ()
    service = selectors.service_detail(actor=actor, pk=pk, parts=parts)
    context: dict[str, Any] = {
        # Customers read even the page's title (code, category) as published.
        "service": service if staff_view else selectors.as_published(service),
        "tab": tab,
        "tabs": TABS if staff_view else TABS[:4],
        "staff_view": staff_view,
        "published": None if staff_view else selectors.published_view(service),
        "can_change": can(actor, CHANGE, service),
    }
    if tab == "dependencies":
        context["dependencies"] = selectors.service_dependencies(actor=actor, service=service)
    elif tab == "versions":
        context["versions"] = list(
            selectors.version_list(actor=actor, service=service).prefetch_related("change_requests")
        )
    elif tab == "history":
        context["history"] = Paginator(audit.history(actor=actor, obj=service), 50).get_page(
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
    return form_page(
        request,
        form=form,
        save=lambda data: services.service_create(actor=actor, **data),
        success=lambda service: (_service_url(actor, service), f"Service “{service}” proposed."),
        template="catalogue/service_form.html",
        context={
            "service": None,
            "cancel_url": reverse("catalogue", args=[actor.organisation.slug]),
        },
    )


@org_view
@require_http_methods(["GET", "POST"])
def service_update(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = selectors.service_get(actor=actor, pk=pk, action=CHANGE)
    # The form works on a copy so the service still sees the stored values as "before".
    form = ServiceForm(
        actor=actor,
        instance=copy.copy(service),
        data=request.POST if request.method == "POST" else None,
    )
    return form_page(
        request,
        form=form,
        save=lambda data: services.service_update(actor=actor, service=service, data=dict(data)),
        success=lambda _: (_service_url(actor, service), f"Service “{service}” saved."),
        template="catalogue/service_form.html",
        context={"service": service, "cancel_url": _service_url(actor, service)},
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

    def save(values: dict[str, Any]) -> Any:
        if part is None:
            return services.part_create(actor=actor, service=service, kind=kind, data=dict(values))
        return services.part_update(actor=actor, part=part, data=dict(values))

    url = _service_url(actor, service, PART_TAB[kind])
    return form_page(
        request,
        form=form,
        save=save,
        success=lambda _: (url, "Saved."),
        template="catalogue/part_form.html",
        partial="catalogue/_part_form.html",
        context={"service": service, "kind": kind, "part": part, "cancel_url": url},
    )


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


@org_view
def catalogue_document(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The catalogue as a printable page: cover, contents, a section per category."""
    return render(request, document.TEMPLATE, document.document_context(actor))


@org_view
@require_http_methods(["GET", "POST"])
def catalogue_pdf(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The same document as a PDF: drawing it takes seconds, so a POST starts a job and
    goes to its page, where the file is downloaded when it is ready (GET offers the
    button)."""
    if request.method == "GET":
        return render(request, "catalogue/pdf_start.html")
    job = tasks.pdf_start(actor=actor)
    return done(request, job_url(actor, job), "The PDF is being drawn: it will be here.")


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
    svc = "catalogue/services/<id:pk>"
    return [
        path("catalogue/", catalogue, name="catalogue"),
        path("catalogue/graph/", dependency_graph, name="dependency_graph"),
        path("catalogue/document/", catalogue_document, name="catalogue_document"),
        path("catalogue/document.pdf", catalogue_pdf, name="catalogue_pdf"),
        path("catalogue/services/new/", service_create, name="service_create"),
        path(f"{svc}/", service_detail, name="service_detail"),
        path(f"{svc}/edit/", service_update, name="service_update"),
        path(f"{svc}/publish/", service_publish, name="service_publish"),
        path(f"{svc}/versions/<id:a>/diff/<id:b>/", version_diff, name="version_diff"),
        path(f"{svc}/<slug:kind>/new/", part_edit, name="part_create"),
        path(f"{svc}/<slug:kind>/<id:part_pk>/edit/", part_edit, name="part_update"),
        path(f"{svc}/<slug:kind>/<id:part_pk>/archive/", part_archive, name="part_archive"),
        *resource_urls(CATEGORIES, org_view),
    ]
