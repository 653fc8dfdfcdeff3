"""UI plumbing: the generic object pages and the steps every page shares.

Each model's pages (list, detail with History tab, create, edit, archive/restore) are
described by a `UIResource`; the views below only parse input, call one selector or
service, and render. Domain errors become form errors or a 403/404 page.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, path, resolve, reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods

from carte.core import audit
from carte.core.errors import CONFLICT, FORBIDDEN, NOT_FOUND, DomainError
from carte.core.listing import ListFilter, paginate
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, can
from carte.core.slots import Slot

# Resolves `/o/<org>/` to the actor and maps domain errors to 404 and 403 (the
# organisations app's `access.org_view`); the generic pages below are wrapped in it.
Scoped = Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]


def apply_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a domain error next to the fields it names, the rest at the top of the form."""
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for name, msgs in exc.errors.items():
        target = name.removesuffix("_id")
        for msg in msgs:
            form.add_error(target if target in form.fields else None, msg)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def done(request: HttpRequest, url: str, message: str) -> HttpResponse:
    """After a write: back to the page (htmx follows HX-Redirect), with a message."""
    messages.success(request, message)
    if is_htmx(request):
        # Without the fragment: htmx sets location.href, and a change of fragment alone
        # would not reload the page it came from.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url.split("#", 1)[0]
        return response
    return HttpResponseRedirect(url)


def undo_message(request: HttpRequest, message: str, restore_url: str) -> SafeString:
    """`message` with a Restore button that posts to `restore_url`: an archive is undone
    in one click from the page it leads to, with or without JavaScript. Drawn by a
    template (escaped there), so the message system shows it as it is."""
    return render_to_string(
        "core/_undo_message.html",
        {"message": message, "restore_url": restore_url},
        request=request,
    )


def restore_url_for(request: HttpRequest) -> str | None:
    """The `…/restore/` route beside the `…/archive/` one this request posted to, if the
    app has one: every app names the pair so (as `resource_urls` does), which lets each
    archive offer its undo without its view saying how."""
    if not request.path_info.endswith("/archive/"):
        return None
    try:
        resolve(request.path_info.removesuffix("archive/") + "restore/")
    except Resolver404:
        return None
    return request.path.removesuffix("archive/") + "restore/"


def post_back(
    request: HttpRequest, url: str, call: Callable[[], Any], message: str
) -> HttpResponse:
    """A one-button step (archive, mark done, move on): POST only; do it with `call` (one
    service call), say how it went, go back to `url`. A refusal is told as a message. An
    archive that can be restored says so with a Restore button (`restore_url_for`); the
    button asking to archive confirms first (`core/_remove_button.html`)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        call()
    except DomainError as exc:
        refusal_status(exc)
        messages.error(request, exc.message)
        return HttpResponseRedirect(url)
    restore_url = restore_url_for(request)
    if restore_url is not None:
        message = undo_message(request, message, restore_url)
    return done(request, url, message)


def refusal_status(exc: DomainError) -> int:
    """The status of a refused form; rights and tenancy are not the form's business."""
    if exc.code in (FORBIDDEN, NOT_FOUND):
        raise exc
    return 409 if exc.code == CONFLICT else 422


def show_refusal(form: forms.BaseForm, exc: DomainError) -> None:
    """A service's refusal on the form: the form's own `show` where it has one."""
    show = getattr(form, "show", None)
    if show is not None:
        show(exc)
    else:
        apply_domain_error(form, exc)


def _posted(request: HttpRequest) -> Any:
    """The form's data: the POST, or nothing for a form shown afresh."""
    return request.POST if request.method == "POST" else None


