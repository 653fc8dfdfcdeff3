"""Pages of service levels: a target's form (add, change) opened in place on the service's
Operations tab with htmx or as a page of its own, archive and restore buttons, and the
organisation's list of breaches.

A refusal is shown next to the field it names (422) with everything typed kept; rights
and tenancy are answered 403/404 before any form. The one-button steps refuse a GET only
after their lookups, so another organisation's id is a 404 whatever the method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Service
from carte.catalogue.selectors import Audience, service_for
from carte.core.exports import export_format, table_download
from carte.core.permissions import ARCHIVE, CHANGE
from carte.core.views import form_page, is_htmx, post_back
from carte.operations.filters import BreachFilter
from carte.operations.forms.levels import LevelTargetForm
from carte.operations.models import ServiceLevelTarget
from carte.operations.selectors import levels as selectors
from carte.operations.services import levels as services
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

BREACHES_PAGE = 50


def tab_url(actor: Actor, service: Service, anchor: str = "levels") -> str:
    url = reverse("operations:service", args=[actor.organisation.slug, service.pk])
    return f"{url}#{anchor}" if anchor else url


def _url(name: str, actor: Actor, service: Service, *args: Any) -> str:
    return reverse(f"operations:{name}", args=[actor.organisation.slug, service.pk, *args])


def _editable(actor: Actor, pk: int) -> Service:
    service = service_for(actor=actor, pk=pk, audience=Audience.STAFF)
    if not selectors.may_add(actor, service):
        raise PermissionDenied("Only whoever edits the service changes its service levels.")
    return service


@org_view
@require_http_methods(["GET", "POST"])
def level_target_edit(
    request: HttpRequest, actor: Actor, pk: int, item: int | None = None
) -> HttpResponse:
    """Add a service level (or change one): customer group, KPI, level, statement and
    target value."""
    service = _editable(actor, pk)
    target = (
        selectors.target_get(actor=actor, service=service, pk=item, action=CHANGE)
        if item is not None
        else None
    )
    form = LevelTargetForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        service=service,
        instance=target,
    )

    def save(data: dict[str, Any]) -> ServiceLevelTarget:
        if target is None:
            return services.level_target_create(actor=actor, service=service, data=data)
        return services.level_target_update(actor=actor, target=target, data=data)

    return form_page(
        request,
        form=form,
        save=save,
        success=lambda saved: (tab_url(actor, service), f"Service level “{saved}” saved."),
        template="operations/level_form.html",
        partial="operations/level_form_inline.html",
        context={
            "service": service,
            "target": target,
            "title": f"Edit “{target}”" if target else "Add a service level",
            "action": _url("level_target_update", actor, service, target.pk)
            if target
            else _url("level_target_create", actor, service),
            "cancel_url": tab_url(actor, service),
            "customers_url": reverse("service_detail", args=[actor.organisation.slug, service.pk])
            + "?tab=sipoc",
        },
    )


def _one_button(
    request: HttpRequest,
    actor: Actor,
    pk: int,
    item: int,
    call: Callable[[ServiceLevelTarget], Any],
    verb: str,
) -> HttpResponse:
    service = _editable(actor, pk)
    target = selectors.target_get(actor=actor, service=service, pk=item, action=ARCHIVE)
    return post_back(
        request,
        tab_url(actor, service),
        lambda: call(target),
        f"Service level “{target}” {verb}.",
    )


@org_view
def level_target_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """Stop tracking a service level (kept, archived)."""
    return _one_button(
        request,
        actor,
        pk,
        item,
        lambda t: services.level_target_archive(actor=actor, target=t),
        "archived",
    )


@org_view
def level_target_restore(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """Track an archived service level again."""
    return _one_button(
        request,
        actor,
        pk,
        item,
        lambda t: services.level_target_restore(actor=actor, target=t),
        "restored",
    )


BREACH_COLUMNS = [
    "Period",
    "Period start",
    "Service",
    "Customer group",
    "Service level",
    "Level",
    "KPI",
    "Value",
    "Target",
]


def breach_rows(breaches: Iterable[selectors.Breach]) -> Iterator[list[Any]]:
    """The breaches as the page shows them, the period's first day and the value typed."""
    for b in breaches:
        target = b.target
        yield [
            b.period_label,
            b.period,
            f"{target.service.code} {target.service.name}",
            target.customer_group.name,
            target.statement,
            target.level.name if target.level else None,
            target.kpi.name,
            b.value_text,
            b.target_text,
        ]


@org_view
def level_breaches(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every reported value that missed a service level, newest first, filtered by
    service, customer group and period."""
    filters, errors = BreachFilter.from_query(request.GET.dict())
    rows = selectors.breaches(
        actor,
        since=filters.since,
        service=filters.service,
        customer_group=filters.customer_group,
    )
    fmt = export_format(request)
    if fmt:
        return table_download(
            fmt=fmt,
            filename="service-level-breaches",
            title="Service-level breaches",
            columns=BREACH_COLUMNS,
            rows=breach_rows(selectors.as_breaches(rows)),
        )
    page = Paginator(rows, BREACHES_PAGE).get_page(request.GET.get("page"))
    link = reverse("operations:service", args=[actor.organisation.slug, 0])
    head, tail = link.split("/0/", 1)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "page": page,
        "breaches": selectors.as_breaches(page.object_list),
        "filters": filters,
        "filter_errors": errors,
        "options": selectors.breach_filter_options(actor),
        "selected": {
            "service": str(filters.service or ""),
            "customer_group": str(filters.customer_group or ""),
            "since": filters.since.isoformat() if filters.since else "",
        },
        "query": query.urlencode(),
        "link_head": head + "/",
        "link_tail": "/" + tail,
    }
    template = (
        "operations/level_breaches_results.html"
        if is_htmx(request)
        else "operations/level_breaches.html"
    )
    return render(request, template, context)


S = "catalogue/services/<id:pk>/operations"

urlpatterns = [
    path(f"{S}/levels/new/", level_target_edit, name="level_target_create"),
    path(f"{S}/levels/<id:item>/edit/", level_target_edit, name="level_target_update"),
    path(f"{S}/levels/<id:item>/archive/", level_target_archive, name="level_target_archive"),
    path(f"{S}/levels/<id:item>/restore/", level_target_restore, name="level_target_restore"),
    path("operations/levels/breaches/", level_breaches, name="level_breaches"),
]
