"""Pages of the service lifecycle: a service's Lifecycle panel, the form of each move, the
board of all services by stage, and attachments. The steps between moves (criteria,
tasks, pilot results...) are in `views_steps`.

Views parse input, call one selector or service, and render; a refusal is shown next to
the fields it names (422), a conflict above the form with what is still missing (409).
"""

from __future__ import annotations

import os
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.selectors import Audience, service_for
from carte.catalogue.views import TABS
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import can
from carte.core.views import form_page, is_htmx
from carte.lifecycle import forms, machine, selectors
from carte.lifecycle.choices import ClosureReason
from carte.lifecycle.filters import BoardFilter
from carte.lifecycle.models import EventAttachment
from carte.lifecycle.permissions import MANAGE
from carte.lifecycle.slots import DECISION_FACTS
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

# ---------------------------------------------------------------- shared helpers


def lifecycle_url(actor: Actor, service: Service, anchor: str = "") -> str:
    url = reverse("lifecycle:service", args=[actor.organisation.slug, service.pk])
    return f"{url}#{anchor}" if anchor else url


def step_url(name: str, actor: Actor, service: Service, *args: Any) -> str:
    return reverse(f"lifecycle:{name}", args=[actor.organisation.slug, service.pk, *args])


def catalogue_url(actor: Actor, service: Service, tab: str = "") -> str:
    url = reverse("service_detail", args=[actor.organisation.slug, service.pk])
    return f"{url}?tab={tab}" if tab else url


def check_links(actor: Actor, service: Service) -> dict[str, str]:
    """The one place a person acts on each item of a move's checklist (by the check's
    code)."""
    here = lifecycle_url(actor, service)
    edit = reverse("service_update", args=[actor.organisation.slug, service.pk])
    links = {
        "outcome": edit,
        "scope": edit,
        "owner": catalogue_url(actor, service, "roles"),
        "managers": catalogue_url(actor, service, "roles"),
        "criteria": f"{here}#criteria",
        "criteria_agreed": f"{here}#criteria",
        "sipoc": catalogue_url(actor, service, "sipoc"),
        "procedure": catalogue_url(actor, service, "artefacts"),
        "setup_plan": f"{here}#tasks",
        "pilot_result": step_url("pilot_result", actor, service),
        "readiness": step_url("readiness", actor, service),
        "plan_complete": f"{here}#plan",
    }
    # The confirmations are ticked where the pilot's result shows them.
    links |= {code: f"{here}#pilot-confirmations" for code in machine.CONFIRMATION_FIELDS}
    return links


# What each confirmation of the pilot's result says once ticked: its button's name.
CONFIRMED = {code: met for code, _, met, _ in machine.CONFIRMATIONS}


def checklist(
    actor: Actor,
    service: Service,
    checks: list[machine.Check],
    links: dict[str, str] | None = None,
    *,
    back: str = "",
) -> list[dict[str, Any]]:
    """A move's checks as the items of a checklist, each with where to act on it. With
    `back` (where the checklist is: "next", "sign_off"), an unmet confirmation of the
    pilot's result is ticked in place by those who manage the service."""
    links = links if links is not None else check_links(actor, service)
    confirm_url = (
        step_url("pilot_confirm", actor, service)
        if back
        and any(c.code in machine.CONFIRMATION_FIELDS and not c.met for c in checks)
        and can(actor, MANAGE, service)
        else ""
    )
    items = []
    for check in checks:
        kind, _, ref = check.code.partition(":")
        if kind == "criterion":
            # Not met: waived beside the pilot's results; no result: recorded with them.
            link = (
                f"{lifecycle_url(actor, service)}#pilots"
                if check.hint == machine.WAIVABLE
                else step_url("pilot_result", actor, service)
            )
        elif kind == "artefact":
            link = step_url("artefact_decide", actor, service, int(ref))
        else:
            link = links.get(check.code, "")
        confirm = confirm_url if check.code in machine.CONFIRMATION_FIELDS else ""
        items.append(
            {
                "check": check,
                "link": link,
                "confirm": confirm,
                "confirm_label": CONFIRMED.get(check.code, ""),
                "back": back,
            }
        )
    return items