def form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any]], Any],
    success: Callable[[Any], tuple[str, str]],
    template: str,
    context: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
    partial: str | None = None,
) -> HttpResponse:
    """Every form page: show the form; on a valid POST call `save(cleaned_data)` (one
    service call) and go where `success(result)` says, with its message (`done`). An
    invalid form is 422 (409 if it says the state moved on: an error coded `conflict`);
    a refusal is shown on the form, with what was typed, as 422 or 409
    (`refusal_status`). htmx gets the `partial` (a 409 as 422: htmx swaps only that).
    `context` may be a function, called only when the page is drawn."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = save(form.cleaned_data)
            except DomainError as exc:
                status = refusal_status(exc)
                show_refusal(form, exc)
            else:
                url, message = success(result)
                return done(request, url, message)
        else:
            status = 409 if form.has_error(NON_FIELD_ERRORS, CONFLICT) else 422
    extra = context() if callable(context) else context
    page = {**(extra or {}), "form": form}
    if partial is not None and is_htmx(request):
        return render(request, partial, page, status=422 if status == 409 else status)
    return render(request, template, page, status=status)


@dataclass(frozen=True)
class Column:
    label: str
    attr: str
    order: str | None = None  # ordering key of the resource's ListFilter
    link: bool = False
    template: str | None = None  # a partial that renders the cell


@dataclass(frozen=True)
class FilterField:
    name: str
    label: str
    choices: Callable[[Any], list[tuple[Any, str]]] | None = None


@dataclass(frozen=True)
class UIResource:
    """Everything the generic pages need to know about one model."""

    name: str  # URL prefix and name stem, e.g. "pmos" -> "pmo_list"
    singular: str
    plural: str
    model: type[Model]
    filters: type[ListFilter]
    list_selector: Callable[..., QuerySet[Any]]
    get_selector: Callable[..., Any]
    form: Callable[..., forms.BaseForm]
    create: Callable[[Any, dict[str, Any]], Model]
    update: Callable[[Any, Any, dict[str, Any]], Model]
    archive: Callable[[Any, Any], Model]
    restore: Callable[[Any, Any], Model]
    columns: list[Column]
    detail_fields: list[tuple[str, str]]
    filter_fields: list[FilterField] = field(default_factory=list)
    edit_form: Callable[..., forms.BaseForm] | None = None
    detail_template: str | None = None
    # Links higher apps add to a row's page (`core.slots`): each filler takes (actor, row)
    # and answers (label, address) or None.
    links: Slot | None = None
    url_stem: str = ""

    @property
    def stem(self) -> str:
        return self.url_stem or self.name.rstrip("s").replace("-", "_")

    @property
    def capitalised(self) -> str:
        """The singular opening a sentence: "Customer group", "PMO"."""
        return self.singular[:1].upper() + self.singular[1:]

    @property
    def plural_in_text(self) -> str:
        """The plural inside a sentence: "customer groups", "people", but "PMOs"."""
        word = self.plural
        return word if word[1:2].isupper() else word[:1].lower() + word[1:]

    def url(self, action: str, actor: ActorLike, pk: int | None = None) -> str:
        args: list[Any] = [actor.organisation.slug] + ([pk] if pk is not None else [])
        return reverse(f"{self.stem}_{action}", args=args)


def page_size(request: HttpRequest) -> int:
    """The `page_size` a list page was asked for, within the configured bounds."""
    try:
        size = int(request.GET.get("page_size", settings.CARTE_PAGE_SIZE))
    except ValueError:
        size = settings.CARTE_PAGE_SIZE
    return max(1, min(size, settings.CARTE_MAX_PAGE_SIZE))


F = TypeVar("F", bound=ListFilter)
R = TypeVar("R")


def filtered(select: Callable[[F], R], filters: F, errors: dict[str, list[str]]) -> tuple[R, F]:
    """Run a list's selector with the filters a page read; an unknown `ordering` is
    reported with the filters' other errors and the list falls back on its default order
    (rather than the page failing)."""
    try:
        return select(filters), filters
    except DomainError as exc:
        if "ordering" not in exc.errors:
            raise
        errors["ordering"] = exc.errors["ordering"]
        filters = filters.model_copy(update={"ordering": None})
        return select(filters), filters


def list_view(resource: UIResource) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, actor: ActorLike) -> HttpResponse:
        filters, filter_errors = resource.filters.from_query(request.GET.dict())
        qs, filters = filtered(
            lambda f: resource.list_selector(actor=actor, filters=f), filters, filter_errors
        )
        page = paginate(qs, page_size(request), request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "resource": resource,
            "page": page,
            "rows": [
                (obj, [(c, _attr(obj, c.attr)) for c in resource.columns])
                for obj in page.object_list
            ],
            "filters": filters,
            "filter_errors": filter_errors,
            "filter_fields": [
                (
                    f,
                    f.choices(actor) if f.choices else [],
                    _as_param(getattr(filters, f.name, None)),
                )
                for f in resource.filter_fields
            ],
            "query": query.urlencode(),
            "ordering": filters.ordering or "",
            "can_add": can(actor, ADD, resource.model),
            "add_url": resource.url("create", actor),
        }
        template = "core/_list_results.html" if is_htmx(request) else "core/object_list.html"
        return render(request, template, context)

    return view


def _as_param(value: Any) -> str:
    """A filter value as it appears in a query string, to mark the selected option."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def _attr(obj: Any, path: str) -> Any:
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
        if callable(value) and not isinstance(value, Model):
            value = value()
    return value


