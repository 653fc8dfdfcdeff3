"""Pages of risks and issues: a service's register and each item's page (score, actions
ticked done in place with htmx, the story, and the steps this user may take), the forms,
and the organisation's escalations list.

Views parse input, call one selector or service and render; a refusal is shown on the
form next to the field it names (422) or above it (409). One-button steps refuse a GET
only after their lookups, so another organisation's id is a 404 whatever the method.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.models import Service
from carte.catalogue.permissions import is_service_owner
from carte.catalogue.selectors import Audience
from carte.core.clock import today
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, can
from carte.core.views import (
    done,
    filtered,
    form_page,
    is_htmx,
    page_size,
    post_back,
    refusal_status,
)
from carte.lifecycle.choices import ClosureReason
from carte.operations.choices import Decision, ItemKind, ItemStatus, Level
from carte.operations.filters import EscalationFilter, ItemFilter
from carte.operations.forms.items import ActionForm, DecideForm, ItemForm, NoteForm
from carte.operations.models import ItemAction, RiskIssue
from carte.operations.permissions import ESCALATE
from carte.operations.selectors import items as selectors
from carte.operations.services import items as services
from carte.operations.services.item_moves import EVENT_LABELS
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

S = "catalogue/services/<id:pk>/operations/risks"


# ---------------------------------------------------------------- helpers


def _service(actor: Actor, pk: int) -> Service:
    """The service (404 unless the organisation's); its risks and issues are for staff."""
    return catalogue_selectors.service_for(actor=actor, pk=pk, audience=Audience.STAFF)


def _item(actor: Actor, service: Service, pk: int) -> RiskIssue:
    item = selectors.item_of_service(actor, service, pk)
    item.service = service
    return item


def _action(actor: Actor, service: Service, pk: int) -> ItemAction:
    return get_for(
        actor,
        ItemAction.objects.filter(item__service=service).select_related("item", "owner"),
        pk,
    )


def list_url(actor: Actor, service: Service) -> str:
    return reverse("operations:items", args=[actor.organisation.slug, service.pk])


def item_url(actor: Actor, item: RiskIssue) -> str:
    return reverse("operations:item", args=[actor.organisation.slug, item.service_id, item.pk])


# The form pages of risks and issues: a page of its own, or the form in place with htmx.
FORM_PAGE = "operations/item_form.html"
FORM_PARTIAL = "operations/item_form_partial.html"


# ---------------------------------------------------------------- the register


@org_view
def item_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's risks and issues, filtered by kind, state and level."""
    service = _service(actor, pk)
    filters, errors = ItemFilter.from_query(request.GET.dict())
    qs, filters = filtered(
        lambda f: selectors.items_for_service(actor, service, f), filters, errors
    )
    page = Paginator(qs, page_size(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "service": service,
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "query": query.urlencode(),
        "kinds": ItemKind.choices,
        "levels": Level.choices,
        "can_add": can(actor, ADD, RiskIssue(service=service, organisation=actor.organisation)),
        "today": today(),
    }
    if is_htmx(request):
        return render(request, "operations/item_list_results.html", context)
    return render(request, "operations/item_list.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    service = _service(actor, pk)
    if not can(actor, ADD, RiskIssue(service=service, organisation=actor.organisation)):
        raise PermissionDenied("Only the people who work on this service may raise an item.")
    form = ItemForm(request.POST if request.method == "POST" else None, actor=actor)
    return form_page(
        request,
        form=form,
        save=lambda data: services.item_create(actor=actor, service=service, data=data),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "title": "Raise a risk or issue",
            "action": reverse("operations:item_create", args=[actor.organisation.slug, pk]),
            "cancel_url": list_url(actor, service),
            "submit": "Raise it",
        },
        success=lambda item: (item_url(actor, item), f"“{item}” raised."),
    )


@org_view
@require_http_methods(["GET", "POST"])
def item_update(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    if not can(actor, CHANGE, obj):
        raise PermissionDenied("Only the people who work on this service may change it.")
    form = ItemForm(request.POST if request.method == "POST" else None, actor=actor, item=obj)
    return form_page(
        request,
        form=form,
        save=lambda data: services.item_update(actor=actor, item=obj, data=data),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "item": obj,
            "title": f"Edit “{obj}”",
            "action": reverse("operations:item_update", args=[actor.organisation.slug, pk, obj.pk]),
            "cancel_url": item_url(actor, obj),
            "submit": "Save",
        },
        success=lambda _: (item_url(actor, obj), f"“{obj}” saved."),
    )


# ---------------------------------------------------------------- the item page


def _rights(actor: Actor, item: RiskIssue) -> dict[str, bool]:
    is_open = item.status == ItemStatus.OPEN and item.archived_at is None
    change = can(actor, CHANGE, item)
    escalate = can(actor, ESCALATE, item)
    return {
        "change": change and item.archived_at is None,
        "archive": can(actor, ARCHIVE, item),
        "escalate": is_open and escalate and services.may_escalate(actor, item),
        "deescalate": is_open and escalate and services.may_deescalate(actor, item),
        "make_issue": is_open and change and item.kind == ItemKind.RISK,
        "decide": is_open
        and item.level == Level.OWNERSHIP
        and (actor.system or is_service_owner(actor, item)),
        "close": is_open and change and services.answers_at(actor, item, int(item.level)),
        "reopen": item.status == ItemStatus.CLOSED
        and item.archived_at is None
        and change
        and services.answers_at(actor, item, int(item.level)),
        "actions": is_open
        and can(actor, ADD, ItemAction(item=item, organisation=actor.organisation)),
    }


def _actions_context(actor: Actor, item: RiskIssue, error: str = "") -> dict[str, Any]:
    return {
        "item": item,
        "service": item.service,
        "actions": selectors.item_actions(item),
        "today": today(),
        "rights": _rights(actor, item),
        "error": error,
    }


@org_view
def item_detail(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """An item: what it says, its score on the 5 x 5 grid, actions, story and steps."""
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    events = Paginator(selectors.item_events(obj), 50).get_page(request.GET.get("page"))
    context = {
        **_actions_context(actor, obj),
        "events": events,
        "event_labels": EVENT_LABELS,
        "grid": _grid(obj),
        "change_requests": list(obj.change_requests.order_by("-id")[:10]),
    }
    return render(request, "operations/item_detail.html", context)


def _grid(item: RiskIssue) -> list[list[dict[str, Any]]]:
    """The 5 x 5 probability/impact grid, probability 5 on top, with the item's cell."""
    rows = []
    for probability in range(5, 0, -1):
        row = []
        for impact in range(1, 6):
            score = probability * impact
            band = "red" if score >= 15 else "orange" if score >= 8 else "green"
            row.append(
                {
                    "x": 20 + (impact - 1) * 22,
                    "y": 4 + (5 - probability) * 22,
                    "band": band,
                    "here": probability == item.probability and impact == item.impact,
                }
            )
        rows.append(row)
    return rows


# ---------------------------------------------------------------- steps of the story

STEPS: dict[str, dict[str, Any]] = {
    "escalate": {
        "title": "Escalate “{item}”",
        "submit": "Escalate",
        "call": services.item_escalate,
        "done": "Escalated to {level}.",
    },
    "deescalate": {
        "title": "Hand “{item}” down a level",
        "submit": "De-escalate",
        "call": services.item_deescalate,
        "done": "Handed down to {level}.",
    },
    "make_issue": {
        "title": "“{item}” has happened: make it an issue",
        "submit": "Make it an issue",
        "call": services.item_make_issue,
        "done": "The risk is now an issue; its history is kept.",
    },
    "close": {
        "title": "Close “{item}”",
        "submit": "Close it",
        "call": services.item_close,
        "done": "Closed.",
    },
    "reopen": {
        "title": "Reopen “{item}”",
        "submit": "Reopen it",
        "call": services.item_reopen,
        "done": "Reopened.",
    },
}


@org_view
@require_http_methods(["GET", "POST"])
def item_step(request: HttpRequest, actor: Actor, pk: int, item: int, step: str) -> HttpResponse:
    """A step that takes a note: escalate, de-escalate, make issue, close, reopen."""
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    spec = STEPS[step]
    form = NoteForm(request.POST if request.method == "POST" else None, actor=actor)

    def success(_: Any) -> tuple[str, str]:
        return item_url(actor, obj), spec["done"].format(level=Level(obj.level).label.lower())

    return form_page(
        request,
        form=form,
        save=lambda data: spec["call"](actor=actor, item=obj, note=data["note"]),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "item": obj,
            "title": spec["title"].format(item=obj),
            "action": reverse(
                f"operations:item_{step}", args=[actor.organisation.slug, pk, obj.pk]
            ),
            "cancel_url": item_url(actor, obj),
            "submit": spec["submit"],
            "step": step,
        },
        success=success,
    )


@org_view
@require_http_methods(["GET", "POST"])
def item_decide(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """The Service Owner's decision on an item at service ownership."""
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    form = DecideForm(request.POST if request.method == "POST" else None, actor=actor)
    labels = dict(Decision.choices)
    return form_page(
        request,
        form=form,
        save=lambda data: services.item_decide(
            actor=actor, item=obj, decision=data["decision"], note=data["note"], **form.payload()
        ),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "item": obj,
            "title": f"Decide on “{obj}”",
            "action": reverse("operations:item_decide", args=[actor.organisation.slug, pk, obj.pk]),
            "cancel_url": item_url(actor, obj),
            "submit": "Record the decision",
            "step": "decide",
            "closure_reasons": ClosureReason.choices,
        },
        success=lambda _: (
            item_url(actor, obj),
            f"Decision recorded: {labels[obj.decision].lower()}.",
        ),
    )


@org_view
def item_archive(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    return post_back(
        request,
        item_url(actor, obj),
        lambda: services.item_archive(actor=actor, item=obj),
        f"“{obj}” archived.",
    )


@org_view
def item_restore(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    service = _service(actor, pk)
    obj = _item(actor, service, item)
    return post_back(
        request,
        item_url(actor, obj),
        lambda: services.item_restore(actor=actor, item=obj),
        f"“{obj}” restored.",
    )


# ---------------------------------------------------------------- actions


@org_view
@require_http_methods(["GET", "POST"])
def action_edit(
    request: HttpRequest, actor: Actor, pk: int, item: int | None = None, action: int | None = None
) -> HttpResponse:
    """Add an action to an item, or change one."""
    service = _service(actor, pk)
    existing = _action(actor, service, action) if action is not None else None
    obj = existing.item if existing is not None else _item(actor, service, item or 0)
    obj.service = service
    target = existing or ItemAction(item=obj, organisation=actor.organisation)
    if not can(actor, CHANGE if existing else ADD, target):
        raise PermissionDenied("Only the people who work on this service may change its actions.")
    form = ActionForm(
        request.POST if request.method == "POST" else None, actor=actor, action=existing
    )

    def save(data: dict[str, Any]) -> ItemAction:
        if existing is None:
            return services.action_create(actor=actor, item=obj, data=data)
        return services.action_update(actor=actor, action=existing, data=data)

    slug = actor.organisation.slug
    return form_page(
        request,
        form=form,
        save=save,
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "item": obj,
            "title": f"Edit the action “{existing}”"
            if existing
            else f"Add a {'resolution' if obj.kind == ItemKind.ISSUE else 'mitigation'} action",
            "action": reverse("operations:item_action_update", args=[slug, pk, existing.pk])
            if existing
            else reverse("operations:item_action_create", args=[slug, pk, obj.pk]),
            "cancel_url": item_url(actor, obj),
            "submit": "Save the action",
        },
        success=lambda a: (f"{item_url(actor, obj)}#actions", f"Action “{a}” saved."),
    )


@org_view
def action_done(request: HttpRequest, actor: Actor, pk: int, action: int) -> HttpResponse:
    """Tick an action done or open it again; with htmx the actions are redrawn in place."""
    service = _service(actor, pk)
    act = _action(actor, service, action)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    item = act.item
    item.service = service
    error = ""
    try:
        services.action_done(actor=actor, action=act, done=request.POST.get("done") == "true")
    except DomainError as exc:
        refusal_status(exc)
        error = exc.message
    if not is_htmx(request):
        if error:
            messages.error(request, error)
            return HttpResponseRedirect(f"{item_url(actor, item)}#actions")
        return done(request, f"{item_url(actor, item)}#actions", f"“{act}” updated.")
    return render(
        request,
        "operations/item_actions.html",
        _actions_context(actor, item, error),
        status=422 if error else 200,
    )


@org_view
def action_archive(request: HttpRequest, actor: Actor, pk: int, action: int) -> HttpResponse:
    service = _service(actor, pk)
    act = _action(actor, service, action)
    return post_back(
        request,
        f"{item_url(actor, act.item)}#actions",
        lambda: services.action_archive(actor=actor, action=act),
        f"“{act}” removed.",
    )


# ---------------------------------------------------------------- the escalations list


@org_view
def escalations(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The organisation's items at delivery management and service ownership; "mine":
    those at the level I answer for."""
    if not can(actor, VIEW, RiskIssue):
        raise PermissionDenied("Risks and issues are for the PMO's staff.")
    filters, errors = EscalationFilter.from_query(request.GET.dict())
    qs, filters = filtered(lambda f: selectors.escalations(actor, f), filters, errors)
    page = Paginator(qs, page_size(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "query": query.urlencode(),
        "levels": [(v, label) for v, label in Level.choices if v > 1],
        "services": list(
            Service.objects.filter(
                organisation_id=actor.organisation.pk,
                risks_issues__level__gte=Level.DELIVERY,
                risks_issues__status=ItemStatus.OPEN,
                risks_issues__archived_at__isnull=True,
            )
            .distinct()
            .order_by("code")
            .values_list("pk", "code")
        ),
        "now": today(),
    }
    if is_htmx(request):
        return render(request, "operations/escalations_results.html", context)
    return render(request, "operations/escalations.html", context)


urlpatterns = [
    path("operations/escalations/", escalations, name="escalations"),
    path(f"{S}/", item_list, name="items"),
    path(f"{S}/new/", item_create, name="item_create"),
    path(f"{S}/<id:item>/", item_detail, name="item"),
    path(f"{S}/<id:item>/edit/", item_update, name="item_update"),
    path(f"{S}/<id:item>/decide/", item_decide, name="item_decide"),
    path(f"{S}/<id:item>/archive/", item_archive, name="item_archive"),
    path(f"{S}/<id:item>/restore/", item_restore, name="item_restore"),
    *(
        path(
            f"{S}/<id:item>/{step.replace('_', '-')}/",
            item_step,
            {"step": step},
            name=f"item_{step}",
        )
        for step in STEPS
    ),
    path(f"{S}/<id:item>/actions/new/", action_edit, name="item_action_create"),
    path(f"{S}/actions/<id:action>/edit/", action_edit, name="item_action_update"),
    path(f"{S}/actions/<id:action>/done/", action_done, name="item_action_done"),
    path(f"{S}/actions/<id:action>/archive/", action_archive, name="item_action_archive"),
]