def unmet_items(
    actor: Actor, service: Service, unmet: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The unmet conditions a refused move reported (409), as checklist items."""
    checks = [machine.Check(u["code"], u["label"], False, u.get("hint", "")) for u in unmet]
    return checklist(actor, service, checks)


# ---------------------------------------------------------------- the Lifecycle panel


@org_view
def service_lifecycle(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's Lifecycle panel: its stage, what each next move still needs, the
    buttons this user may press, the records of each stage, and the timeline."""
    service = service_for(
        actor=actor, pk=pk, audience=Audience.STAFF, related=("category", "supports", "origin")
    )
    state = selectors.lifecycle_state(actor, service, events_page=request.GET.get("page"))
    links = check_links(actor, service)
    moves = [
        {
            "move": m.move,
            "allowed": m.allowed,
            "ready": m.ready,
            "blocking": m.blocking,
            "items": checklist(actor, service, m.checks, links, back="next"),
            "url": step_url("move", actor, service, m.move.name),
        }
        for m in state.moves
    ]
    rights, stage = state.rights, service.stage
    purposes = selectors.task_list_purposes(service)
    # Which step forms this user can open now: their right, and the stage the step needs.
    show = {
        "criteria": rights.manage and stage in (Stage.APPROVED_FOR_SETUP, Stage.DESIGN),
        "task_lists": rights.manage and bool(purposes),
        "pilot_result": rights.manage and stage == Stage.PILOT,
        "waive": rights.sign_off and stage == Stage.PILOT,
        "readiness": rights.manage and stage == Stage.SIGNED_OFF,
        "phases": rights.manage and stage == Stage.TRANSITION,
        "supporting": rights.manage
        and rights.add_service
        and stage in (Stage.SIGNED_OFF, Stage.TRANSITION),
        "artefacts": rights.manage and stage == Stage.CLOSING,
        "start_from": rights.add_service and stage == Stage.CLOSED,
    }
    current = state.current_pilot.pilot if state.current_pilot else None
    confirmations = [
        {
            "code": code,
            "met": bool(getattr(current, field)),
            "done": met,
            "label": met if getattr(current, field) else missing,
        }
        for code, field, met, missing in machine.CONFIRMATIONS
        if current is not None and current.result_at is not None
    ]
    context = {
        "service": service,
        "state": state,
        "moves": moves,
        "confirmations": confirmations,
        "rights": rights,
        "show": show,
        "note_form": forms.NoteForm(actor=actor, service=service) if rights.manage else None,
        "stages": dict(Stage.choices),
        "tabs": TABS,
        "closing_url": step_url("move", actor, service, "close") + "?reason=end_date",
    }
    return render(request, "lifecycle/service.html", context)


# ---------------------------------------------------------------- moves


def _move_form(
    request: HttpRequest, actor: Actor, service: Service, move: machine.Move
) -> forms.MoveForm:
    post = request.method == "POST"
    initial: dict[str, Any] = {"expected_from": service.stage}
    if move.payload == "decision":
        initial |= selectors.decision_initial(service)
    if move.payload == "closure":
        reason = request.GET.get("reason", "")
        if reason in ClosureReason.values:
            initial["reason"] = reason
        elif machine.is_due_for_closure(service, forms.today()):
            initial["reason"] = ClosureReason.END_DATE
    return forms.MOVE_FORMS[move.payload](
        request.POST if post else None,
        request.FILES if post else None,
        actor=actor,
        service=service,
        move=move,
        initial=initial,
    )


@org_view
@require_http_methods(["GET", "POST"])
def move_form(request: HttpRequest, actor: Actor, pk: int, move: str) -> HttpResponse:
    """The form of one move (set-up decision, pilot, sign-off, plan, closure...). A
    refusal lists what is still missing (409); a form with mistakes opened before
    someone else moved the service says so first (409, `MoveForm`)."""
    service = service_for(actor=actor, pk=pk, audience=Audience.STAFF)
    spec = machine.BY_NAME.get(move)
    if spec is None:
        raise Http404("No such move.")
    if not machine.may(actor, spec, service):
        raise PermissionDenied(f"Only {spec.who} may {spec.label.lower()}.")
    here = lifecycle_url(actor, service)
    if request.method == "GET" and spec.source != service.stage:
        return render(
            request,
            "lifecycle/move_unavailable.html",
            {"service": service, "move": spec, "back_url": here},
            status=409,
        )
    form = _move_form(request, actor, service, spec)
    target = Stage(spec.target).label

    def page() -> dict[str, Any]:
        checks = spec.evaluate(service) if spec.source == service.stage else []
        plan = form if isinstance(form, forms.PlanForm) else None
        return {
            "service": service,
            "move": spec,
            "target_label": target,
            "phases": plan.phases if plan else None,
            "phase_errors": plan.phase_errors if plan else [],
            "unmet": unmet_items(actor, service, form.unmet) if form.unmet else [],
            "items": checklist(actor, service, checks, back=spec.name),
            "ready": all(c.met for c in checks),
            "blocking": machine.blocking(spec, checks) if checks else [],
            "back_url": here,
            "action": step_url("move", actor, service, spec.name),
            "other_services": selectors.pmo_services(actor) if spec.payload == "decision" else [],
            "facts": DECISION_FACTS.collect(actor, service) if spec.payload == "decision" else [],
        }

    return form_page(
        request,
        form=form,
        save=lambda _: form.submit(),
        success=lambda _: (here, f"{spec.label}: done. The service is at {target}."),
        template="lifecycle/move_form.html",
        context=page,
    )


# ---------------------------------------------------------------- attachments


@org_view
def attachment(request: HttpRequest, actor: Actor, pk: int, item: int) -> HttpResponse:
    """An uploaded attachment, to the staff who may see the service's lifecycle."""
    service = service_for(actor=actor, pk=pk, audience=Audience.STAFF)
    found = get_for(actor, EventAttachment.objects.filter(event__service=service), item)
    if not found.file:
        raise Http404("This attachment is a link.")
    name = os.path.basename(found.file.name or "") or found.name
    # A streamed response, which `org_view`'s signature (HttpResponse) does not name.
    return cast(
        HttpResponse, FileResponse(found.file.open("rb"), as_attachment=True, filename=name)
    )


# ---------------------------------------------------------------- the board


@org_view
def board(request: HttpRequest, actor: Actor) -> HttpResponse:
    """All live services by stage, with counts, filters and each one's age in its stage."""
    filters, errors = BoardFilter.from_query(request.GET.dict())
    try:
        result = selectors.board(actor, filters)
    except DomainError as exc:
        if "ordering" not in exc.errors:
            raise
        errors["ordering"] = exc.errors["ordering"]
        filters = filters.model_copy(update={"ordering": None})
        result = selectors.board(actor, filters)
    # One reverse() for the board: the cards' links differ only in the service's id.
    link = reverse("lifecycle:service", args=[actor.organisation.slug, 0])
    head, tail = link.split("/0/", 1)
    query = request.GET.copy()
    context = {
        "board": result,
        "filters": filters,
        "filter_errors": errors,
        "link_head": head + "/",
        "link_tail": "/" + tail,
        "query": query.urlencode(),
        "stage_options": [(s, Stage(s).label) for s in selectors.BOARD_STAGES],
        "selected": {
            "pmo": str(filters.pmo or ""),
            "owner": str(filters.owner or ""),
            "category": str(filters.category or ""),
        },
    }
    template = "lifecycle/_board.html" if is_htmx(request) else "lifecycle/board.html"
    return render(request, template, context)