def detail_view(resource: UIResource) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, actor: ActorLike, pk: int) -> HttpResponse:
        obj = resource.get_selector(actor=actor, pk=pk)
        tab = request.GET.get("tab", "overview")
        history = None
        if tab == "history":
            history = paginate(audit.history(actor=actor, obj=obj), 50, request.GET.get("page"))
        context = {
            "resource": resource,
            "object": obj,
            "tab": tab,
            "history": history,
            "fields": [(label, _attr(obj, attr)) for label, attr in resource.detail_fields],
            "can_change": can(actor, CHANGE, obj),
            "can_archive": can(actor, ARCHIVE, obj),
            "list_url": resource.url("list", actor),
            "edit_url": resource.url("update", actor, obj.pk),
            "archive_url": resource.url("archive", actor, obj.pk),
            "restore_url": resource.url("restore", actor, obj.pk),
            "slot_links": resource.links.collect(actor, obj) if resource.links else [],
        }
        return render(request, resource.detail_template or "core/object_detail.html", context)

    return view


def create_view(resource: UIResource) -> Callable[..., HttpResponse]:
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, actor: ActorLike) -> HttpResponse:
        if not can(actor, ADD, resource.model):
            raise PermissionDenied
        return form_page(
            request,
            form=resource.form(
                actor=actor, data=request.POST if request.method == "POST" else None
            ),
            save=lambda data: resource.create(actor, data),
            success=lambda obj: (
                resource.url("detail", actor, obj.pk),
                f"{resource.capitalised} “{obj}” created.",
            ),
            template="core/object_form.html",
            context={
                "resource": resource,
                "object": None,
                "cancel_url": resource.url("list", actor),
            },
        )

    return view


def update_view(resource: UIResource) -> Callable[..., HttpResponse]:
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, actor: ActorLike, pk: int) -> HttpResponse:
        obj = resource.get_selector(actor=actor, pk=pk, action=CHANGE)
        make_form = resource.edit_form or resource.form
        # The form works on a copy so the service still sees the stored values as "before".
        form = make_form(
            actor=actor,
            instance=copy.copy(obj),
            data=_posted(request),
        )
        return form_page(
            request,
            form=form,
            save=lambda data: resource.update(actor, obj, data),
            success=lambda _: (
                resource.url("detail", actor, obj.pk),
                f"{resource.capitalised} “{obj}” saved.",
            ),
            template="core/object_form.html",
            context={
                "resource": resource,
                "object": obj,
                "cancel_url": resource.url("detail", actor, obj.pk),
            },
        )

    return view


def archive_view(resource: UIResource, *, restore: bool = False) -> Callable[..., HttpResponse]:
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, actor: ActorLike, pk: int) -> HttpResponse:
        obj = resource.get_selector(actor=actor, pk=pk, action=ARCHIVE)
        error = None
        if request.method == "POST":
            try:
                (resource.restore if restore else resource.archive)(actor, obj)
            except DomainError as exc:
                error = exc.message
            else:
                verb = "restored" if restore else "archived"
                message: str = f"{resource.capitalised} “{obj}” {verb}."
                if not restore:
                    message = undo_message(request, message, resource.url("restore", actor, pk))
                messages.success(request, message)
                return HttpResponseRedirect(resource.url("detail", actor, obj.pk))
        return render(
            request,
            "core/object_archive.html",
            {
                "resource": resource,
                "object": obj,
                "restore": restore,
                "error": error,
                "cancel_url": resource.url("detail", actor, obj.pk),
            },
            status=409 if error else 200,
        )

    return view


def resource_urls(resource: UIResource, scoped: Scoped) -> list[Any]:
    """The model's pages, each behind `scoped` (the request's actor in `/o/<org>/`)."""
    stem, prefix = resource.stem, resource.name
    return [
        path(f"{prefix}/", scoped(list_view(resource)), name=f"{stem}_list"),
        path(f"{prefix}/new/", scoped(create_view(resource)), name=f"{stem}_create"),
        path(f"{prefix}/<id:pk>/", scoped(detail_view(resource)), name=f"{stem}_detail"),
        path(f"{prefix}/<id:pk>/edit/", scoped(update_view(resource)), name=f"{stem}_update"),
        path(
            f"{prefix}/<id:pk>/archive/",
            scoped(archive_view(resource)),
            name=f"{stem}_archive",
        ),
        path(
            f"{prefix}/<id:pk>/restore/",
            scoped(archive_view(resource, restore=True)),
            name=f"{stem}_restore",
        ),
    ]
