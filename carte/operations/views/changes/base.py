"""What the pages of change requests, improvements and feedback share: their addresses,
the staff's pages, the pages of a list, and the form pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from carte.catalogue.models import Service
from carte.core.permissions import VIEW, Right, can
from carte.core.views import form_page
from carte.operations.models import ChangeRequest
from carte.operations.selectors import changes as selectors
from carte.organisations.actor import Actor

M = TypeVar("M", bound=Model)

PAGE_SIZE = 25
S = "catalogue/services/<id:pk>/operations"  # a service's pages of running it

# The form pages of change requests and improvements: a page of its own, or the form in
# place with htmx (`change_action.html`).
FORM_PAGE = "operations/change_form.html"
FORM_PARTIAL = "operations/change_action.html"


def url(name: str, actor: Actor, service: Service, *args: Any) -> str:
    """The address of one of the service's pages (`operations:<name>`)."""
    return reverse(f"operations:{name}", args=[actor.organisation.slug, service.pk, *args])


def change_url(actor: Actor, change: ChangeRequest) -> str:
    return reverse(
        "operations:change_detail", args=[actor.organisation.slug, change.service_id, change.pk]
    )


def record_for(
    actor: Actor,
    pk: int,
    item: int,
    get: Callable[..., M],
    right: Right | None = None,
    refusal: str = "",
) -> tuple[Service, M]:
    """The service and its record `item`, read by `get` (404 unless both may be seen);
    403, saying `refusal`, when the actor lacks `right` on it."""
    service = selectors.service_for(actor, pk)
    record = get(actor=actor, pk=item, service=service)
    if right is not None and not can(actor, right, record):
        raise PermissionDenied(refusal)
    return service, record


def staff_only(actor: Actor, model: type[Any]) -> None:
    if not can(actor, VIEW, model):
        raise PermissionDenied("This page is for the PMO.")


def page(request: HttpRequest, qs: Any) -> Page[Any]:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def query(request: HttpRequest) -> str:
    """The query string without the page: the filters the page links keep."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def form_step(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    save: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], str],
    back: str,
    service: Service,
    title: str,
    submit: str = "Save",
    intro: str = "",
    change: ChangeRequest | None = None,
    then: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """A form page of change requests and improvements (`core.views.form_page`), which
    posts back to itself: `title` over the form, `intro` above it, `submit` on its
    button. Saved, it goes `back` (or where `then(result)` says), saying `done(result)`;
    cancelled, `back`."""
    return form_page(
        request,
        form=form,
        save=save,
        success=lambda result: (then(result) if then else back, done(result)),
        template=FORM_PAGE,
        partial=FORM_PARTIAL,
        context={
            "service": service,
            "title": title,
            "action": request.path,
            "cancel_url": back,
            "submit": submit,
            "intro": intro,
            "change": change,
        },
    )
