"""API plumbing: the NinjaAPI instance, token auth, problem+json errors, CRUD routes.

No `from __future__ import annotations` here on purpose: `crud_routes` builds handlers
whose annotations name schemas held in local variables, and django-ninja reads those
annotations at runtime, which string annotations would hide.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination, paginate

from carte.core.errors import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    TITLES,
    UNAUTHENTICATED,
    DomainError,
    summarise,
)
from carte.core.listing import ListFilter
from carte.core.permissions import ActorLike

PROBLEM_TYPE_BASE = "https://carte.dev/problems/"


class Caller(Protocol):
    """What the API's authentication leaves on `request.auth`: it knows the caller's
    actor in an organisation (the organisations app's `access.Caller`)."""

    def actor_in(self, org: str) -> ActorLike: ...


def _actor(request: HttpRequest, org: str) -> ActorLike:
    """The caller as an actor of the organisation in the path; 404 if not a member."""
    return cast(Caller, request.auth).actor_in(org)  # type: ignore[attr-defined]


def problem(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """An RFC 9457 problem details response."""
    import json

    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(code, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = dict(errors)
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def _validation_errors(exc: NinjaValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [
            str(p)
            for p in err.get("loc", [])
            if p not in ("body", "query", "path", "payload", "filters")
        ]
        name = ".".join(loc) or "__all__"
        errors.setdefault(name, []).append(str(err.get("msg", "Invalid value.")))
    return errors


def build_api(auth: Any) -> NinjaAPI:
    """The API, with `auth` (the organisations app's token authentication) on every
    operation and problem+json for every error."""
    api = NinjaAPI(
        title="Carte API",
        version="1",
        description=(
            "Run a PMO as a set of services. Every endpoint needs a personal API token "
            "(`Authorization: Bearer ...`). Errors are RFC 9457 problem+json."
        ),
        auth=auth,
        urls_namespace="api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem(
            request,
            status=exc.status,
            code=exc.code,
            detail=exc.message,
            errors=exc.errors,
            extra=exc.extra,
        )

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _validation_errors(exc)
        return problem(request, status=422, code=INVALID, detail=summarise(errors), errors=errors)

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            request,
            status=401,
            code=UNAUTHENTICATED,
            detail="Send a valid, unrevoked API token as 'Authorization: Bearer <token>'.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="carte"'
        return response

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, status=404, code=NOT_FOUND, detail="Not found.")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND}.get(exc.status_code, INVALID)
        return problem(request, status=exc.status_code, code=code, detail=str(exc))

    return api


class Stamped(Schema):
    """Fields every tenant row shows: its id, whether it is archived, when it changed."""

    id: int
    archived: bool = Field(..., description="Archived rows are kept and can be restored.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_archived(obj: Any) -> bool:
        return obj.archived_at is not None


def ref(actor: ActorLike, model: type[Model], pk: int | None, field_name: str) -> Any:
    """An id sent by the client, as a row of the caller's organisation (or None); any
    other id is refused naming the client's field."""
    if pk is None:
        return None
    obj = model._default_manager.filter(organisation=actor.organisation, pk=pk).first()
    if obj is None:
        raise DomainError.field(field_name, f"No {model._meta.verbose_name} with id {pk} here.")
    return obj


def no_nulls(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Refuse an explicit null for a field that cannot be empty (PATCH sends only some)."""
    for name in names:
        if name in data and data[name] is None:
            raise DomainError.field(name, "This field cannot be null.")
    return data


@dataclass
class CrudSpec:
    """What `crud_routes` needs to expose one tenant-owned model through the API."""

    path: str
    tag: str
    noun: str
    out: type[Schema]
    create_in: type[Schema]
    update_in: type[Schema]
    filters: type[ListFilter]
    list_selector: Callable[..., QuerySet[Any]]
    get_selector: Callable[..., Any]
    create: Callable[..., Model]
    update: Callable[..., Model]
    archive: Callable[..., Model]
    restore: Callable[..., Model]
    # Turns a validated payload into keyword arguments (ids -> objects of the organisation).
    resolve: Callable[[Any, dict[str, Any]], dict[str, Any]] = field(
        default=lambda actor, data: data
    )
    reload: Callable[[Any, int], Any] | None = None
    # Model field -> the API field the client sent, so errors name it (parent -> parent_id).
    error_fields: Mapping[str, str] = field(default_factory=dict)


def api_fields(exc: DomainError, names: Mapping[str, str]) -> DomainError:
    """The same error, naming the API's fields rather than the model's."""
    if not names.keys() & exc.errors.keys():
        return exc
    errors = {names.get(k, k): v for k, v in exc.errors.items()}
    return DomainError(summarise(errors), code=exc.code, errors=errors)


def crud_routes(router: Router, spec: CrudSpec) -> None:
    """List, retrieve, create, update, archive and restore for one model."""
    out, create_in, update_in, filters_t = spec.out, spec.create_in, spec.update_in, spec.filters
    base = f"/orgs/{{org}}/{spec.path}"
    reload = spec.reload or (lambda actor, pk: spec.get_selector(actor=actor, pk=pk))

    @router.get(
        base,
        response=list[out],  # type: ignore[valid-type]
        tags=[spec.tag],
        summary=f"List {spec.noun}s",
        operation_id=f"{spec.path.replace('-', '_')}_list",
    )
    @paginate(PageNumberPagination, page_size=25, max_page_size=200)
    def list_(request: HttpRequest, org: str, filters: Query[filters_t]) -> Any:  # type: ignore[valid-type]
        actor = _actor(request, org)
        return spec.list_selector(actor=actor, filters=filters)

    @router.get(
        f"{base}/{{int:id}}",
        response=out,
        tags=[spec.tag],
        summary=f"Retrieve a {spec.noun}",
        operation_id=f"{spec.path.replace('-', '_')}_retrieve",
    )
    def retrieve(request: HttpRequest, org: str, id: int) -> Any:
        actor = _actor(request, org)
        return spec.get_selector(actor=actor, pk=id)

    @router.post(
        base,
        response={201: out},
        tags=[spec.tag],
        summary=f"Create a {spec.noun}",
        operation_id=f"{spec.path.replace('-', '_')}_create",
    )
    def create(request: HttpRequest, org: str, payload: create_in) -> Any:  # type: ignore[valid-type]
        actor = _actor(request, org)
        data = cast(Schema, payload).model_dump()
        try:
            obj = spec.create(actor=actor, **spec.resolve(actor, data))
        except DomainError as exc:
            raise api_fields(exc, spec.error_fields) from exc
        return Status(201, reload(actor, obj.pk))

    @router.patch(
        f"{base}/{{int:id}}",
        response=out,
        tags=[spec.tag],
        summary=f"Update a {spec.noun}",
        operation_id=f"{spec.path.replace('-', '_')}_update",
    )
    def update(request: HttpRequest, org: str, id: int, payload: update_in) -> Any:  # type: ignore[valid-type]
        actor = _actor(request, org)
        obj = spec.get_selector(actor=actor, pk=id)
        data = cast(Schema, payload).model_dump(exclude_unset=True)
        try:
            spec.update(actor=actor, obj=obj, data=spec.resolve(actor, data))
        except DomainError as exc:
            raise api_fields(exc, spec.error_fields) from exc
        return reload(actor, id)

    @router.post(
        f"{base}/{{int:id}}/archive",
        response=out,
        tags=[spec.tag],
        summary=f"Archive a {spec.noun}",
        operation_id=f"{spec.path.replace('-', '_')}_archive",
    )
    def archive(request: HttpRequest, org: str, id: int) -> Any:
        actor = _actor(request, org)
        spec.archive(actor=actor, obj=spec.get_selector(actor=actor, pk=id))
        return reload(actor, id)

    @router.post(
        f"{base}/{{int:id}}/restore",
        response=out,
        tags=[spec.tag],
        summary=f"Restore an archived {spec.noun}",
        operation_id=f"{spec.path.replace('-', '_')}_restore",
    )
    def restore(request: HttpRequest, org: str, id: int) -> Any:
        actor = _actor(request, org)
        spec.restore(actor=actor, obj=spec.get_selector(actor=actor, pk=id))
        return reload(actor, id)
